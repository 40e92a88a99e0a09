/**
 * The Vault write port (ports.ts has the contract) over VaultApi, so it keeps the scanner's wire
 * rules: the namespace header per request, the timeout, lists as `GET ?list=true`, 202/204 as
 * success, and a denial naming the capability ("needs update on auth/token/revoke-accessor").
 * One VaultApi per cluster, built on first use from the remediation token's client; `calls` sums
 * their counts.
 *
 * What the backend says about something that is not there (OpenBao 2.7 and Vault):
 * - lookup-accessor: 400 "invalid accessor" → null; revoke-accessor: 200 with the warning "No token
 *   found with this accessor" (Vault < 1.10: 400 "invalid accessor") → nothing to revoke, success;
 * - secret-id-accessor/lookup: a raw-envelope 404 with `data.error`, or 204 when the accessor
 *   belongs to another role → null; an unknown role is 500 "role … does not exist" on lookup and 400
 *   on LIST, an absent mount a 404 with errors: both read as "nothing there" (null, []);
 * - sys/leases/lookup: 400 "invalid lease" → null; sys/leases/revoke with `sync: true`: 204, even
 *   for an unknown lease.
 * A sealed Vault is retryable here (the job waits for the unseal); so are 5xx, 429, timeouts and
 * network errors (VaultApi). The port never revokes the token it acts with: revokeTokenAccessor
 * reads its own accessor (lookup-self, once per cluster and namespace) and throws GUARDRAIL on a match.
 */
import type { VaultClusterConfig } from '../config/schema.js';
import { CwError, ErrorCodes } from '../errors.js';
import { type ApiCallCounts, addCounts, emptyCounts } from '../sources/api-calls.js';
import { isUnknownPath, VaultApi, type VaultHttp, VaultHttpError } from '../sources/vault/api.js';
import { lookupSecretId } from '../sources/vault/approle.js';
import { lookupLease } from '../sources/vault/leases.js';
import { lookupAccessor, lookupSelfAccessor } from '../sources/vault/tokens.js';
import { Secret } from '../util/secret.js';
import type { VaultWritePort } from './ports.js';

const mountPath = (m: string): string => m.replace(/^\/+|\/+$/g, '');
const CAS_MISMATCH = /check-and-set parameter did not match the current version/;
const INVALID_LOGIN = /invalid role or secret ID|invalid secret id|failed to validate credentials/i;

/** KV data with every string value wrapped as a Secret (a KV secret's values are secrets until shown otherwise). */
function wrapStrings(data: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(data).map(([k, v]) => [k, typeof v === 'string' && v !== '' ? new Secret(v) : v]),
  );
}

/** The request body of a KV write: Secrets revealed here and nowhere else. */
function revealAll(data: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(data).map(([k, v]) => [k, v instanceof Secret ? v.reveal() : v]));
}

const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);
const NO_ROLE = /role "[^"]*" does not exist/;

/** A seal is transient for remediation: the job is retried once Vault is unsealed. */
function retryableSeal(err: unknown): never {
  if (err instanceof CwError && err.code === ErrorCodes.VAULT_SEALED && !err.retryable)
    throw new CwError(ErrorCodes.VAULT_SEALED, err.message, { retryable: true, cause: err });
  throw err;
}

/** An absent mount (404 with errors) or role ("role … does not exist"): nothing of it exists. */
const roleOrMountAbsent = (err: unknown): boolean =>
  isUnknownPath(err) || (err instanceof VaultHttpError && NO_ROLE.test(err.message));

export class VaultApiWritePort implements VaultWritePort {
  private readonly apis = new Map<string, VaultApi>();
  /** The remediation token's own accessor, per cluster and namespace (lookup-self, read once). */
  private readonly selfAccessors = new Map<string, Promise<string | null>>();

  constructor(private readonly apiFor: (cluster: string) => VaultApi) {}

