/**
 * The run-time controls every worker shares through Redis: the kill switch, the circuit breaker,
 * the rolling rate and the per-credential cooldown. Read at the moment of acting (no caching), so
 * a pause reaches every worker before its next action: the check is one round trip, immediately
 * before the intent is acted on and again immediately before the backend call.
 *
 * The rate and cooldown are reserved atomically (one Lua script) by plan id: a retried job finds
 * its own reservation and goes on; a different plan sees the slot taken.
 */

import type { AuditAppender } from '../audit/appender.js';
import { CwError, ErrorCodes } from '../errors.js';
import type { RedisClient } from '../queue/connection.js';
import type { RemediationConfig } from './config.js';
import type { RemediationKeys } from './store.js';

export interface PauseState {
  by: string;
  at: string;
  reason?: string;
}
export interface BreakerState {
  trippedAt: string;
  reason: string;
}

export type Reservation = { ok: true } | { ok: false; code: 'rate-limited' | 'cooldown'; reason: string };

/** KEYS: starts, last-action. ARGV: plan id, credential id, now ms, rate window ms, rate max, cooldown ms, now ISO. */
const RESERVE_LUA = `
if redis.call('ZSCORE', KEYS[1], ARGV[1]) then return {1, ''} end
local now = tonumber(ARGV[3])
local last = redis.call('HGET', KEYS[2], ARGV[2])
if last then
  local sep = string.find(last, '|', 1, true)
  local at = tonumber(string.sub(last, 1, sep - 1))
  local by = string.sub(last, sep + 1)
  if by ~= ARGV[1] and now - at < tonumber(ARGV[6]) then return {0, 'cooldown', tostring(at)} end
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[4]) * 4)
local used = redis.call('ZCOUNT', KEYS[1], now - tonumber(ARGV[4]), '+inf')
if used >= tonumber(ARGV[5]) then return {0, 'rate-limited', tostring(used)} end
redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('HSET', KEYS[2], ARGV[2], ARGV[3] .. '|' .. ARGV[1])
return {1, ''}`;

