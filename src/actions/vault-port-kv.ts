/**
 * VaultKvWrites: the KV v2 calls of the Vault write port (vault-port.ts), where a rotation delivers
 * a new credential: a read of `<mount>/data/<path>` (one version or the current one) with every
 * string value wrapped as a Secret, and a check-and-set write whose Secrets are revealed only into
 * the request body (a mismatch is `{ conflict }`, never an overwrite).
 */
import { CwError, ErrorCodes } from '../errors.js';
import { VaultHttpError } from '../sources/vault/api.js';
import { Secret } from '../util/secret.js';
import { mountPath, type VaultRun } from './vault-port-support.js';

const CAS_MISMATCH = /check-and-set parameter did not match the current version/;

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

export class VaultKvWrites {
  constructor(private readonly run: VaultRun) {}

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
}
