/**
 * The Vault wire rules, over node-vault's `request` (vault-api.md §0, §6, §8):
 * - lists are `GET ?list=true` (Node's HTTP stack and many proxies reject the LIST verb);
 * - 404 with an empty `errors` array is an empty list or a nil read; 404 with errors is an unknown
 *   path, which is an error;
 * - 202 and 204 are success (node-vault rejects 202, so it is caught here);
 * - every request carries its namespace header and a timeout, and is counted;
 * - a denial names what is missing ("needs list+sudo on auth/token/accessors").
 * The client's own namespace is cleared at construction (node-vault would otherwise overwrite the
 * per-request header from VAULT_NAMESPACE), and no helper that replaces the client's token is ever
 * called: only `request`.
 */
import { CwError, ErrorCodes, networkErrorCode } from '../../errors.js';
import type { ApiCallCounts } from '../api-calls.js';

/** The one node-vault method credwarden uses. */
export interface VaultHttp {
  request(options: {
    path: string;
    method: string;
    json?: unknown;
    headers?: Record<string, string>;
    timeout?: number;
  }): Promise<unknown>;
}

export interface VaultEnvelope {
  data?: Record<string, unknown> | null;
  warnings?: string[] | null;
  auth?: Record<string, unknown> | null;
  [k: string]: unknown;
}

interface ResponseError {
  message?: string;
  code?: string;
  response?: { statusCode?: number; body?: { errors?: unknown[] } | string };
}

export class VaultApi {
  readonly counts: ApiCallCounts = { total: 0, attempts: 0, byOperation: {} };

  constructor(
    private readonly http: VaultHttp,
    private readonly cluster: string,
    private readonly timeoutMs: number,
  ) {}

  private headers(ns: string, token?: string): Record<string, string> {
    const t = ns.replace(/^\/+|\/+$/g, '');
    const h: Record<string, string> = t === '' || t === 'root' ? {} : { 'X-Vault-Namespace': `${t}/` };
    if (token !== undefined) h['X-Vault-Token'] = token;
    return h;
  }

  private async call(
    op: string,
    ns: string,
    need: string,
    path: string,
    method: string,
    json?: unknown,
    token?: string,
  ): Promise<VaultEnvelope | null> {
    this.counts.total++;
    this.counts.attempts++;
    this.counts.byOperation[op] = (this.counts.byOperation[op] ?? 0) + 1;
    try {
      const body = await this.http.request({
        path: `/${path}`,
        method,
        headers: this.headers(ns, token),
        timeout: this.timeoutMs,
        ...(json !== undefined ? { json } : {}),
      });
      return body && typeof body === 'object' ? (body as VaultEnvelope) : null;
    } catch (err) {
      const e = err as ResponseError;
      const status = e.response?.statusCode;
      const body = typeof e.response?.body === 'object' ? e.response.body : undefined;
      if (status === 202 || status === 204) return body ?? null;
      if (status === 404 && Array.isArray(body?.errors) && body.errors.length === 0) return null;
      // A raw-envelope 404 (no `errors`, a `data.error`): e.g. an unknown secret-ID accessor (§2).
      if (status === 404 && body && !('errors' in body) && 'data' in body) return body as VaultEnvelope;
      throw this.error(ns, need, path, status, body, e);
    }
  }

