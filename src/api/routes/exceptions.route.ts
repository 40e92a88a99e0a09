/**
 * GET /api/v1/exceptions: every exception, the policy files' (`source: config`) and runtime ones (`source:
 * api`, with who created it and, once lifted, who ended it), each `active` at the clock's now.
 */
import { authResponses, defineRoute, listOf, page, paging } from '../route.js';
import { query } from '../schemas.js';
import { ruleItem } from './_rules.js';

export default defineRoute({
  method: 'GET',
  url: '/api/v1/exceptions',
  permission: 'posture:read',
  schema: {
    operationId: 'listExceptions',
    summary: 'Policy exceptions from the policy files and the API',
    tags: ['exceptions'],
    querystring: query({ ...paging }),
    response: {
      200: listOf('exceptions', ruleItem('exception')),
      ...authResponses,
    },
  },
  handle: async ({ deps: { app }, query: q }) => page(await app.exceptions.list(), q),
});
