/** POST /api/v1/exceptions/{id}/expire: end a runtime exception now; audited as exception.lifted with the caller. */
import { actorOf, defineRoute } from '../route.js';
import { expireBody, ruleParams, ruleResponses } from './_rules.js';

export default defineRoute({
  method: 'POST',
  url: '/api/v1/exceptions/:id/expire',
  permission: 'exceptions:write',
  schema: {
    operationId: 'expireException',
    summary: 'End an exception created through the API',
    tags: ['exceptions'],
    params: ruleParams,
    body: expireBody,
    response: ruleResponses('exception'),
  },
  handle: async ({ deps, caller, params, body }) =>
    deps.app.exceptions.expire(params.id!, actorOf(caller!), (body as { reason?: string } | undefined)?.reason),
});
