/**
 * GET /agents: the agent registry joined to the inventory (agents-data.ts, as GET /api/v1/agents):
 * per agent its owner, environment, version, credentials, open findings by severity, explained
 * score, and its declared scopes against what its credentials are granted and were last used for.
 * Then the credentials that look like an agent's but no registry entry claims (unregisteredAgent).
 *
 * Query: q (id, name or owner contains), environment, agent (one id exactly: the overview links
 * here with it), sort/dir (default: score, highest first), offset/limit for agents, uoffset for the
 * unregistered list.
 */
import { SEVERITIES } from '../../model/finding.js';
import { html } from '../html.js';
import { definePage, nowOf, type Page } from '../page.js';
import { keep, PAGE_SIZE, pager, paging, type Query, type SortState, sortOf, table } from '../ui.js';
import { type AgentView, agentViews, unregisteredCredentials } from './agents-data.js';
import {
  AGENT_COLUMNS,
  agentRow,
  filterForm,
  UNREGISTERED_COLUMNS,
  unregisteredPager,
  unregisteredRow,
} from './agents-parts.js';

const KEPT = ['q', 'environment', 'agent', 'sort', 'dir', 'limit'] as const;

function matches(a: AgentView, q: Query): boolean {
  if (q.agent && a.agent.id !== q.agent) return false;
  if (q.environment && a.agent.environment !== q.environment) return false;
  if (q.q) {
    const needle = q.q.toLowerCase();
    const hay = [a.agent.id, a.agent.name, a.agent.owner?.team ?? '', a.agent.owner?.contact ?? ''];
    if (!hay.some((h) => h.toLowerCase().includes(needle))) return false;
  }
  return true;
}

const cmp = (a: string | number, b: string | number): number => (a < b ? -1 : a > b ? 1 : 0);
/** Compared element by element: open findings, most severe first (a critical outweighs any number of lower ones). */
const cmpList = (a: readonly number[], b: readonly number[]): number => {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return cmp(a[i]!, b[i]!);
  return 0;
};

function sortValue(a: AgentView, key: string): string | number | number[] {
  switch (key) {
    case 'owner':
      return a.agent.owner?.team ?? '';
    case 'environment':
      return a.agent.environment;
    case 'credentials':
      return a.credentials.length;
    case 'open':
      return SEVERITIES.map((s) => a.open[s]);
    case 'score':
      return a.score?.score ?? -1;
    default:
      return a.agent.id;
  }
}

function sorted(list: AgentView[], s: SortState): AgentView[] {
  const dir = s.dir === 'asc' ? 1 : -1;
  const by = (a: AgentView, b: AgentView): number => {
    const x = sortValue(a, s.key);
    const y = sortValue(b, s.key);
    return Array.isArray(x) && Array.isArray(y) ? cmpList(x, y) : cmp(x as string | number, y as string | number);
  };
  return list.sort((a, b) => dir * by(a, b) || cmp(a.agent.id, b.agent.id));
}

const pages: readonly Page[] = [
  definePage({
    method: 'GET',
    url: '/agents',
    permission: 'posture:read',
    nav: 'agents',
    handle: async (call) => {
      const { query } = call;
      const now = nowOf(call);
      const [all, unregistered, findings] = await Promise.all([
        agentViews(call.deps),
        unregisteredCredentials(call.deps),
        call.deps.views.findings(),
      ]);
      const sort = sortOf(query, AGENT_COLUMNS, { key: 'score', dir: 'desc' });
      const shown = sorted(
        all.filter((a) => matches(a, query)),
        sort,
      );
      const { offset, limit } = paging(query);
      const kept = keep(query, KEPT);
      const environments = [...new Set(all.map((a) => a.agent.environment))].sort();
      const uoffset = Math.max(0, Number.parseInt(query.uoffset ?? '0', 10) || 0);
      const ukept = { ...kept, ...(offset ? { offset: String(offset) } : {}) };
      const body = html`<h1>Agents</h1>
<p>The agent registry (agents.yaml) joined to the current inventory: who owns each agent, what its credentials are granted against what it declares, and how risky it is now.</p>
${filterForm(query, environments)}
<section aria-labelledby="registered-h"><h2 id="registered-h">Registered agents</h2>
${table({
  caption: `Registered agents: ${shown.length} of ${all.length}`,
  columns: AGENT_COLUMNS,
  rows: shown.slice(offset, offset + limit).map((a) => agentRow(a, now)),
  path: '/agents',
  query: kept,
  sort,
  empty: all.length ? 'No agent matches the filter.' : 'The registry has no agents.',
})}
${pager({ total: shown.length, offset, limit, path: '/agents', query: { ...kept, ...(uoffset ? { uoffset: String(uoffset) } : {}) } })}
</section>
<section aria-labelledby="unregistered-h"><h2 id="unregistered-h">Unregistered agent credentials</h2>
<p>Credentials that look like an agent's (by the registry's <code>unregistered</code> rules) but that no agent claims: nobody to page, no declared scope, no delivery target. Register them or remove them.</p>
${table({
  caption: `Unregistered agent credentials: ${unregistered.length}`,
  columns: UNREGISTERED_COLUMNS,
  rows: unregistered
    .slice(uoffset, uoffset + PAGE_SIZE)
    .map((c) => unregisteredRow(c, findings.byCredential.get(c.id), now)),
  path: '/agents',
  empty: 'No unregistered agent credential in the inventory.',
})}
${unregisteredPager({ total: unregistered.length, offset: uoffset, limit: PAGE_SIZE, query: ukept })}
</section>`;
      return call.view('Agents', body);
    },
  }),
];
export default pages;
