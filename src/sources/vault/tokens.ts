/**
 * Tokens: every accessor in the namespace (LIST auth/token/accessors, which needs list+sudo and
 * never shows batch tokens), then one lookup-accessor each with bounded concurrency. An accessor
 * that vanished between list and lookup ("invalid accessor": expired or revoked) is simply gone.
 * Never a token id: lookups by accessor return `id: ""`, and nothing here reads a token value.
 */
import type { DiscoveredCredential } from '../../model/credential.js';
import { vaultNamespaceSegment, vaultTokenId } from '../../model/ids.js';
import type { MatchSubject } from '../../registry/match.js';
import { mapLimit } from '../../util/concurrency.js';
import { type VaultApi, vaultTime } from './api.js';
import { grantsFor, type PolicySet } from './policies.js';

export type TokenLookup = Record<string, unknown>;

export const strs = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : []);
export const num = (v: unknown): number | null => (typeof v === 'number' ? v : null);
export const metaOf = (v: unknown): Record<string, string> =>
  v && typeof v === 'object'
    ? Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, String(x)]))
    : {};

export async function lookupAllTokens(
  api: VaultApi,
  ns: string,
  concurrency: number,
  progress?: (done: number, total: number) => void,
): Promise<TokenLookup[]> {
  const accessors = await api.list(
    'vault:list-accessors',
    ns,
    'auth/token/accessors',
    'list+sudo on auth/token/accessors',
  );
  let done = 0;
  const found = await mapLimit(accessors, concurrency, async (accessor) => {
    try {
      return await lookupAccessor(api, ns, accessor);
    } finally {
      if (++done % 1000 === 0) progress?.(done, accessors.length);
    }
  });
  return found.filter((t): t is TokenLookup => t !== null);
}

/** One lookup-accessor; null when Vault says "invalid accessor" (expired or revoked). */
export async function lookupAccessor(api: VaultApi, ns: string, accessor: string): Promise<TokenLookup | null> {
  try {
    const out = await api.write(
      'vault:lookup-accessor',
      ns,
      'auth/token/lookup-accessor',
      { accessor },
      'update on auth/token/lookup-accessor',
    );
    return out?.data ?? null;
  } catch (err) {
    if (/invalid accessor/.test((err as Error).message)) return null;
    throw err;
  }
}

/** The accessor of the token credwarden itself uses (lookup-self in `ns`), as discover reads it. */
export async function lookupSelfAccessor(api: VaultApi, ns: string): Promise<string | null> {
  const self = await api.read('vault:lookup-self', ns, 'auth/token/lookup-self', 'read on auth/token/lookup-self');
  return typeof self?.data?.accessor === 'string' ? self.data.accessor : null;
}

/** `<mount>/<role>` for tokens minted by an AppRole login (path auth/<mount>/login, meta.role_name). */
export function tokenAppRole(t: TokenLookup): string | undefined {
  const m = /^auth\/(.+)\/login(\/|$)/.exec(String(t.path ?? ''));
  const role = metaOf(t.meta).role_name;
  return m && role ? `${m[1]}/${role}` : undefined;
}

export function tokenSubject(t: TokenLookup, ns: string): MatchSubject {
  const approleRole = tokenAppRole(t);
  return {
    sourceType: 'vault',
    vault: {
      namespace: ns,
      displayName: String(t.display_name ?? ''),
      meta: metaOf(t.meta),
      policies: [...strs(t.policies), ...strs(t.identity_policies)],
      ...(approleRole ? { approleRole } : {}),
      ...(t.entity_id ? { entityId: String(t.entity_id) } : {}),
    },
  };
}

export function tokenRecord(
  t: TokenLookup,
  ctx: { cluster: string; ns: string; policies: PolicySet; selfAccessor: string | null; observedAt: string },
): DiscoveredCredential {
  const accessor = String(t.accessor);
  const g = grantsFor(ctx.policies, strs(t.policies), strs(t.identity_policies));
  const lastRenewal = vaultTime(t.last_renewal_time ?? t.last_renewal);
  const attributes: Record<string, unknown> = {
    accessor,
    displayName: t.display_name ?? null,
    policies: strs(t.policies),
    identityPolicies: strs(t.identity_policies),
    issueTime: vaultTime(t.issue_time),
    creationTtlSeconds: num(t.creation_ttl),
    ttlSeconds: num(t.ttl),
    explicitMaxTtlSeconds: num(t.explicit_max_ttl),
    periodSeconds: num(t.period),
    orphan: t.orphan === true,
    numUses: num(t.num_uses),
    tokenType: t.type ?? null,
    path: t.path ?? null,
    meta: t.meta ? metaOf(t.meta) : null,
    entityId: t.entity_id ? String(t.entity_id) : null,
    renewable: t.renewable ?? null,
    self: accessor === ctx.selfAccessor,
  };
  if (t.namespace_path) attributes.namespacePath = t.namespace_path;
  if (g.errors.length) attributes.grantErrors = g.errors;
  return {
    id: vaultTokenId(ctx.cluster, ctx.ns, accessor),
    kind: 'vault-token',
    sourceType: 'vault',
    source: `${ctx.cluster}/${vaultNamespaceSegment(ctx.ns)}`,
    principal: String(t.display_name ?? accessor),
    createdAt: vaultTime(t.creation_time),
    // Vault records no last use; a renewal is the only sign of life a token lookup shows.
    lastUsed: lastRenewal ? { at: lastRenewal, source: 'vault-token-renewal', asOf: ctx.observedAt } : null,
    expiresAt: vaultTime(t.expire_time),
    status: 'active',
    grants: g.grants,
    tags: {},
    attributes,
    observedAt: ctx.observedAt,
  };
}
