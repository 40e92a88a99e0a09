/**
 * The action-type registry: one registration line per action type (action-type.ts has the
 * contract). An unknown name is an error that lists the valid ones.
 *
 * The rotate-* types are rotations (`rotation` set): the rotation runner drives them step by step.
 */
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
import { rotateKey } from './rotate-key.action.js';
import { rotateSecretId } from './rotate-secret-id.action.js';
import { rotateToken } from './rotate-token.action.js';

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
  rotateKey,
  rotateSecretId,
  rotateToken,
];

export function actionTypes(): readonly ActionType[] {
  return REGISTRY;
}

export function getActionType(name: string): ActionType | undefined {
  return REGISTRY.find((a) => a.name === name);
}

export function actionNames(): string[] {
  return REGISTRY.map((a) => a.name);
}
