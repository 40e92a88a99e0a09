/**
 * revoke-lease: revokes one Vault lease by its id (`sys/leases/revoke` with `sync: true`), so the
 * secrets engine has deleted the credential behind it (the database user, the IAM user) by the
 * time the call returns. Not reversible.
 *
 * Contract: plan() takes a `vault-lease` whose id matches its lease id; inspect() is one
 * `sys/leases/lookup` ("invalid lease": revoked or expired, so gone); isDone and verify are "the
 * lookup found nothing". Never revoke-prefix, never revoke-force (which drops the lease even when
 * the backend could not delete the credential). Calls: inspect 1 lookup; execute 1 revoke.
 */
import { z } from 'zod';
import type { ActionType } from './action-type.js';
import { vaultIds, vaultLeaseTarget } from './vault-support.js';

const schema = z.strictObject({});

export const revokeLease: ActionType = {
  name: 'revoke-lease',
  description: 'Revoke one Vault lease, synchronously, so the dynamic credential behind it is deleted',
  docs:
    'Revokes exactly one Vault lease through `sys/leases/revoke` with `sync: true`: Vault returns only once ' +
    'the secrets engine has deleted the dynamic credential behind the lease (a database role, an IAM user ' +
    'or its keys), and an engine failure is reported instead of being queued and retried in the background. ' +
    'It never uses revoke-prefix or revoke-force, so no other lease is touched and no lease is dropped while ' +
    'its credential lives on. A lease Vault no longer knows is already done. Not reversible: the agent must ' +
    'request a new credential from the engine.',
  example: `policies:
  - name: agent-lease-never-expires
    description: Agent dynamic-credential leases with no expiry
    resource: { kinds: [vault-lease], agents: ["*", unregistered] }
    rules: [{ type: never-expires }]
    severity: high
    mode: enforce
    remediation: [revoke-lease]
`,
  schema,
  kinds: ['vault-lease'],
  reversible: false,
  permissions: { aws: [], vault: ['sys/leases/lookup: update', 'sys/leases/revoke: update'] },

  plan: (cred) => vaultLeaseTarget('revoke-lease', cred),

  async inspect(plan, ports) {
    const { cluster, namespace, leaseId } = vaultIds(plan, ['leaseId']);
    const d = await ports.vault.lookupLease(cluster, namespace, leaseId);
    if (!d) return { exists: false, facts: {} };
    return {
      exists: true,
      facts: { issueTime: d.issue_time ?? null, expireTime: d.expire_time ?? null, renewable: d.renewable ?? null },
    };
  },

  isDone: (_plan, state) => !state.exists,

  refuse: () => null,

  async execute(plan, ports) {
    const { cluster, namespace, leaseId } = vaultIds(plan, ['leaseId']);
    await ports.vault.revokeLease(cluster, namespace, leaseId);
  },

  verify: (_plan, state) => !state.exists,
};
