/**
 * POST /api/v1/exceptions: accept a risk until `expires` (the matching findings are suppressed at
 * the next evaluation); audited as exception.created with the caller.
 */
import { asBodyError } from '../errors.js';
import { actorOf, defineRoute } from '../route.js';
import { globsOf, ruleFields, ruleResponses } from './_rules.js';

export default defineRoute({
  method: 'POST',
  url: '/api/v1/exceptions',
  permission: 'exceptions:write',
  schema: {
    operationId: 'createException',
    summary: 'Create an exception (owner, reason, expiry at most 90 days ahead)',
    tags: ['exceptions'],
    body: {
      type: 'object',
      additionalProperties: false,
      required: ['selector', 'owner', 'reason', 'expires'],
      properties: {
        policy: { type: 'string', minLength: 1, maxLength: 200, description: 'a loaded policy (or selector.policies)' },
        selector: globsOf(['credentials', 'agents', 'policies', 'rules']),
        ...ruleFields,
      },
    },
    response: ruleResponses('exception'),
  },
  handle: async ({ deps, caller, body, reply }) => {
    try {
      const e = await deps.app.exceptions.create(
        body as Parameters<typeof deps.app.exceptions.create>[0],
        actorOf(caller!),
      );
      void reply.status(201);
      return e;
    } catch (err) {
      throw asBodyError(err);
    }
  },
});
