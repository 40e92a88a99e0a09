/**
 * Redis connection profiles. Workers block on Redis and must ride out blips
 * (maxRetriesPerRequest: null, as BullMQ requires); producers and the CLI fail fast so an
 * unreachable Redis is one clear error, not a hang.
 */
import { Redis, type RedisOptions } from 'ioredis';
import { CwError, ErrorCodes } from '../errors.js';

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

/** Connect and ping, or throw one CwError(REDIS) that says where. */
export async function connectRedis(url: string, profile: ConnectionProfile): Promise<Redis> {
  const redis = new Redis(url, redisOptions(profile));
  redis.on('error', () => {
    /* surfaced by connect/ping below, or by the command that fails */
  });
  try {
    await redis.connect();
    await redis.ping();
  } catch (err) {
    redis.disconnect();
    const where = url.replace(/\/\/[^@/]*@/, '//***@');
    throw new CwError(ErrorCodes.REDIS, `cannot reach Redis at ${where}: ${(err as Error).message}`, { cause: err });
  }
  return redis;
}
