/**
 * Verifying the audit log as `credwarden audit verify` and `GET /api/v1/audit/verify` do: the
 * hash chain in Redis, the JSONL copy on its own (when the file exists), and the two against each
 * other (cross-check.ts). With `checkpoints`, each copy is also held against the newest signed
 * checkpoint read from outside Redis (checkpoint-verify.ts): its result gains a `checkpoint` part,
 * and a copy that does not hold it is broken there. Each check names its first break; the whole
 * holds only when all do.
 */
import { existsSync } from 'node:fs';
import {
  type CheckpointSources,
  type CheckpointSummary,
  type CopyCheckpoint,
  collectCheckpoints,
  fileView,
  holdAgainst,
  redisView,
  withCheckpoint,
} from './checkpoint-verify.js';
import { type CrossCheckResult, crossCheck } from './cross-check.js';
import { verifyJsonl } from './jsonl-mirror.js';
import type { RedisAuditLog } from './redis-audit-log.js';
import type { VerifyResult } from './verify.js';

/** One copy's chain verification, with its checkpoint part when checkpoints were checked. */
export type CopyResult = VerifyResult & { checkpoint?: CopyCheckpoint };

export type AuditCheck = { where: string; result: CopyResult } | { where: 'cross-check'; result: CrossCheckResult };

/** One thing wrong: where, and what (a chain break's seq and reason, or a cross-check problem). */
export interface AuditBreak {
  where: string;
  reason: string;
  detail: string;
  seq?: number;
  position?: number;
}

export interface VerifyCopiesOptions {
  /** The JSONL copy (config `audit.file`, or a path given by a person). */
  file: string;
  hmacKey?: string | undefined;
  /** How the Redis chain is named in the results (e.g. `redis <prefix>:audit`). */
  redisLabel: string;
  /** Where signed checkpoints are read from, and the key (checkpoint-verify.ts checkpointSources). */
  checkpoints?: CheckpointSources;
}

/** Redis, the file (when it exists), then the cross-check, in that order. */
export async function verifyCopies(log: RedisAuditLog, opts: VerifyCopiesOptions): Promise<AuditCheck[]> {
  const hmac = opts.hmacKey ? { hmacKey: opts.hmacKey } : {};
  const sum = opts.checkpoints ? await collectCheckpoints(opts.checkpoints, opts.file) : null;
  const seq = sum?.checked?.seq;
  let redis: CopyResult = await log.verify();
  if (sum) redis = withCheckpoint(redis, holdAgainst(sum, opts.redisLabel, seq ? await redisView(log, seq) : null));
  const results: AuditCheck[] = [{ where: opts.redisLabel, result: redis }];
  if (existsSync(opts.file)) results.push({ where: opts.file, result: await verifyFile(opts.file, hmac, sum) });
  results.push({ where: 'cross-check', result: await crossCheck(log, opts.file) });
  return results;
}

/** The file on its own, held against the checkpoint of `sum` when given (`--file-only` too). */
export async function verifyFile(
  file: string,
  hmac: { hmacKey?: string },
  sum: CheckpointSummary | null,
): Promise<CopyResult> {
  const result = await verifyJsonl(file, hmac);
  if (!sum) return result;
  const seq = sum.checked?.seq;
  return withCheckpoint(result, holdAgainst(sum, file, seq ? await fileView(file, seq) : null));
}

/** The checkpoint part of a verification (the same summary in every copy's result), or null. */
export function checkpointOf(checks: readonly AuditCheck[]): CheckpointSummary | null {
  for (const c of checks) {
    if (c.where === 'cross-check') continue;
    const cp = (c.result as CopyResult).checkpoint;
    if (cp) {
      const { holds: _h, detail: _d, ...summary } = cp;
      return summary;
    }
  }
  return null;
}

/** Every break the checks found, in order (empty when the log holds). */
export function breaksOf(checks: readonly AuditCheck[]): AuditBreak[] {
  const out: AuditBreak[] = [];
  for (const c of checks) {
    if (c.result.ok) continue;
    if (c.where === 'cross-check') {
      for (const p of (c.result as CrossCheckResult).problems)
        out.push({ where: c.where, reason: 'diverged', detail: p });
      continue;
    }
    const b = (c.result as VerifyResult).firstBroken;
    if (b) out.push({ where: c.where, reason: b.reason, detail: b.detail, seq: b.seq, position: b.position });
  }
  return out;
}
