/**
 * POST /api/v1/actions/{id}/approve: the caller approves a held action (or a rollback waiting for
 * approval). Four-eyes (remediation/people.ts): distinct approvers, never the one who asked, not
 * after the request expired; audited as approval.granted with the caller and source `api`.
 */
import { actorOf, defineRoute } from '../route.js';
import { actionResponses, answer, idParams, reasonBody, reasonOf } from './_decide.js';

export default defineRoute({
  method: 'POST',
  url: '/api/v1/actions/:id/approve',
  permission: 'actions:decide',
  schema: {
    operationId: 'approveAction',
    summary: 'Approve a held action, or a rollback that waits for approval',
    tags: ['actions'],
    params: idParams,
    body: reasonBody(false),
    response: actionResponses,
  },
  handle: async ({ deps, caller, params, body }) => {
    const reason = reasonOf(body);
    return answer(
      await deps.app.people.approve(params.id!, actorOf(caller!), { source: 'api', ...(reason ? { reason } : {}) }),
    );
  },
});
