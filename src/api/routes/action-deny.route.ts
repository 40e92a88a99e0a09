/**
 * POST /api/v1/actions/{id}/deny: the caller denies a held action (or a rollback waiting for
 * approval). A denial is final for that plan; audited as approval.denied with the reason.
 */
import { actorOf, defineRoute } from '../route.js';
import { actionResponses, answer, idParams, reasonBody, reasonOf } from './_decide.js';

export default defineRoute({
  method: 'POST',
  url: '/api/v1/actions/:id/deny',
  permission: 'actions:decide',
  schema: {
    operationId: 'denyAction',
    summary: 'Deny a held action (final), or a rollback that waits for approval',
    tags: ['actions'],
    params: idParams,
    body: reasonBody(true),
    response: actionResponses,
  },
  handle: async ({ deps, caller, params, body }) =>
    answer(await deps.app.people.deny(params.id!, actorOf(caller!), reasonOf(body)!, { source: 'api' })),
});
