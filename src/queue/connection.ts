/**
 * Redis connection profiles. Workers block on Redis and must ride out blips
 * (maxRetriesPerRequest: null, as BullMQ requires); producers and the CLI fail fast so an
 * unreachable Redis is one clear error, not a hang.
 */
import { Redis, type RedisOptions } from 'ioredis';
import { CwError, ErrorCodes } from '../errors.js';
import type { Logger } from '../logger.js';

export type ConnectionProfile = 'worker' | 'producer';

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

/** A Redis URL fit for messages: any password (or user:password) masked. */
export function redisWhere(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}

/** Connect and ping, or throw one CwError(REDIS) that says where. */
export async function connectRedis(url: string, profile: ConnectionProfile): Promise<Redis> {
  const redis = new Redis(url, redisOptions(profile));
  // Never without a listener (ioredis would print the stack): connect/ping below surface the
  // first error; the queue runtime adds a logging listener (RedisErrorLog) for later ones.
  redis.on('error', () => {});
  try {
    await redis.connect();
    await redis.ping();
  } catch (err) {
    redis.disconnect();
    throw new CwError(ErrorCodes.REDIS, `cannot reach Redis at ${redisWhere(url)}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  return redis;
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
  watchRecovery(client: Redis, source: string): void {
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
