/**
 * aws-data-read-unconstrained: the credential can read secrets or data with no resource constraint
 * (Cloudsplaining's DataExfiltration, widened to a curated list: src/privilege/data-access.ts).
 * Secrets: secretsmanager:GetSecretValue, ssm:GetParameter*, kms:Decrypt, acm:ExportCertificate,
 * glue:GetConnection(s). Data: s3:GetObject(Version), dynamodb reads, sqs:ReceiveMessage,
 * kinesis:GetRecords, logs reads, athena:GetQueryResults, ebs:GetSnapshotBlock, codecommit:GitPull.
 * "No resource constraint" is Resource "*" or an ARN pattern that matches every resource of the
 * action's type (`arn:aws:secretsmanager:*:*:secret:*`).
 *
 * Contract: through the shared AwsPrivilegeAnalyzer (ctx.services.privilege), over the effective
 * set (after explicit Deny, inside the boundary). Time-free. Grants only; one hit per category and
 * confidence tier (key = `<category>:<tier>`); secrets high, data medium when confirmed, one step
 * lower otherwise.
 */
import { z } from 'zod';
import { DATA_CATEGORIES } from '../../privilege/data-access.js';
import { AWS_GRANT_KINDS, minConfidence, toHits } from '../../privilege/rule-support.js';
import { privilege } from '../privilege-rules.js';
import type { RuleType } from '../types.js';

const schema = z.strictObject({
  /** Which kinds of read to report; both by default. */
  categories: z
    .array(z.enum(DATA_CATEGORIES as ['secrets', 'data']))
    .min(1)
    .default([...DATA_CATEGORIES]),
  /** confirmed (default): only unconstrained grants; potential adds ARN-scoped ones, conditional Condition-gated ones. */
  minConfidence: minConfidence('confirmed'),
});

export const awsDataReadUnconstrained: RuleType<z.infer<typeof schema>> = {
  name: 'aws-data-read-unconstrained',
  category: 'privilege',
  description:
    'Reads of secrets (secretsmanager:GetSecretValue, ssm:GetParameter*, kms:Decrypt, acm:ExportCertificate, ' +
    'glue:GetConnection) or data (s3:GetObject, dynamodb reads, sqs:ReceiveMessage, kinesis:GetRecords, logs, ' +
    'athena, ebs:GetSnapshotBlock, codecommit:GitPull) allowed on every resource: Resource "*" or a type-wide ' +
    'ARN pattern, no Condition. A curated list (Cloudsplaining DataExfiltration), not every Read action. Secrets ' +
    'are high, data medium. categories (secrets, data) narrows it; minConfidence: potential adds ARN-scoped grants.',
  example: `policies:
  - name: agent-data-read-unconstrained
    description: Agent credentials that can read any secret or any object
    resource: { kinds: [aws-access-key, aws-role, vault-aws-role] }
    rules:
      - type: aws-data-read-unconstrained
        categories: [secrets, data]
    severity: medium
    mode: observe
`,
  schema,
  needs: ['grants'],
  kinds: AWS_GRANT_KINDS,
  evaluate(cred, params, ctx) {
    const results = privilege(ctx)
      .aws.dataRead(cred)
      .filter((r) => params.categories.some((c) => r.key?.startsWith(`${c}:`)));
    return toHits(results, params.minConfidence);
  },
};
