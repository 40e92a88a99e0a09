/** GET /healthz: the process is alive and serving (no dependency is checked; /readyz does that). */
import { defineRoute } from '../route.js';

export default defineRoute({
  method: 'GET',
  url: '/healthz',
  permission: 'public',
  schema: {
    operationId: 'healthz',
    summary: 'The process is alive',
    tags: ['health'],
    response: {
      200: { type: 'object', required: ['status'], properties: { status: { type: 'string', const: 'ok' } } },
    },
  },
  handle: async () => ({ status: 'ok' }),
});
