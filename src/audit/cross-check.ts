/**
 * The two copies of the chain held against each other. Each copy can verify on its own and still
 * be wrong: a chain rewritten without the HMAC key verifies, a file whose tail was cut verifies, a
 * Redis that restarted empty verifies ("0 events"). So the copies must agree:
 * - the same chain (the same first event);
 * - the same event, hash for hash, at every seq both hold;
 * - neither ahead of the other without saying so: a file behind Redis lost its tail (or a mirror
 *   write failed); Redis behind the file lost data (a restart without persistence, a flush, an old
 *   backup); a missing file, or an empty Redis beside a full file, is named as such.
 * Streams both copies in step: memory stays flat for a chain of any length.
 */
import { existsSync } from 'node:fs';
import { CwError, ErrorCodes } from '../errors.js';
import type { AuditEvent } from './event.js';
import { readJsonl } from './jsonl-mirror.js';
import type { RedisAuditLog } from './redis-audit-log.js';

export interface CrossCheckResult {
  ok: boolean;
  /** Each disagreement, in words an operator can act on. */
  problems: string[];
  redis: { headSeq: number; chainId: string | null };
  file: { path: string; exists: boolean; lastSeq: number; chainId: string | null };
  /** Seqs compared hash for hash. */
  compared: number;
}

const short = (h: string | null | undefined): string => (h ? `${h.slice(0, 12)}…` : 'none');

async function next(it: AsyncIterator<AuditEvent>): Promise<AuditEvent | undefined> {
  const r = await it.next();
  return r.done ? undefined : r.value;
}

export async function crossCheck(log: RedisAuditLog, path: string): Promise<CrossCheckResult> {
  const head = await log.head();
  const res: CrossCheckResult = {
    ok: true,
    problems: [],
    redis: { headSeq: head.seq, chainId: await log.chainId() },
    file: { path, exists: existsSync(path), lastSeq: 0, chainId: null },
    compared: 0,
  };
  const problem = (p: string) => {
    res.ok = false;
    res.problems.push(p);
  };
  if (!res.file.exists) {
    if (head.seq > 0) {
      problem(
        `the audit file ${path} is missing while Redis holds ${head.seq} events: it was deleted or moved (the next append writes it anew from Redis)`,
      );
    }
    return res;
  }
  const r = log.iterate(1000, head.seq === 0 ? undefined : head.seq)[Symbol.asyncIterator]();
  const f = readJsonl(path)[Symbol.asyncIterator]();
  let a = head.seq === 0 ? undefined : await next(r);
  let b: AuditEvent | undefined;
  try {
    b = await next(f);
    if (b?.seq === 1) res.file.chainId = b.hash;
    if (a && b && a.seq === 1 && b.seq === 1 && a.hash !== b.hash) {
      problem(
        `Redis and ${path} hold different chains (first event ${short(a.hash)} in Redis, ${short(b.hash)} in the file): two configs share this file, or Redis was reset and written again`,
      );
      return res;
    }
    while (a && b) {
      if (a.seq !== b.seq) break; // a gap in one copy: its own verify names it
      if (a.hash !== b.hash) {
        problem(
          `seq ${a.seq} differs: ${short(a.hash)} in Redis, ${short(b.hash)} in ${path}: one copy was rewritten from there on`,
        );
        return res;
      }
      res.compared++;
      res.file.lastSeq = b.seq;
      a = await next(r);
      b = await next(f);
    }
    while (b) {
      res.file.lastSeq = b.seq;
      b = await next(f);
    }
  } catch (err) {
    if (err instanceof CwError && err.code === ErrorCodes.AUDIT_TAMPERED) {
      problem(`cannot compare past seq ${res.file.lastSeq} of ${path}: ${err.message}`);
      return res;
    }
    throw err;
  }
  const fileLast = res.file.lastSeq;
  if (head.seq === 0 && fileLast > 0) {
    problem(
      `Redis holds no audit events but ${path} holds ${fileLast}: Redis lost its data (restarted without persistence, or flushed); restore it from a backup`,
    );
  } else if (fileLast > head.seq) {
    problem(
      `${path} runs to seq ${fileLast} but Redis ends at seq ${head.seq}: Redis lost ${fileLast - head.seq} events (restarted without persistence, or restored from an older backup)`,
    );
  } else if (fileLast < head.seq) {
    problem(
      `${path} ends at seq ${fileLast} but Redis at seq ${head.seq}: the file is missing its last ${head.seq - fileLast} events (its tail was cut, or a mirror write failed; the next append copies them back)`,
    );
  }
  return res;
}