  /** Every request made so far, by operation (a fresh sum over the clusters' VaultApi counts). */
  get calls(): ApiCallCounts {
    const out = emptyCounts();
    for (const api of this.apis.values()) addCounts(out, api.counts);
    return out;
  }

  private api(cluster: string): VaultApi {
    let api = this.apis.get(cluster);
    if (!api) {
      api = this.apiFor(cluster);
      this.apis.set(cluster, api);
    }
    return api;
  }

  private async run<T>(cluster: string, fn: (api: VaultApi) => Promise<T>): Promise<T> {
    const api = this.api(cluster);
    try {
      return await fn(api);
    } catch (err) {
      return retryableSeal(err);
    }
  }

  private selfAccessor(api: VaultApi, cluster: string, namespace: string): Promise<string | null> {
    const key = `${cluster}\n${namespace}`;
    let self = this.selfAccessors.get(key);
    if (!self) {
      self = lookupSelfAccessor(api, namespace);
      this.selfAccessors.set(key, self);
      self.catch(() => this.selfAccessors.delete(key));
    }
    return self;
  }

  /**
   * The remediation token's own accessor in this cluster and namespace (lookup-self, read once),
   * so a rotation can refuse to replace it before it starts (revokeTokenAccessor refuses it too).
   * Not in VaultWritePort: a caller checks for it and refuses when a port lacks it.
   */
  ownAccessor(cluster: string, namespace: string): Promise<string | null> {
    return this.run(cluster, (api) => this.selfAccessor(api, cluster, namespace));
  }

  lookupTokenAccessor(cluster: string, namespace: string, accessor: string) {
    return this.run(cluster, (api) => lookupAccessor(api, namespace, accessor));
  }

  revokeTokenAccessor(cluster: string, namespace: string, accessor: string): Promise<void> {
    return this.run(cluster, async (api) => {
      if ((await this.selfAccessor(api, cluster, namespace)) === accessor)
        throw new CwError(
          ErrorCodes.GUARDRAIL,
          `vault ${cluster}: refusing to revoke token accessor ${accessor}: it is credwarden's own remediation token`,
        );
      try {
        await api.write(
          'vault:revoke-accessor',
          namespace,
          'auth/token/revoke-accessor',
          { accessor },
          'update on auth/token/revoke-accessor',
        );
      } catch (err) {
        // Vault < 1.10 answers an unknown accessor with 400 "invalid accessor": already revoked.
        if (!(err instanceof VaultHttpError && /invalid accessor/.test(err.message))) throw err;
      }
    });
  }

  lookupSecretIdAccessor(cluster: string, namespace: string, mount: string, role: string, accessor: string) {
    return this.run(cluster, async (api) => {
      try {
        return await lookupSecretId(api, namespace, mountPath(mount), role, accessor);
      } catch (err) {
        if (roleOrMountAbsent(err)) return null;
        throw err;
      }
    });
  }

  listSecretIdAccessors(cluster: string, namespace: string, mount: string, role: string): Promise<string[]> {
    const m = mountPath(mount);
    return this.run(cluster, async (api) => {
      try {
        return await api.list(
          'vault:list-secret-ids',
          namespace,
          `auth/${m}/role/${role}/secret-id`,
          `list on auth/${m}/role/${role}/secret-id`,
        );
      } catch (err) {
        if (roleOrMountAbsent(err)) return [];
        throw err;
      }
    });
  }

  destroySecretIdAccessor(cluster: string, namespace: string, mount: string, role: string, accessor: string) {
    const m = mountPath(mount);
    return this.run(cluster, async (api) => {
      await api.write(
        'vault:destroy-secret-id',
        namespace,
        `auth/${m}/role/${role}/secret-id-accessor/destroy`,
        { secret_id_accessor: accessor },
        `update on auth/${m}/role/${role}/secret-id-accessor/destroy`,
      );
    });
  }

