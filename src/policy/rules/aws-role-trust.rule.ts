/**
 * aws-role-trust: the role's trust policy lets too many principals assume it: anyone (Principal
 * "*", critical without conditions, medium with), everyone but a NotPrincipal list, another account
 * (high without conditions, low with), or any identity of an OIDC provider (no `sub` condition,
 * high). Compute-service principals (low) only with includeComputeServices.
 *
 * Contract: through the shared AwsPrivilegeAnalyzer (ctx.services.privilege), which evaluates each
 * distinct grant list once. Time-free. Reads attributes.trustPolicy, principal and source; one hit
 * per statement and principal (key = <sid or #n>:<kind>).
 */
import { z } from 'zod';
import { minConfidence, toHits } from '../../privilege/rule-support.js';
import { privilege } from '../privilege-rules.js';
import type { RuleType } from '../types.js';

const schema = z.strictObject({
  includeComputeServices: z.boolean().default(false),
  minConfidence: minConfidence('conditional'),
});

export const awsRoleTrust: RuleType<z.infer<typeof schema>> = {
  name: 'aws-role-trust',
  category: 'privilege',
  description:
    "Agent roles whose trust policy is too open: assumable by any principal (Principal '*'), by everyone " +
    'but a NotPrincipal list, from another account, or by any identity of an OIDC provider (no sub ' +
    'condition). Severity per finding; conditions lower it. includeComputeServices adds ec2/eks/ecs-tasks/lambda.',
  example: `policies:
  - name: agent-role-open-trust
    description: Agent roles that strangers can assume
    resource: { kinds: [aws-role] }
    rules:
      - type: aws-role-trust
    severity: high
    mode: observe
`,
  schema,
  needs: ['attributes.trustPolicy', 'principal', 'source'],
  kinds: ['aws-role'],
  evaluate(cred, params, ctx) {
    return toHits(
      privilege(ctx).aws.roleTrust(cred, { includeComputeServices: params.includeComputeServices }),
      params.minConfidence,
    );
  },
};
