/**
 * Generic signed webhook (Standard Webhooks).
 *
 * Contract:
 * - body: JSON `{ type: 'credwarden.alert', id, mode, group, createdAt, items }`, the items as the
 *   pipeline made them with every string plain()-ed (no control, zero-width or bidi characters);
 *   JSON.stringify does the rest of the escaping; remediation notices (mode digest, change or
 *   page) are the same body, their one item carrying `transition: action-*|batch-held` and `remediation`;
 * - headers: `webhook-id` = notification id (stable across retries: the receiver's idempotency
 *   key), `webhook-timestamp` = this attempt's Unix seconds from the injected clock (a retry is
 *   re-signed with a fresh time, so receivers' 5-minute replay window holds), `webhook-signature`
 *   = one `v1,` signature per configured secret, and `Content-Type: application/json`;
 * - the signature covers exactly the bytes sent;
 * - a notification that cannot be signed (an id with a ".") fails, not retryable, with no request;
 * - signatures and the URL's path never appear in a result's detail.
 */
import { isCwError } from '../../errors.js';
import { plain } from '../escape.js';
import { signStandardWebhook } from '../sign.js';
import type { AlertItem, Notification, Sink, SinkResult } from '../types.js';
import type { WebhookSinkConfig } from './config.js';
import { postJson } from './http.js';

export const WEBHOOK_EVENT_TYPE = 'credwarden.alert';

export interface WebhookBody {
  type: typeof WEBHOOK_EVENT_TYPE;
  id: string;
  mode: Notification['mode'];
  group: Notification['group'];
  createdAt: string;
  items: AlertItem[];
}

export function webhookBody(n: Notification): WebhookBody {
  return {
    type: WEBHOOK_EVENT_TYPE,
    id: n.id,
    mode: n.mode,
    group: { owner: n.group.owner === null ? null : plain(n.group.owner), scanId: plain(n.group.scanId) },
    createdAt: n.createdAt,
    items: n.items.map((i) => deepPlain(i)),
  };
}

export class WebhookSink implements Sink {
  readonly type = 'webhook' as const;
  readonly name: string;

  constructor(
    private readonly cfg: WebhookSinkConfig,
    private readonly fetchImpl: typeof fetch = fetch,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.name = cfg.name;
  }

  async send(n: Notification): Promise<SinkResult> {
    const body = JSON.stringify(webhookBody(n));
    const timestamp = Math.floor(this.now().getTime() / 1000);
    let signature: string;
    try {
      signature = signStandardWebhook({ id: n.id, timestamp, body, secrets: this.cfg.secrets });
    } catch (err) {
      if (!isCwError(err)) throw err;
      return { ok: false, status: null, retryable: false, detail: `not sent: ${err.message}` };
    }
    const headers = {
      'Content-Type': 'application/json',
      'webhook-id': n.id,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': signature,
    };
    return postJson(this.cfg.url, headers, body, this.cfg.timeoutMs, this.fetchImpl, this.cfg.secrets);
  }
}

/** A copy of `value` with plain() applied to every string, keys included. */
function deepPlain<T>(value: T): T {
  if (typeof value === 'string') return plain(value) as T;
  if (Array.isArray(value)) return value.map((v) => deepPlain(v)) as T;
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[plain(k)] = deepPlain(v);
    return out as T;
  }
  return value;
}
