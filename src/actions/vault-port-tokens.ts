/**
 * VaultTokenWrites: the token calls of the Vault write port (vault-port.ts): lookup and revoke by
 * accessor, orphan tokens, lookup-self signed with a given token, and the accessor list.
 * What the backend says about something that is not there (OpenBao 2.7 and Vault):
 * - lookup-accessor: 400 "invalid accessor" → null; revoke-accessor: 200 with the warning "No token
 *   found with this accessor" (Vault < 1.10: 400 "invalid accessor") → nothing to revoke, success.
 * The port never revokes the token it acts with: revokeTokenAccessor reads its own accessor
 * (lookup-self, once per cluster and namespace) and throws GUARDRAIL on a match.
 */
import { CwError, ErrorCodes } from '../errors.js';
import { type VaultApi, VaultHttpError } from '../sources/vault/api.js';
import { lookupAccessor, lookupSelfAccessor } from '../sources/vault/tokens.js';
import { Secret } from '../util/secret.js';
import { str, type VaultRun } from './vault-port-support.js';

export class VaultTokenWrites {
  /** The remediation token's own accessor, per cluster and namespace (lookup-self, read once). */
  private readonly selfAccessors = new Map<string, Promise<string | null>>();

  constructor(private readonly run: VaultRun) {}

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

  /** The remediation token's own accessor in this cluster and namespace (lookup-self, read once). */
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
}
