/**
 * GET /api/v1/drills: recent drills, newest first (by start), each its whole record as the drill
 * engine stores it (drill/store.ts): scenario, who or what started it, the stage reached, every
 * measured time, the result with its reason, what it planted and what cleanup removed.
 */
import { authResponses, defineRoute } from '../route.js';
import { drillSchema, query } from '../schemas.js';

export default defineRoute({
  method: 'GET',
  url: '/api/v1/drills',
  permission: 'posture:read',
  schema: {
    operationId: 'listDrills',
    summary: 'Recent detection-and-response drills, newest first',
    tags: ['drills'],
    querystring: query({ limit: { type: 'integer', minimum: 1, maximum: 200, default: 50 } }),
    response: {
      200: {
        type: 'object',
        required: ['drills'],
        properties: { drills: { type: 'array', items: drillSchema, description: 'newest first' } },
      },
      ...authResponses,
    },
  },
  handle: async ({ deps: { app }, query: q }) => ({ drills: await app.drills.list(q.limit as number) }),
});
