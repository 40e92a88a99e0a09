/**
 * What a findings filter means, for GET /api/v1/findings and the dashboard's /findings (and its
 * CSV) alike, so the two can never disagree: all states unless `state` says; a policy matches the
 * primary one or any of `policies`; `account` is an AWS account id or a Vault
 * `<cluster>/<namespace>` (a cluster alone matches all its namespaces), matched against the
 * finding's source, or its credential's for findings stored before they carried one; `kind` is the
 * credential kind; `control` is `<framework>:<control>` (e.g. `soc2:CC6.2`, as in the policies'
 * `metadata.controls`), or a bare control id that matches it in any framework.
 */
import type { Finding } from '../model/finding.js';
import { accountMatches } from './schemas.js';
import type { ApiViews } from './views.js';

export const FINDING_FILTER_KEYS = ['severity', 'state', 'policy', 'agent', 'account', 'kind', 'control'] as const;
export type FindingFilterKey = (typeof FINDING_FILTER_KEYS)[number];
export type FindingsFilter = Partial<Record<FindingFilterKey, string>>;

/** A finding's source for the account filter: its own, else its credential's (for findings stored before they carried one). */
export type SourceOf = (f: Finding) => string | null | undefined;

export async function sourceResolver(views: ApiViews, all: readonly Finding[]): Promise<SourceOf> {
  if (!all.some((f) => f.source === undefined)) return (f) => f.source;
  const inventory = (await views.inventory()).byId;
  return (f) => f.source ?? inventory.get(f.credentialId)?.source;
}

function controlMatches(f: Finding, control: string): boolean {
  const at = control.indexOf(':');
  if (at < 0) return Object.values(f.controls ?? {}).some((ids) => ids.includes(control));
  return (f.controls?.[control.slice(0, at)] ?? []).includes(control.slice(at + 1));
}

/** Whether a finding matches every filter given. */
export const matchesFinding = (f: Finding, q: FindingsFilter, sourceOf: SourceOf): boolean =>
  (!q.severity || f.severity === q.severity) &&
  (!q.state || f.state === q.state) &&
  (!q.policy || f.policy === q.policy || (f.policies ?? []).includes(q.policy)) &&
  (!q.agent || f.agentId === q.agent) &&
  (!q.account || accountMatches(sourceOf(f), q.account)) &&
  (!q.kind || f.kind === q.kind) &&
  (!q.control || controlMatches(f, q.control));
