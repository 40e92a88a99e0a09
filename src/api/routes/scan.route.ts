/**
 * GET /api/v1/scans/{id}: one scan's summary, its evaluation (null until evaluated; `held` when
 * the detection guardrail held it) and its drift against the inventory before it (null until
 * finalized). 404 when no such scan is recorded.
 */
import { authResponses, defineRoute } from '../route.js';
import { idParams, notFound, notFoundResponse, nullableRecord, query, scanSummarySchema } from '../schemas.js';

export default defineRoute({
  method: 'GET',
  url: '/api/v1/scans/:id',
  permission: 'posture:read',
  schema: {
    operationId: 'getScan',
    summary: 'One scan: summary, evaluation and drift',
    tags: ['scans'],
    params: idParams('id', 'the scan id'),
    querystring: query(),
    response: {
      200: {
        type: 'object',
        required: ['scan', 'evaluation', 'drift'],
        properties: {
          scan: scanSummarySchema,
          evaluation: nullableRecord('its evaluation: transitions and open findings by severity'),
          drift: nullableRecord('what changed against the inventory before it'),
        },
      },
      404: notFoundResponse('scan'),
      ...authResponses,
    },
  },
  handle: async ({ deps: { app }, params }) => {
    const id = params.id!;
    const scan = await app.scans.summary(id);
    if (!scan) throw notFound(`no scan ${id}`);
    const [evaluation, drift] = await Promise.all([app.findings.evaluation(id), app.scans.drift(id)]);
    return { scan, evaluation, drift };
  },
});
