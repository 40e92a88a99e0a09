/**
 * What a handler returns (Reply) and how it goes on the wire, per vault-api.md §0 as OpenBao
 * 2.7 answers (the contract suite runs against both):
 * - success: the full envelope (request_id … auth; no `mount_type`, which only HashiCorp Vault
 *   sends), top-level copy of `data` only on the routes that ask for it;
 * - 204/202 with an empty body (Content-Type is still JSON, see http.ts);
 * - 404 `{"errors":[]}` for nil reads and empty lists;
 * - plain `logical.ErrorResponse` messages vs Go errors wrapped in multierror text;
 * - raw responses (health, seal-status, AppRole's raw-envelope 404) sent as given.
 */
import { uuid } from './util.js';

export interface LeaseInfo {
  id: string;
  duration: number;
  renewable: boolean;
}

export type Reply =
  | {
      kind: 'ok';
      status: 200 | 202;
      data: Record<string, unknown> | null;
      warnings: string[] | null;
      auth: Record<string, unknown> | null;
      lease: LeaseInfo | null;
    }
  | { kind: 'empty'; status: 202 | 204 }
  | { kind: 'errors'; status: number; errors: string[] }
  | { kind: 'raw'; status: number; body: unknown };

export interface ReplyOptions {
  warnings?: string[];
  auth?: Record<string, unknown>;
  lease?: LeaseInfo;
  status?: 200 | 202;
}

export function ok(data: Record<string, unknown> | null, opts: ReplyOptions = {}): Reply {
  return {
    kind: 'ok',
    status: opts.status ?? 200,
    data,
    warnings: opts.warnings && opts.warnings.length > 0 ? opts.warnings : null,
    auth: opts.auth ?? null,
    lease: opts.lease ?? null,
  };
}

export const noContent = (): Reply => ({ kind: 'empty', status: 204 });
export const accepted = (): Reply => ({ kind: 'empty', status: 202 });

/** A read that found nothing, or a list with no keys. */
export const nilResponse = (): Reply => ({ kind: 'errors', status: 404, errors: [] });

export function listReply(keys: string[], extra: Record<string, unknown> = {}): Reply {
  return keys.length === 0 ? nilResponse() : ok({ keys, ...extra });
}

/** `logical.ErrorResponse(msg)`: the message as is. */
export const userError = (message: string, status = 400): Reply => ({ kind: 'errors', status, errors: [message] });

/** The text go-multierror renders for its errors. */
export function multierrorText(messages: string[]): string {
  const head = messages.length === 1 ? '1 error occurred:' : `${messages.length} errors occurred:`;
  return `${head}\n${messages.map((m) => `\t* ${m}`).join('\n')}\n\n`;
}

/** A Go `error` returned by a handler: wrapped in multierror by the request handler. */
export const goError = (status: number, ...messages: string[]): Reply => ({
  kind: 'errors',
  status,
  errors: [multierrorText(messages)],
});

/** An ACL denial of a valid token: a Go error, so multierror text. */
export const permissionDenied = (): Reply => goError(403, 'permission denied');
/**
 * A missing, unknown, expired or revoked token. OpenBao answers a bare `permission denied` (no
 * multierror, no second `invalid token` error as HashiCorp Vault sends).
 */
export const invalidToken = (): Reply => ({ kind: 'errors', status: 403, errors: ['permission denied'] });
export const unsupportedPath = (): Reply => goError(404, 'unsupported path');
export const unsupportedOperation = (): Reply => goError(405, 'unsupported operation');
export const sealed = (): Reply => ({ kind: 'errors', status: 503, errors: ['Vault is sealed'] });

export const raw = (status: number, body: unknown): Reply => ({ kind: 'raw', status, body });

/** The warning every tidy endpoint answers with (202). */
export const TIDY_STARTED =
  "Tidy operation successfully started. Any information from the operation will be printed to OpenBao's server logs.";

/** `logical.RespondWithStatusCode`: the whole envelope becomes the body, so no `errors` key. */
export function rawEnvelope(status: number, data: Record<string, unknown>): Reply {
  return raw(status, {
    request_id: uuid(),
    lease_id: '',
    renewable: false,
    lease_duration: 0,
    data,
    wrap_info: null,
    warnings: null,
    auth: null,
  });
}

export interface RouteMeta {
  injectTop: boolean;
}

/** Status and body text for a Reply; an empty string means "no body". */
export function serialize(reply: Reply, meta: RouteMeta): { status: number; body: string } {
  switch (reply.kind) {
    case 'empty':
      return { status: reply.status, body: '' };
    case 'errors':
      return { status: reply.status, body: JSON.stringify({ errors: reply.errors }) };
    case 'raw':
      return { status: reply.status, body: JSON.stringify(reply.body) };
    case 'ok': {
      const env: Record<string, unknown> = {
        request_id: uuid(),
        lease_id: reply.lease?.id ?? '',
        renewable: reply.lease?.renewable ?? false,
        lease_duration: reply.lease?.duration ?? 0,
        data: reply.data,
        wrap_info: null,
        warnings: reply.warnings,
        auth: reply.auth,
      };
      if (meta.injectTop && reply.data) {
        for (const [k, v] of Object.entries(reply.data)) if (!(k in env)) env[k] = v;
      }
      return { status: reply.status, body: JSON.stringify(env) };
    }
  }
}
