/**
 * The action-type registry: one registration line per action type (action-type.ts has the
 * contract). An unknown name is an error that lists the valid ones.
 *
 * `rotate-key` is accepted in policies already (the shipped CIS pack asks for it) but is not an
 * action type yet: rotation arrives with its own state machine. The planner records such plans
 * as denied with reason `not-available`, so a policy that asks for it is visible, never silent.
 */
import { z } from 'zod';
import type { ActionType } from './action-type.js';
import { deactivateKey } from './deactivate-key.action.js';
import { deleteKey } from './delete-key.action.js';
import { deleteLoginProfile } from './delete-login-profile.action.js';
import { destroySecretId } from './destroy-secret-id.action.js';
import { detachPolicy } from './detach-policy.action.js';
import { notifyOwner } from './notify-owner.action.js';
import { quarantine } from './quarantine.action.js';
import { revokeLease } from './revoke-lease.action.js';
import { revokeToken } from './revoke-token.action.js';

// biome-ignore lint/suspicious/noExplicitAny: each action type has its own parameter type
const REGISTRY: readonly ActionType<any>[] = [
  deactivateKey,
  deleteKey,
  deleteLoginProfile,
  quarantine,
  detachPolicy,
  revokeToken,
  destroySecretId,
  revokeLease,
  notifyOwner,
];

/** Accepted in policies, not yet executable (see the header). */
export const NOT_YET_AVAILABLE: ReadonlyMap<string, { schema: z.ZodType<Record<string, unknown>>; reason: string }> =
  new Map([
    [
      'rotate-key',
      {
        schema: z.strictObject({}),
        reason: 'rotate-key is not available in this release (rotation arrives with its own state machine)',
      },
    ],
  ]);

export function actionTypes(): readonly ActionType[] {
  return REGISTRY;
}

export function getActionType(name: string): ActionType | undefined {
  return REGISTRY.find((a) => a.name === name);
}

export function actionNames(): string[] {
  return [...REGISTRY.map((a) => a.name), ...NOT_YET_AVAILABLE.keys()];
}
