/**
 * aws-service-wildcard: an Allow statement grants every action of a service (`s3:*`) or of every
 * service (`*`). One hit per statement; conditional statements are reported with confidence
 * conditional and severity low unless minConfidence filters them out.
 *
 * Contract: through the shared AwsPrivilegeAnalyzer (ctx.services.privilege), which evaluates each
 * distinct grant list once. Time-free. Grants only; one hit per statement (key = statement key);
 * medium, low when conditional.
 */
import { z } from 'zod';
import { privilege } from '../../privilege/index.js';
import { AWS_GRANT_KINDS, minConfidence, toHits } from '../../privilege/rule-support.js';
import type { RuleType } from '../types.js';

const schema = z.strictObject({ minConfidence: minConfidence('conditional') });

export const awsServiceWildcard: RuleType<z.infer<typeof schema>> = {
  name: 'aws-service-wildcard',
  category: 'privilege',
  description:
    'An Allow statement uses a service wildcard (service:* or *), granting actions the agent cannot have ' +
    'been reviewed for, including ones AWS adds later. One hit per statement (Security Hub IAM.21). ' +
    'minConfidence: confirmed skips Condition-gated statements.',
  example: `policies:
  - name: agent-service-wildcards
    description: Agent policies that grant whole services
    resource: { kinds: [aws-access-key, aws-role, vault-aws-role] }
    rules:
      - type: aws-service-wildcard
        minConfidence: confirmed
    severity: medium
    mode: observe
`,
  schema,
  needs: ['grants'],
  kinds: AWS_GRANT_KINDS,
  evaluate(cred, params, ctx) {
    return toHits(privilege(ctx).aws.serviceWildcards(cred), params.minConfidence);
  },
};
