/** evaluate: policies × the inventory after a scan → findings, transitions (audited once), scores; then plan and queue alerts. */
import type { Job, Queue } from 'bullmq';
import type { AlertService } from '../src/alerts/service.js';
import type { EvaluationSummary, FindingsService } from '../src/findings/service.js';
import { type DeliverPayload, type EvaluatePayload, ids, JobNames } from '../src/queue/names.js';

export interface EvaluateDeps {
  findings: FindingsService;
  alerts: AlertService;
  alertQueues: ReadonlyMap<string, Queue<DeliverPayload>>;
  delivery: { attempts: number; backoffMs: number };
}

export function evaluateProcessor(d: EvaluateDeps) {
  return async (
    job: Job<EvaluatePayload>,
  ): Promise<Pick<EvaluationSummary, 'scanId' | 'transitions'> & { notifications: number }> => {
    const s = await d.findings.evaluateScan(job.data.scanId);
    const notifications = await d.alerts.planScan(job.data.scanId);
    for (const n of notifications) {
      const q = d.alertQueues.get(n.sink);
      if (!q) continue;
      // Deterministic job id: a replayed evaluation queues nothing twice.
      await q.add(
        JobNames.deliver,
        { notificationId: n.id },
        {
          jobId: ids.deliver(n.id),
          attempts: d.delivery.attempts,
          backoff: { type: 'exponential', delay: d.delivery.backoffMs },
        },
      );
    }
    return { scanId: s.scanId, transitions: s.transitions, notifications: notifications.length };
  };
}
