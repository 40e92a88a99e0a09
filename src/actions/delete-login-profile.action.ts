/**
 * delete-login-profile: removes the console password of exactly the user detection recorded
 * (DeleteLoginProfile). The user, its keys and its policies stay. Not reversible: IAM never
 * returns a password, so credwarden cannot put the old one back.
 *
 * States (facts: `{ createDate }` of the login profile): no login profile (or no such user) →
 * already done; a login profile → DeleteLoginProfile, then read back (gone).
 */
import { z } from 'zod';
import type { ActionType } from './action-type.js';
import { accountOf, principalOf, principalTarget } from './aws-support.js';

const schema = z.strictObject({});

export const deleteLoginProfile: ActionType<z.infer<typeof schema>> = {
  name: 'delete-login-profile',
  description: "Remove the detected IAM user's console password (not reversible).",
  docs:
    'Calls DeleteLoginProfile for exactly the IAM user whose console password detection recorded, ' +
    'after GetLoginProfile confirms it still has one. The user, its access keys, MFA devices and ' +
    'policies are left alone. A user with no login profile is recorded as already done. This cannot ' +
    'be undone: AWS never reveals a password, so credwarden cannot restore it; to give the user ' +
    'console access again, someone sets a new password (CreateLoginProfile) and hands it over.',
  example: `policies:
  - name: agent-console-password
    description: Agents are programs and have no business with a console password
    resource: { kinds: [aws-console-password], agents: ["*"] }
    rules: [{ type: aws-console-without-mfa }]
    severity: high
    mode: enforce
    remediation: [delete-login-profile]
`,
  schema,
  kinds: ['aws-console-password'],
  reversible: false,
  permissions: { aws: ['iam:GetLoginProfile', 'iam:DeleteLoginProfile'], vault: [] },

  plan: (cred) => principalTarget(cred, ['aws-console-password']),

  async inspect(plan, ports) {
    const p = await ports.aws.getLoginProfile(accountOf(plan), principalOf(plan).name);
    return p ? { exists: true, facts: { createDate: p.createDate } } : { exists: false, facts: {} };
  },

  isDone: (_plan, state) => !state.exists,

  refuse: () => null,

  async execute(plan, ports) {
    await ports.aws.deleteLoginProfile(accountOf(plan), principalOf(plan).name);
  },

  verify: (_plan, state) => !state.exists,
};
