/**
 * The coded error catalog. Every error credwarden raises on purpose is a CwError with a code from
 * this list. The CLI prints `credwarden: <message>` and maps the code to an exit status; job
 * processors map `retryable: false` to BullMQ's UnrecoverableError.
 */
export const ErrorCodes = {
  CONFIG: 'CW_ERR_CONFIG',
  REGISTRY: 'CW_ERR_REGISTRY',
  POLICY: 'CW_ERR_POLICY',
  REDIS: 'CW_ERR_REDIS',
  AWS: 'CW_ERR_AWS',
  AWS_ACCESS_DENIED: 'CW_ERR_AWS_ACCESS_DENIED',
  AWS_QUOTA: 'CW_ERR_AWS_QUOTA',
  VAULT: 'CW_ERR_VAULT',
  VAULT_PERMISSION: 'CW_ERR_VAULT_PERMISSION',
  VAULT_SEALED: 'CW_ERR_VAULT_SEALED',
  AUDIT: 'CW_ERR_AUDIT',
  AUDIT_TAMPERED: 'CW_ERR_AUDIT_TAMPERED',
  /** The audit chain in Redis and its file copy disagree (Redis lost data, or two chains share a file). */
  AUDIT_DIVERGED: 'CW_ERR_AUDIT_DIVERGED',
  /** A detection guardrail held a result back for a person to confirm. */
  HELD: 'CW_ERR_HELD',
  /** A remediation guardrail refused: approval by the same person twice, rollback of a changed credential, … */
  GUARDRAIL: 'CW_ERR_GUARDRAIL',
  QUEUE: 'CW_ERR_QUEUE',
  TIMEOUT: 'CW_ERR_TIMEOUT',
  /** A dependency (AWS, Vault) did not answer at the network level: refused, unresolvable, reset. */
  UNREACHABLE: 'CW_ERR_UNREACHABLE',
  INPUT: 'CW_ERR_INPUT',
  /** The thing named (an action, a silence, a credential) does not exist. */
  NOT_FOUND: 'CW_ERR_NOT_FOUND',
  INTERNAL: 'CW_ERR_INTERNAL',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

/** Codes that mean "the user gave us something wrong, or a dependency is unreachable": exit 2. */
const BAD_INPUT: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  ErrorCodes.CONFIG,
  ErrorCodes.REGISTRY,
  ErrorCodes.POLICY,
  ErrorCodes.REDIS,
  ErrorCodes.AWS,
  ErrorCodes.AWS_ACCESS_DENIED,
  ErrorCodes.VAULT,
  ErrorCodes.VAULT_PERMISSION,
  ErrorCodes.VAULT_SEALED,
  ErrorCodes.INPUT,
  ErrorCodes.NOT_FOUND,
  ErrorCodes.TIMEOUT,
  ErrorCodes.UNREACHABLE,
  ErrorCodes.AUDIT,
  ErrorCodes.AUDIT_DIVERGED,
]);

export interface CwErrorOptions {
  /** Worth retrying later (network, throttling); false for permanent errors. */
  retryable?: boolean;
  cause?: unknown;
}

export class CwError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;

  constructor(code: ErrorCode, message: string, opts: CwErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'CwError';
    this.code = code;
    this.retryable = opts.retryable ?? false;
  }

  get exitCode(): number {
    return BAD_INPUT.has(this.code) ? 2 : 1;
  }
}

export function isCwError(err: unknown): err is CwError {
  return err instanceof CwError;
}

/** The one line a user sees for an error (no stack trace). */
export function describeError(err: unknown): string {
  if (err instanceof CwError) return `${err.code}: ${err.message}`;
  if (err instanceof Error) return `${ErrorCodes.INTERNAL}: ${err.message}`;
  return `${ErrorCodes.INTERNAL}: ${String(err)}`;
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
]);

/** The network error code of an error or its causes ("ECONNREFUSED", …), or null. */
export function networkErrorCode(err: unknown): string | null {
  for (
    let e = err as { code?: unknown; cause?: unknown; errors?: unknown[] } | undefined, depth = 0;
    e && depth < 5;
    depth++
  ) {
    if (typeof e.code === 'string' && NETWORK_CODES.has(e.code)) return e.code;
    const inner = Array.isArray(e.errors) ? e.errors.find((x) => networkErrorCode(x)) : undefined;
    if (inner) return networkErrorCode(inner);
    e = e.cause as typeof e;
  }
  return null;
}
