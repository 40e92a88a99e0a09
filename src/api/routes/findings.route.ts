/**
 * GET /api/v1/findings: every finding (all states unless `state` says), most severe first, then by
 * fingerprint; filtered by severity, state, policy, agent, account, kind and control, exactly as the
 * dashboard's /findings (api/findings-filter.ts says what each means).
 */
import { type FindingsFilter, matchesFinding, sourceResolver } from '../findings-filter.js';
import { authResponses, defineRoute, listOf, page, paging } from '../route.js';
import { filter, findingSchema, query } from '../schemas.js';

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
      kind: filter.kind,
      control: filter.control,
      ...paging,
    }),
    response: { 200: listOf('findings, most severe first', findingSchema), ...authResponses },
  },
  handle: async ({ deps: { views }, query: raw }) => {
    const q = raw as FindingsFilter;
    const all = (await views.findings()).sorted;
    const sourceOf = q.account ? await sourceResolver(views, all) : (f: { source?: string | null }) => f.source;
    const matches = all.filter((f) => matchesFinding(f, q, sourceOf));
    return page(matches, raw);
  },
});
