/**
 * Where the fault harness kills: phases and kill plans, plus the seeded randomness that draws them.
 *
 * A phase is "inside" while any of its BullMQ queues has an active job (`<prefix>:bull:<q>:active`
 * non-empty; credwarden's queues: scan, discover, inventory (the finalize job), evaluate). Its
 * plan() draws the kill point from the control trial's calibration: a delay after the phase was
 * first seen, or a number of new audit events (counted by countEvents, every event by default), so
 * a kill lands mid-write, or a signal from outside (e.g. a recording proxy saw the backend call).
 * The remediation phase is test/support/fault-remediate-phase.ts.
 *
 * onKilled probes what the kill left behind, right after the worker died. The evaluate and finalize
 * phases probe the inventory lease (`<prefix>:inv:lock`, README "Redis keys"): a lock the dead
 * worker held must lapse within its lease (worker.leaseSeconds), so it never outlives its holder
 * for longer than that, and its TTL must never be longer than the lease.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { RedisClient } from '../../src/queue/connection.js';
import type { ReplayEvent, Violation } from './fault-replay.js';
import { testKeyPrefix } from './redis.js';

export type Rng = () => number;

/** mulberry32: small, seedable, good enough to draw kill points. */
export function seededRng(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** The seed of trial `index` in a run seeded `seed`: a failing trial replays from the same two numbers. */
export const trialSeed = (seed: number, index: number): number => (seed ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0;

export type KillPlan =
  | { kind: 'delay'; ms: number }
  /** After n new audit events (those `filter` accepts, else the phase's countEvents; `what` names them). */
  | { kind: 'events'; n: number; what?: string; filter?: (e: ReplayEvent) => boolean }
  /** As soon as `fired()` (polled with the phase) turns true. */
  | { kind: 'signal'; what: string; fired: () => boolean };

/** What the harness tells an onKilled probe: the state right after the worker died. */
export interface KillContext {
  redis: RedisClient;
  prefix: string;
  /** Active job ids per queue right after the kill. */
  active: Record<string, string[]>;
  seqAtKill: number;
  /** Date.now() once the worker had died. */
  killedAt: number;
  leaseMs: number;
}

export interface KillProbe {
  /** Where the kill landed, one label per unit of work in flight (e.g. "after intent"). */
  steps?: string[];
  notes?: string[];
  violations?: Violation[];
}

export interface PhaseCalibration {
  /** From the first poll that saw the phase active to the last one. */
  durationMs: number;
  /** Audit events (all of them) written while it was active. */
  events: number;
}

export interface PhaseSpec {
  name: string;
  /** BullMQ queues whose active list being non-empty means "inside the phase". */
  queues: string[];
  /** Which audit events an `events` plan counts; every event when absent. */
  countEvents?: (e: ReplayEvent) => boolean;
  /** Where to kill, given the control trial's measurements (absent before calibration). */
  plan(rng: Rng, cal: PhaseCalibration | undefined): KillPlan;
  /** Looks at what the kill left behind (the worker A2 is already starting). */
  onKilled?(k: KillContext): Promise<KillProbe>;
}

const between = (rng: Rng, lo: number, hi: number) => lo + rng() * (hi - lo);

/**
 * A random point between 5 % and 75 % of the calibrated duration (a phase runs faster or slower
 * from one trial to the next; a kill drawn past its end is recorded as missed).
 */
export const delayPlan = (rng: Rng, cal: PhaseCalibration | undefined, fallbackMs: number): KillPlan => ({
  kind: 'delay',
  ms: Math.round(between(rng, 0.05, 0.75) * (cal?.durationMs ?? fallbackMs)),
});

/** Mostly "after N new audit events" (so the kill lands mid-write), sometimes a delay inside the phase. */
export const writingPhasePlan = (rng: Rng, cal: PhaseCalibration | undefined): KillPlan => {
  if (rng() < 0.3 || !cal || cal.events < 2) return delayPlan(rng, cal, 1000);
  return { kind: 'events', n: 1 + Math.floor(rng() * (cal.events - 1) * 0.95) };
};

/**
 * The inventory lease right after a kill: if the dead worker held it, it must lapse within the
 * lease (plus a poll's slack), and its TTL must not exceed the lease. A lock another worker takes
 * over counts as lapsed (the dead holder no longer blocks anyone).
 */
export async function leaseProbe(k: KillContext): Promise<KillProbe> {
  const key = `${testKeyPrefix(k.prefix)}:inv:lock`;
  const [token, pttl] = await Promise.all([k.redis.get(key), k.redis.pttl(key)]);
  if (!token) return { steps: ['lock free at kill'], notes: ['the inventory lease was free when the worker died'] };
  const out: KillProbe = { steps: ['lock held at kill'], notes: [], violations: [] };
  if (pttl < 0 || pttl > k.leaseMs + 50)
    out.violations!.push({
      check: 'lock-lapses',
      detail: `${key} had a TTL of ${pttl} ms at the kill, more than the lease (${k.leaseMs} ms)`,
    });
  const limit = k.leaseMs + 1500;
  for (;;) {
    const held = Date.now() - k.killedAt;
    if ((await k.redis.get(key)) !== token) {
      out.notes!.push(`the dead worker's inventory lease (TTL ${pttl} ms at the kill) lapsed ${held} ms after it died`);
      return out;
    }
    if (held > limit) {
      out.violations!.push({
        check: 'lock-lapses',
        detail: `${key} still held by the dead worker ${held} ms after it died (lease ${k.leaseMs} ms)`,
      });
      return out;
    }
    await sleep(10);
  }
}

export const PHASES = {
  discover: { name: 'discover', queues: ['discover'], plan: (rng, cal) => delayPlan(rng, cal, 800) },
  finalize: { name: 'finalize', queues: ['inventory'], plan: writingPhasePlan, onKilled: leaseProbe },
  evaluate: { name: 'evaluate', queues: ['evaluate'], plan: writingPhasePlan, onKilled: leaseProbe },
} satisfies Record<string, PhaseSpec>;

export const DEFAULT_PHASES: PhaseSpec[] = [PHASES.discover, PHASES.finalize, PHASES.evaluate];

export function describePlan(p: KillPlan): string {
  if (p.kind === 'delay') return `+${p.ms} ms`;
  if (p.kind === 'signal') return p.what;
  return `after ${p.n} ${p.what ?? 'events'}`;
}
