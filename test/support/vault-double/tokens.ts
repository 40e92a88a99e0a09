/**
 * Token store behaviour of the double (vault-api.md §1, §9, as OpenBao 2.7 answers): creating
 * service (`s.`) and batch (`b.`) tokens with Vault's TTL, policy and display-name rules; the
 * token's own lease (`<path>/h<hmac-sha256>`; every service token has one, a non-expiring token's
 * has no expiry and is not renewable); renewal; and the exact shapes of lookup data and `auth`
 * blocks (integer creation_time, RFC 3339 issue/expire times, whole seconds for batch tokens,
 * `expire_time: null` + `ttl: 0` for non-expiring tokens, keys omitted when unset).
 */
import { createHmac } from 'node:crypto';
import type { Lease, Namespace, Token, TokenType } from './model.js';
import { SYSTEM_TTL, type VaultState } from './state.js';
import { base62, base64url, instant, rfc3339Nano, secondsLeft, unixSeconds, wholeSecond } from './util.js';

export interface CreateTokenInput {
  ns: Namespace;
  parent: Token | null;
  policies: string[];
  noDefaultPolicy?: boolean;
  path: string;
  meta?: Record<string, string> | null;
  /** Already-final display name (e.g. `root`, `approle`); wins over `displayName`. */
  fixedDisplayName?: string;
  /** The caller's `display_name`, normalized per §9. */
  displayName?: string;
  ttl?: number;
  /** A mount or role `max_ttl`: caps the TTL and every renewal. */
  maxTtl?: number;
  explicitMaxTtl?: number;
  period?: number;
  numUses?: number;
  renewable?: boolean;
  type?: TokenType;
  entityId?: string;
  role?: string | null;
  boundCidrs?: string[];
}

/** `token-` prefix; each character outside [A-Za-z0-9-] becomes `-`; one trailing `-` trimmed. */
export function normalizeDisplayName(raw: string | undefined): string {
  if (!raw) return 'token';
  const full = `token-${raw}`.replace(/[^A-Za-z0-9-]/g, '-');
  return full.endsWith('-') ? full.slice(0, -1) : full;
}

/** policyutil.SanitizePolicies: lower-case, dedupe, sort, add `default`; `root` stands alone. */
export function sanitizePolicies(policies: string[], addDefault: boolean): string[] {
  const set = new Set(policies.map((p) => p.trim().toLowerCase()).filter(Boolean));
  if (set.has('root')) return ['root'];
  if (addDefault) set.add('default');
  return [...set].sort();
}

export function createToken(state: VaultState, input: CreateTokenInput): Token {
  const type = input.type ?? 'service';
  const policies = sanitizePolicies(input.policies, !input.noDefaultPolicy);
  const creation = type === 'batch' ? wholeSecond(state.clock.now()) : instant(state.clock.now());
  const period = input.period ?? 0;
  const explicitMax = input.explicitMaxTtl ?? 0;
  const isRoot = policies.length === 1 && policies[0] === 'root';
  const neverExpires = isRoot && !input.ttl && !period && !explicitMax;
  const maxTtl = Math.min(input.maxTtl || SYSTEM_TTL, explicitMax || SYSTEM_TTL);
  let ttl = neverExpires ? 0 : period > 0 ? period : input.ttl || SYSTEM_TTL;
  if (!neverExpires && period === 0) ttl = Math.min(ttl, maxTtl);
  if (explicitMax > 0) ttl = Math.min(ttl, explicitMax);
  const suffix = state.suffix(input.ns);
  const token: Token = {
    id: type === 'batch' ? `b.AAAAAQ${base64url(120)}${suffix}` : `s.${base62(24)}${suffix}`,
    accessor: type === 'batch' ? '' : `${base62(24)}${suffix}`,
    type,
    ns: input.ns,
    policies,
    path: input.path,
    meta: input.meta && Object.keys(input.meta).length > 0 ? { ...input.meta } : null,
    displayName: input.fixedDisplayName ?? normalizeDisplayName(input.displayName),
    numUses: input.numUses ?? 0,
    creation,
    creationTtl: ttl,
    explicitMaxTtl: explicitMax,
    period,
    renewable: type === 'service' && !neverExpires && (input.renewable ?? true),
    parent: input.parent,
    children: new Set(),
    entityId: input.entityId ?? '',
    expireMs: neverExpires ? null : creation.ms + ttl * 1000,
    maxExpireMs: neverExpires || period > 0 ? null : creation.ms + maxTtl * 1000,
    lastRenewal: null,
    role: input.role ?? null,
    boundCidrs: input.boundCidrs ?? [],
    lease: null,
    leases: new Set(),
    revoked: false,
  };
  if (period > 0 && explicitMax > 0) token.maxExpireMs = creation.ms + explicitMax * 1000;
  state.registerToken(token);
  if (type === 'service') {
    const salted = createHmac('sha256', state.salt).update(token.id).digest('hex');
    const lease: Lease = {
      id: `${token.path}/h${salted}${suffix}`,
      ns: input.ns,
      issue: creation,
      expireMs: token.expireMs,
      maxExpireMs: token.maxExpireMs,
      lastRenewal: null,
      renewable: token.renewable,
      owner: null,
      authToken: token,
      secret: null,
    };
    token.lease = lease;
    state.addLease(lease);
  }
  return token;
}

