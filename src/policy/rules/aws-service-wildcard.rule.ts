/**
 * aws-service-wildcard: an Allow statement grants every action of a service (`s3:*`) or of every
 * service (`*`). One hit per statement; conditional statements are reported with confidence
 * conditional and severity low unless minConfidence filters them out. Read against the effective
 * set: a wildcard that an explicit Deny or the permissions boundary takes away entirely (`Allow
 * iam:*` + `Deny iam:*`) is no hit; one they cut down in part is "potential", low, with the counts.
 *
 * Contract: through the shared AwsPrivilegeAnalyzer (ctx.services.privilege), which evaluates each
 * distinct grant list once. Time-free. Grants only; one hit per statement (key = statement key);
 * medium, low when conditional or cut down.
 */
import { z } from 'zod';
import { AWS_GRANT_KINDS, minConfidence, toHits } from '../../privilege/rule-support.js';
import { privilege } from '../privilege-rules.js';
import type { RuleType } from '../types.js';

const schema = z.strictObject({ minConfidence: minConfidence('conditional') });

export const awsServiceWildcard: RuleType<z.infer<typeof schema>> = {
  name: 'aws-service-wildcard',
  category: 'privilege',
  description:
    'An Allow statement uses a service wildcard (service:* or *), granting actions the agent cannot have ' +
    'been reviewed for, including ones AWS adds later. One hit per statement (Security Hub IAM.21), judged on ' +
    'the effective set: none when an explicit Deny or the boundary removes the whole wildcard, potential (low) ' +
    'when they remove part of it. minConfidence: confirmed skips Condition-gated and cut-down statements.',
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
