/**
 * The Vault double's model: a namespace tree, each namespace with its own policies, token
 * accessors, leases and mounts; global indexes by token id and accessor (O(1) lookups); identity
 * policies per entity; seal state; and an injectable clock.
 *
 * Revocation follows Vault's token store and expiration manager: revoking a token revokes its
 * whole child tree and every lease issued to any of them; revoking a token's own lease revokes
 * that token's tree; revoke-orphan detaches the children first. Expiry is checked lazily with
 * `expire()` (called before every request and seeding call), which only walks the state when the
 * earliest known deadline has passed.
 */
import type { Clock } from '../../../src/clock.js';
import { CompiledAcl, parseAclPolicy } from '../../../src/sources/vault/acl-policy.js';
import type { Entity, Lease, Namespace, StoredPolicy, Token } from './model.js';
import { base62, instant, uuid } from './util.js';

/** Vault's built-in `default` policy (abridged to the paths that matter here). */
export const DEFAULT_POLICY = `
# Allow tokens to look up their own properties
path "auth/token/lookup-self" {
    capabilities = ["read"]
}

# Allow tokens to renew themselves
path "auth/token/renew-self" {
    capabilities = ["update"]
}

# Allow tokens to revoke themselves
path "auth/token/revoke-self" {
    capabilities = ["update"]
}

# Allow a token to look up its own capabilities on a path
path "sys/capabilities-self" {
    capabilities = ["update"]
}

# Allow a token to look up its own entity by id or name
path "identity/entity/id/{{identity.entity.id}}" {
  capabilities = ["read"]
}
path "identity/entity/name/{{identity.entity.name}}" {
  capabilities = ["read"]
}

# Allow a token to renew a lease via lease_id in the request body
path "sys/renew" {
    capabilities = ["update"]
}
path "sys/leases/renew" {
    capabilities = ["update"]
}

# Allow looking up lease properties. This requires knowing the lease ID ahead
# of time and does not divulge any sensitive information.
path "sys/leases/lookup" {
    capabilities = ["update"]
}

# Allow a token to manage its own cubbyhole
path "cubbyhole/*" {
    capabilities = ["create", "read", "update", "delete", "list"]
}

# Allow general purpose tools
path "sys/tools/hash" {
    capabilities = ["update"]
}
path "sys/tools/hash/*" {
    capabilities = ["update"]
}
`;

/** Vault's default and maximum lease TTL: 768h. */
export const SYSTEM_TTL = 2_764_800;

const RESERVED_NAMESPACE_NAMES = new Set(['root', 'sys', 'audit', 'auth', 'cubbyhole', 'identity']);

export class VaultState {
  sealed = false;
  readonly root: Namespace;
  readonly namespacesById = new Map<string, Namespace>();
  readonly tokensById = new Map<string, Token>();
  readonly tokensByAccessor = new Map<string, Token>();
  readonly entities = new Map<string, Entity>();
  /** `<mount accessor>/<alias name>` → entity id. */
  readonly entityByAlias = new Map<string, string>();
  /** Bumped on any policy or identity change; tokens cache their compiled ACL against it. */
  policyVersion = 0;
  readonly salt = base62(32);
  private nextDeadline = Number.POSITIVE_INFINITY;

  constructor(public clock: Clock) {
    this.root = this.makeNamespace('root', '', null);
  }

  now(): number {
    return this.clock.now().getTime();
  }

  // ---- namespaces ----

  private makeNamespace(id: string, path: string, parent: Namespace | null): Namespace {
    const ns: Namespace = {
      id,
      uuid: uuid(),
      path,
      parent,
      children: new Map(),
      customMetadata: {},
      policies: new Map(),
      accessors: new Map(),
      leases: new Map(),
      approle: new Map(),
      aws: new Map(),
    };
    this.namespacesById.set(id, ns);
    this.putPolicy(ns, 'default', DEFAULT_POLICY);
    return ns;
  }

