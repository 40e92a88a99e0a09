/**
 * POST /api/v1/remediation/pause: the kill switch. No action starts until resumed, and an action
 * between its checks and its backend call stops (remediation/controls.ts). Audited as
 * remediation.paused with the caller and the reason.
 */
import { actorOf, authResponses, defineRoute, openObject } from '../route.js';

export default defineRoute({
  method: 'POST',
  url: '/api/v1/remediation/pause',
  permission: 'remediation:pause',
  schema: {
    operationId: 'pauseRemediation',
    summary: 'Pull the kill switch: no remediation starts until resumed',
    tags: ['remediation'],
    body: {
      type: 'object',
      additionalProperties: false,
      required: ['reason'],
      properties: { reason: { type: 'string', minLength: 1, maxLength: 500 } },
    },
    response: { 200: openObject('the kill switch as set: by, at, reason'), ...authResponses },
  },
  handle: async ({ deps, caller, body }) =>
    deps.app.remediation.controls.pause(actorOf(caller!), (body as { reason: string }).reason.trim()),
});
