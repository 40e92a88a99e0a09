import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AppendInput,
  type AuditEvent,
  AuditMirrorError,
  canonicalJson,
  GENESIS_HASH,
  hashEvent,
  JsonlMirror,
  RedisAuditLog,
  type RedisAuditLogOptions,
  verifyJsonl,
} from '../../src/audit/index.js';
import { ManualClock } from '../../src/clock.js';
import { CwError, ErrorCodes } from '../../src/errors.js';
import type { RedisClient } from '../../src/queue/connection.js';
import { openTestRedis, useRedis } from '../support/redis.js';

const ctx = useRedis('audit');
const clock = new ManualClock('2026-11-01T00:00:00Z');
let dir: string;
let n = 0;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cw-audit-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A key prefix of its own (`{P}:<n>` on a cluster: every key of one log in one slot). */
const freshPrefix = (): string => `${ctx.keyPrefix}:${++n}`;
const input = (i: number, worker = 'w0'): AppendInput => ({
  type: 'action.intent',
  actor: `worker/${worker}`,
  subject: `aws/123456789012/access-key/AKIAEXAMPLE${i}`,
  data: { i, worker, reason: 'stale-key' },
});

function newLog(opts: Partial<RedisAuditLogOptions> = {}, redis: RedisClient = ctx.redis): RedisAuditLog {
  return new RedisAuditLog(redis, { prefix: opts.prefix ?? freshPrefix(), clock, ...opts });
}

async function fill(log: RedisAuditLog, count: number): Promise<AuditEvent[]> {
  return log.appendMany(Array.from({ length: count }, (_, i) => input(i + 1)));
}

/** Replaces the stream with `events` (as stored JSON) under ids `<seq>-0` or the ids given. */
async function rewriteStream(log: RedisAuditLog, entries: { id: string; json: string }[]): Promise<void> {
  await ctx.redis.del(log.eventsKey);
  for (const { id, json } of entries) await ctx.redis.xadd(log.eventsKey, id, 'e', json);
}

const stored = (events: AuditEvent[]) => events.map((e) => ({ id: `${e.seq}-0`, json: canonicalJson(e) }));

async function fileLines(path: string): Promise<string[]> {
  return (await readFile(path, 'utf8')).split('\n').filter((l) => l.length > 0);
}

async function expectCode(p: Promise<unknown>, code: string): Promise<CwError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(CwError);
  expect((err as CwError).code).toBe(code);
  return err as CwError;
}

