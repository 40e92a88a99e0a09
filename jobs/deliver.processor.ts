/**
 * deliver: one notification to one sink. A retryable failure (429, 5xx, network) is thrown back
 * to BullMQ, which backs off exponentially while attempts remain; a permanent one (any other 4xx)
 * is UnrecoverableError at once. Every final outcome is recorded and audited by the service.
 */
import { type Job, UnrecoverableError } from 'bullmq';
import type { AlertService } from '../src/alerts/service.js';
import type { DeliverPayload } from '../src/queue/names.js';

export function deliverProcessor(alerts: AlertService) {
  return async (job: Job<DeliverPayload>): Promise<{ ok: boolean; status: number | null; duplicate?: boolean }> => {
    const attempt = job.attemptsMade + 1;
    const res = await alerts.deliver(job.data.notificationId, attempt, job.opts.attempts ?? 1);
    if (res.ok) return { ok: true, status: res.status, ...(res.duplicate ? { duplicate: true } : {}) };
    if (!res.retryable) throw new UnrecoverableError(`not retried: ${res.detail}`);
    throw new Error(`delivery failed (attempt ${attempt}): ${res.detail}`);
  };
}