  createNamespace(parent: Namespace, name: string, customMetadata: Record<string, string> = {}): Namespace {
    if (!/^[A-Za-z0-9_.-]+$/.test(name) || RESERVED_NAMESPACE_NAMES.has(name)) {
      throw new Error(`invalid namespace name "${name}"`);
    }
    const existing = parent.children.get(name);
    if (existing) return existing;
    const ns = this.makeNamespace(base62(6), `${parent.path}${name}/`, parent);
    ns.customMetadata = { ...customMetadata };
    parent.children.set(name, ns);
    return ns;
  }

  namespaceByPath(path: string): Namespace | undefined {
    let ns: Namespace | undefined = this.root;
    for (const seg of splitNamespacePath(path)) {
      ns = ns?.children.get(seg);
      if (!ns) return undefined;
    }
    return ns;
  }

  /** Longest existing namespace prefix of `segments`; returns it and the remaining path. */
  resolvePath(nsHeader: string, path: string): { ns: Namespace; rest: string } {
    const segs = [...splitNamespacePath(nsHeader), ...path.split('/')];
    let ns = this.root;
    let i = 0;
    while (i < segs.length - 1) {
      const child = ns.children.get(segs[i]!);
      if (!child) break;
      ns = child;
      i++;
    }
    return { ns, rest: segs.slice(i).join('/') };
  }

  isWithin(ns: Namespace, ancestor: Namespace): boolean {
    for (let n: Namespace | null = ns; n; n = n.parent) if (n === ancestor) return true;
    return false;
  }

  /** `.nsID` suffix Vault appends to accessors, token ids and lease ids outside root. */
  suffix(ns: Namespace): string {
    return ns === this.root ? '' : `.${ns.id}`;
  }

  // ---- policies and identity ----

  putPolicy(ns: Namespace, name: string, text: string): StoredPolicy {
    const lname = name.toLowerCase();
    if (lname === 'root') throw new Error('cannot update root policy');
    const rules = parseAclPolicy(text);
    const version = (ns.policies.get(lname)?.version ?? 0) + 1;
    const policy: StoredPolicy = { name: lname, text, rules, version, modified: instant(this.clock.now()) };
    ns.policies.set(lname, policy);
    this.policyVersion++;
    return policy;
  }

  deletePolicy(ns: Namespace, name: string): void {
    if (ns.policies.delete(name.toLowerCase())) this.policyVersion++;
  }

  setEntityPolicies(entityId: string, policies: string[], name = `entity_${entityId.slice(0, 8)}`): Entity {
    const entity = this.entities.get(entityId) ?? { id: entityId, name, policies: [] };
    entity.policies = [...policies];
    this.entities.set(entityId, entity);
    this.policyVersion++;
    return entity;
  }

  identityPolicies(token: Token): string[] {
    return token.entityId ? (this.entities.get(token.entityId)?.policies ?? []) : [];
  }

  /** The token's ACL (its policies plus identity policies, in its namespace), or 'root'. */
  aclFor(token: Token): CompiledAcl | 'root' {
    if (token.aclCache?.version === this.policyVersion) return token.aclCache.acl;
    let acl: CompiledAcl | 'root';
    if (token.ns === this.root && token.policies.includes('root')) acl = 'root';
    else {
      const rules = [...token.policies, ...this.identityPolicies(token)].flatMap(
        (name) =>
          token.ns.policies
            .get(name)
            ?.rules.map((r) => ({ path: token.ns.path + r.path, capabilities: r.capabilities })) ?? [],
      );
      acl = new CompiledAcl(rules);
    }
    token.aclCache = { version: this.policyVersion, acl };
    return acl;
  }

  // ---- tokens and leases ----

  registerToken(token: Token): void {
    this.tokensById.set(token.id, token);
    if (token.accessor) {
      this.tokensByAccessor.set(token.accessor, token);
      token.ns.accessors.set(token.accessor, token);
    }
    token.parent?.children.add(token);
    this.noteDeadline(token.expireMs);
  }

