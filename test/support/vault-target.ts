/**
 * One seeding and inspection API over two Vault-compatible servers, so a suite can run each wire
 * rule against both:
 * - `double`: the in-process Vault double (test/support/vault-double), fresh per test, with a
 *   ManualClock (time moves only through elapse()) and in-process seeding that bypasses HTTP;
 * - `openbao`: a real OpenBao dev server (test/support/openbao.ts), one per test file, reset()
 *   before each test, seeded over its HTTP API with the root token; time is real, so elapse()
 *   sleeps (keep it short).
 * Seeding goes through HTTP on OpenBao, so a seeded child token needs a parent allowed to create
 * it (give parents SPAWNER_POLICY) and an entity exists only through a login (AppRole), not by id.
 *
 * Leases: OpenBao has no AWS secrets engine, so `leases()` is the AWS engine on the double
 * (`aws/creds/deploy`) and the database engine against the machine's PostgreSQL on OpenBao
 * (`database/creds/<role>`). Tests address leases through the returned LeaseSource only.
 */
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { type DatabaseEngine, type OpenBao, postgresReachable, startOpenBao } from './openbao.js';
import { type IssuedToken, startVaultDouble, type TokenSpec, type VaultDouble } from './vault-double/index.js';

export type TargetKind = 'double' | 'openbao';

/** Lets a token create child tokens (what a seeded `parent` needs on a real server). */
export const SPAWNER_POLICY = 'path "auth/token/create" { capabilities = ["update"] }';

export interface AppRoleInput {
  tokenPolicies?: string[];
  secretIdNumUses?: number;
  secretIdTtl?: number;
  tokenTtl?: number;
  bindSecretId?: boolean;
}

export interface SecretIdInput {
  metadata?: Record<string, string>;
  numUses?: number;
  ttl?: number;
  cidrList?: string[];
}

export interface LeaseSource {
  /** `aws` (double) or `database` (OpenBao). */
  mount: string;
  role: string;
  /** `<mount>/creds/<role>`: lease ids are `<path>/<24 base62>`. */
  path: string;
  /** The lease TTL a fresh lease reports. */
  ttl: number;
  /** Reads `<path>` as `token` (default root); returns the lease id. */
  mint(token?: string): Promise<string>;
  /** Every live lease id under `<mount>/`. */
  ids(): Promise<string[]>;
  /** A policy granting read on `<mount>/creds/*`. */
  readPolicy: string;
}

export interface VaultTarget {
  kind: TargetKind;
  address: string;
  rootToken: string;
  rootAccessor: string;
  /** The double itself (double-only tests). */
  double: VaultDouble;
  clock: ManualClock;
  bao: OpenBao;
  /** The server's idea of now, in epoch ms (the ManualClock, or the real time). */
  now(): number;
  /** Let time pass: the ManualClock jumps, OpenBao really waits. */
  elapse(ms: number): Promise<void>;
  createToken(spec?: TokenSpec): Promise<IssuedToken>;
  putPolicy(namespace: string, name: string, text: string): Promise<void>;
  createNamespace(path: string, customMetadata?: Record<string, string>): Promise<{ id: string; path: string }>;
  revokeAccessor(accessor: string): Promise<void>;
  /** Whether a root-namespace token with this accessor is still live. */
  tokenExists(accessor: string): Promise<boolean>;
  createAppRole(namespace: string, role: string, input?: AppRoleInput): Promise<{ roleId: string }>;
  mintSecretId(namespace: string, role: string, input?: SecretIdInput): Promise<{ secretId: string; accessor: string }>;
  loginAppRole(namespace: string, roleId: string, secretId: string): Promise<IssuedToken & { entityId: string }>;
  setEntityPolicies(entityId: string, policies: string[]): Promise<void>;
  leases(): Promise<LeaseSource>;
  unsealKey(): string;
}

