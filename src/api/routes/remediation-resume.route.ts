/** POST /api/v1/remediation/resume: release the kill switch; audited as remediation.resumed with the caller. */
import { actorOf, authResponses, defineRoute } from '../route.js';

export default defineRoute({
  method: 'POST',
  url: '/api/v1/remediation/resume',
  permission: 'remediation:pause',
  schema: {
    operationId: 'resumeRemediation',
    summary: 'Release the kill switch',
    tags: ['remediation'],
    body: { type: 'object', additionalProperties: false, properties: {} },
    response: {
      200: {
        type: 'object',
        required: ['resumed'],
        properties: { resumed: { type: 'boolean', description: 'false when remediation was not paused' } },
      },
      ...authResponses,
    },
  },
  handle: async ({ deps, caller }) => ({ resumed: await deps.app.remediation.controls.resume(actorOf(caller!)) }),
});
