/**
 * What the rotate-* action types share: their parameters, the delivery they need, and the
 * guard that they never run as one call (the rotation runner drives them step by step,
 * remediation/rotation-runner.ts; the steps are in src/rotation/).
 */
import { z } from 'zod';
import { CwError, ErrorCodes } from '../errors.js';
import type { ActionPlan } from '../model/action.js';

/** The parameters every rotate-* action takes (policy YAML). */
export const RotateParamsSchema = z.strictObject({
  /** How long to wait for the agent to adopt the new credential before retiring the old one anyway. */
  graceHours: z
    .number()
    .min(0)
    .max(24 * 90)
    .default(24),
  /** How often adoption is checked while waiting. */
  pollMinutes: z
    .number()
    .min(0)
    .max(24 * 60)
    .default(15),
  /** rotate-key: days between deactivating the old key and deleting it (it can be re-activated until then). */
  afterDays: z.number().min(0).max(365).default(7),
  /**
   * rotate-key, when the user already has a second key: `credwarden-only` (default) deletes it
   * only when it is Inactive and credwarden made it; `inactive` deletes any Inactive second key.
   * An Active second key always stops the rotation.
   */
  secondKey: z.enum(['credwarden-only', 'inactive']).default('credwarden-only'),
  /** How long a new credential may take to start working (IAM is eventually consistent). */
  verifyTimeoutSeconds: z.number().min(0).max(600).default(60),
});
export type RotateParams = z.infer<typeof RotateParamsSchema>;

/** Rotations run step by step; a one-call execute reaching one is a wiring error. */
export async function notOneCall(plan: ActionPlan): Promise<never> {
  throw new CwError(
    ErrorCodes.INTERNAL,
    `${plan.action} (${plan.id}) is a rotation: it runs step by step through the rotation runner, never as one call`,
  );
}
