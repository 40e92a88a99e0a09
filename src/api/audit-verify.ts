/**
 * `credwarden audit verify` over an App, as GET /api/v1/audit/verify and the dashboard's
 * compliance page run it (audit/verify-copies.ts): the chain in Redis, the JSONL copy, each against
 * the newest signed checkpoint read from outside Redis, and the two against each other.
 */
import { checkpointSources } from '../audit/checkpoint-verify.js';
import { breaksOf, checkpointOf, verifyCopies } from '../audit/verify-copies.js';
import type { App } from '../main.js';
import { keyPrefix } from '../queue/prefix.js';

export async function verifyAppAudit(app: App) {
  const checks = await verifyCopies(app.audit, {
    file: app.config.audit.file,
    hmacKey: app.config.audit.hmacKey,
    redisLabel: `redis ${keyPrefix(app.config.redis)}:audit`,
    checkpoints: checkpointSources(app.config, app.checkpoints.publicKey ?? undefined),
  });
  return { ok: checks.every((c) => c.result.ok), breaks: breaksOf(checks), checks, checkpoint: checkpointOf(checks) };
}
