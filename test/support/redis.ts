/**
 * Real Redis for tests: the server at REDIS_URL (default redis://127.0.0.1:6379), or with
 * CW_TEST_REDIS_CLUSTER=<seed url> a Redis Cluster (scripts/redis-cluster.sh start prints one).
 * Each test file gets a unique key prefix and everything under it is deleted afterwards.
 *
 * In cluster mode every config built for a test says `redis.cluster: true`, clients are ioredis
 * Clusters, and keys follow the tagged prefixes (src/queue/prefix.ts): `{P}:…` for credwarden's
 * own, `{P:<queue>}:bull:<queue>:…` for BullMQ's. Build expected key names with testKeyPrefix()
 * and testQueueKey() (or a TestRedis's keyPrefix), never by hand.
 */
import { randomUUID } from 'node:crypto';
import { type Processor, Queue, type QueueBaseOptions, Worker, type WorkerOptions } from 'bullmq';
import type { RedisOptions } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';
import { createRedis, type RedisClient } from '../../src/queue/connection.js';
import { keyPrefix, queuePrefix } from '../../src/queue/prefix.js';
import { masters, scanAll } from '../../src/queue/redis-nodes.js';

/** The seed node of the test cluster, when the suite runs against one. */
export const REDIS_CLUSTER_URL = process.env.CW_TEST_REDIS_CLUSTER || undefined;
export const IS_CLUSTER = REDIS_CLUSTER_URL !== undefined;
export const REDIS_URL = REDIS_CLUSTER_URL ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

export interface TestRedis {
  redis: RedisClient;
  /** The bare prefix, as written to `redis.prefix`. */
  prefix: string;
  /** The prefix of credwarden's own keys: the bare one, or `{prefix}` on a cluster. */
  keyPrefix: string;
  url: string;
}

/** The prefix of credwarden's own keys for `prefix` in this run (`P` or `{P}`). */
export const testKeyPrefix = (prefix: string): string => keyPrefix({ prefix, cluster: IS_CLUSTER });

/** BullMQ's `prefix` option for `queue` under `prefix` in this run. */
export const testQueuePrefix = (prefix: string, queue: string): string =>
  queuePrefix({ prefix, cluster: IS_CLUSTER }, queue);

/** The key base of one BullMQ queue: `<bull prefix>:<queue>` (then `:wait`, `:<job id>`, …). */
export const testQueueKey = (prefix: string, queue: string): string => `${testQueuePrefix(prefix, queue)}:${queue}`;

/**
 * The `redis` section of a test config: the test server (with `cluster: true` in cluster mode)
 * and `extra` on top. A config naming another server (its own redis-server) stays single-node.
 */
export function testRedisConfig(extra: Record<string, unknown> = {}): Record<string, unknown> {
  const url = (extra.url as string | undefined) ?? REDIS_URL;
  return { url, ...(IS_CLUSTER && url === REDIS_URL ? { cluster: true } : {}), ...extra };
}

/**
 * A client of the test server (a Cluster in cluster mode), or of `url` (one Redis unless it is the
 * test cluster); connects at once unless told lazyConnect.
 */
export function openTestRedis(opts: RedisOptions = {}, url = REDIS_URL): RedisClient {
  const redis = createRedis({ url, cluster: IS_CLUSTER && url === REDIS_URL }, 'worker', {
    maxRetriesPerRequest: 1,
    lazyConnect: false,
    ...opts,
  });
  return redis;
}

/**
 * BullMQ connection options for a Queue or Worker of a test: on one Redis the URL; on a cluster a
 * Cluster client (BullMQ cannot build one, and leaves one it was given open), disconnected by the
 * returned close(). testQueue() and testWorker() close it with the Queue or Worker.
 */
export function testBullConnection(worker = false): {
  connection: QueueBaseOptions['connection'];
  close(): void;
} {
  if (!IS_CLUSTER)
    return { connection: { url: REDIS_URL, ...(worker ? { maxRetriesPerRequest: null } : {}) }, close() {} };
  const client = createRedis({ url: REDIS_URL, cluster: true }, 'worker', { lazyConnect: worker });
  client.on('error', () => {});
  return { connection: client as QueueBaseOptions['connection'], close: () => client.disconnect() };
}

