/**
 * The Vault write port (ports.ts has the contract) over VaultApi, so it keeps the scanner's wire
 * rules: the namespace header per request, the timeout, lists as `GET ?list=true`, 202/204 as
 * success, and a denial naming the capability ("needs update on auth/token/revoke-accessor").
 * One VaultApi per cluster, built on first use from the remediation token's client; `calls` sums
 * their counts.
 *
 * The calls are per backend, each module saying what the backend answers for something that is
 * not there: tokens (vault-port-tokens.ts, which also keeps the port from revoking the token it
 * acts with), AppRole roles and secret IDs (vault-port-approle.ts), leases (vault-port-leases.ts)
 * and KV v2 secrets (vault-port-kv.ts).
 * A sealed Vault is retryable here (the job waits for the unseal); so are 5xx, 429, timeouts and
 * network errors (VaultApi).
 */
import type { VaultClusterConfig } from '../config/schema.js';
import { CwError, ErrorCodes } from '../errors.js';
import { type ApiCallCounts, addCounts, emptyCounts } from '../sources/api-calls.js';
import { VaultApi, type VaultHttp } from '../sources/vault/api.js';
import type { Secret } from '../util/secret.js';
import type { VaultWritePort } from './ports.js';
import { VaultAppRoleWrites } from './vault-port-approle.js';
import { VaultKvWrites } from './vault-port-kv.js';
import { VaultLeaseWrites } from './vault-port-leases.js';
import type { VaultRun } from './vault-port-support.js';
import { VaultTokenWrites } from './vault-port-tokens.js';

/** A seal is transient for remediation: the job is retried once Vault is unsealed. */
function retryableSeal(err: unknown): never {
  if (err instanceof CwError && err.code === ErrorCodes.VAULT_SEALED && !err.retryable)
    throw new CwError(ErrorCodes.VAULT_SEALED, err.message, { retryable: true, cause: err });
  throw err;
}

export class VaultApiWritePort implements VaultWritePort {
  private readonly apis = new Map<string, VaultApi>();
  private readonly tokens: VaultTokenWrites;
  private readonly approle: VaultAppRoleWrites;
  private readonly kv: VaultKvWrites;
  private readonly leases: VaultLeaseWrites;

  constructor(private readonly apiFor: (cluster: string) => VaultApi) {
    const run: VaultRun = (cluster, fn) => this.run(cluster, fn);
    this.tokens = new VaultTokenWrites(run);
    this.approle = new VaultAppRoleWrites(run);
    this.kv = new VaultKvWrites(run);
    this.leases = new VaultLeaseWrites(run);
  }

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

  /**
   * The remediation token's own accessor in this cluster and namespace (lookup-self, read once),
   * so a rotation can refuse to replace it before it starts (revokeTokenAccessor refuses it too).
   * Not in VaultWritePort: a caller checks for it and refuses when a port lacks it.
   */
  ownAccessor(cluster: string, namespace: string): Promise<string | null> {
    return this.tokens.ownAccessor(cluster, namespace);
  }

  lookupTokenAccessor(cluster: string, namespace: string, accessor: string) {
    return this.tokens.lookupTokenAccessor(cluster, namespace, accessor);
  }

  revokeTokenAccessor(cluster: string, namespace: string, accessor: string): Promise<void> {
    return this.tokens.revokeTokenAccessor(cluster, namespace, accessor);
  }

  lookupSecretIdAccessor(cluster: string, namespace: string, mount: string, role: string, accessor: string) {
    return this.approle.lookupSecretIdAccessor(cluster, namespace, mount, role, accessor);
  }

  listSecretIdAccessors(cluster: string, namespace: string, mount: string, role: string): Promise<string[]> {
    return this.approle.listSecretIdAccessors(cluster, namespace, mount, role);
  }

  destroySecretIdAccessor(cluster: string, namespace: string, mount: string, role: string, accessor: string) {
    return this.approle.destroySecretIdAccessor(cluster, namespace, mount, role, accessor);
  }

  kvRead(cluster: string, namespace: string, mount: string, path: string, version?: number) {
    return this.kv.kvRead(cluster, namespace, mount, path, version);
  }

  kvWrite(cluster: string, namespace: string, mount: string, path: string, data: Record<string, unknown>, cas: number) {
    return this.kv.kvWrite(cluster, namespace, mount, path, data, cas);
  }

  readAppRole(cluster: string, namespace: string, mount: string, role: string) {
    return this.approle.readAppRole(cluster, namespace, mount, role);
  }

  readRoleId(cluster: string, namespace: string, mount: string, role: string) {
    return this.approle.readRoleId(cluster, namespace, mount, role);
  }

  createSecretId(cluster: string, namespace: string, mount: string, role: string, body: Record<string, unknown>) {
    return this.approle.createSecretId(cluster, namespace, mount, role, body);
  }

  approleLoginWorks(cluster: string, namespace: string, mount: string, roleId: string, secretId: Secret) {
    return this.approle.approleLoginWorks(cluster, namespace, mount, roleId, secretId);
  }

  secretIdValid(cluster: string, namespace: string, mount: string, role: string, secretId: Secret) {
    return this.approle.secretIdValid(cluster, namespace, mount, role, secretId);
  }

  createOrphanToken(cluster: string, namespace: string, body: Record<string, unknown>) {
    return this.tokens.createOrphanToken(cluster, namespace, body);
  }

  lookupSelfWith(cluster: string, namespace: string, token: Secret) {
    return this.tokens.lookupSelfWith(cluster, namespace, token);
  }

  listTokenAccessors(cluster: string, namespace: string) {
    return this.tokens.listTokenAccessors(cluster, namespace);
  }

  lookupLease(cluster: string, namespace: string, leaseId: string) {
    return this.leases.lookupLease(cluster, namespace, leaseId);
  }

  revokeLease(cluster: string, namespace: string, leaseId: string): Promise<void> {
    return this.leases.revokeLease(cluster, namespace, leaseId);
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
