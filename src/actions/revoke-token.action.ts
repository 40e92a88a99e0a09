/**
 * revoke-token: revokes one Vault token by its accessor (`auth/token/revoke-accessor`), which
 * revokes the token's child tokens (and their leases) with it. Not reversible.
 *
 * Contract: plan() skips credwarden's own scanner token (`attributes.self`, set by the source) and
 * anything but a `vault-token` whose id matches its accessor; the port refuses to revoke the
 * remediation token it acts with. A root-policy token is revoked like any other. inspect() is one
 * lookup-accessor; "invalid accessor" (revoked, expired) is gone, so isDone and verify are "the
 * lookup found nothing". Calls: inspect 1 lookup-accessor; execute 1 revoke-accessor (plus 1
 * lookup-self per cluster and namespace, the first time); a re-run on a revoked token 1 lookup.
 */
import { z } from 'zod';
import type { ActionType } from './action-type.js';
import { vaultIds, vaultTokenTarget } from './vault-support.js';

const schema = z.strictObject({});

const strs = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : []);

export const revokeToken: ActionType = {
  name: 'revoke-token',
  description: 'Revoke a Vault token by its accessor, and with it every child token',
  docs:
    'Revokes exactly one Vault token through `auth/token/revoke-accessor`, by the accessor the scan ' +
    'recorded; the token value is never needed or read. Vault revokes the token together with all of its ' +
    'child tokens and their leases: whatever the token created goes too (an orphan token has no children, ' +
    'so only it goes). It never touches another token, a policy or a role, and it never revokes ' +
    "credwarden's own scanner token or the remediation token it acts with. Create both as orphans: " +
    'revoking a token they descend from would revoke them as well. A root-policy token is revoked like ' +
    'any other. An accessor Vault no longer knows is already done. Not reversible: a revoked token ' +
    'cannot be restored; the agent must log in again or be issued a new token.',
  example: `policies:
  - name: agent-token-never-expires
    description: Agent Vault tokens that never expire
    resource: { kinds: [vault-token], agents: ["*"] }
    rules: [{ type: never-expires }]
    severity: high
    mode: enforce
    remediation: [revoke-token]
`,
  schema,
  kinds: ['vault-token'],
  reversible: false,
  permissions: {
    aws: [],
    vault: [
      'auth/token/lookup-accessor: update',
      'auth/token/revoke-accessor: update',
      'auth/token/lookup-self: read (default policy)',
    ],
  },

  plan(cred) {
    if (cred.attributes.self === true)
      return { skip: `${cred.id} is credwarden's own scanner token (attributes.self): never revoked` };
    return vaultTokenTarget('revoke-token', cred);
  },

  async inspect(plan, ports) {
    const { cluster, namespace, accessor } = vaultIds(plan, ['accessor']);
    const t = await ports.vault.lookupTokenAccessor(cluster, namespace, accessor);
    if (!t) return { exists: false, facts: {} };
    return {
      exists: true,
      facts: {
        displayName: t.display_name ?? null,
        policies: strs(t.policies),
        orphan: t.orphan === true,
        type: t.type ?? null,
        expireTime: t.expire_time ?? null,
      },
    };
  },

  isDone: (_plan, state) => !state.exists,

  refuse: () => null,

  async execute(plan, ports) {
    const { cluster, namespace, accessor } = vaultIds(plan, ['accessor']);
    await ports.vault.revokeTokenAccessor(cluster, namespace, accessor);
  },

  verify: (_plan, state) => !state.exists,
};
