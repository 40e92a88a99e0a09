/**
 * A JSONL file copy of the audit chain: one canonical-JSON event per line, in seq order, line N
 * holding seq N. It is the copy an auditor takes away; Redis stays the system of record.
 *
 * Redis keys:
 *   <prefix>:audit:mirror-lock:<sha1(path)>  A lease (util/lease.ts) on the file at that absolute
 *   path, held while writing, so workers sharing one file never interleave lines: renewed while
 *   the sync runs and once more before each write; a holder that lost it stops before its next write.
 *
 * sync(log): under the lock, finds the file's last seq (cached with the file's device, inode and
 * size; re-read from the tail only when those change), checks that Redis still holds that same
 * event (same hash) and that each new event links to the previous one, then appends every newer
 * event and fsyncs. A divergent copy throws CwError(AUDIT_TAMPERED) and writes nothing. A torn last
 * line (a crash mid-write) is repaired: completed with "\n" if it is a whole event, else cut off
 * and copied again from Redis.
 */
import { createHash } from 'node:crypto';
import { type FileHandle, mkdir, open } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { CwError, ErrorCodes } from '../errors.js';
import type { RedisClient } from '../queue/connection.js';
import { Lease } from '../util/lease.js';
import {
  type AuditEvent,
  type AuditHead,
  type AuditMirror,
  type AuditReader,
  canonicalJson,
  GENESIS_HASH,
  parseEvent,
} from './event.js';
import { type VerifyOptions, type VerifyResult, verifyChainAsync } from './verify.js';

export interface JsonlMirrorOptions {
  prefix: string;
  path: string;
  /** Lock lease, renewed every third of it while a sync runs and checked before each write; default 3 s. */
  lockTtlMs?: number;
  /** How long to wait for another writer's lock; default 15 s (longer than a crashed holder's lease). */
  lockWaitMs?: number;
  /** Events read from Redis per write; default 1000. */
  batch?: number;
}

interface Tail {
  seq: number;
  hash: string;
  size: number;
}

const tampered = (msg: string): CwError => new CwError(ErrorCodes.AUDIT_TAMPERED, msg);

export class JsonlMirror implements AuditMirror {
  readonly path: string;
  readonly lockKey: string;
  private readonly ttl: number;
  private readonly wait: number;
  private readonly batch: number;
  private cache: (Tail & { dev: number; ino: number }) | undefined;
  /** dev:ino:size of the file when its tail was last found in Redis. */
  private checked: string | undefined;
  private dirReady = false;
  private readonly prefix: string;
  private chain: Promise<unknown> = Promise.resolve();
  private waiting: Promise<number> | undefined;

  constructor(
    private readonly redis: RedisClient,
    opts: JsonlMirrorOptions,
  ) {
    this.path = resolve(opts.path);
    this.prefix = opts.prefix;
    this.lockKey = `${opts.prefix}:audit:mirror-lock:${createHash('sha1').update(this.path).digest('hex')}`;
    this.ttl = opts.lockTtlMs ?? 3000;
    this.wait = opts.lockWaitMs ?? 15_000;
    this.batch = opts.batch ?? 1000;
  }

  /**
   * Copies every event newer than the file's last line. Calls that arrive while a sync has not
   * started yet share it; otherwise they queue behind the running one. Returns events written.
   */
  sync(log: AuditReader): Promise<number> {
    if (this.waiting) return this.waiting;
    const run = this.chain.then(() => {
      this.waiting = undefined;
      return this.syncLocked(log);
    });
    this.waiting = run;
    this.chain = run.catch(() => undefined);
    return run;
  }

  /**
   * Before an append: the file must not hold events Redis lacks. Its last event (seq, hash) must be
   * at or below Redis' head and identical to Redis' event of that seq. Checked again only when the
   * file or the head changes.
   */
  async assertConsistent(log: AuditReader, head: AuditHead): Promise<void> {
    const tail = await this.peekTail();
    if (!tail || tail.seq === 0) return;
    const key = `${tail.dev}:${tail.ino}:${tail.size}`;
    if (this.checked === key && tail.seq <= head.seq) return;
    if (tail.seq > head.seq) {
      // The head this append builds on may just be stale (another writer appended and mirrored).
      const fresh = (await log.head?.()) ?? head;
      if (tail.seq > fresh.seq) throw this.diverged(fresh, tail, null);
    }
    const [same] = await log.read(tail.seq, 1);
    if (!same || same.seq !== tail.seq || same.hash !== tail.hash) {
      throw this.diverged((await log.head?.()) ?? head, tail, same ?? null);
    }
    this.checked = key;
  }

