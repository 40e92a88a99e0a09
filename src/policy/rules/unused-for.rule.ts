/**
 * unused-for: the credential was last used more than N whole days before `ctx.now`.
 *
 * Contract: reads `lastUsed` only, and only when it holds a time. Two other states are separate
 * measures, never folded in here (policy-engines.md §6.3, "give time its own vocabulary"):
 * `lastUsed === null` is UNKNOWN (Vault records no use; the report did not cover the key) and
 * `lastUsed.at === null` is NEVER USED, which `never-used` judges with a grace period. A last use
 * after `ctx.now` (an --as-of evaluation) has a negative age: no hit. Days are whole elapsed days,
 * compared with `>` as Prowler and Security Hub do, so a threshold of N first hits on day N+1.
 */
import { z } from 'zod';
import type { LastUsed } from '../../model/credential.js';
import { daysBetween, type RuleType } from '../types.js';

const schema = z.strictObject({
  /** CIS 1.12 (v3) / 1.11 (v5) / Security Hub IAM.22: 45 days. IAM.8 (FSBP) uses 90. */
  days: z.number().int().nonnegative().default(45),
});

export type UnusedForParams = z.output<typeof schema>;

/** " via iam in us-east-1": where the last use happened, when the source says. */
function where(lu: LastUsed): string {
  const via = lu.service ? ` via ${lu.service}` : '';
  const region = lu.region ? ` in ${lu.region}` : '';
  return `${via}${region}`;
}

export const unusedFor: RuleType<UnusedForParams> = {
  name: 'unused-for',
  category: 'staleness',
  description:
    'Hits a credential whose last recorded use (`lastUsed.at`) is more than `days` whole days before ' +
    'the evaluation time (now, or --as-of). Default 45 days: CIS AWS Foundations 1.12 (v3) / 1.11 (v5) / ' +
    '2.11 (v6) and Security Hub IAM.22; set 90 for Security Hub IAM.8. A credential whose last use is ' +
    'unknown (`lastUsed: null`, e.g. Vault tokens never renewed) or that was never used (`lastUsed.at: ' +
    'null`) does not hit: pair it with `never-used` so the never-used agent key Prowler misses is caught.',
  example: `policies:
  - name: agent-key-unused
    description: Agent access keys unused for 45 days
    resource: { kinds: [aws-access-key] }
    rules:
      - type: unused-for
        days: 45
    severity: medium
    mode: observe
`,
  schema,
  needs: ['lastUsed'],
  evaluate(cred, params, ctx) {
    const lu = cred.lastUsed;
    if (lu === null || lu.at === null) return []; // unknown, or never used: other rules' business
    const idle = Math.floor(daysBetween(lu.at, ctx.now));
    if (!(idle > params.days)) return [];
    return [
      {
        message: `unused for ${idle} days (last used ${lu.at.slice(0, 10)}${where(lu)}; threshold ${params.days})`,
        evidence: [
          { field: 'lastUsed.at', value: lu.at },
          ...(lu.service ? [{ field: 'lastUsed.service', value: lu.service }] : []),
          ...(lu.region ? [{ field: 'lastUsed.region', value: lu.region }] : []),
          { field: 'lastUsed.source', value: lu.source },
          { field: 'lastUsed.asOf', value: lu.asOf },
        ],
        detector: 'unused',
      },
    ];
  },
};
