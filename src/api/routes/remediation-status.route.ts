/**
 * GET /api/v1/remediation: where remediation stands, as `credwarden remediation status --json`
 * prints it (remediation/status.ts): mode, kill switch, circuit breaker, rate used, actions by state.
 */
import { remediationStatus } from '../../remediation/status.js';
import { authResponses, defineRoute, openObject } from '../route.js';
import { nullableRecord, query } from '../schemas.js';

export default defineRoute({
  method: 'GET',
  url: '/api/v1/remediation',
  permission: 'posture:read',
  schema: {
    operationId: 'remediationStatus',
    summary: 'Remediation mode, kill switch, breaker, rate used and actions by state',
    tags: ['remediation'],
    querystring: query(),
    response: {
      200: {
        type: 'object',
        required: ['mode', 'paused', 'breaker', 'rate', 'actions'],
        properties: {
          mode: { type: 'string', enum: ['dry-run', 'enforce'] },
          paused: nullableRecord('who pulled the kill switch, when and why; null when running'),
          breaker: nullableRecord('when and why the breaker tripped; null when closed'),
          rate: {
            type: 'object',
            required: ['used', 'max', 'perHours'],
            properties: { used: { type: 'integer' }, max: { type: 'integer' }, perHours: { type: 'number' } },
          },
          actions: openObject('how many actions are in each state', {}),
        },
      },
      ...authResponses,
    },
  },
  handle: async ({ deps: { app } }) => remediationStatus(app.remediation),
});
