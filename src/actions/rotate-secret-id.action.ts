/**
 * rotate-secret-id: replaces exactly the detected AppRole secret ID with a new one for the same
 * role, with no outage: the new secret ID is issued, proven, delivered to the agent's KV path with
 * check-and-set, proven again from there, given `graceHours` to be picked up, and only then is the
 * old one destroyed. The steps are src/rotation/secret-id.rotator.ts; this file gates the start
 * (the role still lists the accessor, CVE-2023-24999) like any action.
 *
 * Contract: inspect() is destroy-secret-id's (1 LIST + 1 lookup): the secret ID exists when the
 * role lists it and the lookup finds it. refuse(): gone, or not listed by the role.
 */
import type { ActionPlan, TargetState } from '../model/action.js';
import type { ActionType } from './action-type.js';
import { destroySecretId } from './destroy-secret-id.action.js';
import { notOneCall, type RotateParams, RotateParamsSchema } from './rotate-support.js';
import { vaultIds, vaultSecretIdTarget, where } from './vault-support.js';

const KEYS = ['mount', 'role', 'secretIdAccessor'] as const;

function why(plan: ActionPlan, state: TargetState): string | null {
  if (state.exists) return null;
  const ids = vaultIds(plan, KEYS);
  if (state.facts.found === true)
    return (
      `${where(ids)}: secret ID accessor ${ids.secretIdAccessor} is not listed under AppRole role "${ids.role}" ` +
      `on auth/${ids.mount}: credwarden rotates only a secret ID the role itself lists (CVE-2023-24999); nothing was changed`
    );
  return `${where(ids)}: secret ID ${ids.secretIdAccessor} of AppRole role "${ids.role}" on auth/${ids.mount} is gone (destroyed or expired); nothing was changed`;
}

export const rotateSecretId: ActionType<RotateParams> = {
  name: 'rotate-secret-id',
  description:
    'Replace the detected AppRole secret ID with a new one for the same role, delivered to the agent, then destroy the old one.',
  docs:
    'Rotates exactly the AppRole secret ID detection recorded, in six resumable steps: prepare (the role still ' +
    "lists the accessor, and the agent's `delivery` KV v2 path holds that accessor or no secret ID yet), create " +
    "(a new secret ID for the same role only, copying the old one's `cidr_list`, `token_bound_cidrs` and " +
    "metadata, with `credwarden_rotation=<rotation id>` added to the metadata; its TTL and uses are the role's; " +
    'the secret is held in memory only), deliver (the new secret ID is proven with an AppRole login whose token ' +
    'is revoked at once, or, when the uses are limited or a CIDR binding applies, with a lookup by value that ' +
    'spends no use; then written to KV with check-and-set, so the path never holds a secret ID that does not ' +
    'work and a concurrent writer is detected, never overwritten), verify (the delivered version is read back ' +
    'and proven), adopt (Vault records no use of a secret ID: `graceHours` after the verification), delete (the ' +
    'old accessor is destroyed, after the role is shown to list it). It never touches the role, its role ID, ' +
    'other secret IDs, or tokens already issued with the old secret ID (revoke those with revoke-token); ' +
    '`afterDays` and `secondKey` do not apply. A worker killed at any point leaves a rotation the next one ' +
    'finishes: a new secret ID whose value died with its worker is found by its metadata, destroyed and issued ' +
    'again. An agent with no `delivery` in the registry is never rotated. `actions rollback` before the delete ' +
    "writes the old secret ID back to KV over credwarden's own version, proves it works and destroys the new one.",
  example: `policies:
  - name: agent-secret-id-never-expires
    description: Agent AppRole secret IDs issued without a TTL are rotated
    resource: { kinds: [vault-approle-secret-id], agents: ["*"] }
    rules: [{ type: never-expires }]
    severity: high
    mode: enforce
    remediation:
      - action: rotate-secret-id
        graceHours: 24
        pollMinutes: 60
`,
  schema: RotateParamsSchema,
  kinds: ['vault-approle-secret-id'],
  reversible: true,
  rotation: 'approle-secret-id',
  permissions: {
    aws: [],
    vault: [
      'auth/<approle mount>/role/+: read (bind_secret_id, secret_id_num_uses, secret_id_bound_cidrs)',
      'auth/<approle mount>/role/+/role-id: read (the proving login)',
      'auth/<approle mount>/role/+/secret-id: list, update (list the accessors; issue the new secret ID)',
      'auth/<approle mount>/role/+/secret-id-accessor/lookup: update',
      'auth/<approle mount>/role/+/secret-id/lookup: update (proof by value when a login would spend a use)',
      'auth/<approle mount>/role/+/secret-id-accessor/destroy: update',
      'auth/token/revoke-accessor: update',
      '<delivery mount>/data/<delivery path>: read, create, update (KV v2, on the delivery cluster)',
    ],
  },

  plan: (cred) => vaultSecretIdTarget('rotate-secret-id', cred),

  // The same read as destroy-secret-id: listed under the role (CVE-2023-24999) and looked up.
  inspect: destroySecretId.inspect,

  // A rotation is never "already done" by the secret ID's state: it replaces it.
  isDone: () => false,

  refuse: (plan, state) => why(plan, state),

  execute: notOneCall,

  verify: () => false,
};
