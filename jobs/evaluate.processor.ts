/**
 * evaluate: policies × the inventory after a scan → findings, transitions (audited once), scores;
 * then plan and queue alerts, then plan remediation (plans, guardrail decisions, queued actions),
 * then wake rotations whose wake-up is due (their delayed job may have been lost).
 * Each step is stored once per scan, so a retry redoes nothing and re-queues the same jobs.
 */
import type { Job, Queue } from 'bullmq';
import type { AlertService } from '../src/alerts/service.js';
import type { EvaluationSummary, FindingsService } from '../src/findings/service.js';
import { queueDeliveries } from '../src/queue/deliveries.js';
import type { DeliverPayload, EvaluatePayload } from '../src/queue/names.js';
import type { RotationRunner } from '../src/remediation/rotation-runner.js';
import type { RemediationService, RunSummary } from '../src/remediation/service.js';
import { asJob } from './job-error.js';

export interface EvaluateDeps {
  findings: FindingsService;
  alerts: AlertService;
  remediation: RemediationService;
  /** Re-queues rotations whose wake-up is due (a lost delayed job) after each planning. */
  rotations: Pick<RotationRunner, 'sweep'>;
  alertQueues: ReadonlyMap<string, Queue<DeliverPayload>>;
  delivery: { attempts: number; backoffMs: number };
}

export function evaluateProcessor(d: EvaluateDeps) {
  return async (
    job: Job<EvaluatePayload>,
  ): Promise<
    Pick<EvaluationSummary, 'scanId' | 'transitions'> & {
      notifications: number;
      held: boolean;
      remediation: Pick<RunSummary, 'plans' | 'byDecision' | 'queued'>;
    }
  > => {
    const s = await asJob(() => d.findings.evaluateScan(job.data.scanId));
    // A held evaluation plans nothing (planScan returns no notification for it).
    const notifications = await asJob(() => d.alerts.planScan(job.data.scanId));
    await queueDeliveries(d.alertQueues, notifications, d.delivery);
    const r = await asJob(() => d.remediation.planScan(job.data.scanId));
    await asJob(() => d.rotations.sweep());
    return {
      scanId: s.scanId,
      transitions: s.transitions,
      notifications: notifications.length,
      held: !!s.held,
      remediation: { plans: r.plans, byDecision: r.byDecision, queued: r.queued },
    };
  };
}
