/**
 * A stateful Vault double for tests: `startVaultDouble()` serves Vault's HTTP API on 127.0.0.1
 * (raw `net`, so the LIST verb works) following the shared reference vault-api.md and, where the
 * two differ, what OpenBao 2.7 answers (test/contract/vault-double.test.ts runs every wire rule
 * against the double and against a real OpenBao dev server). It exposes an in-process seeding API on the returned object. Seeding calls never go through HTTP
 * and never appear in `requestLog`. Namespaces are addressed by path (`''` or `'root'` for the
 * root namespace, `'team-a'`, `'team-a/sub'`).
 *
 * Not modelled (callers get an explicit error, or the path is simply unknown): response
 * wrapping, audit devices, token roles, identity endpoints, KV and other engines.
 */
import { type Clock, ManualClock } from '../../../src/clock.js';
import { parseDurationSeconds } from '../../../src/sources/vault/acl-policy.js';
import {
  destroySecretId,
  login,
  type MintInput,
  mintSecretId,
  mountAppRole,
  type RoleSettings,
  upsertRole,
} from './approle.js';
import { startWireServer, type WireServer } from './http.js';
import { leaseLookupData } from './leases.js';
import type { AppRoleMount, AwsMount, Namespace, Token } from './model.js';
import { type RequestLogEntry, Router } from './router.js';
import { approleRoutes } from './routes-approle.js';
import { type AwsRoleInput, awsRoutes, mintAwsCreds, mountAws, putAwsRole } from './routes-aws.js';
import { leaseRoutes } from './routes-leases.js';
import { sysRoutes } from './routes-sys.js';
import { tokenRoutes } from './routes-token.js';
import { splitNamespacePath, VaultState } from './state.js';
import { createToken, tokenLookupData } from './tokens.js';

export type { RoleSettings } from './approle.js';
export type { RequestLogEntry } from './router.js';
export type { AwsRoleInput } from './routes-aws.js';
export { VaultState } from './state.js';

export interface VaultDoubleOptions {
  /** Defaults to a ManualClock started at the real current time (time stands still until moved). */
  clock?: Clock;
  /**
   * `sync` when a lease revoke request sends none. OpenBao (and Vault's docs) default to true, so
   * a revoke is 204 unless the caller sends `sync: false` (202). Defaults to true.
   */
  leaseRevokeSyncDefault?: boolean;
}

export interface TokenSpec {
  namespace?: string;
  policies?: string[];
  noDefaultPolicy?: boolean;
  /** Parent token id. Default: the root token (in any namespace, as when root creates it over HTTP). */
  parent?: string;
  orphan?: boolean;
  displayName?: string;
  meta?: Record<string, string>;
  /** Seconds or a Go duration string. */
  ttl?: number | string;
  explicitMaxTtl?: number | string;
  period?: number | string;
  numUses?: number;
  renewable?: boolean;
  type?: 'service' | 'batch';
  entityId?: string;
  /** The token's `path` (default `auth/token/create`). */
  path?: string;
}

export interface IssuedToken {
  token: string;
  accessor: string;
}

const seconds = (v: number | string | undefined): number => {
  const s = v === undefined ? 0 : parseDurationSeconds(v);
  if (s === null) throw new Error(`invalid duration ${String(v)}`);
  return s;
};

export class VaultDouble {
  readonly requestLog: RequestLogEntry[] = [];
  readonly rootToken: string;
  readonly rootAccessor: string;
  leaseRevokeSyncDefault: boolean;
  private server: WireServer | null = null;
  private port = 0;

  constructor(
    readonly state: VaultState,
    opts: VaultDoubleOptions,
  ) {
    this.leaseRevokeSyncDefault = opts.leaseRevokeSyncDefault ?? true;
    const root = createToken(state, {
      ns: state.root,
      parent: null,
      policies: ['root'],
      path: 'auth/token/root',
      fixedDisplayName: 'root',
    });
    this.rootToken = root.id;
    this.rootAccessor = root.accessor;
    mountAppRole(state.root, 'approle');
    mountAws(state.root, 'aws');
  }

  /** @internal used by startVaultDouble */
  async listen(): Promise<void> {
    const router = new Router(
      this.state,
      [...sysRoutes, ...leaseRoutes, ...tokenRoutes, ...approleRoutes, ...awsRoutes],
      this.requestLog,
      () => this.leaseRevokeSyncDefault,
    );
    this.server = await startWireServer((req) => router.handle(req));
    this.port = this.server.port;
  }

