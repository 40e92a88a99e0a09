/** POST /api/v1/silences/{id}/expire: end a runtime silence now; audited as silence.lifted with the caller. */
import { actorOf, defineRoute } from '../route.js';
import { expireBody, ruleParams, ruleResponses } from './_rules.js';

export default defineRoute({
  method: 'POST',
  url: '/api/v1/silences/:id/expire',
  permission: 'silences:write',
  schema: {
    operationId: 'expireSilence',
    summary: 'End a silence created through the API',
    tags: ['silences'],
    params: ruleParams,
    body: expireBody,
    response: ruleResponses('silence'),
  },
  handle: async ({ deps, caller, params, body }) =>
    deps.app.silences.expire(params.id!, actorOf(caller!), (body as { reason?: string } | undefined)?.reason),
});
