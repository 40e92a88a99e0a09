/**
 * Pure helpers for the Vault actions: the exact target of a Vault credential, and the ids read
 * back from a plan. A target carries, in `identity`, the cluster and the namespace ('' for the
 * root namespace, else the path decoded from the id's segment: `a%2Fb` → `a/b`) plus what the
 * backend calls take: `accessor` (token); `mount`, `role`, `secretIdAccessor` (AppRole secret ID);
 * `leaseId` (lease).
 *
 * Exact-id check: the credential's id is rebuilt from those attributes with model/ids.ts and must
 * equal the id it carries (and its `source` must be `<cluster>/<namespace segment>`), so a target
 * is never assembled from attributes that disagree with the id detection keyed it by. A
 * credential of another kind or source, or lacking a value, gives `{ skip: reason }`.
 */
import { CwError, ErrorCodes } from '../errors.js';
import type { ActionPlan, ActionTarget } from '../model/action.js';
import type { Credential, CredentialKind } from '../model/credential.js';
import { vaultLeaseId, vaultNamespaceSegment, vaultSecretIdId, vaultTokenId } from '../model/ids.js';
import type { PlanOutcome } from './action-type.js';

export interface VaultLocation {
  cluster: string;
  /** '' for the root namespace. */
  namespace: string;
}

/** Cluster and namespace from `vault/<cluster>/<segment>/…`, or why the id has none. */
export function vaultLocation(cred: Credential): VaultLocation | string {
  const parts = cred.id.split('/');
  if (cred.sourceType !== 'vault' || parts[0] !== 'vault' || parts.length < 5)
    return `"${cred.id}" is not a Vault credential id (vault/<cluster>/<namespace>/<kind>/…)`;
  const cluster = parts[1]!;
  const seg = parts[2]!;
  const namespace = seg === 'root' ? '' : seg.replace(/%2F/g, '/');
  if (
    cluster === '' ||
    vaultNamespaceSegment(namespace) !== seg ||
    (namespace !== '' && namespace.split('/').includes(''))
  )
    return `"${cred.id}": "${seg}" is not a namespace segment`;
  if (cred.source !== `${cluster}/${seg}`)
    return `"${cred.id}": source "${cred.source}" is not ${cluster}/${seg}, the cluster and namespace of its id`;
  return { cluster, namespace };
}

/** A non-empty string attribute, or null. */
const text = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);

/** `{ target }` for `kind` with `ids` after the location, or `{ skip }` naming what is wrong. */
function vaultTarget(
  action: string,
  cred: Credential,
  kind: CredentialKind,
  attrs: Record<string, unknown>,
  idOf: (loc: VaultLocation, ids: Record<string, string>) => string,
): PlanOutcome {
  if (cred.kind !== kind) return { skip: `${action} acts on ${kind} credentials, not ${cred.kind}` };
  const loc = vaultLocation(cred);
  if (typeof loc === 'string') return { skip: loc };
  const ids: Record<string, string> = {};
  for (const [key, value] of Object.entries(attrs)) {
    const v = text(value);
    if (v === null) return { skip: `${cred.id}: attributes.${key} is missing, so there is no exact target` };
    ids[key] = v;
  }
  const expected = idOf(loc, ids);
  if (expected !== cred.id)
    return { skip: `${cred.id}: its attributes name ${expected}, not this id; refusing to guess the target` };
  return {
    target: {
      credentialId: cred.id,
      kind: cred.kind,
      sourceType: 'vault',
      source: cred.source,
      principal: cred.principal,
      identity: { cluster: loc.cluster, namespace: loc.namespace, ...ids },
    },
  };
}

export function vaultTokenTarget(action: string, cred: Credential): PlanOutcome {
  return vaultTarget(action, cred, 'vault-token', { accessor: cred.attributes.accessor }, (l, i) =>
    vaultTokenId(l.cluster, l.namespace, i.accessor!),
  );
}

export function vaultSecretIdTarget(action: string, cred: Credential): PlanOutcome {
  const a = cred.attributes;
  return vaultTarget(
    action,
    cred,
    'vault-approle-secret-id',
    { mount: a.mount, role: a.role, secretIdAccessor: a.secretIdAccessor },
    (l, i) => vaultSecretIdId(l.cluster, l.namespace, i.mount!, i.role!, i.secretIdAccessor!),
  );
}

export function vaultLeaseTarget(action: string, cred: Credential): PlanOutcome {
  return vaultTarget(action, cred, 'vault-lease', { leaseId: cred.attributes.leaseId }, (l, i) =>
    vaultLeaseId(l.cluster, l.namespace, i.leaseId!),
  );
}

/** The target of an action that touches nothing (notify-owner): the credential, no backend ids. */
export function credentialTarget(cred: Credential): ActionTarget {
  return {
    credentialId: cred.id,
    kind: cred.kind,
    sourceType: cred.sourceType,
    source: cred.source,
    principal: cred.principal,
    identity: {},
  };
}

/**
 * The plan's cluster, namespace and `keys`, read back from `target.identity`. A plan without
 * them was not made by this action's plan(): CwError(INTERNAL) naming the plan and the key.
 */
export function vaultIds<K extends string>(
  plan: ActionPlan,
  keys: readonly K[],
): VaultLocation & { [key in K]: string } {
  const id = plan.target.identity;
  const get = (key: string, allowEmpty = false): string => {
    const v = id[key];
    if (typeof v !== 'string' || (v === '' && !allowEmpty))
      throw new CwError(ErrorCodes.INTERNAL, `plan ${plan.id} (${plan.action}): target.identity.${key} is missing`);
    return v;
  };
  const out: Record<string, string> = { cluster: get('cluster'), namespace: get('namespace', true) };
  for (const k of keys) out[k] = get(k);
  return out as VaultLocation & { [key in K]: string };
}

/** "vault main namespace team-a" / "vault main", for messages. */
export const where = (ids: VaultLocation): string =>
  `vault ${ids.cluster}${ids.namespace ? ` namespace ${ids.namespace}` : ''}`;
