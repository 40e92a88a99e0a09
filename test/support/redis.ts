/**
 * Real Redis for tests: the server at REDIS_URL (default redis://127.0.0.1:6379). Each test file
 * gets a unique key prefix and everything under it is deleted afterwards.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

export interface TestRedis {
  redis: Redis;
  prefix: string;
  url: string;
}

export async function deleteByPrefix(redis: Redis, prefix: string): Promise<number> {
  let cursor = '0';
  let n = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length) n += await redis.del(...keys);
  } while (cursor !== '0');
  return n;
}

/** Call at the top of a test file; the returned object is filled in by beforeAll. */
export function useRedis(label = 'test'): TestRedis {
  const ctx = { prefix: `cwtest-${label}-${randomUUID().slice(0, 8)}`, url: REDIS_URL } as TestRedis;
  beforeAll(async () => {
    ctx.redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1, lazyConnect: true });
    await ctx.redis.connect();
  });
  afterAll(async () => {
    await deleteByPrefix(ctx.redis, ctx.prefix);
    ctx.redis.disconnect();
  });
  return ctx;
}