  kvRead(cluster: string, namespace: string, mount: string, path: string, version?: number) {
    const m = mountPath(mount);
    return this.run(cluster, async (api) => {
      const q = version !== undefined ? `?version=${version}` : '';
      const out = await api.read('vault:kv-read', namespace, `${m}/data/${path}${q}`, `read on ${m}/data/${path}`);
      const meta = out?.data?.metadata as { version?: unknown } | undefined;
      if (!out?.data || typeof meta?.version !== 'number') return null;
      const data = out.data.data;
      return {
        version: meta.version,
        data: data && typeof data === 'object' ? wrapStrings(data as Record<string, unknown>) : null,
      };
    });
  }

  kvWrite(cluster: string, namespace: string, mount: string, path: string, data: Record<string, unknown>, cas: number) {
    const m = mountPath(mount);
    return this.run(cluster, async (api): Promise<{ version: number } | { conflict: string }> => {
      try {
        const out = await api.write(
          'vault:kv-write',
          namespace,
          `${m}/data/${path}`,
          { options: { cas }, data: revealAll(data) },
          `create and update on ${m}/data/${path}`,
        );
        const version = out?.data?.version;
        if (typeof version !== 'number')
          throw new CwError(ErrorCodes.VAULT, `vault ${cluster}: ${m}/data/${path}: the write returned no version`);
        return { version };
      } catch (err) {
        if (err instanceof VaultHttpError && err.status === 400 && CAS_MISMATCH.test(err.message))
          return { conflict: `check-and-set ${cas} did not match the current version of ${m}/data/${path}` };
        throw err;
      }
    });
  }

  readAppRole(cluster: string, namespace: string, mount: string, role: string) {
    const m = mountPath(mount);
    return this.run(cluster, async (api) => {
      try {
        const out = await api.read(
          'vault:read-role',
          namespace,
          `auth/${m}/role/${role}`,
          `read on auth/${m}/role/${role}`,
        );
        return out?.data ?? null;
      } catch (err) {
        if (roleOrMountAbsent(err)) return null;
        throw err;
      }
    });
  }

  readRoleId(cluster: string, namespace: string, mount: string, role: string) {
    const m = mountPath(mount);
    return this.run(cluster, async (api) => {
      try {
        const out = await api.read(
          'vault:read-role-id',
          namespace,
          `auth/${m}/role/${role}/role-id`,
          `read on auth/${m}/role/${role}/role-id`,
        );
        return str(out?.data?.role_id);
      } catch (err) {
        if (roleOrMountAbsent(err)) return null;
        throw err;
      }
    });
  }

  createSecretId(cluster: string, namespace: string, mount: string, role: string, body: Record<string, unknown>) {
    const m = mountPath(mount);
    return this.run(cluster, async (api) => {
      const out = await api.write(
        'vault:create-secret-id',
        namespace,
        `auth/${m}/role/${role}/secret-id`,
        body,
        `update on auth/${m}/role/${role}/secret-id`,
      );
      const secretId = str(out?.data?.secret_id);
      const accessor = str(out?.data?.secret_id_accessor);
      if (!secretId || !accessor)
        throw new CwError(ErrorCodes.VAULT, `vault ${cluster}: auth/${m}/role/${role}/secret-id returned no secret ID`);
      return { secretId: new Secret(secretId), accessor };
    });
  }

  approleLoginWorks(cluster: string, namespace: string, mount: string, roleId: string, secretId: Secret) {
    const m = mountPath(mount);
    return this.run(cluster, async (api) => {
      let out: Awaited<ReturnType<VaultApi['write']>>;
      try {
        out = await api.write(
          'vault:approle-login',
          namespace,
          `auth/${m}/login`,
          { role_id: roleId, secret_id: secretId.reveal() },
          `update on auth/${m}/login`,
        );
      } catch (err) {
        if (err instanceof VaultHttpError && err.status === 400 && INVALID_LOGIN.test(err.message)) return false;
        throw err;
      }
      const accessor = str(out?.auth?.accessor);
      // A batch token (a role with token_type batch) has no accessor and cannot be revoked: it
      // expires with its TTL.
      if (!accessor && str(out?.auth?.client_token) && out?.auth?.token_type === 'batch') return true;
      if (!accessor) throw new CwError(ErrorCodes.VAULT, `vault ${cluster}: auth/${m}/login returned no token`);
      // The login only proves the pair works: its token is revoked at once.
      await api.write(
        'vault:revoke-accessor',
        namespace,
        'auth/token/revoke-accessor',
        { accessor },
        'update on auth/token/revoke-accessor',
      );
      return true;
    });
  }

