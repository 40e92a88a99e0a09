/**
 * The audit log's system of record: one hash chain in Redis that any number of processes append to.
 *
 * Redis keys:
 *   <prefix>:audit:events  Stream. Entry id `<seq>-0`, one field `e` = canonical JSON of the event.
 *                          Never trimmed.
 *   <prefix>:audit:head    Hash { seq, hash } of the last event. Absent means empty (seq 0, GENESIS).
 *   <prefix>:audit:claim   String, short-lived (PX): the append token of a writer that lost several
 *                          compare-and-set rounds in a row; until it appends, only it may.
 *
 * append(): builds and hashes the event in Node (Redis Lua has no SHA-256) against the last head
 * this instance saw, then a Lua compare-and-set appends it only if the head is still that one. On a
 * conflict the script returns the current head and the client rebuilds and retries, up to
 * maxAttempts conflicts and appendTimeoutMs. A writer that keeps losing takes the claim, so a busy
 * writer cannot starve it. The script refuses (CwError AUDIT_TAMPERED) to extend a log whose stream
 * top does not match its head (a deleted tail or head), and is idempotent for identical arguments,
 * so ioredis re-sending a command after a reconnect cannot append the same event twice.
 * Every failure throws (fail closed, DESIGN invariant 4): a caller must not act unless append
 * resolved. A mirror failure after the event is in Redis throws AuditMirrorError, which carries the
 * recorded event; the next sync catches the mirror up.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Clock } from '../clock.js';
import { CwError, ErrorCodes } from '../errors.js';
import { CHECK_EFFECTS_LUA, type Effect, effectBytes, encodeEffects, KeyTable } from '../util/effects.js';
import type { AuditAppender, Recorded } from './appender.js';
import {
  type AppendInput,
  type AuditEvent,
  type AuditHead,
  type AuditMirror,
  type AuditReader,
  buildEvent,
  GENESIS_HASH,
  type PreparedInput,
  parseEvent,
  prepareForAppend,
} from './event.js';
import { type VerifyResult, verifyChainAsync } from './verify.js';

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
  /** Events per script call; default 500. */
  maxBatch?: number;
  /** Approximate bytes per script call (events and effects); default 1 MiB. */
  maxBatchBytes?: number;
}

export class AuditMirrorError extends CwError {
  constructor(
    readonly event: AuditEvent,
    cause: unknown,
  ) {
    const why = cause instanceof Error ? cause.message : String(cause);
    super(ErrorCodes.AUDIT, `audit event seq ${event.seq} is recorded in Redis but the mirror failed: ${why}`, {
      cause,
      retryable: true,
    });
  }
}

// KEYS: head, events, claim, idempotency index, then the effect keys. ARGV: expected head hash,
// expected head seq, GENESIS_HASH, append token, '1' to take the claim on a conflict, claim TTL ms,
// the number of events N, then per event: seq, hash, JSON, idempotency key ('' for none), effect
// count E, and E × 4 encoded effects. Returns {status, head seq, head hash}: 1 appended (now, or by
// an earlier identical call: ioredis re-sends after a reconnect), 0 conflict (the head moved), 2
// another writer holds the claim (the holder appends next, then the waiter competes again), 4 an
// idempotency key of the batch was recorded meanwhile (the client filters and retries). Nothing is
// written unless everything is: types are checked first, since Redis does not roll back a script.
const APPEND_LUA = `${CHECK_EFFECTS_LUA}
local head = redis.call('HMGET', KEYS[1], 'seq', 'hash')
local curSeq = tonumber(head[1]) or 0
local curHash = head[2] or ARGV[3]
local n = tonumber(ARGV[7])
local firstSeq = tonumber(ARGV[8])
local fresh = curHash == ARGV[1] and curSeq == tonumber(ARGV[2]) and curSeq + 1 == firstSeq
if not fresh and curSeq >= firstSeq then
  local mine = redis.call('XRANGE', KEYS[2], ARGV[8] .. '-0', ARGV[8] .. '-0')
  if mine[1] and mine[1][2][2] == ARGV[10] then return {1, curSeq, curHash} end
end
local claim = redis.call('GET', KEYS[3])
if claim and claim ~= ARGV[4] then return {2, curSeq, curHash} end
if not fresh then
  if ARGV[5] == '1' then redis.call('SET', KEYS[3], ARGV[4], 'NX', 'PX', ARGV[6]) end
  return {0, curSeq, curHash}
end
local at = {}
local i = 8
for e = 1, n do
  local idem = ARGV[i + 3]
  if idem ~= '' and redis.call('HEXISTS', KEYS[4], idem) == 1 then return {4, curSeq, curHash} end
  local ec = tonumber(ARGV[i + 4])
  local bad = cw_check_effects(i + 5, ec)
  if bad then return redis.error_reply('CWEFFECT ' .. bad) end
  at[e] = i
  i = i + 5 + ec * 4
end
local top = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', 1)
local topId = top[1] and top[1][1] or '0-0'
if topId ~= (curSeq .. '-0') then
  return redis.error_reply('CWAUDIT head says seq ' .. curSeq .. ' but the stream ends at ' .. topId)
end
local last = ''
for e = 1, n do
  local b = at[e]
  redis.call('XADD', KEYS[2], ARGV[b] .. '-0', 'e', ARGV[b + 2])
  if ARGV[b + 3] ~= '' then redis.call('HSET', KEYS[4], ARGV[b + 3], ARGV[b]) end
  cw_apply_effects(b + 5, tonumber(ARGV[b + 4]))
  last = b
end
if curSeq == 0 then redis.call('HSET', KEYS[1], 'first', ARGV[9]) end
redis.call('HSET', KEYS[1], 'seq', ARGV[last], 'hash', ARGV[last + 1])
if claim then redis.call('DEL', KEYS[3]) end
return {1, tonumber(ARGV[last]), ARGV[last + 1]}
`;

