/**
 * rotate-key: replaces exactly the detected IAM access key with a new one, with no outage: the
 * new key is created, proven to work, delivered to the agent's KV path with check-and-set, proven
 * again from there, adopted, and only then is the old key deactivated and, `afterDays` later,
 * deleted. The steps are src/rotation/aws-key.rotator.ts; this file gates the start (the key is
 * there and Active) like any action.
 */
import type { ActionType } from './action-type.js';
import { accessKeyTarget, inspectKey, keyStatus, missingKey } from './aws-support.js';
import { notOneCall, type RotateParams, RotateParamsSchema } from './rotate-support.js';

export const rotateKey: ActionType<RotateParams> = {
  name: 'rotate-key',
  description: 'Replace the detected IAM access key with a new one delivered to the agent, then retire the old one.',
  docs:
    "Rotates exactly the access key detection recorded, in seven resumable steps: prepare (IAM's two-key limit: " +
    'a second key is deleted only when it is Inactive and credwarden made it, or `secondKey: inactive` allows any ' +
    'Inactive one; an Active second key stops the rotation), create (the secret is held in memory only), deliver ' +
    "(the new key is proven with sts:GetCallerIdentity, then written to the agent's `delivery` KV v2 path with " +
    'check-and-set, so the path never holds a key that does not work and a concurrent writer is detected, never ' +
    'overwritten), verify (the delivered version is read back and proven), adopt (waits until the agent uses the ' +
    "new key and the old key's last use stops moving, or `graceHours`), deactivate (the old key goes Inactive), " +
    'delete (after `afterDays`, if it is still Inactive). A worker killed at any point leaves a rotation the next ' +
    'one finishes: a new key whose secret died with its worker is deactivated and deleted, and created again. An ' +
    'agent with no `delivery` in the registry is never rotated. `actions rollback` before the delete re-activates ' +
    "the old key, writes it back to KV over credwarden's own version, proves it works and retires the new key.",
  example: `policies:
  - name: agent-key-older-than-90d
    description: Agent access keys older than 90 days are rotated
    resource: { kinds: [aws-access-key], agents: ["*"] }
    rules: [{ type: rotation-overdue, days: 90 }]
    severity: medium
    mode: enforce
    remediation:
      - action: rotate-key
        graceHours: 24
        afterDays: 7
`,
  schema: RotateParamsSchema,
  kinds: ['aws-access-key'],
  reversible: true,
  rotation: 'aws-key',
  permissions: {
    aws: [
      'iam:ListAccessKeys',
      'iam:CreateAccessKey',
      'iam:UpdateAccessKey',
      'iam:DeleteAccessKey',
      'iam:GetAccessKeyLastUsed',
    ],
    vault: ['<delivery mount>/data/<delivery path>: read, create, update (KV v2, on the delivery cluster)'],
  },

  plan: (cred) => accessKeyTarget(cred),

  inspect: inspectKey,

  // A rotation is never "already done" by the key's state: it replaces the key.
  isDone: () => false,

  refuse(plan, state) {
    if (!state.exists) return `${missingKey(plan)}; nothing was changed`;
    const status = keyStatus(state.facts);
    if (status !== 'Active')
      return `the key is ${status ?? 'in an unknown state'}: only an Active key (one an agent may be using) is rotated`;
    return null;
  },

  execute: notOneCall,

  verify: () => false,
};