  secretIdValid(cluster: string, namespace: string, mount: string, role: string, secretId: Secret) {
    const m = mountPath(mount);
    return this.run(cluster, async (api) => {
      try {
        const out = await api.write(
          'vault:lookup-secret-id',
          namespace,
          `auth/${m}/role/${role}/secret-id/lookup`,
          { secret_id: secretId.reveal() },
          `update on auth/${m}/role/${role}/secret-id/lookup`,
        );
        return !!out?.data && !('error' in out.data);
      } catch (err) {
        if (roleOrMountAbsent(err)) return false;
        throw err;
      }
    });
  }

  createOrphanToken(cluster: string, namespace: string, body: Record<string, unknown>) {
    return this.run(cluster, async (api) => {
      const out = await api.write(
        'vault:create-orphan',
        namespace,
        'auth/token/create-orphan',
        body,
        'update on auth/token/create-orphan',
      );
      const token = str(out?.auth?.client_token);
      const accessor = str(out?.auth?.accessor);
      if (!token || !accessor)
        throw new CwError(ErrorCodes.VAULT, `vault ${cluster}: auth/token/create-orphan returned no token`);
      return { token: new Secret(token), accessor };
    });
  }

  lookupSelfWith(cluster: string, namespace: string, token: Secret) {
    return this.run(cluster, async (api) => {
      try {
        const out = await api.readAs(
          token.reveal(),
          'vault:lookup-self',
          namespace,
          'auth/token/lookup-self',
          'read on auth/token/lookup-self',
        );
        return out?.data ?? null;
      } catch (err) {
        if (err instanceof CwError && err.code === ErrorCodes.VAULT_PERMISSION) return null;
        throw err;
      }
    });
  }

  listTokenAccessors(cluster: string, namespace: string) {
    return this.run(cluster, (api) =>
      api.list('vault:list-accessors', namespace, 'auth/token/accessors', 'list+sudo on auth/token/accessors'),
    );
  }

  lookupLease(cluster: string, namespace: string, leaseId: string) {
    return this.run(cluster, (api) => lookupLease(api, namespace, leaseId));
  }

  revokeLease(cluster: string, namespace: string, leaseId: string): Promise<void> {
    return this.run(cluster, async (api) => {
      await api.write(
        'vault:revoke-lease',
        namespace,
        'sys/leases/revoke',
        { lease_id: leaseId, sync: true },
        'update on sys/leases/revoke',
      );
    });
  }
}

/**
 * The port over the configured clusters. `http(cluster)` is the client built from the cluster's
 * `remediationToken` (main.ts builds it; it is asked for on a cluster's first call only). A cluster
 * with no remediationToken, or one not configured, throws CwError(CONFIG) naming it on that call.
 */
export function vaultWritePortFrom(
  clusters: readonly VaultClusterConfig[],
  http: (cluster: VaultClusterConfig) => VaultHttp,
): VaultApiWritePort {
  return new VaultApiWritePort((name) => {
    const c = clusters.find((x) => x.name === name);
    if (!c) throw new CwError(ErrorCodes.CONFIG, `vault ${name}: no Vault cluster by that name is configured`);
    if (!c.remediationToken)
      throw new CwError(
        ErrorCodes.CONFIG,
        `vault ${name}: no remediationToken configured (vault[].remediationToken), so credwarden cannot act on this cluster`,
      );
    return new VaultApi(http(c), c.name, c.requestTimeoutMs);
  });
}
