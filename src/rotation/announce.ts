/**
 * Webhook delivery: after a rotation writes the new credential to its KV store, a signed
 * (Standard Webhooks) POST tells the agent's platform where to pull it from. The body carries a
 * reference (cluster, namespace, mount, path, version) and ids, never the secret.
 *
 * `webhook-id` is `<rotation id>.v<version>` with the dots Standard Webhooks forbids replaced, so
 * a retried announcement is the same message to the receiver. A 2xx is success; 429, 5xx and no
 * response are retried (the deliver step throws a retryable error, and its retry finds the KV
 * write already made and announces again); any other status stops the rotation with that status.
 */
import { signStandardWebhook } from '../alerts/sign.js';
import { postJson } from '../alerts/sinks/http.js';
import { CwError, ErrorCodes } from '../errors.js';
import type { ActionRecord } from '../model/action.js';

export const ROTATION_WEBHOOK_TYPE = 'credwarden.credential-rotated';

export interface AnnounceBody {
  type: typeof ROTATION_WEBHOOK_TYPE;
  rotationId: string;
  agentId: string | null;
  /** The credential that was replaced, and the new one's id (an access key id or accessor; never a secret). */
  credentialId: string;
  newId: string | null;
  secretRef: { cluster: string; namespace: string; mount: string; path: string; version: number };
  at: string;
}

export function announceBody(rec: ActionRecord, version: number, at: Date): AnnounceBody {
  const d = rec.plan.delivery;
  if (d?.type !== 'webhook') throw new CwError(ErrorCodes.INTERNAL, `action ${rec.plan.id} has no webhook delivery`);
  const kv = d.store;
  return {
    type: ROTATION_WEBHOOK_TYPE,
    rotationId: rec.plan.id,
    agentId: rec.plan.agentId,
    credentialId: rec.plan.target.credentialId,
    newId: rec.rotation?.newId ?? null,
    secretRef: { cluster: kv.cluster, namespace: kv.namespace, mount: kv.mount, path: kv.path, version },
    at: at.toISOString(),
  };
}

export function webhookAnnouncer(
  env: NodeJS.ProcessEnv,
  now: () => Date,
  opts: { timeoutMs?: number; fetchImpl?: typeof fetch } = {},
) {
  return async (rec: ActionRecord, version: number): Promise<void> => {
    const d = rec.plan.delivery;
    if (d?.type !== 'webhook') return;
    const secret = env[d.signingSecretEnv];
    if (!secret)
      throw new CwError(
        ErrorCodes.CONFIG,
        `agent ${rec.plan.agentId ?? '?'}: delivery.webhook.signingSecretEnv ${d.signingSecretEnv} is not set, so the announcement cannot be signed`,
      );
    const at = now();
    const body = JSON.stringify(announceBody(rec, version, at));
    const id = `${rec.plan.id}-v${version}`;
    const timestamp = Math.floor(at.getTime() / 1000);
    const headers = {
      'webhook-id': id,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': signStandardWebhook({ id, timestamp, body, secrets: [secret] }),
    };
    const r = await postJson(d.url, headers, body, opts.timeoutMs ?? 10_000, opts.fetchImpl ?? fetch, [secret]);
    if (r.ok) return;
    throw new CwError(
      r.status === null ? ErrorCodes.UNREACHABLE : ErrorCodes.INPUT,
      `webhook ${new URL(d.url).host}: ${r.detail}`,
      {
        retryable: r.retryable,
      },
    );
  };
}
