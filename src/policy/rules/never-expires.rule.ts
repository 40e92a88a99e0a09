/**
 * never-expires: a Vault credential with no end of life.
 *
 * Contract: three shapes, each named in the evidence (vault-api.md §1, §2):
 * - `expiresAt: null` on a token: ttl 0, no expire_time (root tokens and other non-expiring ones);
 * - a periodic token (`attributes.periodSeconds > 0`) with no `explicitMaxTtlSeconds` (null or 0):
 *   its expire_time is set, but every renewal resets it, so it lives forever;
 * - `expiresAt: null` on a secret ID (Go zero expiration, `attributes.neverExpires`) or a lease.
 * A periodic token capped by an explicit max TTL does expire: no hit. Time-free, so --as-of does
 * not change the answer.
 */
import { z } from 'zod';
import type { Credential, CredentialKind } from '../../model/credential.js';
import type { Evidence, RuleHit, RuleType } from '../types.js';

const schema = z.strictObject({});

export type NeverExpiresParams = z.output<typeof schema>;

const KINDS = ['vault-token', 'vault-approle-secret-id', 'vault-lease'] as const satisfies readonly CredentialKind[];

const positive = (v: unknown): v is number => typeof v === 'number' && v > 0;

function tokenHit(cred: Credential): RuleHit | null {
  const a = cred.attributes;
  const root = Array.isArray(a.policies) && a.policies.includes('root');
  const rootNote: Evidence[] = root ? [{ field: 'attributes.policies', value: a.policies, note: 'root token' }] : [];
  if (cred.expiresAt === null) {
    return {
      message: `${root ? 'root token' : 'token'} never expires (ttl 0, no expire_time)`,
      evidence: [
        { field: 'expiresAt', value: null, note: 'ttl 0' },
        { field: 'attributes.ttlSeconds', value: a.ttlSeconds ?? null },
        ...rootNote,
      ],
      detector: 'never-expires',
      key: 'ttl-0',
    };
  }
  if (positive(a.periodSeconds) && !positive(a.explicitMaxTtlSeconds)) {
    return {
      message: `periodic token (period ${a.periodSeconds}s) with no explicit max TTL renews forever`,
      evidence: [
        { field: 'attributes.periodSeconds', value: a.periodSeconds, note: 'periodic with no max' },
        { field: 'attributes.explicitMaxTtlSeconds', value: a.explicitMaxTtlSeconds ?? null },
        { field: 'expiresAt', value: cred.expiresAt, note: 'reset by every renewal' },
        ...rootNote,
      ],
      detector: 'never-expires',
      key: 'periodic-no-max',
    };
  }
  return null;
}

function secretIdHit(cred: Credential): RuleHit {
  const uses = cred.attributes.remainingUses;
  // Unlimited uses (0 or absent) and no TTL: valid until someone destroys it.
  const bounded = positive(uses)
    ? `, though only ${uses} use${uses === 1 ? '' : 's'} remain`
    : ' and has unlimited uses';
  return {
    message: `secret ID never expires (no TTL)${bounded}`,
    evidence: [
      { field: 'expiresAt', value: null, note: 'secret ID without TTL' },
      { field: 'attributes.neverExpires', value: cred.attributes.neverExpires ?? null },
      { field: 'attributes.secretIdTtlSeconds', value: cred.attributes.secretIdTtlSeconds ?? null },
      { field: 'attributes.remainingUses', value: uses ?? null },
    ],
    detector: 'never-expires',
    key: 'secret-id-no-ttl',
  };
}

export const neverExpires: RuleType<NeverExpiresParams> = {
  name: 'never-expires',
  category: 'staleness',
  description:
    'Hits a Vault credential that will never expire on its own: a token with ttl 0 (no expire_time, as ' +
    'root tokens have), a periodic token (period > 0) with no explicit max TTL, which every renewal keeps ' +
    'alive forever, an AppRole secret ID issued without a TTL, or a lease with no expiry. A periodic ' +
    'token capped by `explicit_max_ttl` does not hit. No parameters, and no framework default: CIS and ' +
    'Security Hub have no Vault controls.',
  example: `policies:
  - name: agent-token-immortal
    description: Agent Vault tokens and secret IDs that never expire
    resource: { kinds: [vault-token, vault-approle-secret-id] }
    rules:
      - type: never-expires
    severity: high
    mode: observe
`,
  schema,
  needs: ['expiresAt', 'attributes.periodSeconds', 'attributes.explicitMaxTtlSeconds'],
  kinds: KINDS,
  evaluate(cred) {
    if (cred.kind === 'vault-token') {
      const hit = tokenHit(cred);
      return hit ? [hit] : [];
    }
    if (cred.expiresAt !== null) return [];
    if (cred.kind === 'vault-approle-secret-id') return [secretIdHit(cred)];
    if (cred.kind === 'vault-lease') {
      return [
        {
          message: 'lease never expires (no expire_time)',
          evidence: [
            { field: 'expiresAt', value: null, note: 'lease without expiry' },
            { field: 'attributes.ttlSeconds', value: cred.attributes.ttlSeconds ?? null },
          ],
          detector: 'never-expires',
          key: 'lease-no-ttl',
        },
      ];
    }
    return [];
  },
};