  get address(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get clock(): Clock {
    return this.state.clock;
  }

  set clock(clock: Clock) {
    this.state.clock = clock;
  }

  async close(): Promise<void> {
    await this.server?.close();
    this.server = null;
  }

  clearRequestLog(): void {
    this.requestLog.length = 0;
  }

  // ---- namespaces and policies ----

  /** Create a namespace (and any missing parents); returns its id and full path. */
  createNamespace(path: string, customMetadata: Record<string, string> = {}): { id: string; path: string } {
    let ns = this.state.root;
    const segs = splitNamespacePath(path);
    segs.forEach((seg, i) => {
      ns = this.state.createNamespace(ns, seg, i === segs.length - 1 ? customMetadata : {});
    });
    return { id: ns.id, path: ns.path };
  }

  namespace(path = ''): Namespace {
    const ns = this.state.namespaceByPath(path);
    if (!ns) throw new Error(`no namespace "${path}"`);
    return ns;
  }

  putPolicy(namespace: string, name: string, text: string): void {
    this.state.putPolicy(this.namespace(namespace), name, text);
  }

  deletePolicy(namespace: string, name: string): void {
    this.state.deletePolicy(this.namespace(namespace), name);
  }

  /** Identity policies granted to a token's entity (its lookups then show `identity_policies`). */
  setEntityPolicies(entityId: string, policies: string[]): void {
    this.state.setEntityPolicies(entityId, policies);
  }

  // ---- tokens and leases ----

  createToken(spec: TokenSpec = {}): IssuedToken {
    this.state.expire();
    const ns = this.namespace(spec.namespace);
    let parent: Token | null = null;
    if (spec.parent) {
      parent = this.state.tokensById.get(spec.parent) ?? null;
      if (!parent) throw new Error('parent token not found');
    } else if (!spec.orphan) {
      // As if the root token created it, in whichever namespace (OpenBao: `orphan: false`).
      parent = this.state.tokensById.get(this.rootToken) ?? null;
    }
    const t = createToken(this.state, {
      ns,
      parent: spec.orphan ? null : parent,
      policies: spec.policies ?? [],
      noDefaultPolicy: spec.noDefaultPolicy,
      path: spec.path ?? 'auth/token/create',
      meta: spec.meta ?? null,
      displayName: spec.displayName,
      ttl: seconds(spec.ttl),
      explicitMaxTtl: seconds(spec.explicitMaxTtl),
      period: seconds(spec.period),
      numUses: spec.numUses,
      renewable: spec.renewable,
      type: spec.type,
      entityId: spec.entityId,
    });
    return { token: t.id, accessor: t.accessor };
  }

  /** Lookup-accessor data as Vault would return it, or null when the accessor is gone. */
  lookupAccessor(accessor: string): Record<string, unknown> | null {
    this.state.expire();
    const t = this.state.tokensByAccessor.get(accessor);
    return t ? tokenLookupData(this.state, t, true) : null;
  }

  tokenExists(tokenOrAccessor: string): boolean {
    this.state.expire();
    return this.state.tokensById.has(tokenOrAccessor) || this.state.tokensByAccessor.has(tokenOrAccessor);
  }

  revokeAccessor(accessor: string): void {
    const t = this.state.tokensByAccessor.get(accessor);
    if (t) this.state.revokeTree(t);
  }

  /** All lease ids in a namespace, optionally under a prefix. */
  leaseIds(namespace = '', prefix = ''): string[] {
    this.state.expire();
    return [...this.namespace(namespace).leases.keys()].filter((id) => id.startsWith(prefix)).sort();
  }

  lookupLease(namespace: string, leaseId: string): Record<string, unknown> | null {
    this.state.expire();
    const lease = this.namespace(namespace).leases.get(leaseId);
    return lease ? leaseLookupData(this.state, lease) : null;
  }

  // ---- AppRole ----

  appRoleMount(namespace: string, mount = 'approle'): AppRoleMount {
    return mountAppRole(this.namespace(namespace), mount);
  }

  createAppRole(namespace: string, mount: string, role: string, settings: RoleSettings = {}): { roleId: string } {
    const r = upsertRole(this.appRoleMount(namespace, mount), role, settings);
    return { roleId: r.roleId };
  }

  mintSecretId(
    namespace: string,
    mount: string,
    role: string,
    input: MintInput = {},
  ): { secretId: string; accessor: string } {
    this.state.expire();
    const r = this.appRoleMount(namespace, mount).roles.get(role);
    if (!r) throw new Error(`role "${role}" does not exist`);
    const entry = mintSecretId(this.state, r, input);
    if (typeof entry === 'string') throw new Error(entry);
    return { secretId: entry.secretId, accessor: entry.accessor };
  }

  destroySecretIdAccessor(namespace: string, mount: string, role: string, accessor: string): void {
    const r = this.appRoleMount(namespace, mount).roles.get(role);
    const entry = r?.secretIds.get(accessor);
    if (r && entry) destroySecretId(r, entry);
  }

  loginAppRole(namespace: string, mount: string, roleId: string, secretId: string): IssuedToken {
    this.state.expire();
    const ns = this.namespace(namespace);
    const t = login(this.state, ns, this.appRoleMount(namespace, mount), roleId, secretId, '127.0.0.1');
    if (typeof t === 'string') throw new Error(t);
    return { token: t.id, accessor: t.accessor };
  }

  // ---- AWS secrets engine ----

  awsMount(namespace: string, mount = 'aws'): AwsMount {
    return mountAws(this.namespace(namespace), mount);
  }

  createAwsRole(namespace: string, mount: string, name: string, input: AwsRoleInput): void {
    putAwsRole(this.awsMount(namespace, mount), name, input);
  }

  /** Mint AWS credentials as if `token` (default: root) read `<mount>/creds/<role>`. */
  mintAwsCreds(
    namespace: string,
    mount: string,
    role: string,
    token = this.rootToken,
  ): { leaseId: string; accessKey: string } {
    this.state.expire();
    const m = this.awsMount(namespace, mount);
    const r = m.roles.get(role);
    if (!r) throw new Error(`Role "${role}" not found`);
    const owner = this.state.tokensById.get(token) ?? null;
    const out = mintAwsCreds(this.state, this.namespace(namespace), m, r, owner);
    return { leaseId: out.leaseId, accessKey: String(out.data.access_key) };
  }

  // ---- seal ----

  seal(): void {
    this.state.sealed = true;
  }

  unseal(): void {
    this.state.sealed = false;
  }
}

export async function startVaultDouble(opts: VaultDoubleOptions = {}): Promise<VaultDouble> {
  const state = new VaultState(opts.clock ?? new ManualClock(new Date()));
  const double = new VaultDouble(state, opts);
  await double.listen();
  return double;
}
