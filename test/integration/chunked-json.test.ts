/**
 * util/chunked-json.ts against real Redis: a record round-trips across chunk boundaries, a record
 * without its `meta` (its writer died mid-way) reads as absent, a rewrite replaces every chunk of
 * the old one, a legacy single-string value still reads, and a writer that lost its lease writes
 * nothing.
 */
import { describe, expect, it } from 'vitest';
import { readChunked, writeChunked } from '../../src/util/chunked-json.js';
import { Lease } from '../../src/util/lease.js';
import { useRedis } from '../support/redis.js';

const r = useRedis('chunked');
const legacy = (v: Record<string, unknown>) => {
  const { a, ...meta } = v;
  return { meta, lists: { a: (a ?? []) as unknown[], b: [] as unknown[] } };
};

describe('chunked JSON records', () => {
  it('round-trip, read one list alone, and replace an older record whole', async () => {
    const key = `${r.keyPrefix}:rec`;
    const lease = await Lease.acquire(r.redis, `${r.keyPrefix}:lock`, { ttlMs: 10_000, what: 'test' });
    try {
      const a = Array.from({ length: 1201 }, (_x, i) => ({ i, pad: 'x'.repeat(i % 7) }));
      await writeChunked(lease, key, { meta: { at: 'now' }, lists: { a, b: [1, 2] } }, 60);
      expect(await r.redis.hlen(key)).toBe(3 + 1 + 1); // a:0..2, b:0, meta
      const back = await readChunked(r.redis, key, ['a', 'b'], legacy);
      expect(back).toEqual({ meta: { at: 'now' }, lists: { a, b: [1, 2] } });
      expect((await readChunked(r.redis, key, ['a', 'b'], legacy, ['b']))?.lists).toEqual({ a: [], b: [1, 2] });
      expect(await r.redis.ttl(key)).toBeGreaterThan(0);
      await writeChunked(lease, key, { meta: { at: 'later' }, lists: { a: [1], b: [] } }, 60);
      expect(await r.redis.hkeys(key)).toEqual(expect.arrayContaining(['a:0', 'meta']));
      expect(await r.redis.hlen(key)).toBe(2);
      expect(await readChunked(r.redis, key, ['a', 'b'], legacy)).toEqual({
        meta: { at: 'later' },
        lists: { a: [1], b: [] },
      });
    } finally {
      await lease.release();
    }
  });

  it('an incomplete record reads as absent; a legacy string reads whole', async () => {
    const key = `${r.keyPrefix}:partial`;
    await r.redis.hset(key, 'a:0', JSON.stringify([1, 2]));
    expect(await readChunked(r.redis, key, ['a', 'b'], legacy)).toBeNull();
    expect(await readChunked(r.redis, `${r.keyPrefix}:none`, ['a', 'b'], legacy)).toBeNull();
    const old = `${r.keyPrefix}:legacy`;
    await r.redis.set(old, JSON.stringify({ at: 'then', a: [7] }));
    expect(await readChunked(r.redis, old, ['a', 'b'], legacy)).toEqual({
      meta: { at: 'then' },
      lists: { a: [7], b: [] },
    });
  });

  it('a writer that lost its lease writes nothing', async () => {
    const key = `${r.keyPrefix}:fenced`;
    const lock = `${r.keyPrefix}:lock2`;
    const lease = await Lease.acquire(r.redis, lock, { ttlMs: 10_000, what: 'test' });
    await r.redis.set(lock, 'someone-else');
    await expect(writeChunked(lease, key, { meta: {}, lists: { a: [1], b: [] } }, 60)).rejects.toThrow(
      /lost the lease/,
    );
    expect(await r.redis.exists(key)).toBe(0);
    lease.stopRenewing();
  });
});
