/**
 * aws-admin: the credential is administrator-equivalent. Either an unconditional Allow of `*` on
 * `*` (critical, confirmed), or PMapper's admin test: it can give itself any permission (Put/Attach
 * a policy on its own user, role or group, rewrite an attached customer-managed policy, or create a
 * role and attach anything to it). Critical when confirmed, whatever the policy's severity says.
 * Everything is judged on the effective set: a `*` on `*` that a permissions boundary holds back is
 * not administrator (aws-admin-held-by-boundary reports that latent risk), unless the principal can
 * lift its own boundary; one narrowed by an explicit Deny is "potential" (high), with the count.
 *
 * Contract: through the shared AwsPrivilegeAnalyzer (ctx.services.privilege), which evaluates each
 * distinct grant list once. Time-free. Per credential (the resource checks use its principal ARN
 * and groups); one hit per way in (key: star-on-star:<statement>, self-put-user-policy,
 * create-policy-version:<arn>, …).
 */
import { z } from 'zod';
import { AWS_GRANT_KINDS, minConfidence, toHits } from '../../privilege/rule-support.js';
import { privilege } from '../privilege-rules.js';
import type { RuleType } from '../types.js';

const CHECKS = ['star-on-star', 'self-modification', 'create-role'] as const;
type Check = (typeof CHECKS)[number];

const schema = z.strictObject({
  /** Which admin tests to run; all by default. CIS "no *:*" controls want only star-on-star. */
  checks: z
    .array(z.enum(CHECKS))
    .min(1)
    .default([...CHECKS]),
  minConfidence: minConfidence('conditional'),
});

const checkOf = (key: string | undefined): Check =>
  key?.startsWith('star-on-star:')
    ? 'star-on-star'
    : key?.startsWith('create-role+')
      ? 'create-role'
      : 'self-modification';

export const awsAdmin: RuleType<z.infer<typeof schema>> = {
  name: 'aws-admin',
  category: 'privilege',
  description:
    'Administrator-equivalent AWS credentials: an unconditional Allow of * on *, or the ability to grant ' +
    'itself anything (PMapper admin test: Put/Attach a policy on its own user, role or group, ' +
    'CreatePolicyVersion on an attached customer-managed policy, CreateRole + Attach/PutRolePolicy). ' +
    'Judged on the effective set: * on * held back by a permissions boundary is not admin (see ' +
    'aws-admin-held-by-boundary) unless the principal can lift the boundary; narrowed by a Deny it is potential. ' +
    'Confirmed hits are critical; scoped, conditional, Deny-narrowed or boundary-capped ones are high. ' +
    'checks (star-on-star, self-modification, create-role; default all) picks the tests; minConfidence ' +
    '(default conditional) drops less certain hits.',
  example: `policies:
  - name: agent-admin-equivalent
    description: Agent credentials that can do anything
    resource: { kinds: [aws-access-key, aws-role] }
    rules:
      - type: aws-admin
    severity: critical
    mode: observe
`,
  schema,
  needs: ['grants', 'principal', 'attributes.groups'],
  kinds: AWS_GRANT_KINDS,
  evaluate(cred, params, ctx) {
    const results = privilege(ctx)
      .aws.admin(cred)
      .filter((r) => params.checks.includes(checkOf(r.key)));
    return toHits(results, params.minConfidence);
  },
};
