/** POST /api/v1/silences: mute matching alert items until `expires`; audited as silence.created with the caller. */
import { asBodyError } from '../errors.js';
import { actorOf, defineRoute } from '../route.js';
import { globsOf, ruleFields, ruleResponses } from './_rules.js';

export default defineRoute({
  method: 'POST',
  url: '/api/v1/silences',
  permission: 'silences:write',
  schema: {
    operationId: 'createSilence',
    summary: 'Create a silence (owner, reason, expiry at most 90 days ahead)',
    tags: ['silences'],
    body: {
      type: 'object',
      additionalProperties: false,
      required: ['matchers', 'owner', 'reason', 'expires'],
      properties: { matchers: globsOf(['credentials', 'agents', 'policies', 'teams']), ...ruleFields },
    },
    response: ruleResponses('silence'),
  },
  handle: async ({ deps, caller, body, reply }) => {
    try {
      const s = await deps.app.silences.create(
        body as Parameters<typeof deps.app.silences.create>[0],
        actorOf(caller!),
      );
      void reply.status(201);
      return s;
    } catch (err) {
      throw asBodyError(err);
    }
  },
});
