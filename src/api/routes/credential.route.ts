/**
 * GET /api/v1/credentials/{id}: one credential (id URL-encoded: ids hold slashes) with its grants
 * and provenance as stored, its explained risk score, its open findings and the remediation
 * actions on it. 404 when the current inventory does not hold it.
 */
import { credentialDetail } from '../credential-detail.js';
import { authResponses, defineRoute } from '../route.js';
import {
  actionSchema,
  credentialSchema,
  findingSchema,
  idParams,
  notFound,
  notFoundResponse,
  nullableRecord,
  query,
} from '../schemas.js';

export default defineRoute({
  method: 'GET',
  url: '/api/v1/credentials/:id',
  permission: 'posture:read',
  schema: {
    operationId: 'getCredential',
    summary: 'One credential: grants, provenance, score, open findings and actions',
    tags: ['inventory'],
    params: idParams('id', 'the credential id, e.g. aws/111111111111/access-key/AKIA…'),
    querystring: query(),
    response: {
      200: {
        type: 'object',
        required: ['credential', 'score', 'findings', 'actions'],
        properties: {
          credential: credentialSchema,
          score: nullableRecord('the explained risk score (null before any evaluation)'),
          findings: { type: 'array', items: findingSchema, description: 'its open findings' },
          actions: { type: 'array', items: actionSchema, description: 'remediation actions on it, newest first' },
        },
      },
      404: notFoundResponse('credential'),
      ...authResponses,
    },
  },
  handle: async ({ deps, params }) => {
    const id = params.id!;
    const detail = await credentialDetail(deps, id);
    if (!detail) throw notFound(`no credential ${id} in the current inventory`);
    return detail;
  },
});
