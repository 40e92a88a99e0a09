/**
 * Redis connection profiles. Workers block on Redis and must ride out blips
 * (maxRetriesPerRequest: null, as BullMQ requires); producers and the CLI fail fast so an
 * unreachable Redis is one clear error, not a hang.
 *
 * createRedis is the one factory: an ioredis `Redis`, or with `redis.cluster` a `Cluster` seeded
 * from `redis.url` and `redis.nodes` (it discovers the other nodes). A Cluster's nodes take the
 * profile's options (`redisOptions`) and the seed URL's user, password and TLS; the Cluster itself
 * reads and writes masters only, follows MOVED/ASK, and waits out a failover.
 */
import { Cluster, type ClusterOptions, Redis, type RedisOptions } from 'ioredis';
import { CwError, ErrorCodes } from '../errors.js';
import type { Logger } from '../logger.js';

export type ConnectionProfile = 'worker' | 'producer';

/** One Redis or one Redis Cluster: whatever `redis` in the config names. */
export type RedisClient = Redis | Cluster;

/** The part of the redis config a connection needs. */
export interface RedisTarget {
  url: string;
  cluster?: boolean;
  /** More seed nodes of the cluster. */
  nodes?: readonly string[];
}

export function redisOptions(profile: ConnectionProfile): RedisOptions {
  return profile === 'worker'
    ? { maxRetriesPerRequest: null, enableReadyCheck: true, lazyConnect: true }
    : {
        maxRetriesPerRequest: 1,
        enableOfflineQueue: false,
        lazyConnect: true,
        connectTimeout: 3000,
        retryStrategy: () => null,
      };
}

/** The node options a client was built with (a Cluster keeps them in `redisOptions`). */
export function nodeOptions(client: RedisClient): RedisOptions {
  return client instanceof Cluster ? (client.options.redisOptions ?? {}) : client.options;
}

/** A seed URL as a cluster startup node, and the credentials and TLS every node then needs. */
function seedOf(url: string): { node: { host: string; port: number }; auth: RedisOptions } {
  const u = new URL(url);
  const auth: RedisOptions = {};
  if (u.username) auth.username = decodeURIComponent(u.username);
  if (u.password) auth.password = decodeURIComponent(u.password);
  // TLS: the certificate names the host, so nodes are dialled by the name announced (dnsLookup below).
  if (u.protocol === 'rediss:') auth.tls = {};
  return { node: { host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port || 6379) }, auth };
}

/**
 * A client for `target` in `profile`, `overrides` on top (options of the one Redis, or of every
 * cluster node). Not connected when the options say lazyConnect.
 */
export function createRedis(
  target: RedisTarget,
  profile: ConnectionProfile,
  overrides: RedisOptions = {},
): RedisClient {
  const node = { ...redisOptions(profile), ...overrides };
  if (!target.cluster) return new Redis(target.url, node);
  const seeds = [target.url, ...(target.nodes ?? [])].map(seedOf);
  const { lazyConnect, enableOfflineQueue, retryStrategy, enableReadyCheck, ...perNode } = node;
  const options: ClusterOptions = {
    redisOptions: { ...perNode, ...seeds[0]!.auth },
    lazyConnect: lazyConnect ?? false,
    enableOfflineQueue: enableOfflineQueue ?? true,
    enableReadyCheck: enableReadyCheck ?? true,
    // The cluster reconnects as the one Redis would (its nodes never do on their own).
    clusterRetryStrategy: retryStrategy ? (n) => retryStrategy(n) : (n) => Math.min(100 * n, 2000),
    scaleReads: 'master',
    maxRedirections: 16,
    retryDelayOnFailover: 200,
    retryDelayOnClusterDown: 300,
    retryDelayOnTryAgain: 100,
    slotsRefreshTimeout: 2000,
    // Managed clusters (ElastiCache, MemoryDB) with TLS: a node resolved to an IP fails the certificate check.
    ...(seeds[0]!.auth.tls ? { dnsLookup: (address, done) => done(null, address) } : {}),
  };
  return new Cluster(
    seeds.map((s) => s.node),
    options,
  );
}

/** A Redis URL fit for messages: any password (or user:password) masked. */
export function redisWhere(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}

/**
 * Connect and ping, or throw one CwError(REDIS) that says where. A node of a Redis Cluster named
 * without `redis.cluster: true` is refused here (CW_ERR_CONFIG), not later with CROSSSLOT errors.
 */
