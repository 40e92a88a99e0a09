/**
 * Policies attached to an agent's IAM user directly rather than through a group (detector
 * "direct-policy"; CIS v3 1.15 / v5 1.14 "permissions only through groups", Security Hub IAM.2,
 * Prowler iam_policy_attached_only_to_group_or_roles). Read from grant provenance: on a user's
 * credential, `inline` and `managed` are the user's own policies; `group-inline` and `group-managed`
 * came through a group, and a boundary only caps. Users only: a role has no groups to use instead.
 * One result per policy (key: the managed policy ARN, or `inline:<name>`), low, like IAM.2.
 */
import type { Credential, CredentialKind } from '../model/credential.js';
import type { AwsPermissionSet } from './aws-effective.js';
import { type StatementRef, statementEvidence } from './statement.js';
import type { DetectorResult } from './types.js';

export const USER_CREDENTIAL_KINDS: readonly CredentialKind[] = ['aws-access-key', 'aws-console-password'];

/** Grant-only (the user is the credential's own principal), so memoised on the shared set. */
export function detectDirectUserPolicies(set: AwsPermissionSet, cred: Credential): DetectorResult[] {
  if (!USER_CREDENTIAL_KINDS.includes(cred.kind)) return [];
  return set.memo('direct-policy', () => {
    const byPolicy = new Map<string, StatementRef[]>();
    for (const ref of set.statements) {
      const p = ref.provenance;
      if (p.attachment !== 'inline' && p.attachment !== 'managed') continue;
      const key = p.attachment === 'managed' ? (p.policyArn ?? `managed:${p.policy}`) : `inline:${p.policy}`;
      byPolicy.set(key, [...(byPolicy.get(key) ?? []), ref]);
    }
    return [...byPolicy.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([key, refs]): DetectorResult => {
        const p = refs[0]!.provenance;
        const what =
          p.attachment === 'managed' ? `managed policy ${p.policyArn ?? p.policy}` : `inline policy ${p.policy}`;
        return {
          detector: 'direct-policy',
          severity: 'low',
          confidence: 'confirmed',
          key,
          message: `the ${what} is attached to the user directly, not through a group (${refs.length} statement${refs.length === 1 ? '' : 's'})`,
          actions: [...new Set(refs.flatMap((r) => set.statementGrant(r).actions ?? []))].sort(),
          evidence: refs.map((r) => statementEvidence(r, 'attached directly to the user')),
        };
      });
  });
}
