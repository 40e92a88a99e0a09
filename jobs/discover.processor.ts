/**
 * discover: one unit of one scan. Retryable failures (throttling that outlasted the SDK's retries,
 * network errors) are thrown back to BullMQ while attempts remain; after the last attempt, or for
 * a permanent error, the unit is recorded as failed so the scan finalizes as partial instead of
 * waiting for its deadline.
 */
import { type Job, UnrecoverableError } from 'bullmq';
import { isCwError } from '../src/errors.js';
import type { DiscoverPayload } from '../src/queue/names.js';
import type { ScanOrchestrator } from '../src/scan/orchestrator.js';

export function discoverProcessor(orchestrator: ScanOrchestrator) {
  return async (
    job: Job<DiscoverPayload>,
    _token?: string,
    signal?: AbortSignal,
  ): Promise<{ status: 'ok' | 'failed'; credentials: number }> => {
    const { scanId, unitKey } = job.data;
    try {
      const r = await orchestrator.discoverUnit(scanId, unitKey, signal ? { signal } : {});
      return { status: 'ok', credentials: r.credentials.length };
    } catch (err) {
      const retryable = !(err instanceof UnrecoverableError) && (!isCwError(err) || err.retryable);
      const lastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      if (retryable && !lastAttempt) throw err;
      await orchestrator.recordFailure(scanId, unitKey, err);
      return { status: 'failed', credentials: 0 };
    }
  };
}
