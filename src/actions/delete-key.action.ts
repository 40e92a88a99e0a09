/**
 * delete-key: deletes exactly one IAM access key, and only one that credwarden itself deactivated
 * at least `afterDays` days earlier (the two-step rotation guidance: deactivate, wait, delete).
 * Never on a first pass, never on an Active key, never on a key someone else made Inactive: those
 * are refused with the reason. Not reversible: a deleted key's secret is gone for good.
 *
 * States (facts as deactivate-key reads them): key gone → already done; Inactive and deactivated
 * by credwarden long enough ago → DeleteAccessKey, then read back (gone); anything else → refused.
 */
import { z } from 'zod';
import { DAY_MS } from '../clock.js';
import type { ActionType } from './action-type.js';
import { accessKeyTarget, inspectKey, keyOf, keyStatus } from './aws-support.js';

const schema = z.strictObject({
  /** Days since credwarden's own deactivate-key of this key before it may be deleted. */
  afterDays: z.number().int().min(1).default(7),
});

export type DeleteKeyParams = z.output<typeof schema>;

/** The plan's afterDays, parsed again (a plan records the params the policy gave). */
const afterDaysOf = (params: Record<string, unknown>): number => schema.parse(params).afterDays;

export const deleteKey: ActionType<DeleteKeyParams> = {
  name: 'delete-key',
  description: 'Delete exactly the detected IAM access key, only afterDays after credwarden deactivated it.',
  docs:
    'Calls DeleteAccessKey on exactly the access key detection recorded, naming its user. It acts ' +
    'only on a key that is Inactive now AND that credwarden itself deactivated (deactivate-key) at ' +
    'least `afterDays` days before (default 7). An Active key, a key someone else deactivated, or one ' +
    'deactivated too recently is refused with the reason, so a first pass never deletes anything: ' +
    'list deactivate-key before delete-key and the key is deleted on a later run. A key that is already ' +
    "gone is recorded as already done. It never touches the user's other key. Deletion cannot be " +
    'undone: AWS keeps no copy of the secret, so there is no rollback; the owner must create a new key.',
  example: `policies:
  - name: agent-key-unused-90d
    description: Agent access keys unused for 90 days are deactivated, then deleted a week later
    resource: { kinds: [aws-access-key], agents: ["*"] }
    rules: [{ type: unused-for, days: 90 }]
    severity: medium
    mode: enforce
    remediation: [deactivate-key, { action: delete-key, afterDays: 7 }]
`,
  schema,
  kinds: ['aws-access-key'],
  reversible: false,
  permissions: { aws: ['iam:ListAccessKeys', 'iam:DeleteAccessKey'], vault: [] },

  plan: (cred) => accessKeyTarget(cred),

  inspect: inspectKey,

  isDone: (_plan, state) => !state.exists,

  // Not due until credwarden's own deactivate-key is afterDays old. Before that the plan waits
  // (held, decided again every run), so [deactivate-key, delete-key] deletes on a later pass.
  notYet(plan, ctx) {
    const days = afterDaysOf(plan.params);
    const key = keyOf(plan).accessKeyId;
    const at = ctx.lastDoneBy('deactivate-key');
    if (at === null)
      return `credwarden has not deactivated access key ${key} (deactivate-key): delete-key waits until ${days} days after it does`;
    const since = ctx.now.getTime() - Date.parse(at);
    if (!Number.isFinite(since)) return `access key ${key}: the recorded deactivation time "${at}" is not a time`;
    if (since < days * DAY_MS) {
      const due = new Date(Date.parse(at) + days * DAY_MS).toISOString();
      return `credwarden deactivated access key ${key} at ${at}; delete-key waits ${days} days, until ${due}`;
    }
    return null;
  },

  refuse(plan, state, ctx) {
    if (!state.exists) return null; // isDone: nothing to delete
    const days = afterDaysOf(plan.params);
    const key = keyOf(plan).accessKeyId;
    const status = keyStatus(state.facts);
    if (status !== 'Inactive')
      return `access key ${key} is ${status ?? 'in an unknown state'}: delete-key deletes only a key credwarden deactivated at least ${days} days ago`;
    const at = ctx.lastDoneBy('deactivate-key');
    if (at === null)
      return `access key ${key} is Inactive, but credwarden never deactivated it (someone else did, or this is a first pass): delete-key deletes only ${days} days after credwarden's own deactivate-key`;
    const since = ctx.now.getTime() - Date.parse(at);
    if (!Number.isFinite(since)) return `access key ${key}: the recorded deactivation time "${at}" is not a time`;
    if (since < days * DAY_MS)
      return `access key ${key} was deactivated by credwarden ${Math.floor(since / DAY_MS)} days ago (${at}); delete-key waits ${days} days`;
    return null;
  },

  async execute(plan, ports) {
    const { account, userName, accessKeyId } = keyOf(plan);
    await ports.aws.deleteAccessKey(account, userName, accessKeyId);
  },

  verify: (_plan, state) => !state.exists,
};
