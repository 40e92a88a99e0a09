/** Classifying AWS SDK errors: which ones mean "this part is denied" (partial scan) and which are transient. */
import { CwError, ErrorCodes, networkErrorCode } from '../../errors.js';
import { isQuotaError } from './retry.js';

const DENIED = new Set([
  'AccessDenied',
  'AccessDeniedException',
  'UnauthorizedOperation',
  'InvalidClientTokenId',
  'ExpiredToken',
]);

export function awsErrorName(err: unknown): string {
  const e = err as { name?: string; Code?: string } | undefined;
  return e?.name ?? e?.Code ?? 'Error';
}

export function isAccessDenied(err: unknown): boolean {
  const e = err as { $metadata?: { httpStatusCode?: number } } | undefined;
  return DENIED.has(awsErrorName(err)) || e?.$metadata?.httpStatusCode === 403;
}

/** A thrown SDK error as a CwError: retryable unless it is a denial, a quota or a missing entity. */
export function toCwError(err: unknown, what: string): CwError {
  if (err instanceof CwError) return err;
  const name = awsErrorName(err);
  const msg = `${what}: ${name}: ${(err as Error)?.message ?? String(err)}`;
  const net = networkErrorCode(err);
  if (net)
    return new CwError(ErrorCodes.UNREACHABLE, `${what}: cannot reach AWS (${net})`, { cause: err, retryable: true });
  if (isAccessDenied(err)) return new CwError(ErrorCodes.AWS_ACCESS_DENIED, msg, { cause: err });
  if (isQuotaError(err)) return new CwError(ErrorCodes.AWS_QUOTA, msg, { cause: err });
  const permanent = name === 'NoSuchEntity' || name === 'NoSuchEntityException' || name === 'ValidationError';
  return new CwError(ErrorCodes.AWS, msg, { cause: err, retryable: !permanent });
}
