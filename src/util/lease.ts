/**
 * A lease: a Redis lock that its holder renews while it works, and that lapses soon after the
 * holder dies (SIGKILL, a lost network), so a dead worker never blocks its own retry for long.
 *
 * Redis keys: the caller names one string key per lease; its value is the holder's random token,
 * with a PX expiry of `ttlMs`. Renewal (every ttl/3) and release are compare-on-token Lua, so a
 * holder that lost its lease can neither extend nor delete the next holder's. A holder that fails
 * to renew is told through `signal` (aborted) and `assertHeld()`; `write()` applies state writes
 * only while the lease is still this holder's (a fence: a paused holder that woke up after losing
 * the lease writes nothing).
 */
import { randomUUID } from 'node:crypto';
import { CwError, type ErrorCode, ErrorCodes } from '../errors.js';
import type { RedisClient } from '../queue/connection.js';
import { CHECK_EFFECTS_LUA, type Effect, encodeEffects, KeyTable } from './effects.js';

/** Compare-and-delete: the one way a token-held key is released (leases, the audit claim). */
export const COMPARE_AND_DELETE_LUA = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;
const RENEW_LUA = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0`;
// KEYS[1] the lease, then effect keys. ARGV[1] token, ARGV[2] effect count, then the effects.
const FENCED_LUA = `${CHECK_EFFECTS_LUA}
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
local n = tonumber(ARGV[2])
local bad = cw_check_effects(3, n)
if bad then return redis.error_reply('CWEFFECT ' .. bad) end
cw_apply_effects(3, n)
return 1`;

export interface LeaseOptions {
  ttlMs: number;
  /** How long acquire() waits for another holder; 0: try once. */
  waitMs?: number;
  /** What the lease guards, for error messages ("the inventory"). */
  what: string;
  /** The code of the retryable error when it cannot be had or is lost; default CW_ERR_QUEUE. */
  code?: ErrorCode;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class Lease {
  private timer: NodeJS.Timeout | undefined;
  private readonly abort = new AbortController();
  private lost: string | undefined;

  private constructor(
    private readonly redis: RedisClient,
    readonly key: string,
    readonly token: string,
    private readonly opts: LeaseOptions,
  ) {}

  /** Takes the lease, waiting up to `waitMs` for the holder to release it or die; throws a retryable CwError(QUEUE) when it cannot. */
  static async acquire(redis: RedisClient, key: string, opts: LeaseOptions): Promise<Lease> {
    const token = randomUUID();
    const deadline = Date.now() + (opts.waitMs ?? 0);
    for (;;) {
      if ((await redis.set(key, token, 'PX', opts.ttlMs, 'NX')) === 'OK') {
        const lease = new Lease(redis, key, token, opts);
        lease.startRenewing();
        return lease;
      }
      if (Date.now() >= deadline) {
        const ttl = await redis.pttl(key);
        throw new CwError(
          opts.code ?? ErrorCodes.QUEUE,
          `${opts.what} is held by another worker (lease ${key}, ${ttl > 0 ? `${Math.ceil(ttl / 1000)} s left` : 'expiring'}); will be retried`,
          { retryable: true },
        );
      }
      await sleep(Math.min(250, 20 + Math.random() * opts.ttlMs * 0.05));
    }
  }

  /** Aborted when the lease could not be renewed. */
  get signal(): AbortSignal {
    return this.abort.signal;
  }

  /** Throws a retryable CwError(QUEUE) once the lease is lost. */
  assertHeld(): void {
    if (this.lost !== undefined) {
      throw new CwError(this.opts.code ?? ErrorCodes.QUEUE, `lost the lease on ${this.opts.what}: ${this.lost}`, {
        retryable: true,
      });
    }
  }

  /** Applies `effects` atomically, only while this holder still holds the lease. */
  async write(effects: readonly Effect[]): Promise<void> {
    this.assertHeld();
    if (effects.length === 0) return;
    const keys = new KeyTable(1);
    const args = encodeEffects(effects, keys.of);
    const ok = (await this.redis.eval(
      FENCED_LUA,
      1 + keys.keys.length,
      this.key,
      ...keys.keys,
      this.token,
      String(effects.length),
      ...args,
    )) as number;
    if (ok !== 1) {
      this.markLost('another holder has it now');
      this.assertHeld();
    }
  }

  /** Renews now and says whether the lease is still this holder's (a fence before a write). */
  async renewNow(): Promise<boolean> {
    if (this.lost !== undefined) return false;
    const r = await this.redis.eval(RENEW_LUA, 1, this.key, this.token, String(this.opts.ttlMs));
    if (r !== 1) this.markLost('another holder has it now');
    return r === 1;
  }

  /** Stops renewing and leaves the lease to lapse by itself (a hold that outlives its work). */
  stopRenewing(): void {
    this.stop();
  }

  async release(): Promise<void> {
    this.stop();
    await this.redis.eval(COMPARE_AND_DELETE_LUA, 1, this.key, this.token).catch(() => undefined);
  }

  private startRenewing(): void {
    const every = Math.max(100, Math.floor(this.opts.ttlMs / 3));
    this.timer = setInterval(() => {
      this.redis
        .eval(RENEW_LUA, 1, this.key, this.token, String(this.opts.ttlMs))
        .then((r) => {
          if (r !== 1) this.markLost('it expired before it was renewed');
        })
        .catch((err: Error) => {
          // A blip: the next tick tries again; the lease only counts as lost once it has expired.
          this.failures++;
          if (this.failures * every >= this.opts.ttlMs) this.markLost(`renewal failed: ${err.message}`);
        });
    }, every);
    this.timer.unref();
  }

  private failures = 0;

  private markLost(why: string): void {
    if (this.lost !== undefined) return;
    this.lost = why;
    this.stop();
    this.abort.abort(new CwError(ErrorCodes.QUEUE, `lost the lease on ${this.opts.what}: ${why}`, { retryable: true }));
  }

  private stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}

/** Runs `fn` under a lease, released afterwards whatever happens. */
export async function withLease<T>(
  redis: RedisClient,
  key: string,
  opts: LeaseOptions,
  fn: (lease: Lease) => Promise<T>,
): Promise<T> {
  const lease = await Lease.acquire(redis, key, opts);
  try {
    return await fn(lease);
  } finally {
    await lease.release();
  }
}
