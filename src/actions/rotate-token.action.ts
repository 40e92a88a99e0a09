/**
 * rotate-token: replaces exactly the detected Vault token with a new orphan token that copies it,
 * with no outage: the new token is created, proven, delivered to the agent's KV path with
 * check-and-set, proven again from there, given `graceHours` to be picked up, and only then is the
 * old one revoked. The steps are src/rotation/token.rotator.ts; this file gates the start like any
 * action.
 *
 * Contract: plan() skips credwarden's own scanner token (`attributes.self`); the rotator's prepare
 * refuses the remediation token it acts with. inspect() is one lookup-accessor. refuse(): gone, a
 * root token, a batch token, a token with a use limit.
 */
import type { ActionType } from './action-type.js';
import { notOneCall, type RotateParams, RotateParamsSchema } from './rotate-support.js';
import { vaultIds, vaultTokenTarget, where } from './vault-support.js';

const strs = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : []);

export const rotateToken: ActionType<RotateParams> = {
  name: 'rotate-token',
  description:
    'Replace the detected Vault token with a new orphan token that copies it, delivered to the agent, then revoke the old one.',
  docs:
    'Rotates exactly the Vault token detection recorded, in six resumable steps: prepare (the token is looked up ' +
    "by accessor; a root token, credwarden's own tokens, a batch token, a token with a use limit, one with no " +
    "policies or one that gets identity policies from an entity is never rotated; the agent's `delivery` KV v2 " +
    "path must hold that accessor or no token yet), create (`auth/token/create-orphan` with the old token's " +
    'policies, meta, display name, TTL, explicit max TTL, period, renewability and type, plus meta ' +
    '`credwarden_rotation=<rotation id>`; the token is held in memory only), deliver (the new token is proven ' +
    'with lookup-self: its accessor and policies; then written to KV with check-and-set, so the path never holds ' +
    'a token that does not work and a concurrent writer is detected, never overwritten), verify (the delivered ' +
    'version is read back and proven), adopt (Vault records no use of a token: `graceHours` after the ' +
    'verification), delete (the old token is revoked by accessor, with its child tokens, as revoke-token does). ' +
    'The new token is an orphan with no entity: it outlives the token that created it. The remediation token ' +
    'needs sudo on create-orphan (the new token copies policies credwarden does not hold) and may create any ' +
    'policy but root: grant it only where rotation is wanted. `afterDays` and `secondKey` do not apply. A ' +
    'worker killed at any point leaves a rotation the next one finishes: a new token whose value died with its ' +
    'worker is found by difference and its meta, revoked and created again. An agent with no `delivery` in the ' +
    'registry is never rotated. `actions rollback` before the delete writes the old token back to KV over ' +
    "credwarden's own version, proves it works and revokes the new one (the old token was never changed).",
  example: `policies:
  - name: agent-token-never-expires
    description: Agent Vault tokens that never expire are rotated
    resource: { kinds: [vault-token], agents: ["*"] }
    rules: [{ type: never-expires }]
    severity: high
    mode: enforce
    remediation:
      - action: rotate-token
        graceHours: 24
        pollMinutes: 60
`,
  schema: RotateParamsSchema,
  kinds: ['vault-token'],
  reversible: true,
  rotation: 'vault-token',
  permissions: {
    aws: [],
    vault: [
      'auth/token/lookup-accessor: update',
      'auth/token/lookup-self: read (default policy)',
      'auth/token/accessors: list, sudo (a token lost in a crash is found by difference)',
      'auth/token/create-orphan: update, sudo (sudo because the new token copies policies and a period credwarden does not hold)',
      'auth/token/revoke-accessor: update',
      '<delivery mount>/data/<delivery path>: read, create, update (KV v2, on the delivery cluster)',
    ],
  },

  plan(cred) {
    if (cred.attributes.self === true)
      return { skip: `${cred.id} is credwarden's own scanner token (attributes.self): never rotated` };
    return vaultTokenTarget('rotate-token', cred);
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
        numUses: typeof t.num_uses === 'number' ? t.num_uses : null,
        expireTime: t.expire_time ?? null,
      },
    };
  },

  // A rotation is never "already done" by the token's state: it replaces it.
  isDone: () => false,

  refuse(plan, state) {
    const ids = vaultIds(plan, ['accessor']);
    if (!state.exists) return `${where(ids)}: token ${ids.accessor} is gone (revoked or expired); nothing was changed`;
    if (strs(state.facts.policies).includes('root'))
      return `token ${ids.accessor} has the root policy: credwarden never mints a root token (revoke it with revoke-token)`;
    if (state.facts.type === 'batch') return `token ${ids.accessor} is a batch token: it cannot be revoked by accessor`;
    const uses = state.facts.numUses;
    if (typeof uses === 'number' && uses > 0)
      return `token ${ids.accessor} has a use limit (${uses} left): proving a new one would spend its uses`;
    return null;
  },

  execute: notOneCall,

  verify: () => false,
};
