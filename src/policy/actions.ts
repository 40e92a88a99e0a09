/**
 * Remediation action names a policy may ask for. They are validated at load now; a later issue
 * executes them under guardrails. Each declares its parameters and the kinds it can act on.
 */
import { z } from 'zod';
import type { CredentialKind } from '../model/credential.js';

export interface ActionSpec {
  name: string;
  description: string;
  kinds: readonly CredentialKind[];
  schema: z.ZodType<Record<string, unknown>>;
}

const none = z.strictObject({});

export const ACTIONS: readonly ActionSpec[] = [
  {
    name: 'deactivate-key',
    description: 'set an access key Inactive (reversible)',
    kinds: ['aws-access-key'],
    schema: none,
  },
  {
    name: 'delete-key',
    description: 'delete an access key',
    kinds: ['aws-access-key'],
    schema: z.strictObject({ afterDays: z.number().int().min(0).default(7) }),
  },
  {
    name: 'rotate-key',
    description: 'create a new key, deliver it, verify use, deactivate and delete the old one',
    kinds: ['aws-access-key'],
    schema: none,
  },
  {
    name: 'revoke-token',
    description: 'revoke a Vault token (and its children) by accessor',
    kinds: ['vault-token'],
    schema: none,
  },
  {
    name: 'destroy-secret-id',
    description: 'destroy an AppRole secret ID by accessor',
    kinds: ['vault-approle-secret-id'],
    schema: none,
  },
  { name: 'revoke-lease', description: 'revoke a Vault lease', kinds: ['vault-lease'], schema: none },
  {
    name: 'detach-policy',
    description: 'detach an over-broad managed policy from the principal',
    kinds: ['aws-access-key', 'aws-role'],
    schema: z.strictObject({ policyArn: z.string().optional() }),
  },
  { name: 'notify-owner', description: 'tell the owning team', kinds: [], schema: none },
];

export function actionSpec(name: string): ActionSpec | undefined {
  return ACTIONS.find((a) => a.name === name);
}
