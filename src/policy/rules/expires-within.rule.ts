/**
 * expires-within: the credential expires within N days of `ctx.now`, and has not expired yet.
 *
 * Contract: reads `expiresAt`. Null means "never expires" (that is `never-expires`' business) and
 * never hits; an `expiresAt` at or before `ctx.now` is already past and never hits either. The
 * window is inclusive and exact: a credential expiring N days from now to the millisecond hits,
 * one a millisecond later does not. `expiresAt` is the current TTL end: a renewable Vault token or
 * lease can push it out, which the evidence says so nobody mistakes it for a hard deadline.
 */
import { z } from 'zod';
import { DAY_MS, type RuleType } from '../types.js';

const schema = z.strictObject({
  /** Warning horizon in days; no framework default (cloud-custodian#5334 asks for 15, 7 and 1). */
  days: z.number().int().positive(),
});

export type ExpiresWithinParams = z.output<typeof schema>;

const HOUR_MS = 3_600_000;

/** "3 days 4 hours", "5 hours", "less than an hour": precise enough to act on. */
function remaining(ms: number): string {
  const days = Math.floor(ms / DAY_MS);
  const hours = Math.floor((ms % DAY_MS) / HOUR_MS);
  const parts = [
    days ? `${days} day${days === 1 ? '' : 's'}` : '',
    hours ? `${hours} hour${hours === 1 ? '' : 's'}` : '',
  ];
  return parts.filter(Boolean).join(' ') || 'less than an hour';
}

export const expiresWithin: RuleType<ExpiresWithinParams> = {
  name: 'expires-within',
  category: 'staleness',
  description:
    'Hits a credential whose `expiresAt` falls within the next `days` days of the evaluation time (now, ' +
    'or --as-of), inclusive, and is not already past: a Vault token, lease or secret ID about to expire, ' +
    'so the agent using it can be re-issued a credential before it breaks. Credentials that never expire ' +
    '(`expiresAt: null`, including all AWS keys) never hit. There is no framework default (CIS and ' +
    'Security Hub have no expiry control; cloud-custodian users warn at 15, 7 and 1 days).',
  example: `policies:
  - name: agent-token-expiring
    description: Agent Vault tokens and secret IDs expiring within a week
    resource: { kinds: [vault-token, vault-approle-secret-id] }
    rules:
      - type: expires-within
        days: 7
    severity: low
    mode: observe
`,
  schema,
  needs: ['expiresAt'],
  evaluate(cred, params, ctx) {
    if (cred.expiresAt === null) return [];
    const left = new Date(cred.expiresAt).getTime() - ctx.now.getTime();
    if (!(left > 0 && left <= params.days * DAY_MS)) return []; // past, too far out, or unparsable
    const a = cred.attributes;
    const renewable = a.renewable === true || (typeof a.periodSeconds === 'number' && a.periodSeconds > 0);
    return [
      {
        message: `expires in ${remaining(left)} (${cred.expiresAt}; threshold ${params.days} days)`,
        evidence: [
          { field: 'expiresAt', value: cred.expiresAt },
          ...(typeof a.ttlSeconds === 'number' ? [{ field: 'attributes.ttlSeconds', value: a.ttlSeconds }] : []),
          ...(renewable ? [{ note: 'renewable: a renewal moves expiresAt out, this is not a hard deadline' }] : []),
        ],
        detector: 'expiry',
      },
    ];
  },
};
