/**
 * How a processor hands a failure to BullMQ: a permanent CwError (a tampered or diverged audit
 * chain, bad input) fails the job at once (UnrecoverableError), so nothing retries a step that can
 * only fail again; anything else is retried while attempts remain. The message keeps the error
 * code, so a job's failedReason reads `CW_ERR_…: what failed`.
 */
import { UnrecoverableError } from 'bullmq';
import { CwError, describeError } from '../src/errors.js';

export function toJobError(err: unknown): Error {
  if (err instanceof UnrecoverableError) return err;
  const line = describeError(err);
  if (err instanceof CwError && !err.retryable) return new UnrecoverableError(line);
  const e = new Error(line, { cause: err });
  return e;
}

/** Runs a processor body, translating its failure (see toJobError). */
export async function asJob<T>(body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (err) {
    throw toJobError(err);
  }
}
