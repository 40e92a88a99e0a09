/**
 * GET /api/v1/evidence?framework&from&to: the evidence pack `credwarden evidence export` writes
 * (src/evidence/export.ts), streamed as a .tar.gz attachment. It is built into a private temp
 * directory first (the pack is only sent once it is complete and signed), then streamed from disk
 * and removed when the response closes. `from` and `to` are dates (UTC; `to` inclusive) or
 * date-times with an offset; a bad one is a 400 naming it.
 */
import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { evidenceKey, exportEvidence, parseEvidenceRequest } from '../../evidence/export.js';
import { FRAMEWORK_IDS } from '../../evidence/frameworks.js';
import { actorOf, authResponses, defineRoute } from '../route.js';
import { query } from '../schemas.js';

const bound = (which: string) => ({
  type: 'string',
  minLength: 1,
  maxLength: 40,
  description: `the period's ${which}: a date (2026-11-01, UTC${which === 'end' ? ', inclusive' : ''}) or a date-time with an offset`,
});

export default defineRoute({
  method: 'GET',
  url: '/api/v1/evidence',
  permission: 'evidence:read',
  schema: {
    operationId: 'exportEvidence',
    summary: 'A signed compliance evidence pack (.tar.gz) for a framework and period',
    tags: ['audit'],
    querystring: {
      ...query({
        framework: { type: 'string', enum: [...FRAMEWORK_IDS] },
        from: bound('start'),
        to: bound('end'),
      }),
      required: ['framework', 'from', 'to'],
    },
    response: {
      200: {
        description: 'the pack: application/gzip, verify it with `node verify.mjs PACK --key PUBLIC.pem`',
        type: 'string',
        format: 'binary',
      },
      ...authResponses,
    },
  },
  handle: async ({ deps: { app }, query: q, reply, caller }) => {
    const req = parseEvidenceRequest(q, { framework: 'framework', from: 'from', to: 'to' });
    const key = evidenceKey(app.config);
    const dir = await mkdtemp(join(tmpdir(), 'cw-evidence-api-'));
    const out = join(dir, 'pack.tar.gz');
    try {
      await exportEvidence(app, req, out, { key, actor: caller ? actorOf(caller) : 'api', via: 'api' });
    } catch (err) {
      await rm(dir, { recursive: true, force: true });
      throw err;
    }
    const name = `credwarden-evidence-${req.framework}-${req.from.toISOString().slice(0, 10)}-${req.to.toISOString().slice(0, 10)}.tar.gz`;
    const stream = createReadStream(out);
    stream.once('close', () => void rm(dir, { recursive: true, force: true }));
    return reply
      .type('application/gzip')
      .header('content-disposition', `attachment; filename="${name}"`)
      .header('cache-control', 'no-store')
      .send(stream);
  },
});
