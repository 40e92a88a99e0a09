/**
 * GET /api/v1/findings: every finding (all states unless `state` says), most severe first, then by
 * fingerprint; filtered by severity, state, policy (any of the policies reporting it), agent and
 * account (the finding's source; for findings stored before they carried one, their credential's).
 */
import type { Finding } from '../../model/finding.js';
import { authResponses, defineRoute, listOf, page, paging } from '../route.js';
import { accountMatches, filter, findingSchema, query } from '../schemas.js';

interface FindingsFilter {
  severity?: string;
  state?: string;
  policy?: string;
  agent?: string;
  account?: string;
}

export default defineRoute({
  method: 'GET',
  url: '/api/v1/findings',
  permission: 'posture:read',
  schema: {
    operationId: 'listFindings',
    summary: 'Findings, most severe first',
    tags: ['findings'],
    querystring: query({
      severity: filter.severity,
      state: filter.findingState,
      policy: filter.policy,
      agent: filter.agent,
      account: filter.account,
      ...paging,
    }),
    response: { 200: listOf('findings, most severe first', findingSchema), ...authResponses },
  },
  handle: async ({ deps: { views }, query: raw }) => {
    const q = raw as FindingsFilter;
    const all = (await views.findings()).sorted;
    let sourceOf = (f: Finding): string | null | undefined => f.source;
    if (q.account && all.some((f) => f.source === undefined)) {
      const inventory = (await views.inventory()).byId;
      sourceOf = (f) => f.source ?? inventory.get(f.credentialId)?.source;
    }
    const matches = all.filter(
      (f) =>
        (!q.severity || f.severity === q.severity) &&
        (!q.state || f.state === q.state) &&
        (!q.policy || f.policy === q.policy || (f.policies ?? []).includes(q.policy)) &&
        (!q.agent || f.agentId === q.agent) &&
        (!q.account || accountMatches(sourceOf(f), q.account)),
    );
    return page(matches, raw);
  },
});
