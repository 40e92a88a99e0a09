/**
 * aws-resource-exposure: "Permissions management" actions (access level from the catalog) allowed
 * on Resource "*" with no Condition: the credential can change who has access to resources it does
 * not own (Cloudsplaining's ResourceExposure). Always confirmed; no parameters.
 *
 * Contract: through the shared AwsPrivilegeAnalyzer (ctx.services.privilege), which evaluates each
 * distinct grant list once. Time-free. Grants only; at most one hit (no key), severity high,
 * listing the actions and their statements.
 */

import { AWS_GRANT_KINDS } from '../../privilege/rule-support.js';
import { detectorRule } from '../privilege-rules.js';

export const awsResourceExposure = detectorRule({
  name: 'aws-resource-exposure',
  description:
    'Permissions-management actions (iam:PutRolePolicy, s3:PutBucketPolicy, kms:CreateGrant, …) allowed on ' +
    'Resource "*" with no Condition: the credential can change who may access resources. Lists the actions ' +
    'and the statements granting them.',
  example: `policies:
  - name: agent-resource-exposure
    description: Agent credentials that can rewrite access to any resource
    resource: { kinds: [aws-access-key, aws-role] }
    rules:
      - type: aws-resource-exposure
    severity: high
    mode: observe
`,
  kinds: AWS_GRANT_KINDS,
  detect: (p, cred) => p.aws.resourceExposure(cred),
});
