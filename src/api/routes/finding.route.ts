/**
 * GET /api/v1/findings/{fingerprint}: one finding (fingerprint URL-encoded: `<policy>:<credential
 * id>` holds `:` and `/`) and its history: the `finding.*` audit events about it (their subject is
 * the fingerprint; a `finding.merged` names the survivor in `data.into`), oldest first. Only the
 * newest HISTORY_SCAN_LIMIT events of the chain are read; `historyScan` says which, and whether
 * older ones were left unread.
 */
import type { AuditEvent } from '../../audit/event.js';
import { authResponses, defineRoute } from '../route.js';
import { auditEventSchema, findingSchema, idParams, notFound, notFoundResponse, query } from '../schemas.js';

export const HISTORY_SCAN_LIMIT = 100_000;
const BATCH = 1000;

const about = (e: AuditEvent, fingerprint: string): boolean =>
  e.type.startsWith('finding.') && (e.subject === fingerprint || e.data.into === fingerprint);

export default defineRoute({
  method: 'GET',
  url: '/api/v1/findings/:fingerprint',
  permission: 'posture:read',
  schema: {
    operationId: 'getFinding',
    summary: 'One finding and its audit history',
    tags: ['findings'],
    params: idParams('fingerprint', 'the finding fingerprint, `<policy>:<credential id>`'),
    querystring: query(),
    response: {
      200: {
        type: 'object',
        required: ['finding', 'history', 'historyScan'],
        properties: {
          finding: findingSchema,
          history: { type: 'array', items: auditEventSchema, description: 'its finding.* events, oldest first' },
          historyScan: {
            type: 'object',
            required: ['fromSeq', 'toSeq', 'truncated'],
            properties: {
              fromSeq: { type: 'integer', description: 'the oldest event read' },
              toSeq: { type: 'integer', description: 'the audit head when read' },
              truncated: {
                type: 'boolean',
                description: `older events exist (only the newest ${HISTORY_SCAN_LIMIT} are read)`,
              },
            },
          },
        },
      },
      404: notFoundResponse('finding'),
      ...authResponses,
    },
  },
  handle: async ({ deps: { app }, params }) => {
    const fingerprint = params.fingerprint!;
    const finding = await app.findings.get(fingerprint);
    if (!finding) throw notFound(`no finding ${fingerprint}`);
    const head = await app.audit.head();
    const fromSeq = Math.max(1, head.seq - HISTORY_SCAN_LIMIT + 1);
    const history: AuditEvent[] = [];
    for (let seq = fromSeq; seq <= head.seq; ) {
      const batch = (await app.audit.read(seq, BATCH)).filter((e) => e.seq <= head.seq);
      if (batch.length === 0) break;
      for (const e of batch) if (about(e, fingerprint)) history.push(e);
      seq = batch.at(-1)!.seq + 1;
    }
    return { finding, history, historyScan: { fromSeq, toSeq: head.seq, truncated: fromSeq > 1 } };
  },
});
