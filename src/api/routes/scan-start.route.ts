/**
 * POST /api/v1/scans: queue a scan for the workers (the service `credwarden scan` uses,
 * scan/request.ts), audited first as scan.requested with the caller. Answers 202 with the scan id;
 * GET /api/v1/scans/{id} follows it.
 */
import { CwError, ErrorCodes } from '../../errors.js';
import { requestScan } from '../../scan/request.js';
import { actorOf, authResponses, defineRoute, errorBody } from '../route.js';

export default defineRoute({
  method: 'POST',
  url: '/api/v1/scans',
  permission: 'scans:start',
  schema: {
    operationId: 'startScan',
    summary: 'Queue a scan (all units, or one AWS account)',
    tags: ['scans'],
    body: {
      type: 'object',
      additionalProperties: false,
      properties: {
        account: { type: 'string', minLength: 1, maxLength: 200, description: 'an AWS account id or unit key' },
        asOf: { type: 'string', format: 'date-time', description: 'evaluate time-based rules as of this time' },
      },
    },
    response: {
      202: {
        type: 'object',
        required: ['scanId', 'units', 'queued'],
        properties: {
          scanId: { type: 'string' },
          units: { type: 'array', items: { type: 'string' } },
          queued: { type: 'boolean' },
        },
      },
      ...authResponses,
      400: { description: 'no such account, or a bad asOf', ...errorBody },
    },
  },
  handle: async ({ deps, caller, body, reply }) => {
    const b = (body ?? {}) as { account?: string; asOf?: string };
    const asOf = b.asOf ? new Date(b.asOf) : undefined;
    if (asOf && Number.isNaN(asOf.getTime()))
      throw Object.assign(new CwError(ErrorCodes.INPUT, 'asOf is not a date-time'), { field: 'body.asOf' });
    const { scanId, units } = await requestScan(deps.app, deps.queues, {
      trigger: 'api',
      by: actorOf(caller!),
      ...(b.account ? { account: b.account } : {}),
      ...(asOf ? { asOf } : {}),
    });
    void reply.status(202);
    return { scanId, units: units.map((u) => u.key), queued: true };
  },
});
