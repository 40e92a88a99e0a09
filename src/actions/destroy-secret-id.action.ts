/**
 * destroy-secret-id: destroys one AppRole secret ID by its accessor
 * (`auth/<mount>/role/<role>/secret-id-accessor/destroy`), after proving the role owns it.
 * Not reversible.
 *
 * Contract: inspect() lists the role's secret-id accessors and looks the accessor up under that
 * role: `ownedByRole` is "the role lists it", `found` is "the lookup returned data", and the
 * secret ID exists when both hold. Vault before 1.13.0 / 1.12.4 / 1.11.8 / 1.10.11 did not check
 * that an accessor belongs to the role in the destroy path (CVE-2023-24999), so credwarden checks
 * itself: refuse() (and execute(), again) stops when the role does not list the accessor. isDone
 * and verify: neither listed nor found. OpenBao 2.7 checks ownership on lookup too (204 under
 * another role), so there a wrong-role target reads as not there at all. Calls: inspect 1 LIST +
 * 1 lookup; execute 1 destroy.
 */
import { z } from 'zod';
import { CwError, ErrorCodes } from '../errors.js';
import type { ActionPlan, TargetState } from '../model/action.js';
import type { ActionType } from './action-type.js';
import { vaultIds, vaultSecretIdTarget, where } from './vault-support.js';

const schema = z.strictObject({});
const KEYS = ['mount', 'role', 'secretIdAccessor'] as const;

function notOwned(plan: ActionPlan, state: TargetState): string | null {
  if (state.facts.ownedByRole === true) return null;
  const ids = vaultIds(plan, KEYS);
  return (
    `${where(ids)}: secret ID accessor ${ids.secretIdAccessor} is not listed under AppRole role ` +
    `"${ids.role}" on auth/${ids.mount}: credwarden destroys only an accessor the role itself lists ` +
    "(Vault before 1.13.0 / 1.12.4 / 1.11.8 / 1.10.11 let this path destroy another role's secret ID, CVE-2023-24999)"
  );
}

export const destroySecretId: ActionType = {
  name: 'destroy-secret-id',
  description: 'Destroy one AppRole secret ID by its accessor, once the role is shown to own it',
  docs:
    'Destroys exactly one AppRole secret ID through `auth/<mount>/role/<role>/secret-id-accessor/destroy`, ' +
    'by the accessor the scan recorded; the secret ID value is never needed or read. Before acting it lists ' +
    "the role's secret-id accessors and refuses unless the accessor is among them: Vault before 1.13.0 " +
    '(CVE-2023-24999) did not check that an accessor belongs to the role in the path, so a wrong path could ' +
    "destroy another role's secret ID. It never touches the role, its role ID or its other secret IDs, and " +
    'it does not revoke tokens already issued with the secret ID (revoke those with revoke-token). Not ' +
    'reversible: a destroyed secret ID cannot be restored; issue a new one with `auth/<mount>/role/<role>/secret-id`.',
  example: `policies:
  - name: agent-secret-id-never-expires
    description: Agent AppRole secret IDs issued without a TTL
    resource: { kinds: [vault-approle-secret-id], agents: ["*"] }
    rules: [{ type: never-expires }]
    severity: high
    mode: enforce
    remediation: [destroy-secret-id]
`,
  schema,
  kinds: ['vault-approle-secret-id'],
  reversible: false,
  permissions: {
    aws: [],
    vault: [
      'auth/<approle mount>/role/+/secret-id: list',
      'auth/<approle mount>/role/+/secret-id-accessor/lookup: update',
      'auth/<approle mount>/role/+/secret-id-accessor/destroy: update',
    ],
  },

  plan: (cred) => vaultSecretIdTarget('destroy-secret-id', cred),

  async inspect(plan, ports) {
    const { cluster, namespace, mount, role, secretIdAccessor } = vaultIds(plan, KEYS);
    const listed = await ports.vault.listSecretIdAccessors(cluster, namespace, mount, role);
    const sd = await ports.vault.lookupSecretIdAccessor(cluster, namespace, mount, role, secretIdAccessor);
    const ownedByRole = listed.includes(secretIdAccessor);
    return {
      exists: ownedByRole && sd !== null,
      facts: {
        ownedByRole,
        found: sd !== null,
        ...(sd
          ? {
              creationTime: sd.creation_time ?? null,
              expirationTime: sd.expiration_time ?? null,
              remainingUses: sd.secret_id_num_uses ?? null,
            }
          : {}),
      },
    };
  },

  isDone: (_plan, state) => state.facts.ownedByRole !== true && state.facts.found !== true,

  refuse: (plan, state) => notOwned(plan, state),

  async execute(plan, ports, state) {
    const why = notOwned(plan, state);
    if (why) throw new CwError(ErrorCodes.GUARDRAIL, why);
    const { cluster, namespace, mount, role, secretIdAccessor } = vaultIds(plan, KEYS);
    await ports.vault.destroySecretIdAccessor(cluster, namespace, mount, role, secretIdAccessor);
  },

  verify: (_plan, state) => state.facts.ownedByRole !== true && state.facts.found !== true,
};
