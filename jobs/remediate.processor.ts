/**
 * remediate: one action under guardrails (src/remediation/executor.ts), then its alert
 * transition. The job id is `remediate/<plan id>`, so a replayed plan is the same job; a retried
 * job resumes from the record (the intent is not repeated; a change already made is "already
 * done"), and a job that died after the result event but before notifying notifies on its retry
 * (the notifier is idempotent by plan id and attempt).
 */
import type { Job } from 'bullmq';
import { describeError } from '../src/errors.js';
import type { ActionState } from '../src/model/action.js';
import type { RemediatePayload } from '../src/queue/names.js';
import type { ActionExecutor } from '../src/remediation/executor.js';
import type { RemediationNotifier } from '../src/remediation/notify.js';
import { asJob, toJobError } from './job-error.js';

const SETTLED: ReadonlySet<ActionState> = new Set<ActionState>(['done', 'failed', 'cancelled', 'held']);
// A rotation waiting between steps ('in-progress') has no result yet: nothing to notify.

export function remediateProcessor(executor: ActionExecutor, notifier: RemediationNotifier) {
  return async (job: Job<RemediatePayload>): Promise<{ planId: string; state: string; outcome: string | null }> => {
    let r: Awaited<ReturnType<ActionExecutor['execute']>>;
    try {
      r = await executor.execute(job.data.planId);
    } catch (err) {
      // The last attempt: finish the record as failed rather than leave it running forever.
      const last = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      if (last) await executor.abandon(job.data.planId, describeError(err)).catch(() => undefined);
      throw toJobError(err);
    }
    if (SETTLED.has(r.state) && r.result) await asJob(() => notifier.actionSettled(r));
    return { planId: job.data.planId, state: r.state, outcome: r.result?.outcome ?? null };
  };
}
