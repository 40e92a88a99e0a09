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
import type { VaultWritePort } from './ports.js';

const mountPath = (m: string): string => m.replace(/^\/+|\/+$/g, '');
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
