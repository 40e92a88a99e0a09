/** finalize: merge the units' results, compute and audit drift, update state, write the summary; then queue evaluation. Idempotent. */

import type { Job, Queue } from 'bullmq';
import type { ScanSummary } from '../src/inventory/summary.js';
import { type EvaluatePayload, type FinalizePayload, ids, JobNames } from '../src/queue/names.js';
import type { ScanOrchestrator } from '../src/scan/orchestrator.js';
import { asJob } from './job-error.js';

export function finalizeProcessor(orchestrator: ScanOrchestrator, evaluateQueue: Queue<EvaluatePayload>) {
  return async (job: Job<FinalizePayload>): Promise<Pick<ScanSummary, 'id' | 'status'>> => {
    const s = await asJob(() => orchestrator.finalize(job.data.scanId));
    await evaluateQueue.add(
      JobNames.evaluate,
      { scanId: s.id },
      { jobId: ids.evaluate(s.id), attempts: 5, backoff: { type: 'exponential', delay: 2000 } },
    );
    return { id: s.id, status: s.status };
  };
}
