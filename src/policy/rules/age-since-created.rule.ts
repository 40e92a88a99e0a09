/**
 * age-since-created: the credential was created more than N whole days before `ctx.now`.
 *
 * Contract: reads `createdAt` only. A null createdAt (AppRole roles, Vault engine roles) is not
 * an old credential, it is an unknown age: no hit. A credential created after `ctx.now` (an
 * --as-of evaluation before it existed) has a negative age: no hit. Days are whole elapsed days,
 * as Prowler counts them, so a threshold of N first hits on day N+1.
 */
import { z } from 'zod';
import { daysBetween, type RuleType } from '../types.js';

const schema = z.strictObject({
  /** Whole days since creation; no framework default, so a policy must say what "old" means. */
  days: z.number().int().nonnegative(),
});

export type AgeSinceCreatedParams = z.output<typeof schema>;

export const ageSinceCreated: RuleType<AgeSinceCreatedParams> = {
  name: 'age-since-created',
  category: 'staleness',
  description:
    'Hits a credential whose `createdAt` is more than `days` whole days before the evaluation time ' +
    '(now, or --as-of). This is age since creation, not since rotation or last use: use ' +
    '`rotation-overdue` for the CIS 1.14 (v3) / 1.13 (v5) / Security Hub IAM.3 90-day rotation control ' +
    'and `unused-for` for last use. There is no framework default; a credential with no known ' +
    'creation time never hits.',
  example: `policies:
  - name: agent-credential-old
    description: Agent credentials created more than a year ago
    resource: { kinds: [aws-access-key, aws-role, vault-token] }
    rules:
      - type: age-since-created
        days: 365
    severity: low
    mode: observe
`,
  schema,
  needs: ['createdAt'],
  evaluate(cred, params, ctx) {
    if (cred.createdAt === null) return [];
    const age = Math.floor(daysBetween(cred.createdAt, ctx.now));
    if (!(age > params.days)) return []; // also false for an unparsable date (NaN)
    return [
      {
        message: `created ${age} days ago (${cred.createdAt.slice(0, 10)}; threshold ${params.days})`,
        evidence: [
          { field: 'createdAt', value: cred.createdAt },
          { note: `age ${age} whole days at ${ctx.now.toISOString()}` },
        ],
        detector: 'age',
      },
    ];
  },
};
