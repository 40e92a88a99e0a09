/**
 * The Rotation noun (DESIGN "The nouns"): replacing one credential with a new one without an
 * outage. One rotation is one action record (its id is the plan's deterministic id) whose
 * `rotation` field holds the progress below; every step is idempotent and resumable from it.
 *
 * Never a secret here: the new credential's secret lives in process memory from its creation
 * until it is written to the delivery target, and is read back from there (never from Redis) by
 * the steps that need it.
 */

/** The steps in order; a kind skips the ones it has no use for (a secret ID has no Inactive state). */
export type RotationStep = 'prepare' | 'create' | 'deliver' | 'verify' | 'adopt' | 'deactivate' | 'delete';

export const ROTATION_STEPS: readonly RotationStep[] = [
  'prepare',
  'create',
  'deliver',
  'verify',
  'adopt',
  'deactivate',
  'delete',
];

/** Where an agent reads its credential: a KV v2 secret, optionally announced to a webhook. */
export interface VaultDelivery {
  type: 'vault';
  cluster: string;
  namespace: string;
  /** KV v2 mount, e.g. `secret`. */
  mount: string;
  /** The secret's path inside the mount, e.g. `agents/invoice-bot/aws`. */
  path: string;
  /** The field that holds the secret value (default per kind: secret_access_key, secret_id, token). */
  field?: string;
}

export interface WebhookDelivery {
  type: 'webhook';
  url: string;
  /** The name of the env variable that holds the Standard Webhooks signing secret (whsec_…). */
  signingSecretEnv: string;
  /** Where the credential is written; the webhook carries this reference and the version, never the secret. */
  store: VaultDelivery;
}

export type DeliveryTarget = VaultDelivery | WebhookDelivery;

/** The KV location a delivery writes to. */
export const kvOf = (d: DeliveryTarget): VaultDelivery => (d.type === 'vault' ? d : d.store);

export const describeDelivery = (d: DeliveryTarget): string => {
  const kv = kvOf(d);
  const where = `vault ${kv.cluster}${kv.namespace && kv.namespace !== 'root' ? `/${kv.namespace}` : ''} ${kv.mount}/${kv.path}`;
  return d.type === 'webhook' ? `${where}, announced to ${d.url}` : where;
};

export interface RotationProgress {
  kind: 'aws-key' | 'approle-secret-id' | 'vault-token';
  /** The next step to run; `complete` when nothing is left. */
  step: RotationStep | 'complete';
  /** Steps finished, in order, with when. */
  done: { step: RotationStep; at: string; detail: string }[];
  /** How many times each step was attempted (its events are keyed by it). */
  tries: Partial<Record<RotationStep | 'rollback', number>>;
  delivery: DeliveryTarget;
  /** The KV version (0: none) and the credential id it held when the rotation began. */
  kvBefore?: { version: number; credentialId: string | null };
  /** Credential ids on the principal just before `create` (a crash mid-create finds the new one by difference). */
  priorIds?: string[];
  /** The new credential: access key id, or secret-ID / token accessor. Never its secret. */
  newId?: string;
  newCreatedAt?: string;
  /** New credentials abandoned because their secret was lost before delivery (retired). */
  orphans: string[];
  /** A second key deleted in `prepare` to make room (id, and why that was allowed). */
  secondKeyDeleted?: { id: string; reason: string };
  delivered?: { version: number; at: string };
  verifiedAt?: string;
  /** Adoption: the deadline and what was observed. */
  adopt?: {
    deadline: string;
    /** The new credential's last use as the backend reported it right after verification. */
    newLastUsedAtVerify: string | null;
    /** The old credential's last use at the previous check (no longer moving = unchanged). */
    oldLastUsed: string | null;
    checks: number;
    observed?: 'used' | 'grace-elapsed';
  };
  deactivatedAt?: string;
  /** The old credential is deleted from this time on. */
  deleteAfter?: string;
  /** A rotation that waits (adoption, afterDays, a kill switch) runs again at this time. */
  nextAt?: string;
  waiting?: string;
  /** Why the rotation stopped for good, when it did. */
  stopped?: string;
}