export async function connectRedis(target: RedisTarget, profile: ConnectionProfile): Promise<RedisClient> {
  const redis = createRedis(target, profile);
  // Never without a listener (ioredis would print the stack): connect/ping below surface the
  // first error; the queue runtime adds a logging listener (RedisErrorLog) for later ones.
  redis.on('error', () => {});
  const where = redisWhere(target.url);
  let clusterNode = false;
  try {
    await redis.connect();
    await redis.ping();
    // A server that refuses INFO (some managed ones restrict it) is taken at its word.
    if (!target.cluster) clusterNode = /^cluster_enabled:1\b/m.test(await redis.info('cluster').catch(() => ''));
  } catch (err) {
    redis.disconnect();
    if (target.cluster && (await clusterEnabled(target.url)) === false)
      throw new CwError(
        ErrorCodes.CONFIG,
        `redis.cluster: Redis at ${where} is not a cluster node (cluster_enabled:0): set redis.cluster: false`,
      );
    const what = target.cluster ? 'the Redis Cluster at' : 'Redis at';
    throw new CwError(ErrorCodes.REDIS, `cannot reach ${what} ${where}: ${(err as Error).message}`, { cause: err });
  }
  if (clusterNode) {
    redis.disconnect();
    throw new CwError(
      ErrorCodes.CONFIG,
      `redis.url: Redis at ${where} is a node of a Redis Cluster (cluster_enabled:1): set redis.cluster: true`,
    );
  }
  return redis;
}

/** Whether the one server at `url` has cluster support on; null when it cannot say. */
async function clusterEnabled(url: string): Promise<boolean | null> {
  const probe = new Redis(url, { ...redisOptions('producer'), connectTimeout: 2000 });
  probe.on('error', () => {});
  try {
    await probe.connect();
    const m = /^cluster_enabled:(\d)/m.exec(await probe.info('cluster'));
    return m ? m[1] === '1' : null;
  } catch {
    return null;
  } finally {
    probe.disconnect();
  }
}

/** Anything that emits a Redis client's errors: an ioredis client, a BullMQ Queue, Worker or QueueEvents. */
export interface ErrorEmitter {
  on(event: 'error', listener: (err: Error) => void): unknown;
}

/**
 * Logs the 'error' events of every Redis-holding object a process creates, through its pino
 * logger, so an outage never reaches stderr as raw stack traces. Without a listener, ioredis
 * prints "[ioredis] Unhandled error event" with the stack, and BullMQ's Queue prints the error
 * with console.error.
 *
 * Rate limit: one line per distinct message per window (5 s by default), across all the
 * connections this reporter watches. The first occurrence is logged at once with the connection
 * that saw it; repeats within the window are counted, and when the window ends one line reports
 * how many were suppressed and on which connections, then a new window starts. So an outage of
 * any length costs about one line per message per window, not one per connection per retry.
 */
export class RedisErrorLog {
  private readonly windows = new Map<string, { suppressed: number; sources: Set<string>; timer: NodeJS.Timeout }>();
  private readonly intervalMs: number;

  constructor(
    private readonly log: Logger,
    opts: { intervalMs?: number } = {},
  ) {
    this.intervalMs = opts.intervalMs ?? 5000;
  }

  /** Attach an 'error' listener to `emitter`; `source` names the connection in log lines (e.g. "queue scan"). */
  watch(emitter: ErrorEmitter, source: string): void {
    emitter.on('error', (err) => this.report(source, err));
  }

  /** Log one info line when `client` is ready again after errors (how long it was down). */
  watchRecovery(client: RedisClient, source: string): void {
    let downSince: number | null = null;
    client.on('error', () => {
      downSince ??= Date.now();
    });
    client.on('ready', () => {
      if (downSince === null) return;
      this.log.info({ source, downMs: Date.now() - downSince }, 'redis connection restored');
      downSince = null;
    });
  }

  report(source: string, err: unknown): void {
    const message = (err instanceof Error ? err.message : String(err)).split('\n')[0]!.slice(0, 300);
    const open = this.windows.get(message);
    if (open) {
      open.suppressed++;
      open.sources.add(source);
      return;
    }
    this.log.warn({ source, err: message }, 'redis error');
    this.openWindow(message);
  }

  private openWindow(message: string): void {
    const w = { suppressed: 0, sources: new Set<string>(), timer: undefined as unknown as NodeJS.Timeout };
    w.timer = setTimeout(() => {
      this.windows.delete(message);
      if (w.suppressed === 0) return;
      this.log.warn(
        { err: message, suppressed: w.suppressed, sources: [...w.sources].sort(), windowMs: this.intervalMs },
        'redis error (repeated)',
      );
      this.openWindow(message);
    }, this.intervalMs);
    w.timer.unref();
    this.windows.set(message, w);
  }

  /** Stop the timers (repeats not yet reported are dropped). */
  close(): void {
    for (const w of this.windows.values()) clearTimeout(w.timer);
    this.windows.clear();
  }
}
