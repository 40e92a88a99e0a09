/** finalize: merge the units' results, compute and audit drift, update state, write the summary. Idempotent. */
import type { Job } from 'bullmq';
import type { ScanSummary } from '../src/inventory/summary.js';
import type { FinalizePayload } from '../src/queue/names.js';
import type { ScanOrchestrator } from '../src/scan/orchestrator.js';

export function finalizeProcessor(orchestrator: ScanOrchestrator) {
  return async (job: Job<FinalizePayload>): Promise<Pick<ScanSummary, 'id' | 'status'>> => {
    const s = await orchestrator.finalize(job.data.scanId);
    return { id: s.id, status: s.status };
  };
}