/** A Queue of the test server under the bare `prefix` (its close() also closes a cluster client). */
export function testQueue<T = unknown>(name: string, prefix: string): Queue<T> {
  const conn = testBullConnection();
  const q = new Queue<T>(name, { connection: conn.connection, prefix: testQueuePrefix(prefix, name) });
  const close = q.close.bind(q);
  q.close = async () => {
    await close();
    conn.close();
  };
  return q;
}

/**
 * A Worker of the test server for `queue` under the bare `prefix` (or the BullMQ prefix given in
 * opts); its close() also closes a cluster client (BullMQ runs a Worker's commands on it).
 */
export function testWorker<T = unknown>(
  queue: string,
  processor: Processor<T>,
  prefix: string,
  opts: Omit<WorkerOptions, 'connection'> = {},
): Worker<T> {
  const conn = testBullConnection(true);
  const w = new Worker<T>(queue, processor, {
    prefix: testQueuePrefix(prefix, queue),
    ...opts,
    connection: conn.connection,
  });
  const close = w.close.bind(w);
  w.close = async (force?: boolean) => {
    await close(force);
    conn.close();
  };
  return w;
}

/** Resolves once `redis` is ready (a Cluster knows its masters only then). */
async function ready(redis: RedisClient): Promise<void> {
  if (redis.status === 'ready') return;
  if (redis.status === 'wait') return redis.connect();
  await new Promise<void>((resolve, reject) => {
    redis.once('ready', resolve);
    redis.once('end', () => reject(new Error('the test Redis connection ended')));
  });
}

/** Every key matching `pattern`, on every master (KEYS on a Cluster asks one random node). */
export async function keysOf(redis: RedisClient, pattern: string): Promise<string[]> {
  await ready(redis);
  return scanAll(redis, pattern);
}

/**
 * Every key of the bare `prefix`, BullMQ's included: `P…` and, tagged, `{P…`; with a trailing `:`
 * exactly that prefix (`P:…`, `{P}:…`, `{P:<queue>}…`), not the ones that extend it.
 */
export async function keysOfPrefix(redis: RedisClient, prefix: string): Promise<string[]> {
  const out = new Set<string>();
  for (const pattern of prefixPatterns(prefix)) for (const k of await keysOf(redis, pattern)) out.add(k);
  return [...out];
}

function prefixPatterns(prefix: string): string[] {
  const p = prefix.replace(/:$/, '');
  // `P:` is exact (not `P1…`); `P` also takes the prefixes that extend it (`P-aws`).
  return prefix.endsWith(':') ? [`${p}:*`, `{${p}}:*`, `{${p}:*`] : [`${p}*`, `{${p}*`];
}

/**
 * Deletes every key of `prefix` (as keysOfPrefix finds them) on every master, one key per DEL
 * (keys of different slots cannot share one).
 */
export async function deleteByPrefix(redis: RedisClient, prefix: string): Promise<number> {
  const patterns = prefixPatterns(prefix);
  await ready(redis);
  let n = 0;
  for (const node of masters(redis)) {
    for (const pattern of patterns) {
      let cursor = '0';
      do {
        const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
        cursor = next;
        if (keys.length) {
          const pipe = node.pipeline();
          for (const k of keys) pipe.del(k);
          for (const [err, r] of (await pipe.exec()) ?? []) if (!err) n += Number(r);
        }
      } while (cursor !== '0');
    }
  }
  return n;
}

/** Call at the top of a test file; the returned object is filled in by beforeAll. */
export function useRedis(label = 'test'): TestRedis {
  const prefix = `cwtest-${label}-${randomUUID().slice(0, 8)}`;
  const ctx = { prefix, keyPrefix: testKeyPrefix(prefix), url: REDIS_URL } as TestRedis;
  beforeAll(async () => {
    ctx.redis = openTestRedis({ lazyConnect: true });
    await ctx.redis.connect();
  });
  afterAll(async () => {
    await deleteByPrefix(ctx.redis, ctx.prefix);
    ctx.redis.disconnect();
  });
  return ctx;
}
