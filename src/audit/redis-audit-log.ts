/**
 * The audit log's system of record: one hash chain in Redis that any number of processes append to.
 *
 * Redis keys:
 *   <prefix>:audit:events  Stream. Entry id `<seq>-0`, one field `e` = canonical JSON of the event.
 *                          Never trimmed.
 *   <prefix>:audit:head    Hash { seq, hash } of the last event, and `first`: the hash of seq 1, the
 *                          chain's identity. Absent means empty (seq 0, GENESIS).
 *   <prefix>:audit:claim   String, short-lived (PX): the append token of a writer that lost several
 *                          compare-and-set rounds in a row; until it appends, only it may.
 *   <prefix>:audit:idem    Hash: idempotency key → seq of the event it recorded.
 *
 * record()/append(): calls are queued and committed in batches (group commit): one Lua call
 * appends up to maxBatch events (maxBatchBytes), built and hashed in Node (Redis Lua has no
 * SHA-256) against the last head this instance saw; the script appends them only if the head is
 * still that one. On a conflict it returns the current head and the client rebuilds and retries,
 * up to maxAttempts conflicts and appendTimeoutMs; a writer that keeps losing takes the claim, so a
 * busy writer cannot starve it. Members whose idempotency key is recorded resolve to that event and
 * write nothing. Each event's effects (util/effects.ts) are applied in the same script, only if
 * the event is new, after every key's type was checked: the state changes exactly when the audit
 * says it did. The script refuses (AUDIT_TAMPERED) to extend a log whose stream top does not match
 * its head, and is idempotent for identical arguments, so ioredis re-sending a command after a
 * reconnect cannot append twice. Before each script call the mirror checks it holds nothing Redis
 * lacks (AUDIT_DIVERGED otherwise: Redis lost data, or the file belongs to another chain).
 * Every failure rejects (fail closed, DESIGN invariant 4): a caller must not act unless its append
 * resolved, which it does only once the event is in Redis and in the mirror. A mirror failure after
 * the event is in Redis rejects with AuditMirrorError, which carries the recorded event; the next
 * sync catches the mirror up. The mirror's fsync is pipelined one batch deep behind Redis.
 */
import { randomUUID } from 'node:crypto';
import type { Clock } from '../clock.js';
import { CwError, ErrorCodes } from '../errors.js';
import type { RedisClient } from '../queue/connection.js';

export { AuditMirrorError } from './batch.js';

import { effectBytes, encodeEffects, KeyTable } from '../util/effects.js';
import { timeResolution } from './append-latency.js';
import {
  APPEND_LUA,
  type AppendCommand,
  CLAIM_AFTER_CONFLICTS,
  CLAIM_TTL_MS,
  COMMAND,
  DEFAULT_MAX_BATCH,
  DEFAULT_MAX_BATCH_BYTES,
  UNCLAIM_LUA,
  wrap,
} from './append-script.js';
import type { AuditAppender, Recorded } from './appender.js';
import { type Pending, settle } from './batch.js';
import { ChainReader } from './chain-reader.js';
import {
  type AppendInput,
  type AuditEvent,
  type AuditHead,
  type AuditMirror,
  buildEvent,
  GENESIS_HASH,
  type PreparedInput,
  prepareForAppend,
} from './event.js';
import { type Entry, RecentEntries } from './recent-entries.js';

