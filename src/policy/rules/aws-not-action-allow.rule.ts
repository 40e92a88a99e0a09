/**
 * aws-not-action-allow: an Allow statement written with NotAction (grants every action but a few)
 * or NotResource (every resource but a few). Both are almost always broader than intended
 * (Parliament NOTRESOURCE_WITH_ALLOW). One hit per statement and element. Read against the
 * effective set: a statement an explicit Deny or the boundary empties is no hit; one they cut down
 * is "potential", one severity lower, with how much of it is effective.
 *
 * Contract: through the shared AwsPrivilegeAnalyzer (ctx.services.privilege), which evaluates each
 * distinct grant list once. Time-free. Grants only; one hit per statement and element (key =
 * <statement>:NotAction|NotResource).
 */
import { z } from 'zod';
import { AWS_GRANT_KINDS, toHits } from '../../privilege/rule-support.js';
import { privilege } from '../privilege-rules.js';
import type { RuleType } from '../types.js';

const schema = z.strictObject({
  /** Also report NotResource with Allow (default true); NotAction is always reported. */
  notResource: z.boolean().default(true),
});

export const awsNotActionAllow: RuleType<z.infer<typeof schema>> = {
  name: 'aws-not-action-allow',
  category: 'privilege',
  description:
    'An Allow statement uses NotAction (it grants every action except the list: high) or NotResource ' +
    '(every resource except the list: medium); lower when Condition-gated or cut down by an explicit Deny or ' +
    'the boundary, none when they leave nothing of it. notResource: false limits the rule to NotAction.',
  example: `policies:
  - name: agent-not-action-allow
    description: Agent policies written as "everything except"
    resource: { kinds: [aws-access-key, aws-role] }
    rules:
      - type: aws-not-action-allow
    severity: high
    mode: observe
`,
  schema,
  needs: ['grants'],
  kinds: AWS_GRANT_KINDS,
  evaluate(cred, params, ctx) {
    const results = privilege(ctx).aws.notActionAllow(cred);
    return toHits(params.notResource ? results : results.filter((r) => !r.key?.endsWith(':NotResource')));
  },
};
