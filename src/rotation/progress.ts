/**
 * How a rotation's progress moves after one step (pure): `next` records the step as done and
 * moves to the following one (or `complete`), `back` returns to an earlier step, `wait` keeps the
 * step with the time it runs again, `stop` records why the rotation ended.
 */
import type { RotationProgress, RotationStep } from '../model/rotation.js';
import type { StepOutcome } from './rotator.js';

export function advance(
  progress: RotationProgress,
  steps: readonly RotationStep[],
  step: RotationStep,
  outcome: StepOutcome,
  at: string,
): RotationProgress {
  switch (outcome.kind) {
    case 'next':
      return {
        ...progress,
        ...outcome.patch,
        done: [...progress.done, { step, at, detail: outcome.detail }],
        step: steps[steps.indexOf(step) + 1] ?? 'complete',
        nextAt: undefined,
      };
    case 'back':
      return { ...progress, ...outcome.patch, step: outcome.to, nextAt: undefined };
    case 'wait':
      return { ...progress, ...outcome.patch, nextAt: outcome.until.toISOString(), waiting: outcome.detail };
    case 'stop':
      return { ...progress, ...outcome.patch, stopped: outcome.detail };
  }
}
