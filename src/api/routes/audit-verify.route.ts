/**
 * GET /api/v1/audit/verify: `credwarden audit verify` over HTTP (audit/verify-copies.ts): the hash
 * chain in Redis, the JSONL copy on its own, each against the newest signed checkpoint read from
 * outside Redis, and the two against each other. 200 either way: `ok` says whether all of it
 * holds, `breaks` names each break, `checks` has each check's result, `checkpoint` says which
 * checkpoint was checked (`checked: null` and a `note` when none).
 */
import { verifyAppAudit } from '../audit-verify.js';
import { authResponses, defineRoute, openObject } from '../route.js';
import { query } from '../schemas.js';

export default defineRoute({
  method: 'GET',
  url: '/api/v1/audit/verify',
  permission: 'audit:read',
  schema: {
    operationId: 'verifyAudit',
    summary: 'Verify the audit chain in Redis and its file copy, and hold them against each other',
    tags: ['audit'],
    querystring: query(),
    response: {
      200: {
        type: 'object',
        required: ['ok', 'breaks', 'checks'],
        properties: {
          ok: { type: 'boolean' },
          breaks: {
            type: 'array',
            items: openObject('one break: where, reason, detail, and for a chain its seq and position', {
              where: { type: 'string' },
              reason: { type: 'string' },
              detail: { type: 'string' },
            }),
          },
          checks: { type: 'array', items: openObject('one check: where, and its result') },
          checkpoint: openObject('the newest signed checkpoint checked (checked: null when none), and those ignored', {
            note: { type: 'string' },
          }),
        },
      },
      ...authResponses,
    },
  },
  handle: ({ deps: { app } }) => verifyAppAudit(app),
});
