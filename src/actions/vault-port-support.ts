/**
 * What the Vault write port's parts (vault-port-*.ts) share: the runner vault-port.ts hands each of
 * them (a call on one cluster's VaultApi, a seal made retryable), the mount path as the API takes
 * it, and the non-empty string reading of a response value.
 */
import type { VaultApi } from '../sources/vault/api.js';

/** Runs `fn` on the cluster's VaultApi (built on first use); a sealed Vault throws a retryable CwError. */
export type VaultRun = <T>(cluster: string, fn: (api: VaultApi) => Promise<T>) => Promise<T>;

export const mountPath = (m: string): string => m.replace(/^\/+|\/+$/g, '');
export const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);