describe('RedisAuditLog', () => {
  it('appends a chain that verifies and reads back in order', async () => {
    const log = newLog();
    const appended = await fill(log, 20);
    expect(appended.map((e) => e.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(appended[0]!.prevHash).toBe(GENESIS_HASH);
    expect(await log.head()).toEqual({ seq: 20, hash: appended[19]!.hash });
    expect(await log.verify()).toEqual({ ok: true, count: 20, headSeq: 20, headHash: appended[19]!.hash });
    expect(await log.read()).toEqual(appended);
    expect((await log.read(5, 3)).map((e) => e.seq)).toEqual([5, 6, 7]);
    const iterated: number[] = [];
    for await (const e of log.iterate(7)) iterated.push(e.seq);
    expect(iterated).toEqual(appended.map((e) => e.seq));
  });

  it('stores a snapshot of the data and refuses secrets, writing nothing', async () => {
    const log = newLog({ actor: 'credwarden' });
    const data: Record<string, unknown> = { when: new Date('2026-01-01T00:00:00Z'), list: [1] };
    const e = await log.append({ type: 'scan.completed', subject: 'scan/1', data });
    (data.list as number[]).push(2);
    expect(e.actor).toBe('credwarden');
    expect(e.data).toEqual({ when: '2026-01-01T00:00:00.000Z', list: [1] });
    expect(await log.read()).toEqual([e]);

    const secret = { ...input(2), data: { creds: { SecretAccessKey: 'wJalrXUtnFEMI/K7MDENG' } } };
    await expectCode(log.append(secret), ErrorCodes.AUDIT);
    await expectCode(log.append({ ...input(3), data: { t: 'hvs.CAESIJlU0k1h2u5Hd0cn3Ct7pK' } }), ErrorCodes.AUDIT);
    await expectCode(newLog().append({ ...input(4), actor: undefined }), ErrorCodes.AUDIT);
    expect((await log.head()).seq).toBe(1);
  });

  it('four workers on four connections append one contiguous chain of 200', async () => {
    const prefix = freshPrefix();
    const conns = await Promise.all(
      [0, 1, 2, 3].map(async () => {
        const r = openTestRedis({ lazyConnect: true });
        await r.connect();
        return r;
      }),
    );
    try {
      const workers = conns.map((r, w) => newLog({ prefix, actor: `worker/${w}` }, r));
      const results = await Promise.all(
        workers.map((log, w) => Promise.all(Array.from({ length: 50 }, (_, i) => log.append(input(i, `w${w}`))))),
      );
      const log = newLog({ prefix });
      const all = await log.read();
      expect(all.map((e) => e.seq)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
      expect(await log.verify()).toMatchObject({ ok: true, count: 200, headSeq: 200 });
      expect(await ctx.redis.exists(log.claimKey)).toBe(0);
      const returned = results.flat().sort((a, b) => a.seq - b.seq);
      expect(returned).toEqual(all);
      for (let w = 0; w < 4; w++) {
        const mine = all.filter((e) => e.data.worker === `w${w}`).map((e) => e.data.i);
        expect(mine).toHaveLength(50);
        expect(new Set(mine).size).toBe(50);
      }
    } finally {
      for (const r of conns) r.disconnect();
    }
  });

  it('a re-sent identical append command is not recorded twice', async () => {
    const log = newLog();
    await fill(log, 2);
    const head = await log.head();
    const body = { seq: 3, time: clock.now().toISOString(), ...input(3), actor: 'worker/w0', prevHash: head.hash };
    const e = { ...body, hash: hashEvent(body) };
    // One batch of one event, as the log sends it: keys, then head, token, claim, the event, no effects.
    const send = () =>
      (ctx.redis as unknown as Record<string, (...a: string[]) => Promise<unknown>>).cwAuditAppendBatch!(
        '4',
        log.headKey,
        log.eventsKey,
        log.claimKey,
        log.idemKey,
        e.prevHash,
        '2',
        GENESIS_HASH,
        'token-1',
        '0',
        '1000',
        '1',
        '3',
        e.hash,
        canonicalJson(e),
        '',
        '0',
      );
    expect(await send()).toEqual([1, 3, e.hash]);
    const next = await log.append(input(4));
    expect(await send()).toEqual([1, 4, next.hash]);
    expect(await ctx.redis.xlen(log.eventsKey)).toBe(4);
    expect((await log.verify()).ok).toBe(true);
  });
});

describe('tampering in Redis', () => {
  it('a deleted entry is a seq gap at the next seq', async () => {
    const log = newLog();
    await fill(log, 10);
    await ctx.redis.xdel(log.eventsKey, '7-0');
    const r = await log.verify();
    expect(r).toMatchObject({ ok: false, count: 6, headSeq: 6 });
    expect(r.firstBroken).toMatchObject({ reason: 'seq-gap', seq: 8, position: 6 });
  });

  it('an edited entry is a hash mismatch; a re-hashed one breaks the next link', async () => {
    const log = newLog();
    const events = await fill(log, 10);
    const edited = events.map((e) => (e.seq === 5 ? { ...e, data: { ...e.data, reason: 'approved' } } : e));
    await rewriteStream(log, stored(edited));
    expect((await log.verify()).firstBroken).toMatchObject({ reason: 'hash-mismatch', seq: 5, position: 4 });

    const rehashed = edited.map((e) => (e.seq === 5 ? { ...e, hash: hashEvent(e) } : e));
    await rewriteStream(log, stored(rehashed));
    expect((await log.verify()).firstBroken).toMatchObject({ reason: 'prev-hash-mismatch', seq: 6, position: 5 });
  });

  it('with an HMAC key, rewriting the whole chain without the key is caught at the first edit', async () => {
    const log = newLog({ hmacKey: 'k3y-from-config' });
    const events = await fill(log, 10);
    expect((await log.verify()).ok).toBe(true);
    let prevHash = events[2]!.hash;
    const forged = events.map((e) => {
      if (e.seq < 4) return e;
      const body = { ...e, prevHash, data: e.seq === 4 ? { ...e.data, reason: 'approved' } : e.data };
      const f = { ...body, hash: hashEvent(body) };
      prevHash = f.hash;
      return f;
    });
    await rewriteStream(log, stored(forged));
    await ctx.redis.hset(log.headKey, 'hash', prevHash);
    expect((await log.verify()).firstBroken).toMatchObject({ reason: 'hash-mismatch', seq: 4, position: 3 });
  });

  it('reordered entries are out of order at the first displaced one', async () => {
    const log = newLog();
    const events = await fill(log, 10);
    const entries = stored(events);
    [entries[4]!.json, entries[5]!.json] = [entries[5]!.json, entries[4]!.json];
    await rewriteStream(log, entries);
    expect((await log.verify()).firstBroken).toMatchObject({ reason: 'seq-out-of-order', seq: 6, position: 4 });
  });

  it('an unreadable entry is malformed and named', async () => {
    const log = newLog();
    const entries = stored(await fill(log, 5));
    entries[2]!.json = '{"seq":3,';
    await rewriteStream(log, entries);
    const r = await log.verify();
    expect(r.firstBroken).toMatchObject({ reason: 'malformed', seq: 3, position: 2 });
    expect(r.firstBroken?.detail).toContain('stream entry 3-0');
  });

  it('a deleted tail shows against the head record, and the log refuses to grow', async () => {
    const log = newLog();
    await fill(log, 10);
    await ctx.redis.xdel(log.eventsKey, '9-0', '10-0');
    expect((await log.verify()).firstBroken).toMatchObject({ reason: 'head-mismatch', seq: 10, position: 8 });
    await expectCode(log.append(input(11)), ErrorCodes.AUDIT_TAMPERED);

    const other = newLog();
    await fill(other, 3);
    await ctx.redis.del(other.headKey);
    await expectCode(other.append(input(4)), ErrorCodes.AUDIT_TAMPERED);
    expect(await ctx.redis.xlen(other.eventsKey)).toBe(3);
  });
});

describe('JSONL mirror', () => {
  it('holds exactly the chain, in order, and verifies', async () => {
    const path = join(dir, 'nested', 'a', 'audit.jsonl');
    const mirror = new JsonlMirror(ctx.redis, { prefix: ctx.keyPrefix, path });
    const log = newLog({ mirror });
    const events = await fill(log, 25);
    expect(await fileLines(path)).toEqual(events.map((e) => canonicalJson(e)));
    expect(await verifyJsonl(path)).toMatchObject({ ok: true, count: 25, headSeq: 25 });
    expect(await mirror.sync(log)).toBe(0);
  });

  it('two mirrors on one file with concurrent writers neither duplicate nor interleave', async () => {
    const path = join(dir, 'shared.jsonl');
    const prefix = freshPrefix();
    const other = openTestRedis({ lazyConnect: true });
    await other.connect();
    try {
      const logs = [ctx.redis, other].map((r) =>
        newLog({ prefix, mirror: new JsonlMirror(r, { prefix: ctx.keyPrefix, path }) }, r),
      );
      await Promise.all(
        logs.map((log, w) => Promise.all(Array.from({ length: 30 }, (_, i) => log.append(input(i, `w${w}`))))),
      );
      const events = await logs[0]!.read();
      expect(events).toHaveLength(60);
      expect(await fileLines(path)).toEqual(events.map((e) => canonicalJson(e)));
      expect((await verifyJsonl(path)).ok).toBe(true);
    } finally {
      other.disconnect();
    }
  });

  it('a failed mirror does not lose the event and the next sync catches up', async () => {
    const blocker = join(dir, 'not-a-dir');
    await writeFile(blocker, 'x');
    const log = newLog({
      mirror: new JsonlMirror(ctx.redis, { prefix: ctx.keyPrefix, path: join(blocker, 'a.jsonl') }),
    });
    const err = await expectCode(log.append(input(1)), ErrorCodes.AUDIT);
    expect(err).toBeInstanceOf(AuditMirrorError);
    expect((err as AuditMirrorError).event.seq).toBe(1);
    expect((await log.head()).seq).toBe(1);
    const path = join(dir, 'catch-up.jsonl');
    expect(await new JsonlMirror(ctx.redis, { prefix: ctx.keyPrefix, path }).sync(log)).toBe(1);
    expect(await fileLines(path)).toHaveLength(1);
  });

  it('an edited line is detected when verifying the file, with its line number', async () => {
    const path = join(dir, 'edited.jsonl');
    const log = newLog({ mirror: new JsonlMirror(ctx.redis, { prefix: ctx.keyPrefix, path }) });
    await fill(log, 8);
    const lines = await fileLines(path);
    lines[4] = lines[4]!.replace('"reason":"stale-key"', '"reason":"approved"');
    await writeFile(path, `${lines.join('\n')}\n`);
    expect((await verifyJsonl(path)).firstBroken).toMatchObject({ reason: 'hash-mismatch', seq: 5, position: 4 });

    lines[4] = '{"seq":5,"trunc';
    await writeFile(path, `${lines.join('\n')}\n`);
    const r = await verifyJsonl(path);
    expect(r.firstBroken).toMatchObject({ reason: 'malformed', seq: 5, position: 4 });
    expect(r.firstBroken?.detail).toContain(`${path}:5`);
  });

  it('refuses to extend a copy that diverged from Redis, and repairs a torn last line', async () => {
    const path = join(dir, 'diverged.jsonl');
    const mirror = new JsonlMirror(ctx.redis, { prefix: ctx.keyPrefix, path });
    const prefix = freshPrefix();
    const log = newLog({ prefix, mirror });
    await fill(log, 5);
    const lines = await fileLines(path);
    const last = JSON.parse(lines[4]!) as AuditEvent;
    const forged = { ...last, data: { ...last.data, reason: 'approved' } };
    lines[4] = canonicalJson({ ...forged, hash: hashEvent(forged) });
    await writeFile(path, `${lines.join('\n')}\n`);
    await expectCode(mirror.sync(log), ErrorCodes.AUDIT_DIVERGED);

    const torn = join(dir, 'torn.jsonl');
    const good = await fileLines(path);
    good[4] = canonicalJson((await log.read(5, 1))[0]);
    await writeFile(torn, `${good.join('\n')}\n${good[4]!.slice(0, 20)}`);
    await fill(newLog({ prefix }), 2);
    expect(await new JsonlMirror(ctx.redis, { prefix: ctx.keyPrefix, path: torn }).sync(log)).toBe(2);
    expect(await verifyJsonl(torn)).toMatchObject({ ok: true, count: 7 });
  });
});

describe('RedisAuditLog idempotency keys', () => {
  const r2 = useRedis('audit-idem');
  it('records an event once per idempotency key, across instances, and returns the recorded event', async () => {
    const clock = new ManualClock('2026-11-01T00:00:00Z');
    const a = new RedisAuditLog(r2.redis, { prefix: r2.keyPrefix, clock, actor: 'w1' });
    const b = new RedisAuditLog(r2.redis.duplicate(), { prefix: r2.keyPrefix, clock, actor: 'w2' });
    const first = await a.append({
      type: 'credential.added',
      subject: 'x',
      data: { n: 1 },
      idempotencyKey: 'scan-1/drift/0',
    });
    const again = await Promise.all([
      a.append({ type: 'credential.added', subject: 'x', data: { n: 1 }, idempotencyKey: 'scan-1/drift/0' }),
      b.append({ type: 'credential.added', subject: 'x', data: { n: 1 }, idempotencyKey: 'scan-1/drift/0' }),
      b.append({ type: 'credential.added', subject: 'y', data: { n: 2 }, idempotencyKey: 'scan-1/drift/1' }),
    ]);
    expect(again[0]).toEqual(first);
    expect(again[1]).toEqual(first);
    expect(again[2].seq).toBe(2);
    expect((await a.read(1)).map((e) => e.seq)).toEqual([1, 2]);
    expect((await a.verify()).ok).toBe(true);
  });
});
