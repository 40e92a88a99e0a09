/**
 * GET /api/v1/audit: the audit chain from seq `from` (default 1), at most `limit` events (≤ 1000),
 * optionally only one `type`, up to the head read at the start of the request. `next` is the
 * `from` of the following page, null at the head. A type filter reads at most TYPE_SCAN_LIMIT
 * events per request, so a rare type may answer fewer than `limit` events with a `next`.
 */
import type { AuditEvent } from '../../audit/event.js';
import { authResponses, defineRoute } from '../route.js';
import { auditEventSchema, filter, query } from '../schemas.js';

export const TYPE_SCAN_LIMIT = 100_000;
const BATCH = 1000;

export default defineRoute({
  method: 'GET',
  url: '/api/v1/audit',
  permission: 'audit:read',
  schema: {
    operationId: 'readAudit',
    summary: 'Audit events by seq range, with the chain head',
    tags: ['audit'],
    querystring: query({
      from: { type: 'integer', minimum: 1, default: 1, description: 'the first seq to return' },
      limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
      type: filter.auditType,
    }),
    response: {
      200: {
        type: 'object',
        required: ['events', 'head', 'next'],
        properties: {
          events: { type: 'array', items: auditEventSchema },
          head: {
            type: 'object',
            required: ['seq', 'hash'],
            properties: { seq: { type: 'integer' }, hash: { type: 'string' } },
          },
          next: { type: ['integer', 'null'], description: 'the `from` of the next page; null at the head' },
        },
      },
      ...authResponses,
    },
  },
  handle: async ({ deps: { app }, query: q }) => {
    const from = q.from as number;
    const limit = q.limit as number;
    const type = q.type as string | undefined;
    const head = await app.audit.head();
    const events: AuditEvent[] = [];
    let seq = from;
    let scanned = 0;
    while (seq <= head.seq && events.length < limit && scanned < (type ? TYPE_SCAN_LIMIT : limit)) {
      const want = type ? Math.min(BATCH, TYPE_SCAN_LIMIT - scanned) : limit - events.length;
      const batch = (await app.audit.read(seq, want)).filter((e) => e.seq <= head.seq);
      if (batch.length === 0) break;
      for (const e of batch) {
        scanned++;
        seq = e.seq + 1;
        if (!type || e.type === type) events.push(e);
        if (events.length >= limit) break;
      }
    }
    return { events, head, next: seq <= head.seq ? seq : null };
  },
});
