/**
 * GET /api/v1/drills/{id}: one drill's record (drill/store.ts), running or finished. 404 when no
 * such drill is recorded (records are kept 400 days).
 */
import { authResponses, defineRoute } from '../route.js';
import { drillSchema, idParams, notFound, notFoundResponse, query } from '../schemas.js';

export default defineRoute({
  method: 'GET',
  url: '/api/v1/drills/:id',
  permission: 'posture:read',
  schema: {
    operationId: 'getDrill',
    summary: 'One drill: its stages, times, result and cleanup',
    tags: ['drills'],
    params: idParams('id', 'the drill id'),
    querystring: query(),
    response: { 200: drillSchema, 404: notFoundResponse('drill'), ...authResponses },
  },
  handle: async ({ deps: { app }, params }) => {
    const rec = await app.drills.get(params.id!);
    if (!rec) throw notFound(`no drill ${params.id}`);
    return rec;
  },
});
