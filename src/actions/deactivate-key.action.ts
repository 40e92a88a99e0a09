/**
 * deactivate-key: sets exactly one IAM access key Inactive (UpdateAccessKey with the user name and
 * the key id detection recorded). Never "the user's keys": a user's other key is not read, not
 * matched, not touched (Cloud Custodian remove-keys #842/#5583/#6732 are the failure it rules out).
 *
 * States (facts: `{ status, createDate }` of that key as ListAccessKeys(user) reports it):
 * - key absent under that user (deleted, or the record names the wrong user): exists=false, refused;
 * - Inactive: already done, no call;
 * - Active: UpdateAccessKey(…, Inactive), then read back.
 * Rollback sets it Active again (its pre-state), unless someone changed it since.
 */
import { z } from 'zod';
import { CwError, ErrorCodes } from '../errors.js';
import type { ActionType } from './action-type.js';
import { accessKeyTarget, inspectKey, keyOf, keyStatus, missingKey } from './aws-support.js';

const schema = z.strictObject({});

export const deactivateKey: ActionType<z.infer<typeof schema>> = {
  name: 'deactivate-key',
  description: 'Set exactly the detected IAM access key Inactive (reversible).',
  docs:
    'Calls UpdateAccessKey with Status=Inactive on exactly the access key detection recorded, ' +
    "naming its user, after reading that user's keys (ListAccessKeys) to confirm the key is still " +
    "there and still Active. It never acts on a user's other keys, and never on a key it cannot find " +
    'under the recorded user (the plan is cancelled). A key that is already Inactive is recorded as ' +
    'already done, without a second call. Deactivation keeps the secret: rolling back sets the key ' +
    'Active again, and the application that held it works again. Rollback is refused when the key ' +
    'changed after credwarden acted (deleted, or re-activated by someone). Pair it with delete-key ' +
    'to remove keys that stayed unneeded for a while after deactivation.',
  example: `policies:
  - name: agent-key-unused-90d
    description: Agent access keys unused for 90 days are deactivated
    resource: { kinds: [aws-access-key], agents: ["*"] }
    rules: [{ type: unused-for, days: 90 }]
    severity: medium
    mode: enforce
    remediation: [deactivate-key]
`,
  schema,
  kinds: ['aws-access-key'],
  reversible: true,
  permissions: { aws: ['iam:ListAccessKeys', 'iam:UpdateAccessKey'], vault: [] },

  plan: (cred) => accessKeyTarget(cred),

  inspect: inspectKey,

  isDone: (_plan, state) => state.exists && keyStatus(state.facts) === 'Inactive',

  refuse(plan, state) {
    if (!state.exists) return `${missingKey(plan)}; nothing was changed`;
    if (keyStatus(state.facts) === null) return `the key's status is unknown (${String(state.facts.status)})`;
    return null;
  },

  async execute(plan, ports) {
    const { account, userName, accessKeyId } = keyOf(plan);
    await ports.aws.updateAccessKey(account, userName, accessKeyId, 'Inactive');
  },

  verify: (_plan, state) => state.exists && keyStatus(state.facts) === 'Inactive',

  // Back to Active, whatever preState says: a retried job may have recorded its own first
  // attempt's Inactive as the pre-state.
  async rollback(plan, ports, _preState, current) {
    const { account, userName, accessKeyId } = keyOf(plan);
    if (!current.exists) throw new CwError(ErrorCodes.AWS, `cannot roll back: ${missingKey(plan)}`);
    if (keyStatus(current.facts) !== 'Active')
      await ports.aws.updateAccessKey(account, userName, accessKeyId, 'Active');
  },

  changedSince(plan, _postState, current) {
    if (!current.exists) return `${missingKey(plan)}: it went away after credwarden deactivated it`;
    const status = keyStatus(current.facts);
    if (status !== 'Inactive')
      return `access key ${keyOf(plan).accessKeyId} is ${status ?? 'in an unknown state'} now: someone changed it after credwarden deactivated it`;
    return null;
  },

  isRolledBack: (_plan, _preState, current) => current.exists && keyStatus(current.facts) === 'Active',
};
