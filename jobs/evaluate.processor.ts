/** evaluate: policies × the inventory after a scan → findings, transitions (audited once), scores. */
import type { Job } from 'bullmq';
import type { EvaluationSummary, FindingsService } from '../src/findings/service.js';
import type { EvaluatePayload } from '../src/queue/names.js';

export function evaluateProcessor(findings: FindingsService) {
  return async (job: Job<EvaluatePayload>): Promise<Pick<EvaluationSummary, 'scanId' | 'transitions'>> => {
    const s = await findings.evaluateScan(job.data.scanId);
    return { scanId: s.scanId, transitions: s.transitions };
  };
}