  /** A live token by id, after expiry has been applied. */
  liveToken(id: string): Token | undefined {
    this.expire();
    return this.tokensById.get(id);
  }

  addLease(lease: Lease): void {
    lease.ns.leases.set(lease.id, lease);
    lease.owner?.leases.add(lease);
    this.noteDeadline(lease.expireMs);
  }

  revokeTree(top: Token): void {
    const order: Token[] = [];
    const stack = [top];
    while (stack.length > 0) {
      const t = stack.pop()!;
      order.push(t);
      stack.push(...t.children);
    }
    for (const t of order.reverse()) this.destroyToken(t);
  }

  revokeOrphan(token: Token): void {
    for (const child of token.children) child.parent = null;
    token.children.clear();
    this.destroyToken(token);
  }

  revokeLease(lease: Lease): void {
    if (lease.authToken) this.revokeTree(lease.authToken);
    else this.dropLease(lease);
  }

  private destroyToken(t: Token): void {
    if (t.revoked) return;
    t.revoked = true;
    for (const lease of [...t.leases]) this.dropLease(lease);
    if (t.lease) this.dropLease(t.lease);
    this.tokensById.delete(t.id);
    if (t.accessor) {
      this.tokensByAccessor.delete(t.accessor);
      t.ns.accessors.delete(t.accessor);
    }
    t.parent?.children.delete(t);
  }

  private dropLease(lease: Lease): void {
    lease.ns.leases.delete(lease.id);
    lease.owner?.leases.delete(lease);
  }

  // ---- expiry ----

  noteDeadline(ms: number | null | undefined): void {
    if (ms !== null && ms !== undefined && ms < this.nextDeadline) this.nextDeadline = ms;
  }

  /**
   * Revoke expired tokens (with subtrees and leases) and expired leases. Expired secret IDs stay
   * stored (and listed) until an AppRole tidy, as on OpenBao; login and lookup ignore them.
   */
  expire(): void {
    const now = this.now();
    if (now < this.nextDeadline) return;
    let next = Number.POSITIVE_INFINITY;
    for (const t of [...this.tokensById.values()]) {
      if (t.revoked || t.expireMs === null) continue;
      if (t.expireMs <= now) this.revokeTree(t);
      else next = Math.min(next, t.expireMs);
    }
    for (const ns of this.namespacesById.values()) {
      for (const lease of [...ns.leases.values()]) {
        if (lease.expireMs === null) continue;
        if (lease.expireMs <= now) this.revokeLease(lease);
        else next = Math.min(next, lease.expireMs);
      }
    }
    this.nextDeadline = next;
  }
}

/**
 * The capabilities an ACL grants on `path` for one request, in OpenBao 2.7's order: an exact rule
 * on the path; for a LIST, an exact rule on the path without its trailing slash; then the `*`
 * prefix and `+` segment rules on the full path; and only when none of those matches (LIST
 * again), the prefix and segment rules on the trimmed path. So `+/sys/policies/acl` (list) next
 * to `+/sys/policies/acl/*` (read) does NOT grant LIST `team-a/sys/policies/acl/`: the glob
 * matches the full path first. (credwarden's matchAcl with `list: true` tries the trimmed path
 * first; credwarden itself never lists through it.)
 */
export function aclCapabilities(acl: CompiledAcl, path: string, list: boolean): Set<string> {
  const full = acl.match(path);
  if (!list || full.matchedPattern === path || !path.endsWith('/')) return full.capabilities;
  const trimmedPath = path.slice(0, -1);
  const trimmed = acl.match(trimmedPath);
  if (trimmed.matchedPattern === trimmedPath) return trimmed.capabilities;
  return full.matchedPattern !== null ? full.capabilities : trimmed.capabilities;
}

export function splitNamespacePath(path: string): string[] {
  const trimmed = path.trim().replace(/^\/+|\/+$/g, '');
  if (trimmed === '' || trimmed === 'root') return [];
  return trimmed.split('/').filter(Boolean);
}
