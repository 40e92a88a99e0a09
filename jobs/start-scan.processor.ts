/** start-scan: a scheduler tick or `scan --once`. Starts the scan and fans out one discover job per unit. */

import type { Job, Queue } from 'bullmq';
import {
  type DiscoverPayload,
  type FinalizePayload,
  ids,
  JobNames,
  type StartScanPayload,
  scanIdForJob,
} from '../src/queue/names.js';
import type { ScanOrchestrator } from '../src/scan/orchestrator.js';
import { asJob } from './job-error.js';

export interface StartScanDeps {
  orchestrator: ScanOrchestrator;
  discoverQueue: Queue<DiscoverPayload>;
  inventoryQueue: Queue<FinalizePayload>;
  scanTimeoutMs: number;
}

export function startScanProcessor(d: StartScanDeps) {
  return async (job: Job<StartScanPayload>): Promise<{ scanId: string; units: number; created: boolean }> => {
    const scanId = job.data.scanId ?? scanIdForJob(job.id, job.timestamp);
    const all = d.orchestrator.units();
    const units = job.data.units ? all.filter((u) => job.data.units!.includes(u.key)) : all;
    const { created } = await asJob(() => d.orchestrator.start(scanId, job.data.trigger, units, job.data.asOf));
    // Both adds are idempotent by job id, so a replayed start-scan adds nothing twice.
    await d.inventoryQueue.add(
      JobNames.finalize,
      { scanId },
      {
        jobId: ids.finalize(scanId),
        delay: d.scanTimeoutMs,
        attempts: 5,
        backoff: { type: 'exponential', delay: 2000 },
      },
    );
    await d.discoverQueue.addBulk(
      units.map((u) => ({
        name: JobNames.discover,
        data: { scanId, unitKey: u.key },
        opts: { jobId: ids.discover(scanId, u.key), attempts: 3, backoff: { type: 'exponential', delay: 5000 } },
      })),
    );
    return { scanId, units: units.length, created };
  };
}