const tokenBody = (spec: TokenSpec): Record<string, unknown> => {
  const b: Record<string, unknown> = {};
  if (spec.policies) b.policies = spec.policies;
  if (spec.noDefaultPolicy) b.no_default_policy = true;
  if (spec.orphan) b.no_parent = true;
  if (spec.displayName) b.display_name = spec.displayName;
  if (spec.meta) b.meta = spec.meta;
  if (spec.ttl !== undefined) b.ttl = spec.ttl;
  if (spec.explicitMaxTtl !== undefined) b.explicit_max_ttl = spec.explicitMaxTtl;
  if (spec.period !== undefined) b.period = spec.period;
  if (spec.numUses !== undefined) b.num_uses = spec.numUses;
  if (spec.renewable !== undefined) b.renewable = spec.renewable;
  if (spec.type) b.type = spec.type;
  if (spec.entityId || spec.path) throw new Error('TokenSpec entityId/path cannot be seeded over HTTP');
  return b;
};

function roleBody(input: AppRoleInput): Record<string, unknown> {
  const b: Record<string, unknown> = {};
  if (input.tokenPolicies) b.token_policies = input.tokenPolicies;
  if (input.secretIdNumUses !== undefined) b.secret_id_num_uses = input.secretIdNumUses;
  if (input.secretIdTtl !== undefined) b.secret_id_ttl = input.secretIdTtl;
  if (input.tokenTtl !== undefined) b.token_ttl = input.tokenTtl;
  if (input.bindSecretId !== undefined) b.bind_secret_id = input.bindSecretId;
  return b;
}

function secretIdBody(input: SecretIdInput): Record<string, unknown> {
  const b: Record<string, unknown> = {};
  if (input.metadata) b.metadata = JSON.stringify(input.metadata);
  if (input.numUses !== undefined) b.num_uses = input.numUses;
  if (input.ttl !== undefined) b.ttl = input.ttl;
  if (input.cidrList) b.cidr_list = input.cidrList;
  return b;
}

const unavailable = (what: string) =>
  new Proxy({} as never, {
    get: () => {
      throw new Error(`${what} is not available on this target`);
    },
  });

function doubleTarget(double: VaultDouble, clock: ManualClock): VaultTarget {
  const d = double;
  return {
    kind: 'double',
    address: d.address,
    rootToken: d.rootToken,
    rootAccessor: d.rootAccessor,
    double: d,
    clock,
    bao: unavailable('OpenBao'),
    now: () => clock.now().getTime(),
    elapse: async (ms) => clock.advance(ms),
    createToken: async (spec = {}) => d.createToken(spec),
    putPolicy: async (ns, name, text) => d.putPolicy(ns, name, text),
    createNamespace: async (path, meta) => d.createNamespace(path, meta),
    revokeAccessor: async (a) => d.revokeAccessor(a),
    tokenExists: async (a) => d.tokenExists(a),
    createAppRole: async (ns, role, input = {}) => d.createAppRole(ns, 'approle', role, input),
    mintSecretId: async (ns, role, input = {}) => d.mintSecretId(ns, 'approle', role, input),
    loginAppRole: async (ns, roleId, secretId) => {
      const t = d.loginAppRole(ns, 'approle', roleId, secretId);
      return { ...t, entityId: String(d.lookupAccessor(t.accessor)?.entity_id ?? '') };
    },
    setEntityPolicies: async (id, policies) => d.setEntityPolicies(id, policies),
    leases: async () => {
      d.createAwsRole('', 'aws', 'deploy', { credentialType: 'iam_user' });
      return {
        mount: 'aws',
        role: 'deploy',
        path: 'aws/creds/deploy',
        ttl: 2_764_800,
        mint: async (token) => d.mintAwsCreds('', 'aws', 'deploy', token).leaseId,
        ids: async () => d.leaseIds('', 'aws/'),
        readPolicy: 'path "aws/creds/*" { capabilities = ["read"] }',
      };
    },
    unsealKey: () => 'any-key-unseals-the-double',
  };
}

