/**
 * Delivery: where an agent reads its credential (agents.yaml `delivery`), always a KV v2 secret
 * written with check-and-set, optionally announced to a webhook (a signed reference, never the
 * secret). What a rotation writes, per kind:
 *
 *   aws-key            access_key_id, secret_access_key (or `field`)
 *   approle-secret-id  secret_id_accessor, secret_id (or `field`)
 *   vault-token        accessor, token (or `field`)
 *
 * plus `credwarden_rotation` (the rotation's id) so a resumed rotation can tell its own write
 * from anyone else's. Other fields of the secret (a region, a role_id) are kept as they were.
 */
import type { ActionPorts } from '../actions/ports.js';
import { type DeliveryTarget, kvOf, type RotationProgress } from '../model/rotation.js';
import { Secret } from '../util/secret.js';

export const ROTATION_FIELD = 'credwarden_rotation';

const FIELDS: Record<RotationProgress['kind'], { id: string; secret: string }> = {
  'aws-key': { id: 'access_key_id', secret: 'secret_access_key' },
  'approle-secret-id': { id: 'secret_id_accessor', secret: 'secret_id' },
  'vault-token': { id: 'accessor', secret: 'token' },
};

export const fieldsFor = (kind: RotationProgress['kind'], d: DeliveryTarget): { id: string; secret: string } => ({
  id: FIELDS[kind].id,
  secret: kvOf(d).field ?? FIELDS[kind].secret,
});

const reveal = (v: unknown): string | null => (v instanceof Secret ? v.reveal() : typeof v === 'string' ? v : null);

export interface KvSnapshot {
  version: number;
  data: Record<string, unknown> | null;
}

/** The current version of the delivery secret (null: none yet). */
export async function readDelivery(
  ports: ActionPorts,
  d: DeliveryTarget,
  version?: number,
): Promise<KvSnapshot | null> {
  const kv = kvOf(d);
  return ports.vault.kvRead(kv.cluster, kv.namespace, kv.mount, kv.path, version);
}

/** Which credential a KV version holds (its id field; not a secret), and which rotation wrote it. */
export function heldIn(
  kind: RotationProgress['kind'],
  d: DeliveryTarget,
  snap: KvSnapshot | null,
): { credentialId: string | null; rotation: string | null; secret: Secret | null } {
  const f = fieldsFor(kind, d);
  const data = snap?.data ?? null;
  const secret = data?.[f.secret];
  return {
    credentialId: reveal(data?.[f.id]),
    rotation: reveal(data?.[ROTATION_FIELD]),
    secret: secret instanceof Secret ? secret : null,
  };
}

/**
 * Writes the new credential over version `cas` (0: the secret does not exist yet), keeping the
 * other fields of `base` (the version being replaced).
 */
export async function writeDelivery(
  ports: ActionPorts,
  kind: RotationProgress['kind'],
  d: DeliveryTarget,
  base: KvSnapshot | null,
  cred: { id: string; secret: Secret },
  rotationId: string,
): Promise<{ version: number } | { conflict: string }> {
  const kv = kvOf(d);
  const f = fieldsFor(kind, d);
  const data = { ...(base?.data ?? {}), [f.id]: cred.id, [f.secret]: cred.secret, [ROTATION_FIELD]: rotationId };
  return ports.vault.kvWrite(kv.cluster, kv.namespace, kv.mount, kv.path, data, base?.version ?? 0);
}

/** Writes an earlier version's data back as a new version (rollback), over version `cas`. */
export async function restoreDelivery(
  ports: ActionPorts,
  d: DeliveryTarget,
  old: KvSnapshot,
  cas: number,
): Promise<{ version: number } | { conflict: string }> {
  const kv = kvOf(d);
  return ports.vault.kvWrite(kv.cluster, kv.namespace, kv.mount, kv.path, old.data ?? {}, cas);
}