  private diverged(head: AuditHead, tail: { seq: number; hash: string }, redisAtTail: AuditEvent | null): CwError {
    const h = (x: string) => `${x.slice(0, 12)}…`;
    const what =
      tail.seq > head.seq
        ? `Redis (prefix ${this.prefix}) has its head at seq ${head.seq}${head.seq ? ` (${h(head.hash)})` : ' (empty)'} but the file ${this.path} ends at seq ${tail.seq} (${h(tail.hash)}): Redis lost events it had (restarted without persistence, flushed, or restored from an older backup), or the file belongs to another chain`
        : `Redis (prefix ${this.prefix}) seq ${tail.seq} is ${redisAtTail ? h(redisAtTail.hash) : 'missing'} but the file ${this.path} ends with seq ${tail.seq} ${h(tail.hash)}: they are different chains (two configs share this file, or Redis was reset and written again)`;
    return new CwError(
      ErrorCodes.AUDIT_DIVERGED,
      `audit chain diverged: ${what}. Nothing was appended. Fix: restore Redis from a backup that holds seq ${tail.seq}, or archive the file (mv ${this.path} ${this.path}.old) so a new chain starts; the archived copy stays verifiable with \`credwarden audit verify --file-only --file ${this.path}.old\`, and give each Redis prefix its own audit.file`,
    );
  }

  /** The file's last complete event, read-only (a torn line is skipped; sync repairs it). */
  private async peekTail(): Promise<(Tail & { dev: number; ino: number }) | null> {
    let fh: FileHandle;
    try {
      fh = await open(this.path, 'r');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return null;
      throw new CwError(ErrorCodes.AUDIT, `audit mirror ${this.path}: ${(err as Error).message}`, { retryable: true });
    }
    try {
      const st = await fh.stat();
      const c = this.cache;
      if (c && c.dev === st.dev && c.ino === st.ino && c.size === st.size) return c;
      let end = st.size;
      while (end > 0) {
        const lastByte = Buffer.alloc(1);
        await fh.read(lastByte, 0, 1, end - 1);
        const complete = lastByte[0] === 0x0a;
        const { text, start } = await lastLine(fh, complete ? end - 1 : end);
        try {
          const e = parseEvent(text, `${this.path}: last line`);
          return { seq: e.seq, hash: e.hash, size: st.size, dev: st.dev, ino: st.ino };
        } catch (err) {
          if (complete) throw err;
          end = start;
        }
      }
      return { seq: 0, hash: GENESIS_HASH, size: st.size, dev: st.dev, ino: st.ino };
    } finally {
      await fh.close();
    }
  }

  private async syncLocked(log: AuditReader): Promise<number> {
    // Renewed while this writer works, so it can be short: a writer killed mid-sync holds the file
    // up for at most lockTtlMs. ensureOwned renews it once more before every write, as a fence.
    const lease = await Lease.acquire(this.redis, this.lockKey, {
      ttlMs: this.ttl,
      waitMs: this.wait,
      what: `the audit mirror ${this.path}`,
      code: ErrorCodes.AUDIT,
    });
    try {
      return await this.copy(log, lease);
    } catch (err) {
      this.cache = undefined;
      this.dirReady = false;
      throw err;
    } finally {
      await lease.release();
    }
  }