function openBaoTarget(bao: OpenBao): VaultTarget {
  let engine: DatabaseEngine | null = null;
  const nsOpt = (namespace: string) => ({ namespace: namespace === 'root' ? '' : namespace });
  return {
    kind: 'openbao',
    address: bao.address,
    rootToken: bao.rootToken,
    rootAccessor: bao.rootAccessor,
    double: unavailable('the Vault double'),
    clock: unavailable('a manual clock'),
    bao,
    now: () => Date.now(),
    elapse: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    async createToken(spec = {}) {
      const body = tokenBody(spec);
      const token = spec.parent ?? bao.rootToken;
      const res = await bao.call('POST', 'auth/token/create', body, { ...nsOpt(spec.namespace ?? ''), token });
      return { token: res.auth.client_token, accessor: res.auth.accessor };
    },
    async putPolicy(ns, name, text) {
      await bao.call('PUT', `sys/policies/acl/${name}`, { policy: text }, nsOpt(ns));
    },
    createNamespace: (path, meta) => bao.createNamespace(path, meta),
    async revokeAccessor(accessor) {
      await bao.call('POST', 'auth/token/revoke-accessor', { accessor });
    },
    async tokenExists(accessor) {
      const res = await bao.request('POST', 'auth/token/lookup-accessor', { body: { accessor } });
      return res.status === 200;
    },
    async createAppRole(ns, role, input = {}) {
      await bao.enableAppRole(nsOpt(ns));
      await bao.call('POST', `auth/approle/role/${role}`, roleBody(input), nsOpt(ns));
      const res = await bao.call('GET', `auth/approle/role/${role}/role-id`, undefined, nsOpt(ns));
      return { roleId: res.data.role_id };
    },
    async mintSecretId(ns, role, input = {}) {
      const res = await bao.call('POST', `auth/approle/role/${role}/secret-id`, secretIdBody(input), nsOpt(ns));
      return { secretId: res.data.secret_id, accessor: res.data.secret_id_accessor };
    },
    async loginAppRole(ns, roleId, secretId) {
      const res = await bao.call(
        'POST',
        'auth/approle/login',
        { role_id: roleId, secret_id: secretId },
        { ...nsOpt(ns), token: null },
      );
      return { token: res.auth.client_token, accessor: res.auth.accessor, entityId: res.auth.entity_id };
    },
    async setEntityPolicies(id, policies) {
      await bao.call('POST', `identity/entity/id/${id}`, { policies });
    },
    async leases() {
      if (!engine) {
        if (!(await postgresReachable())) {
          throw new Error('PostgreSQL is not reachable at 127.0.0.1:5432: OpenBao lease tests need it (trust auth)');
        }
        engine = await bao.mountDatabase();
      }
      const e = engine;
      return {
        mount: e.mount,
        role: e.role,
        path: `${e.mount}/creds/${e.role}`,
        ttl: 3600,
        mint: async (token) => (await e.creds({ token })).leaseId,
        async ids() {
          const walk = async (prefix: string): Promise<string[]> => {
            const res = await bao.request('GET', `sys/leases/lookup/${prefix}?list=true`);
            if (res.status === 404) return [];
            const out: string[] = [];
            for (const k of res.json.data.keys as string[]) {
              out.push(...(k.endsWith('/') ? await walk(`${prefix}${k}`) : [`${prefix}${k}`]));
            }
            return out;
          };
          return (await walk(`${e.mount}/`)).sort();
        },
        readPolicy: `path "${e.mount}/creds/*" { capabilities = ["read"] }`,
      };
    },
    unsealKey: () => bao.unsealKey(),
  };
}

/**
 * Registers the hooks that give each test a clean target of `kind`; the returned object is filled
 * in before each test. The double: a new one per test, its clock at `clockStart`. OpenBao: one
 * server per file (started in beforeAll), reset() and AppRole enabled at approle/ before each test.
 */
export function useVaultTarget(kind: TargetKind, clockStart = '2026-11-01T12:00:00Z'): VaultTarget {
  const ctx = {} as VaultTarget;
  if (kind === 'double') {
    let double: VaultDouble | undefined;
    beforeEach(async () => {
      const clock = new ManualClock(clockStart);
      double = await startVaultDouble({ clock });
      Object.assign(ctx, doubleTarget(double, clock));
    });
    afterEach(async () => {
      await double?.close();
    });
    return ctx;
  }
  let bao: OpenBao | undefined;
  beforeAll(async () => {
    bao = await startOpenBao();
  }, 660_000);
  beforeEach(async () => {
    await bao!.reset();
    await bao!.enableAppRole();
    Object.assign(ctx, openBaoTarget(bao!));
  });
  afterAll(async () => {
    await bao?.stop();
  });
  return ctx;
}
