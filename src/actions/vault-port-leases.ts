/**
 * VaultLeaseWrites: the lease calls of the Vault write port (vault-port.ts).
 * What the backend says about something that is not there (OpenBao 2.7 and Vault):
 * - sys/leases/lookup: 400 "invalid lease" → null; sys/leases/revoke with `sync: true`: 204, even
 *   for an unknown lease.
 */
import { lookupLease } from '../sources/vault/leases.js';
import type { VaultRun } from './vault-port-support.js';

export class VaultLeaseWrites {
  constructor(private readonly run: VaultRun) {}

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
