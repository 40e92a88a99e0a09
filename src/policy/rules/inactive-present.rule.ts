/**
 * inactive-present: a disabled credential that still exists.
 *
 * Contract: `status: inactive` only. An inactive AWS access key is not gone: anyone with
 * iam:UpdateAccessKey can switch it back on, secret unchanged, so leaving it around is a finding.
 * With `days > 0` it must also be more than `days` whole days old; AWS reports no deactivation
 * time, so creation is the only clock available, and a null createdAt then never hits. With the
 * default `days: 0` every inactive credential hits, even with no createdAt.
 */
import { z } from 'zod';
import { daysBetween, type RuleType } from '../types.js';

const schema = z.strictObject({
  /** 0: any inactive credential. N: only those created more than N whole days ago. */
  days: z.number().int().nonnegative().default(0),
});

export type InactivePresentParams = z.output<typeof schema>;

export const inactivePresent: RuleType<InactivePresentParams> = {
  name: 'inactive-present',
  category: 'staleness',
  description:
    'Hits a credential whose `status` is `inactive` but which still exists: a deactivated AWS access key ' +
    'can be re-activated with its old secret, so it should be deleted once the rotation it belonged to ' +
    'is done. With `days` (default 0: any inactive credential) only credentials created more than `days` ' +
    'whole days ago hit; AWS records no deactivation time, so age is measured from creation. No CIS or ' +
    'Security Hub control covers it (CIS 1.12 (v5) "one active key" counts active keys only).',
  example: `policies:
  - name: agent-key-disabled-leftover
    description: Deactivated agent access keys older than 30 days that were never deleted
    resource: { kinds: [aws-access-key] }
    rules:
      - type: inactive-present
        days: 30
    severity: low
    mode: observe
`,
  schema,
  needs: ['status', 'createdAt'],
  evaluate(cred, params, ctx) {
    if (cred.status !== 'inactive') return [];
    const age = cred.createdAt === null ? null : Math.floor(daysBetween(cred.createdAt, ctx.now));
    if (age !== null && age < 0) return []; // --as-of before it was created: it did not exist yet
    if (params.days > 0 && !(age !== null && age > params.days)) return [];
    const created =
      cred.createdAt === null
        ? ''
        : `, created ${age} days ago (${cred.createdAt.slice(0, 10)}${params.days > 0 ? `; threshold ${params.days}` : ''})`;
    return [
      {
        message: `inactive but still present${created}: it can be re-activated`,
        evidence: [
          { field: 'status', value: cred.status },
          ...(cred.createdAt === null ? [] : [{ field: 'createdAt', value: cred.createdAt }]),
        ],
        detector: 'inactive',
      },
    ];
  },
};
