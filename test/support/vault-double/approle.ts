/**
 * AppRole behaviour of the double (vault-api.md §2): role settings and their read shape, secret
 * IDs (accessor, metadata, CIDRs, remaining uses, Go zero time for "never expires"), and login:
 * role_id + secret_id → an orphan service token with `meta.role_name`, an entity per role ID,
 * and the num_uses rule (>1: decrement and stamp last_updated_time; ==1: delete; 0: untouched).
 */
import type { AppRoleMount, Namespace, Role, SecretId, Token } from './model.js';
import type { VaultState } from './state.js';
import { createToken } from './tokens.js';
import { addSeconds, GO_ZERO_TIME, instant, ipInCidr, rfc3339Nano, uuid } from './util.js';

export type RoleSettings = Partial<Omit<Role, 'name' | 'secretIds' | 'secretIdsByValue'>>;

export function mountAppRole(ns: Namespace, path = 'approle'): AppRoleMount {
  const existing = ns.approle.get(path);
  if (existing) return existing;
  const mount: AppRoleMount = {
    path,
    accessor: `auth_approle_${uuid().slice(0, 8)}`,
    roles: new Map(),
    rolesById: new Map(),
  };
  ns.approle.set(path, mount);
  return mount;
}

export function upsertRole(mount: AppRoleMount, name: string, settings: RoleSettings): Role {
  const prev = mount.roles.get(name);
  const role: Role = prev ?? {
    name,
    roleId: uuid(),
    bindSecretId: true,
    secretIdBoundCidrs: [],
    secretIdNumUses: 0,
    secretIdTtl: 0,
    localSecretIds: false,
    tokenPolicies: [],
    tokenTtl: 0,
    tokenMaxTtl: 0,
    tokenExplicitMaxTtl: 0,
    tokenPeriod: 0,
    tokenNumUses: 0,
    tokenType: 'default',
    tokenBoundCidrs: [],
    tokenNoDefaultPolicy: false,
    legacyPolicies: null,
    legacyPeriod: null,
    secretIds: new Map(),
    secretIdsByValue: new Map(),
  };
  if (prev && settings.roleId && settings.roleId !== prev.roleId) mount.rolesById.delete(prev.roleId);
  Object.assign(role, settings);
  mount.roles.set(name, role);
  mount.rolesById.set(role.roleId, role);
  return role;
}

export function deleteRole(mount: AppRoleMount, name: string): void {
  const role = mount.roles.get(name);
  if (!role) return;
  mount.roles.delete(name);
  mount.rolesById.delete(role.roleId);
}

export function hasConstraint(r: Role): boolean {
  return r.bindSecretId || r.secretIdBoundCidrs.length > 0 || r.tokenBoundCidrs.length > 0;
}

/** The role read data as OpenBao returns it (`secret_id_bound_cidrs` is null when unset). */
export function roleReadData(r: Role): Record<string, unknown> {
  const d: Record<string, unknown> = {
    bind_secret_id: r.bindSecretId,
    local_secret_ids: r.localSecretIds,
    secret_id_bound_cidrs: r.secretIdBoundCidrs.length > 0 ? r.secretIdBoundCidrs : null,
    secret_id_num_uses: r.secretIdNumUses,
    secret_id_ttl: r.secretIdTtl,
    token_bound_cidrs: r.tokenBoundCidrs,
    token_explicit_max_ttl: r.tokenExplicitMaxTtl,
    token_max_ttl: r.tokenMaxTtl,
    token_no_default_policy: r.tokenNoDefaultPolicy,
    token_num_uses: r.tokenNumUses,
    token_period: r.tokenPeriod,
    token_policies: r.tokenPolicies,
    token_strictly_bind_ip: false,
    token_ttl: r.tokenTtl,
    token_type: r.tokenType,
  };
  if (r.legacyPolicies) d.policies = r.legacyPolicies;
  if (r.legacyPeriod) d.period = r.legacyPeriod;
  return d;
}

export interface MintInput {
  metadata?: Record<string, string>;
  cidrList?: string[];
  tokenBoundCidrs?: string[];
  numUses?: number;
  ttl?: number;
  /** A caller-chosen secret ID (`custom-secret-id`). */
  secretId?: string;
}

