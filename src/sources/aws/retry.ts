/**
 * The SDK's standard retry mode, minus one trap: the SDK classifies IAM's quota error
 * (LimitExceeded / LimitExceededException) as throttling and retries it with throttling backoff.
 * A quota does not lift by waiting, so those fail at once. Real throttling keeps the standard
 * exponential backoff (500 ms base, 20 s cap).
 */
import { StandardRetryStrategy } from '@smithy/core/retry';
import type { RetryErrorInfo, StandardRetryToken } from '@smithy/types';

const QUOTA_ERRORS = new Set(['LimitExceeded', 'LimitExceededException']);

export function isQuotaError(err: unknown): boolean {
  const e = err as { name?: string; Code?: string } | undefined;
  return !!e && (QUOTA_ERRORS.has(e.name ?? '') || QUOTA_ERRORS.has(e.Code ?? ''));
}

export class NoQuotaRetryStrategy extends StandardRetryStrategy {
  override async refreshRetryTokenForRetry(
    token: StandardRetryToken,
    errorInfo: RetryErrorInfo,
  ): Promise<StandardRetryToken> {
    if (isQuotaError(errorInfo.error)) throw errorInfo.error;
    return super.refreshRetryTokenForRetry(token, errorInfo);
  }
}
