/**
 * Verifying the audit log as `credwarden audit verify` and `GET /api/v1/audit/verify` do: the
 * hash chain in Redis, the JSONL copy on its own (when the file exists), and the two against each
 * other (cross-check.ts). Each check names its first break; the whole holds only when all do.
 */
import { existsSync } from 'node:fs';
import { type CrossCheckResult, crossCheck } from './cross-check.js';
import { verifyJsonl } from './jsonl-mirror.js';
import type { RedisAuditLog } from './redis-audit-log.js';
import type { VerifyResult } from './verify.js';

export type AuditCheck = { where: string; result: VerifyResult } | { where: 'cross-check'; result: CrossCheckResult };

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
}

/** Redis, the file (when it exists), then the cross-check, in that order. */
export async function verifyCopies(log: RedisAuditLog, opts: VerifyCopiesOptions): Promise<AuditCheck[]> {
  const hmac = opts.hmacKey ? { hmacKey: opts.hmacKey } : {};
  const results: AuditCheck[] = [{ where: opts.redisLabel, result: await log.verify() }];
  if (existsSync(opts.file)) results.push({ where: opts.file, result: await verifyJsonl(opts.file, hmac) });
  results.push({ where: 'cross-check', result: await crossCheck(log, opts.file) });
  return results;
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
