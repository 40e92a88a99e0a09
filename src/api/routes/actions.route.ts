/**
 * GET /api/v1/actions: remediation actions, newest first, as `credwarden actions list --json`
 * prints them (remediation/action-json.ts); filtered by state, action type, agent and policy.
 */
import type { ActionState } from '../../model/action.js';
import { actionJson } from '../../remediation/action-json.js';
import { authResponses, defineRoute, listOf, page, paging } from '../route.js';
import { actionSchema, filter, query } from '../schemas.js';

interface ActionsFilter {
  state?: ActionState;
  action?: string;
  agent?: string;
  policy?: string;
}

export default defineRoute({
  method: 'GET',
  url: '/api/v1/actions',
  permission: 'posture:read',
  schema: {
    operationId: 'listActions',
    summary: 'Remediation actions, newest first',
    tags: ['actions'],
    querystring: query({
      state: filter.actionState,
      action: filter.action,
      agent: filter.agent,
      policy: filter.policy,
      ...paging,
    }),
    response: { 200: listOf('actions, newest first', actionSchema), ...authResponses },
  },
  handle: async ({ deps: { views }, query: raw }) => {
    const q = raw as ActionsFilter;
    const list = (await views.actions()).sorted.filter(
      (r) =>
        (!q.state || r.state === q.state) &&
        (!q.policy || r.plan.policy === q.policy) &&
        (!q.agent || r.plan.agentId === q.agent) &&
        (!q.action || r.plan.action === q.action),
    );
    const p = page(list, raw);
    return { ...p, items: p.items.map(actionJson) };
  },
});
