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
import {
  type AppendInput,
  type AuditEvent,
  type AuditEventInput,
  type AuditHead,
  type AuditMirror,
  type AuditReader,
  canonicalJson,
  GENESIS_HASH,
  hashEvent,
  parseEvent,
  prepareInput,
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

// KEYS: head, events, claim, idempotency index. ARGV: expected prevHash, seq, hash, event JSON,
// GENESIS_HASH, append token, '1' to take the claim on a conflict, claim TTL ms, idempotency key
// ('' for none). Returns {status, head seq, head hash}: 1 appended (now or by an earlier identical
// call), 0 conflict, 2 another writer holds the claim (not counted as a conflict: the holder
// appends next, then the waiter competes again), 3 the idempotency key was already recorded (the
// second value is that event's seq; nothing was appended).
const APPEND_LUA = `
if ARGV[9] ~= '' then
  local done = redis.call('HGET', KEYS[4], ARGV[9])
  if done then return {3, tonumber(done), ''} end
end
local head = redis.call('HMGET', KEYS[1], 'seq', 'hash')
local curSeq = tonumber(head[1]) or 0
local curHash = head[2] or ARGV[5]
local seq = tonumber(ARGV[2])
local fresh = curHash == ARGV[1] and curSeq + 1 == seq
if not fresh and curSeq >= seq then
  local mine = redis.call('XRANGE', KEYS[2], ARGV[2] .. '-0', ARGV[2] .. '-0')
  if mine[1] and mine[1][2][2] == ARGV[4] then return {1, curSeq, curHash} end
end
local claim = redis.call('GET', KEYS[3])
if claim and claim ~= ARGV[6] then return {2, curSeq, curHash} end
if not fresh then
  if ARGV[7] == '1' then redis.call('SET', KEYS[3], ARGV[6], 'NX', 'PX', ARGV[8]) end
  return {0, curSeq, curHash}
end
local top = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', 1)
local topId = top[1] and top[1][1] or '0-0'
if topId ~= (curSeq .. '-0') then
  return redis.error_reply('CWAUDIT head says seq ' .. curSeq .. ' but the stream ends at ' .. topId)
end
redis.call('XADD', KEYS[2], ARGV[2] .. '-0', 'e', ARGV[4])
redis.call('HSET', KEYS[1], 'seq', ARGV[2], 'hash', ARGV[3])
if ARGV[9] ~= '' then redis.call('HSET', KEYS[4], ARGV[9], ARGV[2]) end
if claim then redis.call('DEL', KEYS[3]) end
return {1, seq, ARGV[3]}
`;

const COMMAND = 'cwAuditAppend';
const CLAIM_AFTER_CONFLICTS = 3;
const CLAIM_TTL_MS = 1000;
const UNCLAIM_LUA = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

type AppendCommand = (...keysThenArgs: string[]) => Promise<[number, number, string | null]>;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function wrap(op: string, err: unknown): CwError {
  if (err instanceof CwError) return err;
  const msg = err instanceof Error ? err.message : String(err);
  if (/CWAUDIT|equal or smaller than the target stream top/.test(msg)) {
    return new CwError(ErrorCodes.AUDIT_TAMPERED, `audit ${op} refused: ${msg.replace(/^.*CWAUDIT /, '')}`, {
      cause: err,
    });
  }
  return new CwError(ErrorCodes.AUDIT, `audit ${op} failed: ${msg}`, { cause: err, retryable: true });
}

function positiveInt(name: string, v: number): void {
  if (!Number.isSafeInteger(v) || v < 1) throw new CwError(ErrorCodes.INPUT, `${name} must be a positive integer`);
}

export class RedisAuditLog implements AuditReader {
  readonly eventsKey: string;
  readonly headKey: string;
  readonly claimKey: string;
  /** Hash: idempotency key → seq of the event it recorded. */
  readonly idemKey: string;
  private readonly maxAttempts: number;
  private queue: Promise<unknown> = Promise.resolve();
  private lastHead: AuditHead | undefined;

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
    if (typeof (redis as unknown as Record<string, unknown>)[COMMAND] !== 'function') {
      redis.defineCommand(COMMAND, { numberOfKeys: 4, lua: APPEND_LUA });
    }
  }

  async append(input: AppendInput): Promise<AuditEvent> {
    const draft = prepareInput(input, this.opts.actor);
    const idem = input.idempotencyKey ?? '';
    // Appends from one process queue up locally so they do not race each other's compare-and-set.
    const run = this.queue.then(() => this.appendDraft(draft, idem));
    this.queue = run.catch(() => undefined);
    const event = await run;
    if (this.opts.mirror) {
      try {
        await this.opts.mirror.sync(this);
      } catch (err) {
        throw new AuditMirrorError(event, err);
      }
    }
    return event;
  }

  async appendMany(inputs: readonly AppendInput[]): Promise<AuditEvent[]> {
    const out: AuditEvent[] = [];
    for (const input of inputs) out.push(await this.append(input));
    return out;
  }

  async head(): Promise<AuditHead> {
    try {
      const [seq, hash] = await this.redis.hmget(this.headKey, 'seq', 'hash');
      return { seq: seq ? Number(seq) : 0, hash: hash ?? GENESIS_HASH };
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

  private async appendDraft(input: AuditEventInput, idempotencyKey: string): Promise<AuditEvent> {
    const cmd = (this.redis as unknown as Record<string, AppendCommand>)[COMMAND]!.bind(this.redis);
    const token = randomUUID();
    const deadline = Date.now() + (this.opts.appendTimeoutMs ?? 10_000);
    let conflicts = 0;
    // The last head this instance saw is usually still current; the compare-and-set catches it when not.
    let head = this.lastHead;
    this.lastHead = undefined;
    try {
      head ??= await this.head();
      while (conflicts < this.maxAttempts && Date.now() < deadline) {
        const body = { seq: head.seq + 1, time: this.opts.clock.now().toISOString(), ...input, prevHash: head.hash };
        const event: AuditEvent = { ...body, hash: hashEvent(body, this.opts.hmacKey) };
        const keys = [this.headKey, this.eventsKey, this.claimKey, this.idemKey];
        const claim = conflicts >= CLAIM_AFTER_CONFLICTS ? '1' : '0';
        const args = [event.prevHash, String(event.seq), event.hash, canonicalJson(event), GENESIS_HASH, token, claim];
        const [status, seq, hash] = await cmd(...keys, ...args, String(CLAIM_TTL_MS), idempotencyKey);
        if (status === 3) {
          const [recorded] = await this.read(Number(seq), 1);
          if (!recorded || recorded.seq !== Number(seq)) {
            throw new CwError(
              ErrorCodes.AUDIT_TAMPERED,
              `idempotency key "${idempotencyKey}" points at missing event #${seq}`,
            );
          }
          return recorded;
        }
        if (status === 1) {
          this.lastHead = { seq: event.seq, hash: event.hash };
          return event;
        }
        head = { seq: Number(seq), hash: hash ?? GENESIS_HASH };
        if (status === 0) conflicts++;
        else await sleep(1 + Math.random() * 4);
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
