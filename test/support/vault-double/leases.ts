/**
 * Leases (vault-api.md §3): ids `<request path>/<base62 24>` (+ `.nsID` outside root), the
 * `sys/leases/lookup` data shape (`last_renewal`, not `last_renewal_time`; nulls for unset
 * times; OpenBao's `path`), one-level hierarchical listing with trailing `/` for folders, prefix selection and
 * renewal capped at the lease's maximum.
 */
import type { Lease, Namespace, Token } from './model.js';
import { SYSTEM_TTL, type VaultState } from './state.js';
import { base62, instant, rfc3339Nano, secondsLeft } from './util.js';

export interface CreateLeaseInput {
  ns: Namespace;
  /** The request path the secret came from, e.g. `aws/creds/deploy`. */
  path: string;
  ttl: number;
  maxTtl?: number;
  renewable: boolean;
  owner: Token | null;
  secret: Record<string, unknown>;
}

export function createLease(state: VaultState, input: CreateLeaseInput): Lease {
  const issue = instant(state.clock.now());
  const lease: Lease = {
    id: `${input.path}/${base62(24)}${state.suffix(input.ns)}`,
    ns: input.ns,
    issue,
    expireMs: issue.ms + input.ttl * 1000,
    maxExpireMs: issue.ms + (input.maxTtl ?? SYSTEM_TTL) * 1000,
    lastRenewal: null,
    renewable: input.renewable,
    owner: input.owner,
    authToken: null,
    secret: input.secret,
  };
  state.addLease(lease);
  return lease;
}

/** `sys/leases/lookup` data; OpenBao adds the lease's request `path` (the id without its last segment). */
export function leaseLookupData(state: VaultState, lease: Lease): Record<string, unknown> {
  return {
    expire_time: lease.expireMs === null ? null : rfc3339Nano({ ms: lease.expireMs, subNs: lease.issue.subNs }),
    id: lease.id,
    issue_time: rfc3339Nano(lease.issue),
    last_renewal: lease.lastRenewal ? rfc3339Nano(lease.lastRenewal) : null,
    path: lease.id.slice(0, lease.id.lastIndexOf('/')),
    renewable: lease.renewable,
    ttl: lease.expireMs === null ? 0 : secondsLeft(lease.expireMs, state.now()),
  };
}

/** Keys one level below `prefix` (which ends in `/` or is empty): ids, and folders with `/`. */
export function listLeaseKeys(ns: Namespace, prefix: string): string[] {
  const keys = new Set<string>();
  for (const id of ns.leases.keys()) {
    if (!id.startsWith(prefix)) continue;
    const rest = id.slice(prefix.length);
    const slash = rest.indexOf('/');
    keys.add(slash < 0 ? rest : rest.slice(0, slash + 1));
  }
  return [...keys].sort();
}

export function leasesUnder(ns: Namespace, prefix: string): Lease[] {
  const p = prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`;
  return [...ns.leases.values()].filter((l) => l.id.startsWith(p) || l.id === prefix);
}

/** Renew a secret lease; returns an error message for the caller, or null. */
export function renewLease(state: VaultState, lease: Lease, increment: number): string | null {
  if (lease.authToken) return 'tokens cannot be renewed through this endpoint';
  if (!lease.renewable) return 'lease is not renewable';
  const now = state.clock.now();
  const ttl = increment > 0 ? increment : Math.round(((lease.expireMs ?? now.getTime()) - lease.issue.ms) / 1000);
  let expire = now.getTime() + ttl * 1000;
  if (lease.maxExpireMs !== null) expire = Math.min(expire, lease.maxExpireMs);
  lease.expireMs = expire;
  lease.lastRenewal = instant(now);
  state.noteDeadline(expire);
  return null;
}
