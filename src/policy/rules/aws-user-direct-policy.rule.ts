/**
 * aws-user-direct-policy: an agent's IAM user has policies attached to it directly (inline or
 * managed) instead of through a group (CIS AWS v3 1.15 / v5 1.14, Security Hub IAM.2, Prowler
 * iam_policy_attached_only_to_group_or_roles). Read from grant provenance: `inline` and `managed`
 * are the user's own, `group-*` came through a group, a boundary only caps.
 *
 * Contract: access-key and console-password records (their grants are their user's), through the
 * shared AwsPrivilegeAnalyzer (results memoised on the permission set). Grants only; time-free.
 * One hit per directly attached policy (key = the managed policy ARN or `inline:<name>`), low,
 * confirmed, with its statements as evidence.
 */
import { USER_CREDENTIAL_KINDS } from '../../privilege/aws-attachment.js';
import { detectorRule } from '../privilege-rules.js';

export const awsUserDirectPolicy = detectorRule({
  name: 'aws-user-direct-policy',
  description:
    'Policies attached directly to an agent user (inline, or a managed policy on the user) rather than through ' +
    'a group (CIS v3 1.15 / v5 1.14, Security Hub IAM.2). One hit per policy, low, with its statements.',
  example: `policies:
  - name: agent-user-direct-policy
    description: Agent users with policies attached to the user instead of a group
    resource: { kinds: [aws-access-key, aws-console-password] }
    rules:
      - type: aws-user-direct-policy
    severity: low
    mode: observe
`,
  category: 'hygiene',
  kinds: USER_CREDENTIAL_KINDS,
  detect: (p, cred) => p.aws.directUserPolicies(cred),
});
