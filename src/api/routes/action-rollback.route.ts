/**
 * POST /api/v1/actions/{id}/rollback: restore a done action's recorded pre-state, or roll back a
 * rotation before its old credential is deleted. When the action's class needs approval the
 * rollback is recorded as the caller's request and runs once others approve it (answered 202 with
 * `rollbackRequest`); otherwise it runs now (200, state rolled-back).
 */
import { actorOf, defineRoute } from '../route.js';
import { actionResponses, answer, idParams, reasonBody, reasonOf } from './_decide.js';

export default defineRoute({
  method: 'POST',
  url: '/api/v1/actions/:id/rollback',
  permission: 'actions:rollback',
  schema: {
    operationId: 'rollbackAction',
    summary: 'Roll an action back (or ask for it, when its class needs approval)',
    tags: ['actions'],
    params: idParams,
    body: reasonBody(false),
    response: { ...actionResponses, 202: actionResponses[200] },
  },
  handle: async ({ deps, caller, params, body, reply }) => {
    const reason = reasonOf(body);
    const r = await deps.app.people.rollback(params.id!, actorOf(caller!), {
      source: 'api',
      ...(reason ? { reason } : {}),
    });
    if (r.state !== 'rolled-back' && r.rollbackRequest && !r.rollbackRequest.denial) void reply.status(202);
    return answer(r);
  },
});
