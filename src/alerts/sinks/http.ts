/**
 * One HTTP POST of a JSON body, classified into a SinkResult. Never throws.
 *
 * Classification (PagerDuty's and Standard Webhooks' retry guidance agree):
 * - 2xx: ok;
 * - 429 and 5xx: failed, retryable;
 * - any other status (3xx: redirects are not followed, 4xx): failed, not retryable;
 * - no response (refused, reset, DNS, timeout): failed, retryable, status null.
 *
 * `detail` is short and safe for logs: the status and at most 200 characters of a text or JSON
 * response body. It never contains request headers or the URL's path or query (a Slack webhook's
 * path IS its secret), and any of those, or a `redact` string, echoed in the response is replaced.
 * The body is read only up to 4 KB, so a hostile receiver cannot make us buffer megabytes.
 */

import { networkErrorCode } from '../../errors.js';
import { oneLine, trimTo } from '../escape.js';
import type { SinkResult } from '../types.js';

const SNIPPET_BYTES = 4096;
const DETAIL_BODY_CHARS = 200;
/** Shorter strings are not scrubbed: they would match innocent text and are not secrets anyway. */
const MIN_REDACT_LENGTH = 6;

/**
 * POST `body` (already-serialised JSON: signatures cover these exact bytes) to `url`.
 * `redact`: further strings that must never reach `detail` (a routing key inside the body).
 */
export async function postJson(
  url: string,
  headers: Record<string, string>,
  body: string,
  timeoutMs: number,
  fetchImpl: typeof fetch = fetch,
  redact: readonly string[] = [],
): Promise<SinkResult> {
  // A URL that cannot parse will never work: not retryable, and not echoed (it may be the secret).
  if (!isHttpUrl(url)) return { ok: false, status: null, retryable: false, detail: 'not sent: invalid URL' };
  const secrets = secretParts(url, headers, redact);
  let res: Response;
  try {
    res = await fetchImpl(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...headers },
      body,
      // A redirect would re-send a signed body (or a routing key) somewhere we were not told about.
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    return { ok: false, status: null, retryable: true, detail: describeNetworkError(err, timeoutMs) };
  }
  const ok = res.status >= 200 && res.status <= 299;
  const retryable = res.status === 429 || res.status >= 500;
  const snippet = await readSnippet(res).catch(() => '');
  const shown = snippet === '' ? '' : `: ${trimTo(scrub(snippet, secrets), DETAIL_BODY_CHARS)}`;
  return { ok, status: res.status, retryable: !ok && retryable, detail: `HTTP ${res.status}${shown}` };
}

/** An absolute http(s) URL (links we put in alerts; anything else is dropped, not sent). */
export function isHttpUrl(s: string): boolean {
  try {
    const u = new URL(s);
    return u.protocol === 'https:' || u.protocol === 'http:';
  } catch {
    return false;
  }
}

function describeNetworkError(err: unknown, timeoutMs: number): string {
  const name = (err as { name?: unknown } | null)?.name;
  if (name === 'TimeoutError' || name === 'AbortError') return `no response within ${timeoutMs} ms`;
  // Only the error code: undici's messages can carry the request URL.
  const code = networkErrorCode(err);
  return code ? `network error: ${code}` : 'network error';
}

async function readSnippet(res: Response): Promise<string> {
  const type = res.headers.get('content-type') ?? '';
  const textual = type === '' || /^text\/|[/+]json\b/i.test(type);
  if (!res.body) return '';
  if (!textual) {
    await res.body.cancel();
    return `(${oneLine(type.split(';')[0] ?? '')} body)`;
  }
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  while (size < SNIPPET_BYTES) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.byteLength;
  }
  await reader.cancel().catch(() => undefined);
  const text = Buffer.concat(chunks).subarray(0, SNIPPET_BYTES).toString('utf8');
  return oneLine(text);
}

function secretParts(url: string, headers: Record<string, string>, redact: readonly string[]): string[] {
  const headerValues = Object.entries(headers)
    .filter(([k]) => k.toLowerCase() !== 'content-type')
    .map(([, v]) => v);
  const parts = [url, ...headerValues, ...redact];
  try {
    const u = new URL(url);
    parts.push(u.pathname, u.search, u.pathname.replace(/^\//, ''));
    // Each path segment too: a receiver may echo just the last one (the token of a Slack URL).
    parts.push(...u.pathname.split('/'));
  } catch {
    // Unparseable URL: the whole string is already in the list.
  }
  return [...new Set(parts)].filter((p) => p.length >= MIN_REDACT_LENGTH).sort((a, b) => b.length - a.length);
}

function scrub(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) out = out.split(s).join('[redacted]');
  return out;
}
