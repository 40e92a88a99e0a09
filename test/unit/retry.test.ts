import type { RetryErrorInfo, RetryErrorType, StandardRetryBackoffStrategy } from '@smithy/types';
import { describe, expect, it } from 'vitest';
import { isQuotaError, NoQuotaRetryStrategy } from '../../src/sources/aws/retry.js';

const awsError = (name: string, extra: Record<string, unknown> = {}) =>
  Object.assign(new Error(`${name}: scripted`), { name, $metadata: {}, ...extra });

const info = (error: Error, errorType: RetryErrorType): RetryErrorInfo =>
  ({ error, errorType }) as unknown as RetryErrorInfo;

function strategy(delayMs = 1): { sut: NoQuotaRetryStrategy; backoffCalls: number[] } {
  const backoffCalls: number[] = [];
  const backoff: StandardRetryBackoffStrategy = {
    computeNextBackoffDelay: (attempt) => {
      backoffCalls.push(attempt);
      return delayMs;
    },
    setDelayBase: () => {},
  };
  return { sut: new NoQuotaRetryStrategy({ maxAttempts: 3, backoff }), backoffCalls };
}

/** Resolves to "waited" if `p` has not settled within `ms`. */
const within = <T>(p: Promise<T>, ms: number): Promise<T | 'waited'> =>
  Promise.race([p, new Promise<'waited'>((r) => setTimeout(() => r('waited'), ms))]);

describe(NoQuotaRetryStrategy.name, () => {
  it.each([
    { name: 'LimitExceededException by name', error: awsError('LimitExceededException') },
    { name: 'LimitExceeded by name', error: awsError('LimitExceeded') },
    { name: 'LimitExceeded by Code', error: awsError('ServiceException', { Code: 'LimitExceeded' }) },
  ])('should fail a quota error ($name) at once with the original error', async ({ error }) => {
    const { sut, backoffCalls } = strategy(60_000);
    const token = await sut.acquireInitialRetryToken('x');

    const outcome = await within(
      sut.refreshRetryTokenForRetry(token, info(error, 'THROTTLING')).catch((e: unknown) => ({ rejected: e })),
      500,
    );

    expect(outcome).toEqual({ rejected: error });
    expect((outcome as { rejected: unknown }).rejected).toBe(error);
    expect(backoffCalls).toEqual([]);
  });

  it.each([
    { name: 'real throttling', error: awsError('Throttling'), type: 'THROTTLING' as const },
    { name: 'a transient error', error: awsError('ServiceUnavailable'), type: 'TRANSIENT' as const },
  ])('should still retry $name with a new token', async ({ error, type }) => {
    const { sut, backoffCalls } = strategy(1);
    const token = await sut.acquireInitialRetryToken('x');

    const next = await sut.refreshRetryTokenForRetry(token, info(error, type));

    expect(next.getRetryCount()).toBe(1);
    expect(backoffCalls).toEqual([0]);
  });

  it('should stop retrying throttling once maxAttempts is reached', async () => {
    const { sut } = strategy(1);
    let token = await sut.acquireInitialRetryToken('x');
    const throttled = info(awsError('Throttling'), 'THROTTLING');

    token = await sut.refreshRetryTokenForRetry(token, throttled);
    token = await sut.refreshRetryTokenForRetry(token, throttled);

    await expect(sut.refreshRetryTokenForRetry(token, throttled)).rejects.toThrow();
  });

  it('should not retry a client error', async () => {
    const { sut } = strategy(1);
    const token = await sut.acquireInitialRetryToken('x');

    await expect(
      sut.refreshRetryTokenForRetry(token, info(awsError('ValidationError'), 'CLIENT_ERROR')),
    ).rejects.toThrow();
  });
});

describe(isQuotaError.name, () => {
  const sut = isQuotaError;

  it.each([
    { name: 'LimitExceeded by name', err: { name: 'LimitExceeded' }, expected: true },
    { name: 'LimitExceededException by name', err: { name: 'LimitExceededException' }, expected: true },
    { name: 'LimitExceeded by Code', err: { name: 'Error', Code: 'LimitExceeded' }, expected: true },
    { name: 'Throttling', err: { name: 'Throttling' }, expected: false },
    { name: 'ThrottlingException', err: { name: 'ThrottlingException', Code: 'Throttling' }, expected: false },
    { name: 'a different case', err: { name: 'limitexceeded' }, expected: false },
    { name: 'undefined', err: undefined, expected: false },
    { name: 'null', err: null, expected: false },
  ])('should report $name as $expected', ({ err, expected }) => {
    expect(sut(err)).toBe(expected);
  });
});
