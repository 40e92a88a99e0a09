/**
 * aws-credential-exposure: actions that return credentials (Cloudsplaining's
 * ACTIONS_THAT_RETURN_CREDENTIALS: iam:CreateAccessKey, sts:AssumeRole, ecr:GetAuthorizationToken…)
 * are allowed. One hit per confidence tier. The default reports only unconstrained grants (resource
 * * and no Condition), as Cloudsplaining does: an ARN-scoped sts:AssumeRole is how agents normally
 * work, so it is opt-in through minConfidence: potential.
 *
 * Contract: through the shared AwsPrivilegeAnalyzer (ctx.services.privilege), which evaluates each
 * distinct grant list once. Time-free. Grants only; one hit per confidence tier (key = the tier);
 * severity high when confirmed, medium otherwise.
 */
import { z } from 'zod';
import { AWS_GRANT_KINDS, minConfidence, toHits } from '../../privilege/rule-support.js';
import { privilege } from '../privilege-rules.js';
import type { RuleType } from '../types.js';

const schema = z.strictObject({ minConfidence: minConfidence('confirmed') });

export const awsCredentialExposure: RuleType<z.infer<typeof schema>> = {
  name: 'aws-credential-exposure',
  category: 'privilege',
  description:
    'Actions that return credentials (iam:CreateAccessKey, sts:AssumeRole, ecr:GetAuthorizationToken, ' +
    'rds-db:connect, …) are allowed. By default only unconstrained grants (resource * and no Condition); ' +
    'minConfidence: potential adds ARN-scoped ones, conditional adds Condition-gated ones.',
  example: `policies:
  - name: agent-credential-exposure
    description: Agent credentials that can mint or fetch other credentials on any resource
    resource: { kinds: [aws-access-key, aws-role, vault-aws-role] }
    rules:
      - type: aws-credential-exposure
    severity: high
    mode: observe
`,
  schema,
  needs: ['grants'],
  kinds: AWS_GRANT_KINDS,
  evaluate(cred, params, ctx) {
    return toHits(privilege(ctx).aws.credentialExposure(cred), params.minConfidence);
  },
};