  private async copy(log: AuditReader, lease: Lease): Promise<number> {
    if (!this.dirReady) {
      await mkdir(dirname(this.path), { recursive: true });
      this.dirReady = true;
    }
    const fh = await open(this.path, 'a+', 0o640);
    try {
      const st = await fh.stat();
      const c = this.cache;
      let tail: Tail =
        c && c.dev === st.dev && c.ino === st.ino && c.size === st.size ? { ...c } : await this.readTail(fh, st.size);
      let from = tail.seq === 0 ? 1 : tail.seq;
      let written = 0;
      for (;;) {
        // The stored text is already canonical JSON: written as it is, never encoded again.
        const entries = log.readEntries
          ? await log.readEntries(from, this.batch)
          : (await log.read(from, this.batch)).map((event) => ({ event, text: canonicalJson(event) }));
        const full = entries.length === this.batch;
        if (from === tail.seq) {
          const same = entries.shift()?.event;
          if (!same || same.seq !== tail.seq || same.hash !== tail.hash) {
            throw this.diverged((await log.head?.()) ?? { seq: 0, hash: GENESIS_HASH }, tail, same ?? null);
          }
        }
        if (entries.length > 0) {
          let lines = '';
          for (const { event: e, text } of entries) {
            if (e.seq !== tail.seq + 1 || e.prevHash !== tail.hash) {
              throw tampered(`audit mirror ${this.path}: Redis seq ${e.seq} does not link to seq ${tail.seq}`);
            }
            lines += `${text}\n`;
            tail = { seq: e.seq, hash: e.hash, size: tail.size };
          }
          await this.ensureOwned(fh, lease, tail.size);
          await fh.appendFile(lines, 'utf8');
          tail.size += Buffer.byteLength(lines, 'utf8');
          written += entries.length;
        }
        if (!full) break;
        from = tail.seq + 1;
      }
      if (written > 0) await fh.datasync();
      this.cache = { ...tail, dev: st.dev, ino: st.ino };
      // Its last event was just found in Redis: the next append need not look again.
      this.checked = `${st.dev}:${st.ino}:${tail.size}`;
      return written;
    } finally {
      await fh.close();
    }
  }

  /** Before each write: the lock is still ours and nobody else grew the file. */
  private async ensureOwned(fh: FileHandle, lease: Lease, size: number): Promise<void> {
    if (!(await lease.renewNow())) {
      throw new CwError(ErrorCodes.AUDIT, `audit mirror ${this.path}: lost the lock mid-write`, { retryable: true });
    }
    const now = (await fh.stat()).size;
    if (now !== size) {
      throw new CwError(ErrorCodes.AUDIT, `audit mirror ${this.path}: file changed under the lock (${size} → ${now})`, {
        retryable: true,
      });
    }
  }

  private async readTail(fh: FileHandle, size: number): Promise<Tail> {
    if (size === 0) return { seq: 0, hash: GENESIS_HASH, size: 0 };
    const lastByte = Buffer.alloc(1);
    await fh.read(lastByte, 0, 1, size - 1);
    const complete = lastByte[0] === 0x0a;
    const { text, start } = await lastLine(fh, complete ? size - 1 : size);
    if (!complete) {
      try {
        parseEvent(text, '');
      } catch {
        await fh.truncate(start);
        return this.readTail(fh, start);
      }
      await fh.appendFile('\n', 'utf8');
      size += 1;
    }
    const e = parseEvent(text, `${this.path}: last line`);
    return { seq: e.seq, hash: e.hash, size };
  }
}

/** The line that ends at byte `end` (exclusive), read backwards in growing chunks. */
async function lastLine(fh: FileHandle, end: number): Promise<{ text: string; start: number }> {
  for (let chunk = 64 * 1024; ; chunk *= 4) {
    const start = Math.max(0, end - chunk);
    const buf = Buffer.alloc(end - start);
    const { bytesRead } = await fh.read(buf, 0, buf.length, start);
    if (bytesRead !== buf.length) throw new CwError(ErrorCodes.AUDIT, 'audit mirror: file shrank while reading');
    const nl = buf.lastIndexOf(0x0a);
    if (nl >= 0) return { text: buf.subarray(nl + 1).toString('utf8'), start: start + nl + 1 };
    if (start === 0) return { text: buf.toString('utf8'), start: 0 };
  }
}

/**
 * The events of a JSONL copy, in file order. An empty, non-JSON or malformed line throws
 * CwError(AUDIT_TAMPERED) naming `<path>:<line>`; a missing file throws CwError(AUDIT).
 */
export async function* readJsonl(path: string): AsyncGenerator<AuditEvent> {
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    throw new CwError(ErrorCodes.AUDIT, `cannot read audit file ${path}: ${(err as Error).message}`, { cause: err });
  }
  try {
    let line = 0;
    for await (const text of fh.readLines({ encoding: 'utf8' })) {
      line++;
      if (text.length === 0) throw tampered(`${path}:${line}: empty line`);
      yield parseEvent(text, `${path}:${line}`);
    }
  } finally {
    await fh.close().catch(() => undefined);
  }
}

/** Verifies a JSONL copy; a break's position p is line p + 1. */
export function verifyJsonl(path: string, opts: VerifyOptions = {}): Promise<VerifyResult> {
  return verifyChainAsync(readJsonl(path), opts);
}
