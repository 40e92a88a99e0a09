/**
 * computeOnce (src/util/compute-once.ts), the pattern the drift, the evaluation and the alert plan
 * share: against real Redis, the stored value wins over a recomputation, a lost race returns the
 * winner's value, and a fenced write by a lease that was lost stores nothing.
 */
import { describe, expect, it } from 'vitest';
import { computeOnce, fencedBy, firstWriterWins } from '../../src/util/compute-once.js';
import { Lease } from '../../src/util/lease.js';
import { useRedis } from '../support/redis.js';

const r = useRedis('once');

describe('computeOnce', () => {
  it('computes and stores once; a second call reads the stored value and never computes', async () => {
    const key = `${r.keyPrefix}:a`;
    let calls = 0;
    const compute = () => ({ n: ++calls });
    const first = await computeOnce(r.redis, key, compute, firstWriterWins(r.redis, key, 60));
    const second = await computeOnce(r.redis, key, compute, firstWriterWins(r.redis, key, 60));
    expect(first).toEqual({ value: { n: 1 }, fresh: true });
    expect(second).toEqual({ value: { n: 1 }, fresh: false });
    expect(calls).toBe(1);
    expect(await r.redis.ttl(key)).toBeGreaterThan(50);
  });

  it('a writer that loses the race returns the value the winner stored, not its own', async () => {
    const key = `${r.keyPrefix}:race`;
    const results = await Promise.all(
      [1, 2, 3, 4].map((n) =>
        computeOnce(
          r.redis,
          key,
          async () => {
            await new Promise((res) => setTimeout(res, 20));
            return { by: n };
          },
          firstWriterWins(r.redis, key, 60),
        ),
      ),
    );
    const stored = JSON.parse((await r.redis.get(key))!);
    expect(results.map((x) => x.value)).toEqual([stored, stored, stored, stored]);
    expect(results.filter((x) => x.fresh)).toHaveLength(1);
  });

  it('fencedBy stores the value with the extra effects under a held lease, and nothing once the lease is lost', async () => {
    const key = `${r.keyPrefix}:fenced`;
    const lockKey = `${r.keyPrefix}:lock`;
    const lease = await Lease.acquire(r.redis, lockKey, { ttlMs: 5_000, waitMs: 1_000, what: 'test' });
    await computeOnce(
      r.redis,
      key,
      () => [1, 2],
      fencedBy(lease, key, [{ op: 'set', key: `${r.keyPrefix}:marker`, value: 'x' }]),
    );
    expect(JSON.parse((await r.redis.get(key))!)).toEqual([1, 2]);
    expect(await r.redis.get(`${r.keyPrefix}:marker`)).toBe('x');

    const key2 = `${r.keyPrefix}:fenced2`;
    await r.redis.set(lockKey, 'someone-else');
    await expect(computeOnce(r.redis, key2, () => [3], fencedBy(lease, key2))).rejects.toThrow();
    expect(await r.redis.get(key2)).toBeNull();
    await lease.release();
  });
});
