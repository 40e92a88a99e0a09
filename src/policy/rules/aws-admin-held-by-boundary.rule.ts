/**
 * aws-admin-held-by-boundary: an Allow of `*` on `*` (AdministratorAccess, say) that only a
 * permissions boundary holds back. Not administrator today — what is effective is what the
 * boundary lets through, and aws-admin does not fire — but one iam:DeleteRolePermissionsBoundary
 * or a replaced boundary away from it. The latent risk, reported on its own and lower: medium
 * (low under a Condition). When the principal can lift its own boundary, aws-admin reports it as
 * administrator instead, and this rule is silent.
 *
 * Contract: through the shared AwsPrivilegeAnalyzer (ctx.services.privilege). Time-free. Grants
 * and principal (the boundary-escape check uses its ARN); one hit per `*` on `*` statement (key =
 * statement key), listing how many actions are effective, which, and the boundary statements.
 */

import { AWS_GRANT_KINDS } from '../../privilege/rule-support.js';
import { detectorRule } from '../privilege-rules.js';

export const awsAdminHeldByBoundary = detectorRule({
  name: 'aws-admin-held-by-boundary',
  description:
    'An Allow of * on * that only a permissions boundary holds back: not administrator (the effective ' +
    'actions are what the boundary lets through, and aws-admin does not fire), but removing or replacing ' +
    'the boundary makes it one. Medium; low under a Condition. Silent when the principal can lift its own ' +
    'boundary (aws-admin reports that as administrator).',
  example: `policies:
  - name: agent-admin-held-by-boundary
    description: Agent credentials that are administrators but for their permissions boundary
    resource: { kinds: [aws-access-key, aws-role] }
    rules:
      - type: aws-admin-held-by-boundary
    severity: medium
    mode: observe
`,
  kinds: AWS_GRANT_KINDS,
  needs: ['grants', 'principal'],
  detect: (p, cred) => p.aws.boundaryHeldAdmin(cred),
});