/** Mint a secret ID, applying the role's defaults and limits; returns an error message or the entry. */
export function mintSecretId(state: VaultState, role: Role, input: MintInput): SecretId | string {
  if (!role.bindSecretId) return 'bind_secret_id is not set on the role';
  const numUses = input.numUses ?? role.secretIdNumUses;
  if (numUses < 0) return 'num_uses cannot be negative';
  if (role.secretIdNumUses > 0 && (numUses === 0 || numUses > role.secretIdNumUses)) {
    return "num_uses cannot be higher than the role's secret_id_num_uses";
  }
  const ttl = input.ttl || role.secretIdTtl;
  if (ttl < 0) return 'ttl cannot be negative';
  if (role.secretIdTtl > 0 && ttl > role.secretIdTtl) return "ttl cannot be longer than the role's secret_id_ttl";
  const now = instant(state.clock.now());
  const entry: SecretId = {
    secretId: input.secretId ?? uuid(),
    accessor: uuid(),
    cidrList: input.cidrList ?? [],
    tokenBoundCidrs: input.tokenBoundCidrs ?? [],
    metadata: { ...(input.metadata ?? {}) },
    numUses,
    ttl,
    creation: now,
    lastUpdated: now,
    expiration: ttl > 0 ? addSeconds(now, ttl) : null,
  };
  role.secretIds.set(entry.accessor, entry);
  role.secretIdsByValue.set(entry.secretId, entry);
  return entry;
}

/** Past its TTL: still stored and listed until a tidy, but lookups and logins ignore it. */
export function secretIdExpired(s: SecretId, nowMs: number): boolean {
  return s.expiration !== null && s.expiration.ms <= nowMs;
}

/** AppRole tidy: drops every expired secret ID of every role on the mount. */
export function tidySecretIds(mount: AppRoleMount, nowMs: number): void {
  for (const role of mount.roles.values()) {
    for (const s of [...role.secretIds.values()]) if (secretIdExpired(s, nowMs)) destroySecretId(role, s);
  }
}

export function destroySecretId(role: Role, entry: SecretId): void {
  role.secretIds.delete(entry.accessor);
  role.secretIdsByValue.delete(entry.secretId);
}

export function secretIdLookupData(s: SecretId): Record<string, unknown> {
  return {
    cidr_list: s.cidrList,
    creation_time: rfc3339Nano(s.creation),
    expiration_time: s.expiration ? rfc3339Nano(s.expiration) : GO_ZERO_TIME,
    last_updated_time: rfc3339Nano(s.lastUpdated),
    metadata: s.metadata,
    secret_id_accessor: s.accessor,
    secret_id_num_uses: s.numUses,
    secret_id_ttl: s.ttl,
    token_bound_cidrs: s.tokenBoundCidrs,
  };
}

export const INVALID_LOGIN = 'invalid role or secret ID';

/** AppRole login. Returns the new token, or an error message (400). */
export function login(
  state: VaultState,
  ns: Namespace,
  mount: AppRoleMount,
  roleId: string,
  secretId: string,
  remoteAddress: string,
): Token | string {
  if (!roleId) return 'missing role_id';
  const role = mount.rolesById.get(roleId);
  if (!role) return INVALID_LOGIN;
  let entry: SecretId | undefined;
  if (role.bindSecretId) {
    if (!secretId) return 'missing secret_id';
    entry = role.secretIdsByValue.get(secretId);
    if (!entry || secretIdExpired(entry, state.now())) return INVALID_LOGIN;
    if (entry.cidrList.length > 0 && !entry.cidrList.some((c) => ipInCidr(remoteAddress, c))) {
      return `source address "${remoteAddress}" unauthorized through CIDR restrictions on the secret ID`;
    }
  }
  if (role.secretIdBoundCidrs.length > 0 && !role.secretIdBoundCidrs.some((c) => ipInCidr(remoteAddress, c))) {
    return `source address "${remoteAddress}" unauthorized by CIDR restrictions on the role`;
  }
  if (entry) {
    if (entry.numUses === 1) destroySecretId(role, entry);
    else if (entry.numUses > 1) {
      entry.numUses--;
      entry.lastUpdated = instant(state.clock.now());
    }
  }
  const aliasKey = `${mount.accessor}/${role.roleId}`;
  let entityId = state.entityByAlias.get(aliasKey);
  if (!entityId) {
    entityId = uuid();
    state.entityByAlias.set(aliasKey, entityId);
    state.entities.set(entityId, { id: entityId, name: `entity_${entityId.slice(0, 8)}`, policies: [] });
  }
  return createToken(state, {
    ns,
    parent: null,
    policies: role.tokenPolicies,
    noDefaultPolicy: role.tokenNoDefaultPolicy,
    path: `auth/${mount.path}/login`,
    meta: { role_name: role.name },
    fixedDisplayName: mount.path.replace(/\//g, '-'),
    ttl: role.tokenTtl,
    maxTtl: role.tokenMaxTtl,
    explicitMaxTtl: role.tokenExplicitMaxTtl,
    period: role.tokenPeriod,
    numUses: role.tokenNumUses,
    type: role.tokenType === 'batch' || role.tokenType === 'default-batch' ? 'batch' : 'service',
    entityId,
    boundCidrs: [...role.tokenBoundCidrs, ...(entry?.tokenBoundCidrs ?? [])],
  });
}
