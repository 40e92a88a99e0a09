/**
 * Admin-equivalence (detector "admin"): an Allow of `*` on `*` that the effective set still holds
 * (aws-star.ts: a permissions boundary that holds it back makes it "boundary-held-admin" instead),
 * or PMapper's admin test — the principal can grant itself anything:
 *  - a user: iam:PutUserPolicy / iam:AttachUserPolicy on its own ARN, or
 *    iam:PutGroupPolicy / iam:AttachGroupPolicy on one of its groups;
 *  - a role: iam:PutRolePolicy / iam:AttachRolePolicy on its own ARN;
 *  - iam:CreatePolicyVersion on a customer-managed policy attached to it (directly or via a group);
 *  - iam:CreateRole + (iam:AttachRolePolicy | iam:PutRolePolicy).
 * Every test reads the effective set (after explicit Deny, inside the boundary). Resource checks
 * use the credential's principal ARN, so this is per credential, not per grant list. A permissions
 * boundary also caps what a self-written policy can grant, so with one (and no way to remove or
 * replace it) the self-modification results drop to "potential".
 */
import type { Credential } from '../model/credential.js';
import type { Evidence } from '../model/finding.js';
import type { AwsPermissionSet, ResourceAccess } from './aws-effective.js';
import { boundaryEscape, type Principal, parsePrincipal, principalVariables } from './aws-principal.js';
import { starBehindLiftableBoundary, starOnStarAdmin } from './aws-star.js';
import { statementEvidence } from './statement.js';
import { type Confidence, type DetectorResult, weakest } from './types.js';

export { parsePrincipal } from './aws-principal.js';

const evidenceOf = (a: ResourceAccess, note: string): Evidence[] => a.sources.map((s) => statementEvidence(s, note));

function result(
  key: string,
  message: string,
  actions: string[],
  confidence: Confidence,
  evidence: Evidence[],
): DetectorResult {
  return {
    detector: 'admin',
    severity: confidence === 'confirmed' ? 'critical' : 'high',
    confidence,
    key,
    message,
    actions,
    evidence,
  };
}

function customerManagedArns(cred: Credential): string[] {
  const arns = new Set<string>();
  for (const g of cred.grants) {
    const p = g.provenance;
    if (
      (p.attachment === 'managed' || p.attachment === 'group-managed') &&
      p.policyArn &&
      !/:iam::aws:policy\//.test(p.policyArn)
    )
      arns.add(p.policyArn);
  }
  return [...arns].sort();
}

function groupNames(cred: Credential): string[] {
  const names = new Set<string>();
  const attr = cred.attributes.groups;
  if (Array.isArray(attr)) for (const g of attr) if (typeof g === 'string') names.add(g);
  for (const g of cred.grants) if (g.provenance.via) names.add(g.provenance.via);
  return [...names].sort();
}

function selfModification(set: AwsPermissionSet, cred: Credential, p: Principal): DetectorResult[] {
  const out: DetectorResult[] = [];
  const vars = principalVariables(p);
  const T = p.type === 'user' ? 'User' : 'Role';
  const capped = set.hasBoundary && !boundaryEscape(set, p);
  const cap = (c: Confidence): Confidence => (capped && c === 'confirmed' ? 'potential' : c);
  const boundaryNote = capped ? '; a permissions boundary caps what it can grant itself' : '';
  for (const verb of ['Put', 'Attach']) {
    const action = `iam:${verb}${T}Policy`;
    const a = set.allowsOn(action, p.arn, vars);
    if (a)
      out.push(
        result(
          `self-${verb.toLowerCase()}-${p.type}-policy`,
          `can ${verb.toLowerCase()} a policy on itself (${action} on its own ARN)${boundaryNote}`,
          [action],
          cap(a.confidence),
          evidenceOf(a, `${action} on ${p.arn}`),
        ),
      );
  }
  for (const arn of customerManagedArns(cred)) {
    const a = set.allowsOn('iam:CreatePolicyVersion', arn, vars);
    if (a)
      out.push(
        result(
          `create-policy-version:${arn}`,
          `can rewrite its own attached policy ${arn} (iam:CreatePolicyVersion)${boundaryNote}`,
          ['iam:CreatePolicyVersion'],
          cap(a.confidence),
          evidenceOf(a, `iam:CreatePolicyVersion on ${arn}`),
        ),
      );
  }
  if (p.type === 'user')
    for (const group of groupNames(cred)) {
      // The group's path is not recorded; IAM group ARNs without a path are the common case.
      const arn = `arn:${p.partition}:iam::${p.account}:group/${group}`;
      for (const verb of ['Put', 'Attach']) {
        const action = `iam:${verb}GroupPolicy`;
        const a = set.allowsOn(action, arn, vars);
        if (a)
          out.push(
            result(
              `group-${verb.toLowerCase()}-policy:${group}`,
              `can ${verb.toLowerCase()} a policy on its own group ${group} (${action})${boundaryNote}`,
              [action],
              cap(a.confidence),
              evidenceOf(a, `${action} on ${arn}`),
            ),
          );
      }
    }
  return out;
}

function createRoleAndAttach(set: AwsPermissionSet): DetectorResult[] {
  const create = set.get('iam:CreateRole');
  if (!create || create.boundaryBlocked) return [];
  const out: DetectorResult[] = [];
  for (const a of ['iam:AttachRolePolicy', 'iam:PutRolePolicy']) {
    const ea = set.get(a);
    if (!ea || ea.boundaryBlocked) continue;
    const confidence = weakest([create.confidence, ea.confidence]);
    const evidence = [...create.sources, ...ea.sources].map((s) => statementEvidence(s));
    out.push(
      result(
        `create-role+${a}`,
        `can create a role and give it any policy (iam:CreateRole + ${a})`,
        ['iam:CreateRole', a],
        confidence,
        evidence,
      ),
    );
  }
  return out;
}

/** Principal-dependent: the `*`-on-`*` and create-role parts are memoised on the set, the rest is cheap. */
export function detectAdmin(set: AwsPermissionSet, cred: Credential): DetectorResult[] {
  const grantOnly = set.memo('admin:grant-only', () => [...starOnStarAdmin(set), ...createRoleAndAttach(set)]);
  const lifted = starBehindLiftableBoundary(set, cred);
  const p = parsePrincipal(cred.principal);
  const self = p && mayModifySelf(set) ? selfModification(set, cred, p) : [];
  return lifted.length || self.length ? [...grantOnly, ...lifted, ...self] : grantOnly;
}

const SELF_ACTIONS = [
  'iam:PutUserPolicy',
  'iam:AttachUserPolicy',
  'iam:PutRolePolicy',
  'iam:AttachRolePolicy',
  'iam:PutGroupPolicy',
  'iam:AttachGroupPolicy',
  'iam:CreatePolicyVersion',
];

/** Most credentials have none of these: skip the per-principal resource checks entirely. */
const mayModifySelf = (set: AwsPermissionSet): boolean =>
  set.memo('admin:may-modify-self', () => SELF_ACTIONS.some((a) => set.has(a)));
