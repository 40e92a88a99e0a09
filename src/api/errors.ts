/**
 * Every failure the API answers is `{ error: { code, message, field? } }`:
 *
 * - schema validation: 400 `CW_ERR_INPUT` with the field (`query.severity`, `body.reason`,
 *   `params.id`) and what is wrong with it;
 * - a CwError from a service: its code, with a status by code (not found 404, a guardrail's
 *   refusal 409, bad input 400, a held evaluation 409, Redis or the audit unavailable 503);
 * - anything else: 500 `CW_ERR_INTERNAL` with a fixed message; the detail goes to the log only,
 *   never to the caller (it could hold a path, a key id, or worse).
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { CwError, type ErrorCode, ErrorCodes } from '../errors.js';

export const ApiErrorCodes = {
  UNAUTHENTICATED: 'CW_ERR_UNAUTHENTICATED',
  FORBIDDEN: 'CW_ERR_FORBIDDEN',
  RATE_LIMITED: 'CW_ERR_RATE_LIMITED',
} as const;

const STATUS: Partial<Record<ErrorCode, number>> = {
  [ErrorCodes.INPUT]: 400,
  [ErrorCodes.CONFIG]: 400,
  [ErrorCodes.POLICY]: 400,
  [ErrorCodes.NOT_FOUND]: 404,
  [ErrorCodes.GUARDRAIL]: 409,
  [ErrorCodes.HELD]: 409,
  [ErrorCodes.REDIS]: 503,
  [ErrorCodes.AUDIT]: 503,
  [ErrorCodes.QUEUE]: 503,
  [ErrorCodes.TIMEOUT]: 504,
};

export interface ErrorBody {
  error: { code: string; message: string; field?: string };
}

export const errorOf = (code: string, message: string, field?: string): ErrorBody => ({
  error: { code, message, ...(field ? { field } : {}) },
});

interface AjvIssue {
  instancePath?: string;
  keyword?: string;
  message?: string;
  params?: Record<string, unknown>;
}

const CONTEXT: Record<string, string> = { querystring: 'query', params: 'params', body: 'body', headers: 'headers' };

/** The field an ajv issue is about, as `query.severity` or `body.approvers[0]`. */
export function fieldOf(context: string | undefined, issue: AjvIssue): string {
  const segments = (issue.instancePath ?? '')
    .split('/')
    .filter(Boolean)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  const extra = issue.params?.missingProperty ?? issue.params?.additionalProperty;
  if (typeof extra === 'string') segments.push(extra);
  let path = CONTEXT[context ?? ''] ?? context ?? 'request';
  for (const s of segments) path += /^\d+$/.test(s) ? `[${s}]` : `.${s}`;
  return path;
}

function validationMessage(issue: AjvIssue): string {
  if (issue.keyword === 'additionalProperties') return 'is not a known field';
  if (issue.keyword === 'required') return 'is required';
  if (issue.keyword === 'enum' && Array.isArray(issue.params?.allowedValues))
    return `must be one of ${(issue.params.allowedValues as unknown[]).join(', ')}`;
  return issue.message ?? 'is invalid';
}

/**
 * A service's refusal of a request body as a 400 naming the field: services say what is wrong
 * as `<field>: <problem>` (e.g. `expires: must be in the future`), which becomes `body.expires`.
 */
export function asBodyError(err: unknown): unknown {
  if (!(err instanceof CwError) || err.code !== ErrorCodes.INPUT) return err;
  const m = /^([A-Za-z][A-Za-z0-9_]*(?:(?:\.[A-Za-z0-9_]+)|\[\d+\])*): /.exec(err.message);
  return m ? Object.assign(err, { field: `body.${m[1]}` }) : err;
}

/** Fastify's error handler: the status and body for whatever a request threw. */
export function handleError(err: FastifyError, req: FastifyRequest, reply: FastifyReply): void {
  if (err.validation && err.validation.length > 0) {
    const issue = err.validation[0] as AjvIssue;
    const field = fieldOf(err.validationContext, issue);
    void reply.status(400).send(errorOf(ErrorCodes.INPUT, `${field} ${validationMessage(issue)}`, field));
    return;
  }
  if (err instanceof CwError) {
    const status = STATUS[err.code] ?? 500;
    if (status >= 500) req.log.error({ code: err.code, err: err.message }, 'request failed');
    const field = (err as { field?: unknown }).field;
    void reply.status(status).send(errorOf(err.code, err.message, typeof field === 'string' ? field : undefined));
    return;
  }
  // Fastify's own client errors (a body that is not JSON, too large, a wrong content type).
  const status = typeof err.statusCode === 'number' ? err.statusCode : 500;
  if (status >= 400 && status < 500) {
    const code = status === 429 ? ApiErrorCodes.RATE_LIMITED : ErrorCodes.INPUT;
    void reply.status(status).send(errorOf(code, err.message));
    return;
  }
  req.log.error({ err: { message: err.message, stack: err.stack } }, 'request failed');
  void reply.status(500).send(errorOf(ErrorCodes.INTERNAL, 'internal error (see the server log)'));
}