const COMMAND = 'cwAuditAppendBatch';
const CLAIM_AFTER_CONFLICTS = 3;
const CLAIM_TTL_MS = 1000;
/** Per script call: bounded so one call never blocks Redis for long. */
const DEFAULT_MAX_BATCH = 500;
const DEFAULT_MAX_BATCH_BYTES = 1 << 20;
const UNCLAIM_LUA = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

type AppendCommand = (...keysThenArgs: string[]) => Promise<[number, number, string | null]>;

interface Pending {
  input: PreparedInput;
  idem: string;
  effects: readonly Effect[];
  bytes: number;
  resolve: (r: Recorded) => void;
  reject: (err: unknown) => void;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Answers a batch's callers: recorded, or (the event is in Redis but the copy failed) rejected. */
function settle(batch: readonly Pending[], recorded: readonly Recorded[], mirrorErr?: unknown): void {
  for (const [i, p] of batch.entries()) {
    const r = recorded[i]!;
    if (mirrorErr === undefined) p.resolve(r);
    else if (mirrorErr instanceof CwError && !mirrorErr.retryable) p.reject(mirrorErr);
    else p.reject(new AuditMirrorError(r.event, mirrorErr));
  }
}

function wrap(op: string, err: unknown): CwError {
  if (err instanceof CwError) return err;
  const msg = err instanceof Error ? err.message : String(err);
  if (/CWAUDIT|equal or smaller than the target stream top/.test(msg)) {
    return new CwError(ErrorCodes.AUDIT_TAMPERED, `audit ${op} refused: ${msg.replace(/^.*CWAUDIT /, '')}`, {
      cause: err,
    });
  }
  if (/CWEFFECT/.test(msg)) {
    return new CwError(ErrorCodes.AUDIT, `audit ${op} refused: ${msg.replace(/^.*CWEFFECT /, '')}`, { cause: err });
  }
  return new CwError(ErrorCodes.AUDIT, `audit ${op} failed: ${msg}`, { cause: err, retryable: true });
}

function positiveInt(name: string, v: number): void {
  if (!Number.isSafeInteger(v) || v < 1) throw new CwError(ErrorCodes.INPUT, `${name} must be a positive integer`);
}

export class RedisAuditLog implements AuditReader, AuditAppender {
  readonly eventsKey: string;
  readonly headKey: string;
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

  constructor(
    private readonly redis: Redis,
    private readonly opts: RedisAuditLogOptions,
  ) {
    if (opts.hmacKey === '') throw new CwError(ErrorCodes.CONFIG, 'audit hmacKey is empty');
    this.eventsKey = `${opts.prefix}:audit:events`;
    this.headKey = `${opts.prefix}:audit:head`;
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
    return Promise.all(inputs.map((i) => this.append(i)));
  }

  async head(): Promise<AuditHead> {
    try {
      const [seq, hash] = await this.redis.hmget(this.headKey, 'seq', 'hash');
      return { seq: seq ? Number(seq) : 0, hash: hash ?? GENESIS_HASH };
    } catch (err) {
      throw wrap('head', err);
    }
  }

