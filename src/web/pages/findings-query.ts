/**
 * The findings a dashboard view shows, shared by the page (/findings) and its download
 * (/findings.csv): the filter and sort read from the URL query, the matching findings in full, and
 * the options the filter form offers (the values present in the data).
 *
 * The filters GET /api/v1/findings takes (severity, state, policy, agent, account) mean exactly
 * what they mean there (api/routes/findings.route.ts): all states unless `state` says; a policy
 * matches the primary one or any of `policies`; `account` is an AWS account id or a Vault
 * `<cluster>/<namespace>` (a cluster alone matches all its namespaces), matched against the
 * finding's source, or its credential's for findings stored before they carried one. The page adds
 * `kind` (the credential kind) and `control` (`<framework>:<control>`, e.g. `soc2:CC6.2`, as in
 * the policies' `metadata.controls`; a bare control id matches it in any framework).
 */
import {
  FINDING_FILTER_KEYS,
  type FindingFilterKey,
  type FindingsFilter,
  matchesFinding,
  type SourceOf,
  sourceResolver,
} from '../../api/findings-filter.js';
import type { ApiViews } from '../../api/views.js';
import { controlPairs } from '../../export/input.js';
import { CREDENTIAL_KINDS } from '../../model/credential.js';
import { FINDING_STATES, type Finding, SEVERITIES, severityRank } from '../../model/finding.js';
import { one } from '../page.js';
import { type Column, type Query, type SortState, sortOf } from '../ui.js';

export const FILTER_KEYS = FINDING_FILTER_KEYS;
export type FilterKey = FindingFilterKey;
export type { FindingsFilter, SourceOf };
export { matchesFinding, sourceResolver };

/** What a shared link keeps: the filter, the sort and the page size (the pager adds the offset). */
export const VIEW_KEYS: readonly string[] = [...FILTER_KEYS, 'sort', 'dir', 'limit'];
/** What the download keeps: the filter and the sort (it holds every matching row). */
export const CSV_KEYS: readonly string[] = [...FILTER_KEYS, 'sort', 'dir'];

/** Filters over a closed domain: a value outside it is ignored (and said so), not matched. */
const CLOSED: Partial<Record<FilterKey, readonly string[]>> = {
  severity: SEVERITIES,
  state: FINDING_STATES,
  kind: CREDENTIAL_KINDS,
};

/** The filter in a query (values trimmed, at most 1024 characters as the API takes), and what was ignored. */
export function filterOf(query: Query): { filter: FindingsFilter; ignored: string[] } {
  const filter: FindingsFilter = {};
  const ignored: string[] = [];
  for (const k of FILTER_KEYS) {
    const v = one(query[k], 1024);
    if (!v) continue;
    const domain = CLOSED[k];
    if (domain && !domain.includes(v)) ignored.push(`${k} “${v}” is not one of ${domain.join(', ')}`);
    else filter[k] = v;
  }
  return { filter, ignored };
}

export const COLUMNS: readonly Column[] = [
  { key: 'severity', label: 'Severity', sortable: true },
  { key: 'state', label: 'State', sortable: true },
  { key: 'policy', label: 'Policy', sortable: true },
  { key: 'finding', label: 'Finding' },
  { key: 'agent', label: 'Agent', sortable: true },
  { key: 'credential', label: 'Credential', sortable: true },
  { key: 'firstSeen', label: 'First seen', sortable: true },
  { key: 'lastSeen', label: 'Last seen', sortable: true },
  { key: 'score', label: 'Score', sortable: true, numeric: true },
];

/** The API's order: most severe first, then by fingerprint. */
export const DEFAULT_SORT: SortState = { key: 'severity', dir: 'desc' };

type Key = string | number | null | undefined;

const sortKey = (f: Finding, key: string, scores: ReadonlyMap<string, number>): Key => {
  switch (key) {
    case 'severity':
      return severityRank(f.severity);
    case 'state':
      return f.state;
    case 'policy':
      return f.policy;
    case 'agent':
      return f.agentId;
    case 'credential':
      return f.principalName ?? f.principal ?? f.credentialId;
    case 'firstSeen':
      return f.firstSeen;
    case 'lastSeen':
      return f.lastSeen;
    case 'score':
      return scores.get(f.credentialId);
    default:
      return null;
  }
};

