/**
 * drill: one scheduled drill (`schedules.drills[]`) for one tick of its job scheduler. The drill
 * runs through the same queues as any scan (drill/runner.ts); its result is the record, a pass or
 * a fail: a failed drill is a result, not an error, so it is never retried. A worker that dies
 * mid-drill leaves the job stalled; the next worker's run cleans up the abandoned drill first
 * (runner.recover), then runs its own.
 */
import type { Job } from 'bullmq';
import { DrillRunner } from '../src/drill/runner.js';
import type { App } from '../src/main.js';
import type { DrillJobPayload } from '../src/queue/names.js';
import type { Queues } from '../src/queue/runtime.js';
import { asJob } from './job-error.js';

export interface DrillJobResult {
  id: string;
  status: string;
  stage: string;
  reason: string | null;
}

export function drillProcessor(app: App, queues: Queues) {
  return (job: Job<DrillJobPayload>): Promise<DrillJobResult> =>
    asJob(async () => {
      const rec = await new DrillRunner(app, app.drillPlanters).run({
        scenario: job.data.scenario,
        trigger: 'schedule',
        by: `schedule:${job.id ?? 'drill'}`,
        queues,
      });
      app.log[rec.status === 'passed' ? 'info' : 'warn'](
        {
          drill: rec.id,
          scenario: rec.scenario,
          status: rec.status,
          stage: rec.stage,
          reason: rec.reason,
          times: rec.times,
        },
        'drill finished',
      );
      return { id: rec.id, status: rec.status, stage: rec.stage, reason: rec.reason };
    });
}
