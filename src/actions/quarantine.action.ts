/**
 * quarantine: puts one inline policy, `credwarden-quarantine`, on the principal behind the
 * credential (the user of an access key or console password, or the role): Deny * on *, plus the
 * AWSRevokeOlderSessions-style Deny of sessions issued before the plan's time. Nothing is deleted
 * and nothing else on the principal changes; rollback deletes exactly that inline policy.
 *
 * The document is a pure function of the plan (`plan.plannedAt` as the cut-off), so a retried job
 * writes the identical document and finds it already done. An inline policy of that name with any
 * other document is someone else's (or another plan's): refused, never overwritten.
 *
 * States (facts: `{ policyDocument }`, the decoded JSON text, or null): ours → already done;
 * none → PutUserPolicy/PutRolePolicy; another document → refused. When there is none, the
 * principal's attached-policy list tells whether the principal itself still exists.
 */
import { z } from 'zod';
import { CwError, ErrorCodes } from '../errors.js';
import type { ActionPlan, TargetState } from '../model/action.js';
import type { ActionType } from './action-type.js';
import { accountOf, describePrincipal, jsonEqual, parseJson, principalOf, principalTarget } from './aws-support.js';

const schema = z.strictObject({});

export const QUARANTINE_POLICY = 'credwarden-quarantine';
const KINDS = ['aws-access-key', 'aws-role', 'aws-console-password'] as const;

/** The quarantine document for this plan (deterministic: the same plan always gives the same text). */
export function quarantineDocument(plan: ActionPlan): Record<string, unknown> {
  return {
    Version: '2012-10-17',
    Statement: [
      { Sid: 'CredwardenQuarantineDenyAll', Effect: 'Deny', Action: '*', Resource: '*' },
      {
        Sid: 'CredwardenRevokeOlderSessions',
        Effect: 'Deny',
        Action: '*',
        Resource: '*',
        Condition: { DateLessThan: { 'aws:TokenIssueTime': plan.plannedAt } },
      },
    ],
  };
}

const docOf = (state: TargetState): string | null =>
  typeof state.facts.policyDocument === 'string' ? state.facts.policyDocument : null;
const isOurs = (plan: ActionPlan, state: TargetState): boolean =>
  state.exists && jsonEqual(parseJson(docOf(state)), quarantineDocument(plan));

export const quarantine: ActionType<z.infer<typeof schema>> = {
  name: 'quarantine',
  description: 'Deny everything to the IAM user or role behind the credential with one inline policy (reversible).',
  docs:
    `Puts one inline policy named ${QUARANTINE_POLICY} on the IAM user (for an access key or console ` +
    'password) or role behind the credential, with two Deny statements: everything on every resource, ' +
    "and everything for sessions issued before the plan was made (aws:TokenIssueTime, as the console's " +
    '"Revoke active sessions" / AWSRevokeOlderSessions does), so credentials already handed out stop ' +
    'working too. It quarantines the whole principal: every key and session of that user or role. It ' +
    'deletes nothing and never overwrites an inline policy of that name that is not exactly its own ' +
    '(refused). A retry writes the identical document and is recorded as already done. Rollback ' +
    'deletes exactly that inline policy; it is refused when the policy was removed or changed since. ' +
    'AWS takes a few minutes to propagate a policy change, and cached or long sessions may act until ' +
    'then. The moto emulator the tests use stores the policy but does not enforce deny policies, so ' +
    'the tests check the document, not the effect.',
  example: `policies:
  - name: agent-admin-quarantine
    description: An agent credential that can do anything is quarantined until people look at it
    resource: { kinds: [aws-access-key, aws-role], agents: ["*", unregistered] }
    rules: [{ type: aws-admin }]
    severity: critical
    mode: enforce
    remediation: [quarantine]
`,
  schema,
  kinds: KINDS,
  reversible: true,
  permissions: {
    aws: [
      'iam:GetUserPolicy',
      'iam:GetRolePolicy',
      'iam:ListAttachedUserPolicies',
      'iam:ListAttachedRolePolicies',
      'iam:PutUserPolicy',
      'iam:PutRolePolicy',
      'iam:DeleteUserPolicy',
      'iam:DeleteRolePolicy',
    ],
    vault: [],
  },

  plan: (cred) => principalTarget(cred, KINDS),

  async inspect(plan, ports) {
    const account = accountOf(plan);
    const principal = principalOf(plan);
    const doc = await ports.aws.getInlinePolicy(account, principal, QUARANTINE_POLICY);
    if (doc !== null) return { exists: true, facts: { policyDocument: doc } };
    // IAM answers NoSuchEntity both for "no such policy" and "no such user/role": ask which.
    const attached = await ports.aws.listAttachedPolicies(account, principal);
    return attached === null ? { exists: false, facts: {} } : { exists: true, facts: { policyDocument: null } };
  },

  isDone: isOurs,

  refuse(plan, state) {
    const who = describePrincipal(principalOf(plan));
    if (!state.exists) return `${who} no longer exists in account ${accountOf(plan)}`;
    if (docOf(state) !== null && !isOurs(plan, state))
      return `${who} already has an inline policy named ${QUARANTINE_POLICY} with a different document (someone else's, or another plan's); credwarden does not overwrite it`;
    return null;
  },

  async execute(plan, ports) {
    const doc = JSON.stringify(quarantineDocument(plan));
    await ports.aws.putInlinePolicy(accountOf(plan), principalOf(plan), QUARANTINE_POLICY, doc);
  },

  verify: isOurs,

  // What credwarden put is taken away, whatever preState says: a retried job may have recorded
  // its own first attempt's policy as the pre-state.
  async rollback(plan, ports, _preState, current) {
    if (docOf(current) === null) return;
    if (!isOurs(plan, current))
      throw new CwError(
        ErrorCodes.GUARDRAIL,
        `not rolled back: the ${QUARANTINE_POLICY} policy on ${describePrincipal(principalOf(plan))} is not the one credwarden put`,
      );
    await ports.aws.deleteInlinePolicy(accountOf(plan), principalOf(plan), QUARANTINE_POLICY);
  },

  changedSince(plan, _postState, current) {
    const who = describePrincipal(principalOf(plan));
    if (!current.exists) return `${who} no longer exists: it was deleted after credwarden quarantined it`;
    if (docOf(current) === null) return `the ${QUARANTINE_POLICY} policy on ${who} was removed after credwarden put it`;
    if (!isOurs(plan, current)) return `the ${QUARANTINE_POLICY} policy on ${who} was changed after credwarden put it`;
    return null;
  },

  isRolledBack: (_plan, _preState, current) => current.exists && docOf(current) === null,
};