  /** The chain's identity: the hash of its first event (null while empty). */
  async chainId(): Promise<string | null> {
    try {
      const first = await this.redis.hget(this.headKey, 'first');
      if (first) return first;
      const [e] = await this.read(1, 1);
      return e?.seq === 1 ? e.hash : null;
    } catch (err) {
      throw wrap('head', err);
    }
  }

  /** Events with seq >= fromSeq, in order; all of them unless `count` is given. */
  async read(fromSeq = 1, count?: number): Promise<AuditEvent[]> {
    positiveInt('fromSeq', fromSeq);
    if (count !== undefined) positiveInt('count', count);
    const args: [string, string, string] = [this.eventsKey, `${fromSeq}-0`, '+'];
    try {
      const entries =
        count === undefined ? await this.redis.xrange(...args) : await this.redis.xrange(...args, 'COUNT', count);
      return entries.map(([id, fields]) => this.parseEntry(id, fields));
    } catch (err) {
      throw wrap('read', err);
    }
  }

  /** Like read(), with each event's stored text (canonical JSON), which a copy can write as it is. */
  async readEntries(fromSeq: number, count: number): Promise<{ event: AuditEvent; text: string }[]> {
    positiveInt('fromSeq', fromSeq);
    positiveInt('count', count);
    try {
      const entries = await this.redis.xrange(this.eventsKey, `${fromSeq}-0`, '+', 'COUNT', count);
      return entries.map(([id, fields]) => ({ event: this.parseEntry(id, fields), text: fields[1]! }));
    } catch (err) {
      throw wrap('read', err);
    }
  }

  /** Every event in stream order, fetched `batch` at a time, up to `untilSeq` when given. */
  async *iterate(batch = 1000, untilSeq?: number): AsyncGenerator<AuditEvent> {
    positiveInt('batch', batch);
    const end = untilSeq === undefined ? '+' : `${untilSeq}-0`;
    let start = '-';
    for (;;) {
      let entries: [string, string[]][];
      try {
        entries = await this.redis.xrange(this.eventsKey, start, end, 'COUNT', batch);
      } catch (err) {
        throw wrap('read', err);
      }
      for (const [id, fields] of entries) yield this.parseEntry(id, fields);
      const last = entries.at(-1);
      if (!last || entries.length < batch) return;
      start = `(${last[0]}`;
    }
  }

  /** Verifies the chain up to the head read at the start (later appends are not a break). */
  async verify(): Promise<VerifyResult> {
    const head = await this.head();
    const events = this.iterate(1000, head.seq === 0 ? undefined : head.seq);
    return verifyChainAsync(events, { hmacKey: this.opts.hmacKey, expectedHead: head });
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
        if (mirror && recorded.some((r) => r.appended)) {
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
      for (;;) {
        if (conflicts >= this.maxAttempts || Date.now() >= deadline) break;
        // Idempotency first: members whose key is recorded resolve to that event and write nothing.
        const todo = await this.unrecorded(batch, out);
        if (todo.length === 0) return out as Recorded[];
        await this.opts.mirror?.assertConsistent?.(this, head);
        const keys = new KeyTable(4);
        const args: string[] = [];
        const events: AuditEvent[] = [];
        let prev = head;
        for (const i of todo) {
          const p = batch[i]!;
          const time = this.opts.clock.now().toISOString();
          const { event, text } = buildEvent(p.input, prev.seq + 1, time, prev.hash, this.opts.hmacKey);
          const fx = encodeEffects(p.effects, keys.of);
          args.push(String(event.seq), event.hash, text, p.idem, String(p.effects.length), ...fx);
          events.push(event);
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
          return out as Recorded[];
        }
        head = { seq: Number(seq), hash: hash ?? GENESIS_HASH };
        if (status === 0) conflicts++;
        else if (status === 2) await sleep(1 + Math.random() * 4);
        // status 4: another writer recorded one of our keys; the next round filters it out.
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

  private async unclaim(token: string): Promise<void> {
    await this.redis.eval(UNCLAIM_LUA, 1, this.claimKey, token).catch(() => undefined);
  }

  private parseEntry(id: string, fields: string[]): AuditEvent {
    const [name, text, ...rest] = fields;
    if (name !== 'e' || text === undefined || rest.length > 0) {
      throw new CwError(ErrorCodes.AUDIT_TAMPERED, `stream entry ${id}: expected exactly one field "e"`);
    }
    return parseEvent(text, `stream entry ${id}`);
  }
}
