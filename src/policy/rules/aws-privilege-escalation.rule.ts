/**
 * aws-privilege-escalation: a known escalation method (Rhino Security Labs / Cloudsplaining /
 * pathfinding.cloud, see src/privilege/escalation-data.ts) is fully allowed by the principal's
 * combined policies. One hit per method, keyed by its name. Confirmed when every action is
 * unconditional on `*` (or wildcard-only), potential when scoped, conditional when a Condition
 * gates any part.
 *
 * Contract: through the shared AwsPrivilegeAnalyzer (ctx.services.privilege), which evaluates each
 * distinct grant list once. Time-free. Grants only; one hit per method (key = method name);
 * severity high when confirmed, medium otherwise.
 */
import { z } from 'zod';
import { escalationMethodNames } from '../../privilege/escalation-data.js';
import { AWS_GRANT_KINDS, minConfidence, toHits } from '../../privilege/rule-support.js';
import { privilege } from '../privilege-rules.js';
import type { RuleType } from '../types.js';

const names = escalationMethodNames();

const schema = z.strictObject({
  /** Only these methods (names as in escalation-data.ts); all of them when absent. */
  methods: z
    .array(z.string().refine((m) => names.includes(m), { message: `unknown method; known: ${names.join(', ')}` }))
    .min(1)
    .optional(),
  minConfidence: minConfidence('conditional'),
});

export const awsPrivilegeEscalation: RuleType<z.infer<typeof schema>> = {
  name: 'aws-privilege-escalation',
  category: 'privilege',
  description:
    'A privilege-escalation method (e.g. iam:PassRole + lambda:CreateFunction + lambda:InvokeFunction) ' +
    "is fully allowed by the principal's combined inline, managed and group policies, even when split " +
    'across policies; one hit per method. Confidence follows Rhino: confirmed when unconditional on * ' +
    '(or wildcard-only), potential when ARN-scoped, conditional under a Condition. Params: methods, minConfidence.',
  example: `policies:
  - name: agent-privilege-escalation
    description: Agent credentials that can escalate to more privilege
    resource: { kinds: [aws-access-key, aws-role] }
    rules:
      - type: aws-privilege-escalation
        minConfidence: potential
    severity: high
    mode: observe
`,
  schema,
  needs: ['grants'],
  kinds: AWS_GRANT_KINDS,
  evaluate(cred, params, ctx) {
    return toHits(privilege(ctx).aws.privilegeEscalation(cred, params.methods), params.minConfidence);
  },
};
