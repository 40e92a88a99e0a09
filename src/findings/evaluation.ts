/**
 * The record of one scan's evaluation: what is stored before it is applied (StoredEvaluation), the
 * summary written when it is applied or held (EvaluationSummary), and the pure builders of both.
 */
import type { HoldVerdict } from './hold.js';
import type { TransitionResult } from './transitions.js';

export interface EvaluationSummary {
  scanId: string;
  evaluatedAt: string;
  asOf: string;
  transitions: Record<string, number>;
  open: Record<string, number>;
  suppressed: number;
  /** Present when the guardrail held this evaluation: nothing of it was applied. */
  held?: { reason: string; open: number; resolvedPresent: number; release: string };
  /** Who released a held evaluation. */
  releasedBy?: string;
}

/** Persisted before anything is applied, so a retry (or a roll-forward) applies the same. */
export interface StoredEvaluation extends TransitionResult {
  at: string;
  hold: HoldVerdict;
}

/** The summary of a held evaluation: nothing applied; why, and how to release it. */
export function heldSummary(scanId: string, stored: StoredEvaluation, now: Date, at: Date): EvaluationSummary {
  return {
    scanId,
    evaluatedAt: now.toISOString(),
    asOf: at.toISOString(),
    transitions: {},
    open: {},
    suppressed: 0,
    held: {
      reason: stored.hold.reason ?? 'held',
      open: stored.hold.open,
      resolvedPresent: stored.hold.resolvedPresent,
      release: `credwarden evaluation release --scan ${scanId} --as <your name>`,
    },
  };
}

export function countBy(values: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) out[v] = (out[v] ?? 0) + 1;
  return out;
}