export interface RedisAuditLogOptions {
  prefix: string;
  clock: Clock;
  hmacKey?: string;
  /** Used when an appended input names no actor. */
  actor?: string;
  mirror?: AuditMirror;
  /** Compare-and-set conflicts before giving up; default 50. */
  maxAttempts?: number;
  /** Overall limit for one append, waits on another writer's claim included; default 10 s. */
  appendTimeoutMs?: number;
  /** Events per script call; default 1000. */
  maxBatch?: number;
  /** Approximate bytes per script call (events and effects); default 1 MiB. */
  maxBatchBytes?: number;
  /** Told, once per resolved record()/append()/appendMany() call, its seconds from call to durable. */
  onAppend?: (seconds: number) => void;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class RedisAuditLog extends ChainReader implements AuditAppender {
  readonly claimKey: string;
  /** Hash: idempotency key → seq of the event it recorded. */
  readonly idemKey: string;
  private readonly maxAttempts: number;
  private readonly maxBatch: number;
  private readonly maxBatchBytes: number;
  private pending: Pending[] = [];
  private flushing = false;
  private lastHead: AuditHead | undefined;
  private readonly inflight = new Map<string, Promise<Recorded>>();
  private readonly recent = new RecentEntries();

  constructor(
    redis: RedisClient,
    private readonly opts: RedisAuditLogOptions,
  ) {
    if (opts.hmacKey === '') throw new CwError(ErrorCodes.CONFIG, 'audit hmacKey is empty');
    super(redis, opts.prefix, opts.hmacKey);
    this.claimKey = `${opts.prefix}:audit:claim`;
    this.idemKey = `${opts.prefix}:audit:idem`;
    this.maxAttempts = opts.maxAttempts ?? 50;
    this.maxBatch = opts.maxBatch ?? DEFAULT_MAX_BATCH;
    this.maxBatchBytes = opts.maxBatchBytes ?? DEFAULT_MAX_BATCH_BYTES;
    if (typeof (redis as unknown as Record<string, unknown>)[COMMAND] !== 'function') {
      redis.defineCommand(COMMAND, { lua: APPEND_LUA });
    }
  }

  /** Where the chain is mirrored, if anywhere (the file an auditor takes away). */
  get mirror(): AuditMirror | undefined {
    return this.opts.mirror;
  }

  async append(input: AppendInput): Promise<AuditEvent> {
    return (await this.record(input)).event;
  }

  /**
   * Records one event (and its effects, atomically with it). Calls made while a write is in flight
   * are committed together in the next script call and share one mirror fsync (group commit); each
   * still resolves only once its event is in Redis and in the mirror, and rejects otherwise.
   */
  record(input: AppendInput): Promise<Recorded> {
    return timeResolution(this.enqueue(input), this.opts.onAppend);
  }

  private enqueue(input: AppendInput): Promise<Recorded> {
    let draft: PreparedInput;
    try {
      draft = prepareForAppend(input, this.opts.actor);
    } catch (err) {
      return Promise.reject(err);
    }
    const idem = input.idempotencyKey ?? '';
    // The same key while its first append is still in flight here: that append's event.
    const twin = idem ? this.inflight.get(idem) : undefined;
    if (twin) return twin.then((r) => ({ event: r.event, appended: false }));
    const effects = input.effects ?? [];
    const bytes = draft.dataJson.length + 512 + effectBytes(effects);
    const recorded = new Promise<Recorded>((resolve, reject) => {
      this.pending.push({ input: draft, idem, effects, bytes, resolve, reject });
      void this.flush();
    });
    if (idem) {
      this.inflight.set(idem, recorded);
      const forget = () => {
        if (this.inflight.get(idem) === recorded) this.inflight.delete(idem);
      };
      recorded.then(forget, forget);
    }
    return recorded;
  }

  /** Records several events in order; they are batched like concurrent appends. */
  appendMany(inputs: readonly AppendInput[]): Promise<AuditEvent[]> {
    return timeResolution(Promise.all(inputs.map((i) => this.enqueue(i).then((r) => r.event))), this.opts.onAppend);
  }

  /**
   * One writer per process drains the queue, a bounded batch per script call. The mirror is
   * pipelined one batch deep: batch k+1 goes to Redis while batch k's mirror write is fsyncing, and
   * each batch's callers are answered only once its own events are in the file too.
   */
  private async flush(): Promise<void> {
    if (this.flushing) return;
    this.flushing = true;
    let previous: Promise<void> = Promise.resolve();
    try {
      while (this.pending.length > 0) {
        const batch = this.takeBatch();
        let recorded: Recorded[];
        try {
          recorded = await this.commit(batch);
        } catch (err) {
          for (const p of batch) p.reject(err);
          continue;
        }
        const mirror = this.opts.mirror;
        let synced: Promise<void>;
        // A deduplicated event (a retry's) may be in Redis but not yet in the file, if the writer
        // that appended it died before its sync: every batch syncs, so a caller that acts on a
        // resolved append always finds the event in both copies.
        if (mirror && recorded.length > 0) {
          synced = mirror.sync(this).then(
            () => settle(batch, recorded),
            (err: unknown) => settle(batch, recorded, err),
          );
        } else {
          settle(batch, recorded);
          synced = Promise.resolve();
        }
        await previous;
        previous = synced;
      }
      await previous;
    } finally {
      this.flushing = false;
      // An append queued while this loop was finishing would otherwise wait for the next one.
      if (this.pending.length > 0) void this.flush();
    }
  }

  private takeBatch(): Pending[] {
    let bytes = 0;
    let n = 0;
    while (n < this.pending.length && n < this.maxBatch) {
      const b = this.pending[n]!.bytes;
      if (n > 0 && bytes + b > this.maxBatchBytes) break;
      bytes += b;
      n++;
    }
    return this.pending.splice(0, n);
  }

  /** Appends a batch in one script call; returns each member's recorded event, in order. */
  private async commit(batch: Pending[]): Promise<Recorded[]> {
    const cmd = (this.redis as unknown as Record<string, AppendCommand>)[COMMAND]!.bind(this.redis);
    const token = randomUUID();
    const deadline = Date.now() + (this.opts.appendTimeoutMs ?? 10_000);
    const out: (Recorded | undefined)[] = new Array(batch.length);
    let conflicts = 0;
    // The last head this instance saw is usually still current; the compare-and-set catches it when not.
    let head = this.lastHead;
    this.lastHead = undefined;
    try {
      head ??= await this.head();
      // Optimistic: the script refuses a batch holding a recorded key (status 4); only then are the
      // keys looked up, and members whose key is recorded resolve to that event and write nothing.
      let filter = false;
      for (;;) {
        if (conflicts >= this.maxAttempts || Date.now() >= deadline) break;
        const todo = filter ? await this.unrecorded(batch, out) : batch.map((_, i) => i);
        if (todo.length === 0) return out as Recorded[];
        await this.opts.mirror?.assertConsistent?.(this, head);
        const keys = new KeyTable(4);
        const args: string[] = [];
        const events: AuditEvent[] = [];
        const texts: string[] = [];
        let prev = head;
        for (const i of todo) {
          const p = batch[i]!;
          const time = this.opts.clock.now().toISOString();
          const { event, text } = buildEvent(p.input, prev.seq + 1, time, prev.hash, this.opts.hmacKey);
          const fx = encodeEffects(p.effects, keys.of);
          args.push(String(event.seq), event.hash, text, p.idem, String(p.effects.length), ...fx);
          events.push(event);
          texts.push(text);
          prev = { seq: event.seq, hash: event.hash };
        }
        const claim = conflicts >= CLAIM_AFTER_CONFLICTS ? '1' : '0';
        const [status, seq, hash] = await cmd(
          String(4 + keys.keys.length),
          this.headKey,
          this.eventsKey,
          this.claimKey,
          this.idemKey,
          ...keys.keys,
          head.hash,
          String(head.seq),
          GENESIS_HASH,
          token,
          claim,
          String(CLAIM_TTL_MS),
          String(todo.length),
          ...args,
        );
        if (status === 1) {
          for (const [k, i] of todo.entries()) out[i] = { event: events[k]!, appended: true };
          this.lastHead = prev;
          this.recent.remember(events, texts);
          return out as Recorded[];
        }
        head = { seq: Number(seq), hash: hash ?? GENESIS_HASH };
        if (status === 0) conflicts++;
        else if (status === 2) await sleep(1 + Math.random() * 4);
        else if (status === 4) filter = true;
      }
    } catch (err) {
      await this.unclaim(token);
      throw wrap('append', err);
    }
    await this.unclaim(token);
    throw new CwError(
      ErrorCodes.AUDIT,
      `audit append gave up after ${conflicts} conflicts: the head kept moving (seq ${head.seq})`,
      { retryable: true },
    );
  }

  /**
   * Fills `out` for members whose idempotency key is already recorded (or repeated earlier in the
   * batch) and returns the indices still to append.
   */
  private async unrecorded(batch: Pending[], out: (Recorded | undefined)[]): Promise<number[]> {
    const open = batch.map((_, i) => i).filter((i) => out[i] === undefined);
    const keyed = open.filter((i) => batch[i]!.idem !== '');
    const seqs = keyed.length ? await this.redis.hmget(this.idemKey, ...keyed.map((i) => batch[i]!.idem)) : [];
    const bySeq = new Map<number, number[]>();
    for (const [k, i] of keyed.entries()) {
      const s = seqs[k];
      if (s == null) continue;
      const list = bySeq.get(Number(s)) ?? [];
      list.push(i);
      bySeq.set(Number(s), list);
    }
    for (const [seq, members] of bySeq) {
      const [e] = await this.read(seq, 1);
      if (!e || e.seq !== seq) {
        throw new CwError(
          ErrorCodes.AUDIT_TAMPERED,
          `idempotency key "${batch[members[0]!]!.idem}" points at missing event #${seq}`,
        );
      }
      for (const i of members) out[i] = { event: e, appended: false };
    }
    return open.filter((i) => out[i] === undefined);
  }

  /** This instance's own just-appended entries from memory (recent-entries.ts); the rest from Redis. */
  override async readEntries(fromSeq: number, count: number): Promise<Entry[]> {
    const mine = this.recent.from(fromSeq, count);
    if (!mine) return super.readEntries(fromSeq, count);
    if (mine.length === count) return mine;
    // Past what this instance appended: whatever other writers appended since, from Redis.
    return mine.concat(await super.readEntries(mine.at(-1)!.event.seq + 1, count - mine.length));
  }

  private async unclaim(token: string): Promise<void> {
    await this.redis.eval(UNCLAIM_LUA, 1, this.claimKey, token).catch(() => undefined);
  }
}
