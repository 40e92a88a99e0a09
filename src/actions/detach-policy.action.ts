/**
 * detach-policy: detaches one managed policy from the user or role behind the credential
 * (DetachUserPolicy / DetachRolePolicy). The policy itself, its other attachments and every other
 * policy of the principal stay. Reversible: rollback attaches it again.
 *
 * Which policy: `policyArn` when the remediation entry names one; otherwise the finding's own
 * evidence must point at exactly one managed policy attached directly to the principal
 * (`statement.provenance.attachment === 'managed'`). Several → skipped as ambiguous; one that only
 * comes through a group → skipped (detaching it from the group would change every member); none →
 * skipped. planFor is pure.
 *
 * States (facts: `{ attached }`): not attached → already done; attached → detach, read back; the
 * principal gone (its attached-policy list is NoSuchEntity) → exists=false.
 */
import { z } from 'zod';
import { CwError, ErrorCodes } from '../errors.js';
import type { ActionPlan, TargetState } from '../model/action.js';
import type { Credential, Provenance } from '../model/credential.js';
import type { RuleHit } from '../model/finding.js';
import type { ActionType, PlanOutcome } from './action-type.js';
import { accountOf, describePrincipal, principalOf, principalTarget } from './aws-support.js';

const MANAGED_POLICY_ARN = /^arn:aws[a-z-]*:iam::(\d{12}|aws):policy\/[\w+=,.@/-]+$/;

const schema = z.strictObject({
  /** The managed policy to detach; absent: the one the finding's evidence names. */
  policyArn: z.string().regex(MANAGED_POLICY_ARN, 'must be an IAM managed-policy ARN').optional(),
});

export type DetachPolicyParams = z.output<typeof schema>;

const KINDS = ['aws-access-key', 'aws-role', 'aws-console-password'] as const;

function provenances(hits: readonly RuleHit[]): Provenance[] {
  return hits.flatMap((h) => h.evidence.flatMap((e) => (e.statement?.provenance ? [e.statement.provenance] : [])));
}

const groupSkip = (arns: string[], groups: string[]): string =>
  `${arns.join(', ')} comes through group ${groups.join(', ')}; detaching it from the group would affect every member of the group, so detach-policy leaves it (change the group, or move the principal out of it)`;

/** Which managed policy ARN to detach, from the params or the hits; pure. */
export function choosePolicy(
  cred: Credential,
  params: DetachPolicyParams,
  hits: readonly RuleHit[],
): string | { skip: string } {
  if (params.policyArn) {
    const direct = cred.grants.some(
      (g) => g.provenance.attachment === 'managed' && g.provenance.policyArn === params.policyArn,
    );
    const viaGroup = cred.grants.filter(
      (g) => g.provenance.attachment === 'group-managed' && g.provenance.policyArn === params.policyArn,
    );
    if (!direct && viaGroup.length)
      return { skip: groupSkip([params.policyArn], [...new Set(viaGroup.map((g) => g.provenance.via ?? '?'))].sort()) };
    return params.policyArn;
  }
  const prov = provenances(hits);
  const managed = [
    ...new Set(prov.filter((p) => p.attachment === 'managed' && p.policyArn).map((p) => p.policyArn!)),
  ].sort();
  if (managed.length === 1) return managed[0]!;
  if (managed.length > 1)
    return {
      skip: `ambiguous: ${managed.length} managed policies granted this (${managed.join(', ')}); name one with policyArn`,
    };
  const viaGroup = prov.filter((p) => p.attachment === 'group-managed' && p.policyArn);
  if (viaGroup.length)
    return {
      skip: groupSkip(
        [...new Set(viaGroup.map((p) => p.policyArn!))].sort(),
        [...new Set(viaGroup.map((p) => p.via ?? '?'))].sort(),
      ),
    };
  return {
    skip: 'no managed policy attached directly to the principal granted this (inline policies, boundaries and group grants are not detached)',
  };
}

const attached = (state: TargetState): boolean => state.facts.attached === true;
const arnOf = (plan: ActionPlan): string => {
  const arn = plan.target.identity.policyArn;
  if (!arn) throw new CwError(ErrorCodes.INTERNAL, `plan ${plan.id}: detach-policy target names no policyArn`);
  return arn;
};

export const detachPolicy: ActionType<DetachPolicyParams> = {
  name: 'detach-policy',
  description: 'Detach one managed policy from the IAM user or role behind the credential (reversible).',
  docs:
    'Detaches exactly one managed policy from the IAM user (for an access key or console password) or ' +
    'role behind the credential: the one `policyArn` names, or else the one managed policy, attached ' +
    "directly to that principal, that the finding's evidence shows granted the risk. When the evidence " +
    'names several, the plan is skipped as ambiguous (name one with policyArn); when the policy only ' +
    'comes through a group it is skipped, because detaching it from the group would change every ' +
    'member. The policy itself is not deleted or edited, and other principals keep it. A policy that ' +
    'is no longer attached is recorded as already done. Rollback attaches it again; it is refused when ' +
    'someone re-attached it already or the principal is gone.',
  example: `policies:
  - name: agent-admin-detach
    description: Detach the managed policy that makes an agent role admin
    resource: { kinds: [aws-role], agents: ["*"] }
    rules: [{ type: aws-admin }]
    severity: critical
    mode: enforce
    remediation: [{ action: detach-policy, policyArn: "arn:aws:iam::aws:policy/AdministratorAccess" }]
`,
  schema,
  kinds: KINDS,
  reversible: true,
  permissions: {
    aws: [
      'iam:ListAttachedUserPolicies',
      'iam:ListAttachedRolePolicies',
      'iam:DetachUserPolicy',
      'iam:DetachRolePolicy',
      'iam:AttachUserPolicy',
      'iam:AttachRolePolicy',
    ],
    vault: [],
  },

  plan(cred, params, ctx): PlanOutcome {
    const t = principalTarget(cred, KINDS);
    if ('skip' in t) return t;
    const arn = choosePolicy(cred, params, ctx.hits);
    if (typeof arn !== 'string') return arn;
    return { target: { ...t.target, identity: { ...t.target.identity, policyArn: arn } } };
  },

  async inspect(plan, ports) {
    const list = await ports.aws.listAttachedPolicies(accountOf(plan), principalOf(plan));
    return list === null
      ? { exists: false, facts: {} }
      : { exists: true, facts: { attached: list.includes(arnOf(plan)) } };
  },

  isDone: (_plan, state) => state.exists && !attached(state),

  refuse: (plan, state) =>
    state.exists ? null : `${describePrincipal(principalOf(plan))} no longer exists in account ${accountOf(plan)}`,

  async execute(plan, ports) {
    await ports.aws.detachPolicy(accountOf(plan), principalOf(plan), arnOf(plan));
  },

  verify: (_plan, state) => state.exists && !attached(state),

  async rollback(plan, ports, _preState, current) {
    if (current.exists && !attached(current))
      await ports.aws.attachPolicy(accountOf(plan), principalOf(plan), arnOf(plan));
  },

  changedSince(plan, _postState, current) {
    const who = describePrincipal(principalOf(plan));
    if (!current.exists) return `${who} no longer exists: it was deleted after credwarden detached ${arnOf(plan)}`;
    if (attached(current)) return `${arnOf(plan)} was attached to ${who} again after credwarden detached it`;
    return null;
  },

  isRolledBack: (_plan, _preState, current) => current.exists && attached(current),
};
