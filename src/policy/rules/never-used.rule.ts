/**
 * never-used: the source says the credential has never been used, and it was created more than
 * `graceDays` whole days before `ctx.now`.
 *
 * Contract: "known never used" is `lastUsed !== null && lastUsed.at === null`; `lastUsed === null`
 * is unknown and never hits. No console password is required: Prowler's
 * iam_user_no_setup_initial_access_key fires only for users that also have one, so an active,
 * never-used, API-only key (the shape of an agent's key) slips through every Prowler check
 * (policy-engines.md §3 "Detection gap"). The grace period keeps a freshly rotated key that is not
 * yet in use from alerting (prowler#645). A null `createdAt` cannot show the grace has passed: no
 * hit. Days are whole elapsed days, so a grace of N first hits on day N+1.
 */
import { z } from 'zod';
import { daysBetween, type RuleType } from '../types.js';

const schema = z.strictObject({
  /** Days a new credential may sit unused before it counts (CIS "no keys at initial setup" has no number). */
  graceDays: z.number().int().nonnegative().default(7),
  /** Only credentials that can be used right now; a disabled never-used key is `inactive-present`'s business. */
  activeOnly: z.boolean().default(true),
});

export type NeverUsedParams = z.output<typeof schema>;

export const neverUsed: RuleType<NeverUsedParams> = {
  name: 'never-used',
  category: 'staleness',
  description:
    'Hits a credential that its source reports as never used (`lastUsed.at: null`; an unknown last use, ' +
    '`lastUsed: null`, never hits) and that was created more than `graceDays` whole days ago (default 7). ' +
    'With `activeOnly` (default true) only `status: active` credentials count. This is CIS 1.11 (v3) / ' +
    '1.10 (v5) "no access keys at initial setup" without Prowler\'s console-password precondition, so it ' +
    'catches the active, never-used, API-only agent key that passes every Prowler check; there is no ' +
    'Security Hub control for it.',
  example: `policies:
  - name: agent-key-never-used
    description: Active agent keys never used a week after creation
    resource: { kinds: [aws-access-key, aws-role] }
    rules:
      - type: never-used
        graceDays: 7
        activeOnly: true
    severity: medium
    mode: observe
`,
  schema,
  needs: ['lastUsed', 'createdAt', 'status'],
  evaluate(cred, params, ctx) {
    const lu = cred.lastUsed;
    if (lu === null || lu.at !== null) return []; // unknown, or used at some point
    if (params.activeOnly && cred.status !== 'active') return [];
    if (cred.createdAt === null) return [];
    const age = Math.floor(daysBetween(cred.createdAt, ctx.now));
    if (!(age > params.graceDays)) return [];
    return [
      {
        message:
          `never used in the ${age} days since creation (created ${cred.createdAt.slice(0, 10)}; ` +
          `per ${lu.source} as of ${lu.asOf}; grace ${params.graceDays} days)`,
        evidence: [
          { field: 'lastUsed.at', value: null, note: 'never used' },
          { field: 'lastUsed.source', value: lu.source },
          { field: 'lastUsed.asOf', value: lu.asOf },
          { field: 'createdAt', value: cred.createdAt },
          { field: 'status', value: cred.status },
        ],
        detector: 'never-used',
      },
    ];
  },
};