  private error(
    ns: string,
    need: string,
    path: string,
    status: number | undefined,
    body: { errors?: unknown[] } | undefined,
    e: ResponseError,
  ): CwError {
    const where = `vault ${this.cluster}${ns && ns !== 'root' ? ` namespace ${ns}` : ''}`;
    const text = (body?.errors ?? [])
      .map((x) =>
        String(x)
          .replace(/^\d+ errors? occurred:\s*/, '')
          .replace(/\s*\*\s*/g, ' ')
          .trim(),
      )
      .join('; ');
    if (status === 403) {
      // A token the server does not know (missing, expired, revoked): HashiCorp Vault sends two
      // errors, "permission denied" and "invalid token"; OpenBao one bare, unwrapped "permission
      // denied". An ACL denial of a valid token is multierror text ("1 error occurred: …") on both.
      const raw = body?.errors ?? [];
      const invalid = /invalid token/.test(text) || (raw.length === 1 && raw[0] === 'permission denied');
      return new CwError(
        ErrorCodes.VAULT_PERMISSION,
        invalid
          ? `${where}: the token is invalid, expired or revoked (${path})`
          : `${where}: permission denied: needs ${need}`,
      );
    }
    if (status === 503 && /sealed/i.test(text))
      return new CwError(ErrorCodes.VAULT_SEALED, `${where}: Vault is sealed`);
    if (status === undefined) {
      const timeout = e.code === 'ECONNABORTED' || e.code === 'ETIMEDOUT' || /timeout/i.test(e.message ?? '');
      if (timeout) {
        return new CwError(ErrorCodes.TIMEOUT, `${where}: timed out after ${this.timeoutMs} ms on ${path}`, {
          retryable: true,
          cause: bareCause(e),
        });
      }
      const net = networkErrorCode(e);
      return new CwError(
        net ? ErrorCodes.UNREACHABLE : ErrorCodes.VAULT,
        `${where}: cannot reach Vault (${net ?? e.code ?? e.message}) on ${path}`,
        {
          retryable: true,
          cause: bareCause(e),
        },
      );
    }
    const retryable = status >= 500 || status === 429;
    return new VaultHttpError(status, `${where}: ${path}: HTTP ${status}${text ? `: ${text}` : ''}`, retryable);
  }

  async list(op: string, ns: string, path: string, need: string): Promise<string[]> {
    const out = await this.call(op, ns, need, `${path.replace(/\/+$/, '')}?list=true`, 'GET');
    const keys = out?.data?.keys;
    return Array.isArray(keys) ? keys.map(String) : [];
  }

  async read(op: string, ns: string, path: string, need: string): Promise<VaultEnvelope | null> {
    return this.call(op, ns, need, path, 'GET');
  }

  async write(op: string, ns: string, path: string, body: unknown, need: string): Promise<VaultEnvelope | null> {
    return this.call(op, ns, need, path, 'POST', body);
  }

  async delete(op: string, ns: string, path: string, need: string): Promise<VaultEnvelope | null> {
    return this.call(op, ns, need, path, 'DELETE');
  }

  /** A read signed with another token than the client's (rotation proves a new token works). */
  async readAs(token: string, op: string, ns: string, path: string, need: string): Promise<VaultEnvelope | null> {
    return this.call(op, ns, need, path, 'GET', undefined, token);
  }
}

/**
 * The cause kept on a network error: its code and message only. The HTTP client's error carries
 * the request (the X-Vault-Token header, the JSON body a rotation delivers), so it is never kept.
 */
function bareCause(e: ResponseError): Error {
  const out = new Error(e.message ?? 'request failed');
  if (e.code) (out as Error & { code?: string }).code = e.code;
  return out;
}

export class VaultHttpError extends CwError {
  constructor(
    readonly status: number,
    message: string,
    retryable: boolean,
  ) {
    super(ErrorCodes.VAULT, message, { retryable });
  }
}

/** 404 with errors: no such mount or route (an AppRole or AWS mount absent from a namespace). */
export function isUnknownPath(err: unknown): boolean {
  return err instanceof VaultHttpError && err.status === 404;
}

export function isPermissionError(err: unknown): boolean {
  return err instanceof CwError && err.code === ErrorCodes.VAULT_PERMISSION;
}

/** Errors that make a part of a scan incomplete rather than failing it: denial, seal, timeout. */
export function isPartialError(err: unknown): err is CwError {
  return (
    err instanceof CwError &&
    [ErrorCodes.VAULT_PERMISSION, ErrorCodes.VAULT_SEALED, ErrorCodes.TIMEOUT].includes(err.code as never)
  );
}

/** Vault's times: RFC 3339 with nanoseconds and a local offset, Unix seconds, or Go's zero time for "never". */
export function vaultTime(v: unknown): string | null {
  if (typeof v === 'number') return v > 0 ? new Date(v * 1000).toISOString() : null;
  if (typeof v !== 'string' || v === '' || v.startsWith('0001-01-01')) return null;
  const trimmed = v.replace(/(\.\d{3})\d+/, '$1');
  const d = new Date(trimmed);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}
