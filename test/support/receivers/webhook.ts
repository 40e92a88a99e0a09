/**
 * A local Standard Webhooks consumer. Its verifier is written from the spec
 * (standard-webhooks/standard-webhooks, spec/standard-webhooks.md, "Verifying signatures"), and
 * deliberately shares no code with src/alerts/sign.ts, so a signing bug cannot verify itself:
 * - `webhook-id`, `webhook-timestamp` (integer Unix seconds) and `webhook-signature` are required;
 * - the timestamp must be within `toleranceSeconds` (default 5 minutes) of the receiver's clock,
 *   either way;
 * - the signature header is a space-separated list of `<version>,<base64>`; only `v1` entries
 *   count; each is compared in constant time (crypto.timingSafeEqual) with
 *   HMAC-SHA256(key, `${id}.${timestamp}.${raw body}`) for every secret it holds, the key being the
 *   base64 after `whsec_`;
 * - one match is enough (that is what makes secret rotation possible).
 * Records `verified` and a `reason`; answers 204 when verified, 401 otherwise.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { type Received, type Receiver, startReceiver } from './server.js';

export interface WebhookReceived extends Received {
  verified: boolean;
  reason: string;
}

export interface WebhookReceiverOptions {
  /** `whsec_…` secrets the consumer holds. */
  secrets: string[];
  now?: () => Date;
  toleranceSeconds?: number;
}

export function startWebhookReceiver(opts: WebhookReceiverOptions): Promise<Receiver<WebhookReceived>> {
  const keys = opts.secrets.map((s) => Buffer.from(s.replace(/^whsec_/, ''), 'base64'));
  const now = opts.now ?? (() => new Date());
  const tolerance = opts.toleranceSeconds ?? 300;
  return startReceiver<WebhookReceived>({
    inspect: (base) => {
      const reason = verify(base.headers, base.rawBytes, keys, now(), tolerance);
      return { ...base, verified: reason === 'ok', reason };
    },
    natural: (req) => (req.verified ? { status: 204 } : { status: 401, body: req.reason }),
    bodyFor: (status) => (status < 300 ? undefined : `scripted ${status}`),
  });
}

/** The brief's name for it. */
export const start = startWebhookReceiver;

function verify(
  headers: Record<string, string | string[] | undefined>,
  rawBody: Buffer,
  keys: Buffer[],
  now: Date,
  toleranceSeconds: number,
): string {
  const id = one(headers['webhook-id']);
  const ts = one(headers['webhook-timestamp']);
  const sigHeader = one(headers['webhook-signature']);
  if (!id || !ts || !sigHeader) return 'missing webhook-id, webhook-timestamp or webhook-signature';
  if (!/^\d+$/.test(ts)) return 'webhook-timestamp is not integer seconds';
  const skew = Math.floor(now.getTime() / 1000) - Number(ts);
  if (skew > toleranceSeconds) return 'timestamp too old';
  if (skew < -toleranceSeconds) return 'timestamp too new';

  const signed = Buffer.concat([Buffer.from(`${id}.${ts}.`, 'utf8'), rawBody]);
  const expected = keys.map((k) => createHmac('sha256', k).update(signed).digest());
  for (const entry of sigHeader.split(' ')) {
    const comma = entry.indexOf(',');
    if (comma === -1 || entry.slice(0, comma) !== 'v1') continue;
    const given = Buffer.from(entry.slice(comma + 1), 'base64');
    for (const want of expected) {
      // timingSafeEqual throws on unequal lengths; a truncated signature is simply no match.
      if (given.length === want.length && timingSafeEqual(given, want)) return 'ok';
    }
  }
  return 'no matching signature';
}

function one(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}
