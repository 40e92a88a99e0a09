/**
 * aws-role-confused-deputy: an agent role trusts an AWS service principal (`lambda.amazonaws.com`,
 * `events.amazonaws.com`, …) with no `aws:SourceAccount` / `aws:SourceArn` condition (nor
 * `aws:SourceOrgID` / `aws:SourceOrgPaths`): the service can be talked into assuming the role for a
 * resource in someone else's account (the cross-service confused deputy; Prowler
 * iam_role_cross_service_confused_deputy_prevention). Service-linked roles are skipped (their trust
 * policy cannot be changed). ignoreServices drops service principals where it cannot be fixed.
 *
 * Contract: reads attributes.trustPolicy (the decoded AssumeRolePolicyDocument), attributes.path
 * and principal; no analyser state. Time-free. One hit per trust statement (key =
 * `<sid or #n>:<services>`), medium, confirmed.
 */
import { z } from 'zod';
import { toHits } from '../../privilege/rule-support.js';
import { privilege } from '../privilege-rules.js';
import type { RuleType } from '../types.js';

const schema = z.strictObject({
  /** Service principals not to report (globs, e.g. "ec2.amazonaws.com"). */
  ignoreServices: z.array(z.string().min(1)).default([]),
});

export const awsRoleConfusedDeputy: RuleType<z.infer<typeof schema>> = {
  name: 'aws-role-confused-deputy',
  category: 'privilege',
  description:
    'An agent role whose trust policy lets an AWS service principal assume it without an aws:SourceAccount or ' +
    'aws:SourceArn condition (aws:SourceOrgID / aws:SourceOrgPaths also count): the cross-service confused ' +
    'deputy (Prowler iam_role_cross_service_confused_deputy_prevention). Service-linked roles are skipped. ' +
    'Medium; ignoreServices lists service principals (globs) not to report.',
  example: `policies:
  - name: agent-role-confused-deputy
    description: Agent roles a service can be made to assume for someone else
    resource: { kinds: [aws-role] }
    rules:
      - type: aws-role-confused-deputy
        ignoreServices: ["ec2.amazonaws.com"]
    severity: medium
    mode: observe
`,
  schema,
  needs: ['attributes.trustPolicy', 'attributes.path', 'principal'],
  kinds: ['aws-role'],
  evaluate(cred, params, ctx) {
    return toHits(privilege(ctx).aws.confusedDeputy(cred, { ignoreServices: params.ignoreServices }));
  },
};
