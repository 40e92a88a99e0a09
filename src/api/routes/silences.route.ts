/**
 * GET /api/v1/silences: every silence, config's (`source: config`) and runtime ones (`source:
 * api`, with who created it and, once lifted, who ended it), each `active` at the clock's now.
 */
import { authResponses, defineRoute, listOf, page, paging } from '../route.js';
import { query } from '../schemas.js';
import { ruleItem } from './_rules.js';

export default defineRoute({
  method: 'GET',
  url: '/api/v1/silences',
  permission: 'posture:read',
  schema: {
    operationId: 'listSilences',
    summary: 'Alert silences from config and the API',
    tags: ['silences'],
    querystring: query({ ...paging }),
    response: {
      200: listOf('silences', ruleItem('silence')),
      ...authResponses,
    },
  },
  handle: async ({ deps: { app }, query: q }) => page(await app.silences.list(), q),
});
