/**
 * expires-within: the credential expires within N days of `ctx.now`, and has not expired yet.
 *
 * Contract: reads `expiresAt`. Null means "never expires" (that is `never-expires`' business) and
 * never hits; an `expiresAt` at or before `ctx.now` is already past and never hits either. The
 * window is inclusive and exact: a credential expiring N days from now to the millisecond hits,
 * one a millisecond later does not. `expiresAt` is the current TTL end: a renewable Vault token or
 * lease can push it out, which the evidence says so nobody mistakes it for a hard deadline.
 *
 * `skipRenewable: true` counts only a credential that cannot be renewed past the window, so a
 * short TTL that the agent keeps renewing is not called a risk. The hard deadline is:
 * - `expiresAt` itself when the credential is not renewable (`attributes.renewable: false`, a batch
 *   token; a secret ID, or anything whose renewability the record does not say);
 * - for a renewable one (`renewable: true`, or periodic: `periodSeconds > 0`), its explicit max TTL:
 *   `createdAt` (else `attributes.issueTime`) + `attributes.explicitMaxTtlSeconds`, which no renewal
 *   passes; a token already at its explicit max TTL has that as its `expiresAt`;
 * - none for a renewable one without an explicit max TTL: it can be renewed past the window (the
 *   mount's or system's max TTL does not show in a token lookup, so it cannot be judged here).
 * It hits when that deadline falls within the window.
 */
import { z } from 'zod';
import type { Credential } from '../../model/credential.js';
import { DAY_MS, type RuleType } from '../types.js';

const schema = z.strictObject({
  /** Warning horizon in days; no framework default (cloud-custodian#5334 asks for 15, 7 and 1). */
  days: z.number().int().positive(),
  /** Count only what cannot be renewed past the window (default false: every expiry in it counts). */
  skipRenewable: z.boolean().default(false),
});

export type ExpiresWithinParams = z.output<typeof schema>;

const HOUR_MS = 3_600_000;

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/**
 * Whether a renewal can move `expiresAt` out, and the latest time a renewal can reach (null: no
 * visible limit), from the lookup's attributes.
 */
function renewal(cred: Credential): { renewable: boolean; cap: number | null; explicitMax: number | null } {
  const a = cred.attributes;
  const period = num(a.periodSeconds) ?? 0;
  const renewable = a.renewable === true || (a.renewable !== false && period > 0);
  const explicitMax = num(a.explicitMaxTtlSeconds);
  const from = cred.createdAt ?? (typeof a.issueTime === 'string' ? a.issueTime : null);
  const start = from === null ? Number.NaN : new Date(from).getTime();
  const cap = explicitMax && explicitMax > 0 && Number.isFinite(start) ? start + explicitMax * 1000 : null;
  return { renewable, cap, explicitMax };
}

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
    'Security Hub have no expiry control; cloud-custodian users warn at 15, 7 and 1 days). With ' +
    '`skipRenewable: true` only a credential that cannot be renewed past the window counts: not renewable ' +
    '(`renewable: false`, batch tokens, secret IDs), or renewable but capped by its explicit max TTL ' +
    '(`createdAt` + `explicitMaxTtlSeconds`) within the window; a renewable or periodic token with no ' +
    'explicit max TTL does not, since its agent can renew it.',
  example: `policies:
  - name: agent-token-expiring
    description: Agent Vault tokens and secret IDs expiring within a week
    resource: { kinds: [vault-token, vault-approle-secret-id] }
    rules:
      - type: expires-within
        days: 7
        skipRenewable: true     # a short TTL the agent keeps renewing is not a risk
    severity: low
    mode: observe
`,
  schema,
  needs: ['expiresAt'],
  evaluate(cred, params, ctx) {
    if (cred.expiresAt === null) return [];
    const now = ctx.now.getTime();
    const left = new Date(cred.expiresAt).getTime() - now;
    if (!(left > 0 && left <= params.days * DAY_MS)) return []; // past, too far out, or unparsable
    const a = cred.attributes;
    const r = renewal(cred);
    // The latest this credential can live, as far as the record shows (null: renewable past any window).
    const deadline = r.renewable ? r.cap : new Date(cred.expiresAt).getTime();
    const hard = deadline !== null && deadline - now <= params.days * DAY_MS;
    if (params.skipRenewable && !hard) return [];
    const why = !params.skipRenewable
      ? ''
      : r.renewable
        ? `; cannot be renewed past ${new Date(r.cap!).toISOString()} (explicit max TTL ${r.explicitMax} s)`
        : '; not renewable';
    const ttlFacts = [
      ['ttlSeconds', a.ttlSeconds],
      ['creationTtlSeconds', a.creationTtlSeconds],
      ['explicitMaxTtlSeconds', a.explicitMaxTtlSeconds],
      ['periodSeconds', a.periodSeconds],
      ['renewable', a.renewable],
    ].filter(([, v]) => typeof v === 'number' || typeof v === 'boolean');
    return [
      {
        message: `expires in ${remaining(left)} (${cred.expiresAt}; threshold ${params.days} days)${why}`,
        evidence: [
          { field: 'expiresAt', value: cred.expiresAt },
          ...ttlFacts.map(([k, v]) => ({ field: `attributes.${k as string}`, value: v })),
          ...(r.renewable && !hard
            ? [{ note: 'renewable: a renewal moves expiresAt out, this is not a hard deadline' }]
            : []),
          ...(r.renewable && hard && r.cap !== null
            ? [{ note: `explicit max TTL: no renewal passes ${new Date(r.cap).toISOString()}` }]
            : []),
        ],
        detector: 'expiry',
      },
    ];
  },
};
