/**
 * Where the fault harness kills: phases and kill plans, plus the seeded randomness that draws them.
 *
 * A phase is "inside" while any of its BullMQ queues has an active job (`<prefix>:bull:<q>:active`
 * non-empty; credwarden's queues: scan, discover, inventory (the finalize job), evaluate). Its
 * plan() draws the kill point from the control trial's calibration: a delay after the phase was
 * first seen, or a number of new audit events (counted by countEvents, every event by default), so
 * a kill lands mid-write. A phase for remediation is one more PhaseSpec, e.g.
 *   { name: 'remediate', queues: ['remediate'], countEvents: (e) => e.type === 'action.intent',
 *     plan: (rng) => ({ kind: 'events', n: 1 + Math.floor(rng() * 3) }) }
 */
import type { ReplayEvent } from './fault-replay.js';

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

export type KillPlan = { kind: 'delay'; ms: number } | { kind: 'events'; n: number };

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

export const PHASES = {
  discover: { name: 'discover', queues: ['discover'], plan: (rng, cal) => delayPlan(rng, cal, 800) },
  finalize: { name: 'finalize', queues: ['inventory'], plan: writingPhasePlan },
  evaluate: { name: 'evaluate', queues: ['evaluate'], plan: writingPhasePlan },
} satisfies Record<string, PhaseSpec>;

export const DEFAULT_PHASES: PhaseSpec[] = [PHASES.discover, PHASES.finalize, PHASES.evaluate];

export function describePlan(p: KillPlan): string {
  return p.kind === 'delay' ? `+${p.ms} ms` : `after ${p.n} events`;
}