/**
 * `list` (in the API's order) sorted by one column; ties keep the API's order, and rows without
 * a value (no agent, no score) come last either way.
 */
export function sortFindings(
  list: readonly Finding[],
  sort: SortState,
  scores: ReadonlyMap<string, number>,
): Finding[] {
  const sign = sort.dir === 'asc' ? 1 : -1;
  const keyed = list.map((f, i) => ({ f, i, k: sortKey(f, sort.key, scores) }));
  keyed.sort((a, b) => {
    const an = a.k === null || a.k === undefined;
    const bn = b.k === null || b.k === undefined;
    if (an || bn) return an === bn ? a.i - b.i : an ? 1 : -1;
    if (a.k === b.k) return a.i - b.i;
    return (a.k! < b.k! ? -1 : 1) * sign;
  });
  return keyed.map((x) => x.f);
}

export interface FindingsView {
  filter: FindingsFilter;
  ignored: string[];
  sort: SortState;
  /** Every finding (the API's order), for the filter form's options. */
  all: readonly Finding[];
  /** Every match, sorted: the page shows a slice, the download all of it. */
  rows: Finding[];
  sourceOf: SourceOf;
}

/** The view a query asks for; `scores` are the credentials' risk scores (by credential id). */
export async function findingsView(
  views: ApiViews,
  query: Query,
  scores: ReadonlyMap<string, number>,
): Promise<FindingsView> {
  const { filter, ignored } = filterOf(query);
  const sort = sortOf(query, COLUMNS, DEFAULT_SORT);
  const all = (await views.findings()).sorted;
  const sourceOf = await sourceResolver(views, all);
  const matches = all.filter((f) => matchesFinding(f, filter, sourceOf));
  return { filter, ignored, sort, all, rows: sortFindings(matches, sort, scores), sourceOf };
}

export type Option = { value: string; label: string };

/** The filter form's options: the distinct values present in the findings, plus what the filter names. */
export function optionsOf(
  all: readonly Finding[],
  sourceOf: SourceOf,
  filter: FindingsFilter,
): Record<FilterKey, Option[]> {
  const sets: Record<FilterKey, Map<string, string>> = {
    severity: new Map(),
    state: new Map(),
    policy: new Map(),
    agent: new Map(),
    account: new Map(),
    kind: new Map(),
    control: new Map(),
  };
  const add = (k: FilterKey, value: string | null | undefined, label = value) => {
    if (value && !sets[k].has(value)) sets[k].set(value, label ?? value);
  };
  for (const f of all) {
    add('severity', f.severity);
    add('state', f.state);
    add('policy', f.policy);
    for (const p of f.policies ?? []) add('policy', p);
    add('agent', f.agentId);
    const source = sourceOf(f);
    if (source) {
      const name = f.account?.id === source ? f.account.name : null;
      add('account', source, name ? `${source} (${name})` : source);
      const cluster = source.includes('/') ? source.split('/')[0] : null;
      if (cluster) add('account', cluster, `${cluster} (every namespace)`);
    }
    add('kind', f.kind);
    for (const [fw, id] of controlPairs(f)) add('control', `${fw}:${id}`, `${fw} ${id}`);
  }
  for (const k of FILTER_KEYS) add(k, filter[k]);
  const ordered = (k: FilterKey, order?: readonly string[]): Option[] =>
    [...sets[k]]
      .map(([value, label]) => ({ value, label }))
      .sort((a, b) => {
        const ai = order?.indexOf(a.value) ?? -1;
        const bi = order?.indexOf(b.value) ?? -1;
        if (ai !== bi) return (ai < 0 ? Infinity : ai) - (bi < 0 ? Infinity : bi);
        return a.value < b.value ? -1 : a.value > b.value ? 1 : 0;
      });
  return {
    severity: ordered('severity', SEVERITIES),
    state: ordered('state', FINDING_STATES),
    policy: ordered('policy'),
    agent: ordered('agent'),
    account: ordered('account'),
    kind: ordered('kind', CREDENTIAL_KINDS),
    control: ordered('control'),
  };
}
