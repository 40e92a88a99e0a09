/**
 * Standard Webhooks signing (standard-webhooks/standard-webhooks, spec/standard-webhooks.md, v1.0.0).
 *
 * Contract:
 * - signed content is `${id}.${timestamp}.${body}`: the webhook-id, the webhook-timestamp (integer
 *   Unix seconds, the time of this attempt) and the exact body bytes sent;
 * - the key is the base64 after the `whsec_` prefix, decoded to bytes (at least 24);
 * - the header value is one `v1,<base64 HMAC-SHA256>` per secret, space-separated, so a receiver
 *   holding either the old or the new secret verifies during a rotation.
 * Bad input (no secrets, a malformed secret, an id with a `.`) is a CwError, never a bad signature.
 */
import { createHmac } from 'node:crypto';
import { CwError, ErrorCodes } from '../errors.js';

export const WHSEC_PREFIX = 'whsec_';
export const MIN_SECRET_BYTES = 24;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

export interface SignInput {
  id: string;
  /** Unix seconds. */
  timestamp: number;
  body: string;
  secrets: readonly string[];
}

/** The key bytes of a `whsec_<base64>` secret. The message never contains the secret. */
export function decodeWebhookSecret(secret: string): Buffer {
  if (!secret.startsWith(WHSEC_PREFIX)) throw bad('a webhook secret must start with "whsec_"');
  const b64 = secret.slice(WHSEC_PREFIX.length);
  const key = BASE64.test(b64) ? Buffer.from(b64, 'base64') : null;
  // Node's decoder skips characters it does not know; insisting on a round trip catches a secret
  // that was truncated or pasted with stray characters instead of signing with the wrong key.
  if (!key || key.toString('base64').replace(/=+$/, '') !== b64.replace(/=+$/, '')) {
    throw bad('a webhook secret must be "whsec_" followed by base64');
  }
  if (key.length < MIN_SECRET_BYTES) throw bad(`a webhook secret must decode to at least ${MIN_SECRET_BYTES} bytes`);
  return key;
}

/** True when `decodeWebhookSecret` would accept the secret (for config validation). */
export function isValidWebhookSecret(secret: string): boolean {
  try {
    decodeWebhookSecret(secret);
    return true;
  } catch {
    return false;
  }
}

/** The `webhook-signature` header value. */
export function signStandardWebhook({ id, timestamp, body, secrets }: SignInput): string {
  if (id === '' || id.includes('.')) {
    // The spec: the id must not contain "." or the id/timestamp boundary in the signed content blurs.
    throw bad('a webhook id must be non-empty and must not contain "."');
  }
  if (!Number.isSafeInteger(timestamp) || timestamp < 0) throw bad('a webhook timestamp must be integer Unix seconds');
  if (secrets.length === 0) throw bad('at least one webhook secret is required');
  const content = `${id}.${timestamp}.${body}`;
  return secrets
    .map((s) => `v1,${createHmac('sha256', decodeWebhookSecret(s)).update(content, 'utf8').digest('base64')}`)
    .join(' ');
}

function bad(message: string): CwError {
  return new CwError(ErrorCodes.INPUT, message);
}
