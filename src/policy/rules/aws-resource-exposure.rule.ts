/**
 * aws-resource-exposure: "Permissions management" actions (access level from the catalog) allowed
 * on Resource "*" with no Condition: the credential can change who has access to resources it does
 * not own (Cloudsplaining's ResourceExposure). Always confirmed; no parameters.
 *
 * Contract: through the shared AwsPrivilegeAnalyzer (ctx.services.privilege), which evaluates each
 * distinct grant list once. Time-free. Grants only; at most one hit (no key), severity high,
 * listing the actions and their statements.
 */
import { z } from 'zod';
import { privilege } from '../../privilege/index.js';
import { AWS_GRANT_KINDS, toHits } from '../../privilege/rule-support.js';
import type { RuleType } from '../types.js';

const schema = z.strictObject({});

export const awsResourceExposure: RuleType<z.infer<typeof schema>> = {
  name: 'aws-resource-exposure',
  category: 'privilege',
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
  schema,
  needs: ['grants'],
  kinds: AWS_GRANT_KINDS,
  evaluate(cred, _params, ctx) {
    return toHits(privilege(ctx).aws.resourceExposure(cred));
  },
};
