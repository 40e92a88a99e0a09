/**
 * checkpoint: signs the audit head and sends it to the checkpoint sinks (audit/checkpoints.ts).
 * The first attempt pins the head it read in the job's data, so a retry covers the same head:
 * the event is already recorded (idempotency key `checkpoint/<seq>`) and only the sinks that
 * failed are tried again. A sink failure fails the attempt (retried while attempts remain; a
 * non-retryable one, such as a 4xx from the webhook, fails the job at once).
 */
import type { Job } from 'bullmq';
import type { CheckpointOutcome, CheckpointService } from '../src/audit/checkpoints.js';
import { CwError, ErrorCodes } from '../src/errors.js';
import type { CheckpointJobPayload } from '../src/queue/names.js';
import { asJob } from './job-error.js';

export interface CheckpointJobResult {
  status: CheckpointOutcome['status'];
  seq?: number;
  eventSeq?: number;
}

export function checkpointProcessor(service: Pick<CheckpointService, 'checkpointNow'>) {
  return (job: Job<CheckpointJobPayload>): Promise<CheckpointJobResult> =>
    asJob(async () => {
      const r = await service.checkpointNow({
        ...(job.data.head ? { head: job.data.head } : {}),
        pin: (head) => job.updateData({ ...job.data, head: { seq: head.seq, hash: head.hash } }),
      });
      if (r.status === 'off' || r.status === 'empty') return { status: r.status };
      const failed = r.sinks.filter((s) => s.status === 'failed');
      if (failed.length > 0) {
        throw new CwError(
          ErrorCodes.AUDIT,
          `checkpoint #${r.checkpoint.seq} not delivered to ${failed.map((f) => `${f.sink} (${f.detail})`).join(', ')}`,
          { retryable: failed.some((f) => f.retryable) },
        );
      }
      return { status: r.status, seq: r.checkpoint.seq, eventSeq: r.eventSeq };
    });
}