export class RemediationControls {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: RemediationKeys,
    private readonly audit: AuditAppender,
    private readonly config: RemediationConfig,
    private readonly clock: { now(): Date },
  ) {}

  /** The kill switch and the breaker, read now: what stops an action this instant, or null. */
  async stopped(): Promise<{ code: 'paused' | 'breaker-open'; reason: string } | null> {
    const [p, b] = await this.redis.mget(this.keys.paused(), this.keys.breaker());
    if (p) {
      const s = JSON.parse(p) as PauseState;
      return {
        code: 'paused',
        reason: `remediation is paused by ${s.by} since ${s.at}${s.reason ? `: ${s.reason}` : ''}`,
      };
    }
    if (b) {
      const s = JSON.parse(b) as BreakerState;
      return { code: 'breaker-open', reason: `the circuit breaker tripped at ${s.trippedAt}: ${s.reason}` };
    }
    return null;
  }

  async pauseState(): Promise<PauseState | null> {
    const v = await this.redis.get(this.keys.paused());
    return v ? (JSON.parse(v) as PauseState) : null;
  }

  async breakerState(): Promise<BreakerState | null> {
    const v = await this.redis.get(this.keys.breaker());
    return v ? (JSON.parse(v) as BreakerState) : null;
  }

  async pause(by: string, reason?: string): Promise<PauseState> {
    const at = this.clock.now().toISOString();
    const state: PauseState = { by, at, ...(reason ? { reason } : {}) };
    await this.audit.append({
      type: 'remediation.paused',
      actor: by,
      subject: 'remediation',
      data: { ...(reason ? { reason } : {}) },
      effects: [{ op: 'set', key: this.keys.paused(), value: JSON.stringify(state) }],
    });
    return state;
  }

  async resume(by: string): Promise<boolean> {
    const was = await this.pauseState();
    if (!was) return false;
    await this.audit.append({
      type: 'remediation.resumed',
      actor: by,
      subject: 'remediation',
      data: { pausedBy: was.by, pausedAt: was.at },
      effects: [{ op: 'del', key: this.keys.paused() }],
    });
    return true;
  }

  /** Actions started within the rate window, across all workers. */
  async recentStarts(): Promise<number> {
    const now = this.clock.now().getTime();
    return this.redis.zcount(this.keys.starts(), now - this.config.rate.perHours * 3_600_000, '+inf');
  }

  async lastActions(credentialIds: readonly string[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    if (credentialIds.length === 0) return out;
    const vals = await this.redis.hmget(this.keys.lastAction(), ...credentialIds);
    credentialIds.forEach((id, i) => {
      const v = vals[i];
      if (v) out.set(id, new Date(Number(v.slice(0, v.indexOf('|')))).toISOString());
    });
    return out;
  }

  async reserve(planId: string, credentialId: string): Promise<Reservation> {
    const now = this.clock.now();
    const r = (await this.redis.eval(
      RESERVE_LUA,
      2,
      this.keys.starts(),
      this.keys.lastAction(),
      planId,
      credentialId,
      String(now.getTime()),
      String(this.config.rate.perHours * 3_600_000),
      String(this.config.rate.max),
      String(this.config.cooldownHours * 3_600_000),
    )) as [number, string, string?];
    if (r[0] === 1) return { ok: true };
    if (r[1] === 'cooldown') {
      const at = new Date(Number(r[2]));
      const until = new Date(at.getTime() + this.config.cooldownHours * 3_600_000);
      return {
        ok: false,
        code: 'cooldown',
        reason: `credwarden acted on ${credentialId} at ${at.toISOString()}; cooldown until ${until.toISOString()}`,
      };
    }
    return {
      ok: false,
      code: 'rate-limited',
      reason: `${r[2]} actions started in the last ${this.config.rate.perHours} h (rate max ${this.config.rate.max})`,
    };
  }

  /**
   * Counts an outcome and trips the breaker when the error rate in its window passes the
   * threshold over at least minActions outcomes. The trip is one audit event per breaker
   * generation, so workers tripping it at once record it once.
   */
  async recordOutcome(planId: string, ok: boolean): Promise<BreakerState | null> {
    const now = this.clock.now();
    const since = now.getTime() - this.config.breaker.windowHours * 3_600_000;
    const member = `${planId}|${ok ? 'ok' : 'err'}`;
    const [, , members] = (await this.redis
      .multi()
      .zadd(this.keys.outcomes(), now.getTime(), member)
      .zremrangebyscore(this.keys.outcomes(), '-inf', since)
      .zrange(this.keys.outcomes(), 0, -1)
      .exec()) as [unknown, unknown, [Error | null, string[]]];
    const all = members[1];
    const errors = all.filter((m) => m.endsWith('|err')).length;
    const { errorRate, minActions } = this.config.breaker;
    if (all.length < minActions || errors / all.length < errorRate) return null;
    if (await this.breakerState()) return null;
    const gen = (await this.redis.get(this.keys.breakerGen())) ?? '0';
    const state: BreakerState = {
      trippedAt: now.toISOString(),
      reason: `${errors} of the last ${all.length} actions failed (error rate ${(errors / all.length).toFixed(2)} ≥ ${errorRate}); remediation is paused until a person resets the breaker`,
    };
    await this.audit.append({
      type: 'breaker.tripped',
      actor: 'credwarden',
      subject: 'remediation',
      data: { errors, outcomes: all.length, errorRate, generation: Number(gen) },
      idempotencyKey: `breaker/trip/${gen}`,
      effects: [{ op: 'set', key: this.keys.breaker(), value: JSON.stringify(state) }],
    });
    return (await this.breakerState()) ?? state;
  }

  async resetBreaker(by: string): Promise<boolean> {
    const was = await this.breakerState();
    if (!was) return false;
    const gen = Number((await this.redis.get(this.keys.breakerGen())) ?? '0');
    if (!Number.isInteger(gen)) throw new CwError(ErrorCodes.INTERNAL, `${this.keys.breakerGen()} is not a number`);
    await this.audit.append({
      type: 'breaker.reset',
      actor: by,
      subject: 'remediation',
      data: { trippedAt: was.trippedAt, reason: was.reason, generation: gen },
      idempotencyKey: `breaker/reset/${gen}`,
      effects: [
        { op: 'del', key: this.keys.breaker() },
        { op: 'del', key: this.keys.outcomes() },
        { op: 'set', key: this.keys.breakerGen(), value: String(gen + 1) },
      ],
    });
    return true;
  }
}
