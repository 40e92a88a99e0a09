/**
 * VaultAppRoleWrites: the AppRole calls of the Vault write port (vault-port.ts): a role's
 * configuration and role_id, its secret IDs (lookup and list by accessor, destroy, create, lookup
 * by value), and a login that proves a role_id and secret ID work together.
 * What the backend says about something that is not there (OpenBao 2.7 and Vault):
 * - secret-id-accessor/lookup: a raw-envelope 404 with `data.error`, or 204 when the accessor
 *   belongs to another role → null; an unknown role is 500 "role … does not exist" on lookup and 400
 *   on LIST, an absent mount a 404 with errors: both read as "nothing there" (null, []).
 */
import { CwError, ErrorCodes } from '../errors.js';
import { isUnknownPath, type VaultApi, VaultHttpError } from '../sources/vault/api.js';
import { lookupSecretId } from '../sources/vault/approle.js';
import { Secret } from '../util/secret.js';
import { mountPath, str, type VaultRun } from './vault-port-support.js';

const INVALID_LOGIN = /invalid role or secret ID|invalid secret id|failed to validate credentials/i;
const NO_ROLE = /role "[^"]*" does not exist/;

/** An absent mount (404 with errors) or role ("role … does not exist"): nothing of it exists. */
const roleOrMountAbsent = (err: unknown): boolean =>
  isUnknownPath(err) || (err instanceof VaultHttpError && NO_ROLE.test(err.message));

export class VaultAppRoleWrites {
  constructor(private readonly run: VaultRun) {}

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
}
