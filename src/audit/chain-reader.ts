/**
 * Reading the audit chain in Redis (the key layout is in redis-audit-log.ts): the head, the
 * chain's identity, events by seq (parsed, or with their stored canonical text), a streaming
 * iteration, and verification up to the head read at the start.
 */

import { CwError, ErrorCodes } from '../errors.js';
import type { RedisClient } from '../queue/connection.js';
import { wrap } from './append-script.js';
import { type AuditEvent, type AuditHead, type AuditReader, GENESIS_HASH, parseEvent } from './event.js';
import { type VerifyResult, verifyChainAsync } from './verify.js';

function positiveInt(name: string, v: number): void {
  if (!Number.isSafeInteger(v) || v < 1) throw new CwError(ErrorCodes.INPUT, `${name} must be a positive integer`);
}

export class ChainReader implements AuditReader {
  readonly eventsKey: string;
  readonly headKey: string;

  constructor(
    protected readonly redis: RedisClient,
    prefix: string,
    protected readonly hmacKey: string | undefined,
  ) {
    this.eventsKey = `${prefix}:audit:events`;
    this.headKey = `${prefix}:audit:head`;
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
    return verifyChainAsync(events, { hmacKey: this.hmacKey, expectedHead: head });
  }

  private parseEntry(id: string, fields: string[]): AuditEvent {
    const [name, text, ...rest] = fields;
    if (name !== 'e' || text === undefined || rest.length > 0) {
      throw new CwError(ErrorCodes.AUDIT_TAMPERED, `stream entry ${id}: expected exactly one field "e"`);
    }
    return parseEvent(text, `stream entry ${id}`);
  }
}