/** Renew a token (renew-self / renew-accessor). Returns an error message when not renewable. */
export function renewToken(state: VaultState, t: Token, increment: number): string | null {
  if (!t.lease?.renewable) return 'lease is not renewable';
  const now = state.clock.now();
  const ttl = t.period > 0 ? t.period : increment > 0 ? increment : t.creationTtl;
  let expire = now.getTime() + ttl * 1000;
  if (t.maxExpireMs !== null) expire = Math.min(expire, t.maxExpireMs);
  t.expireMs = expire;
  t.lease.expireMs = expire;
  t.lastRenewal = instant(now);
  t.lease.lastRenewal = t.lastRenewal;
  state.noteDeadline(expire);
  return null;
}

/** The data of lookup, lookup-self and lookup-accessor (`id: ""` for the accessor form). */
export function tokenLookupData(state: VaultState, t: Token, forAccessor: boolean): Record<string, unknown> {
  const now = state.now();
  const d: Record<string, unknown> = {
    accessor: t.accessor,
    creation_time: unixSeconds(t.creation.ms),
    creation_ttl: t.creationTtl,
    display_name: t.displayName,
    entity_id: t.entityId,
    expire_time: null,
    explicit_max_ttl: t.explicitMaxTtl,
    id: forAccessor ? '' : t.id,
    meta: t.meta,
    num_uses: t.numUses,
    orphan: t.parent === null,
    path: t.path,
    policies: t.policies,
    ttl: 0,
    type: t.type,
  };
  if (t.lease) {
    d.issue_time = rfc3339Nano(t.lease.issue);
    if (t.lease.expireMs !== null) {
      d.expire_time = rfc3339Nano({ ms: t.lease.expireMs, subNs: t.lease.issue.subNs });
      d.ttl = secondsLeft(t.lease.expireMs, now);
    }
    d.renewable = t.lease.renewable;
    if (t.lease.lastRenewal) d.last_renewal = rfc3339Nano(t.lease.lastRenewal);
  } else if (t.type === 'batch' && t.expireMs !== null) {
    d.issue_time = rfc3339Nano(t.creation);
    d.expire_time = rfc3339Nano({ ms: t.expireMs, subNs: t.creation.subNs });
    d.ttl = secondsLeft(t.expireMs, now);
    d.renewable = false;
  }
  if (t.lastRenewal) d.last_renewal_time = unixSeconds(t.lastRenewal.ms);
  if (t.period > 0) d.period = t.period;
  if (t.role) d.role = t.role;
  if (t.boundCidrs.length > 0) d.bound_cidrs = t.boundCidrs;
  const identity = state.identityPolicies(t);
  if (identity.length > 0) d.identity_policies = identity;
  if (t.ns !== state.root) d.namespace_path = t.ns.path;
  return d;
}

/** The `auth` block of token-create and login responses. */
export function authBlock(state: VaultState, t: Token): Record<string, unknown> {
  const identity = state.identityPolicies(t);
  const auth: Record<string, unknown> = {
    client_token: t.id,
    accessor: t.accessor,
    policies: [...new Set([...t.policies, ...identity])].sort(),
    token_policies: t.policies,
    metadata: t.meta,
    lease_duration: t.expireMs === null ? 0 : t.creationTtl,
    renewable: t.renewable,
    entity_id: t.entityId,
    token_type: t.type,
    orphan: t.parent === null,
    mfa_requirement: null,
    num_uses: t.numUses,
  };
  if (identity.length > 0) auth.identity_policies = identity;
  return auth;
}
