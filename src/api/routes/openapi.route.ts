/** GET /openapi.json: the OpenAPI 3.1 document, generated from the route schemas. */
import { defineRoute } from '../route.js';

export default defineRoute({
  method: 'GET',
  url: '/openapi.json',
  permission: 'public',
  schema: { operationId: 'openapi', summary: 'This API as an OpenAPI 3.1 document', tags: ['health'], hide: true },
  handle: async ({ req }) => req.server.swagger(),
});
