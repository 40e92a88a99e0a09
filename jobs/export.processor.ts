/**
 * export: one scheduled findings export (`evidence.exports[]`, export/run.ts) for one tick of its
 * job scheduler. The tick is the scheduler's job id (`repeat:<scheduler>:<millis>`), so every
 * retry of a tick reuses its webhook ids and its audit idempotency key. A failure the target may
 * recover from is retried; a permanent one (a 4xx, a sink that is not a webhook) fails at once.
 */
import type { Job } from 'bullmq';
import type { ExportOutcome } from '../src/export/run.js';
import type { ExportJobPayload } from '../src/queue/names.js';
import { asJob } from './job-error.js';

export type ExportJobResult = ExportOutcome | { name: string; status: 'not-configured' };

/** The tick of a scheduler job (`…:<millis>`), else when the job was created. */
export function exportTick(job: Pick<Job, 'id' | 'timestamp'>): number {
  const m = /:(\d+)$/.exec(job.id ?? '');
  return m ? Number(m[1]) : job.timestamp;
}

export function exportProcessor(run: (name: string, tickMs: number) => Promise<ExportOutcome | null>) {
  return (job: Job<ExportJobPayload>): Promise<ExportJobResult> =>
    asJob(async () => {
      const out = await run(job.data.name, exportTick(job));
      return out ?? { name: job.data.name, status: 'not-configured' };
    });
}
