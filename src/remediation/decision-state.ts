/**
 * How a guardrail decision becomes an action record's state (pure): the state a fresh decision
 * puts a record in (stateFor: approval alone holds → awaiting-approval), whether a new decision is
 * the same as the recorded one (sameDecision: same verdict for the same reasons, so nothing is
 * audited again), and what queuing resets (queuedPatch: a new attempt).
 */
import type { ActionRecord, ActionState, GuardDecision } from '../model/action.js';

/** Queuing starts a new attempt: its events are keyed by the attempt, and no pre-state of an earlier one carries over. */
export const queuedPatch = (existing: ActionRecord | null) => ({
  attempt: (existing?.attempt ?? 0) + 1,
  preState: null,
});

/** The state a fresh decision puts a record in. Approval alone holds → awaiting-approval. */
export function stateFor(d: GuardDecision): ActionState {
  switch (d.decision) {
    case 'allow':
      return 'queued';
    case 'deny':
      return 'denied';
    case 'dry-run':
      return 'dry-run';
    case 'hold': {
      const holds = d.reasons.filter((r) => HOLD_CODES.has(r.code));
      return holds.length > 0 && holds.every((r) => r.code === 'approval-required') ? 'awaiting-approval' : 'held';
    }
  }
}

const HOLD_CODES = new Set([
  'not-yet',
  'paused',
  'breaker-open',
  'window-closed',
  'freeze',
  'cooldown',
  'approval-required',
  'cap-exceeded',
  'rate-limited',
  'rotation-in-progress',
]);

const reasonCodes = (d: GuardDecision | null | undefined) =>
  (d?.reasons ?? [])
    .map((r) => `${r.guard}/${r.code}`)
    .sort()
    .join(',');
export const sameDecision = (a: GuardDecision | null | undefined, b: GuardDecision) =>
  a?.decision === b.decision && reasonCodes(a) === reasonCodes(b);
