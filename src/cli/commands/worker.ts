/** `credwarden worker`: the long-running service. Upserts the schedule, runs the queues, shuts down within a deadline. */
import type { Command } from 'commander';
import { startWorkers } from '../../../jobs/workers.js';
import { CHECKPOINT_SCHEDULER_ID, drillSchedulerId, exportSchedulerId, SCHEDULER_ID } from '../../queue/names.js';
import { keyPrefix } from '../../queue/prefix.js';
import { warnIfEvicting } from '../../queue/redis-nodes.js';
import { closeQueues, createQueues } from '../../queue/runtime.js';
import {
  checkpointSchedule,
  discoverSchedule,
  drillSchedule,
  exportSchedule,
  pruneDrillSchedules,
  pruneExportSchedules,
  upsertSchedules,
} from '../../queue/scheduler.js';
import { type GlobalOptions, type Io, runCommand, withApp } from '../context.js';

export function registerWorker(program: Command, io: Io, exit: (code: number) => void): void {
  program
    .command('worker')
    .description('run the background worker (scheduled discovery and the scan queues)')
    .option('--no-schedule', 'do not upsert the discovery schedule from this process')
    .action(async (cmd: { schedule: boolean }) => {
      const opts = program.opts<GlobalOptions>();
      exit(
        await runCommand(opts, io, () =>
          withApp(
            opts,
            'worker',
            async (app) => {
              const queues = createQueues(app);
              const workers = startWorkers(app, queues);
              app.checkpoints.announce();
              await warnIfEvicting(app.redis, app.log);
              if (cmd.schedule) {
                // Checkpoints are scheduled only with a key to sign them (a job without one does nothing).
                const checkpoints = app.checkpoints.publicKey
                  ? [checkpointSchedule(queues.audit, app.config.evidence.checkpoints.schedule)]
                  : [];
                const exports = app.config.evidence.exports;
                const states = await upsertSchedules(app.redis, keyPrefix(app.config.redis), [
                  discoverSchedule(queues.scan, app.config.schedules.discover),
                  ...checkpoints,
                  ...exports.map((e) => exportSchedule(queues.export, e)),
                  ...app.config.schedules.drills.map((d) => drillSchedule(queues.drill, d)),
                ]);
                const s = states[0]!;
                const c = checkpoints.length ? states[1] : undefined;
                const exportStates = states.slice(1 + checkpoints.length, 1 + checkpoints.length + exports.length);
                const drillStates = states.slice(1 + checkpoints.length + exports.length);
                for (const [i, d] of app.config.schedules.drills.entries())
                  app.log.info(
                    {
                      scheduler: drillSchedulerId(d.scenario),
                      pattern: drillStates[i]?.pattern,
                      next: drillStates[i]?.next ? new Date(drillStates[i]!.next!).toISOString() : null,
                      upserted: drillStates[i]?.upserted,
                    },
                    'drill schedule',
                  );
                for (const [i, e] of exports.entries()) {
                  const x = exportStates[i];
                  app.log.info(
                    {
                      scheduler: exportSchedulerId(e.name),
                      format: e.format,
                      pattern: x?.pattern,
                      next: x?.next ? new Date(x.next).toISOString() : null,
                      upserted: x?.upserted,
                    },
                    'findings export schedule',
                  );
                }
                // An export dropped from the config stops: its scheduler goes (only by the worker that upserted).
                if (s.upserted) {
                  const gone = await pruneExportSchedules(
                    queues.export,
                    exports.map((e) => e.name),
                  );
                  if (gone.length)
                    app.log.info({ schedulers: gone }, 'removed the schedules of exports no longer configured');
                  const drillsGone = await pruneDrillSchedules(
                    queues.drill,
                    app.config.schedules.drills.map((d) => d.scenario),
                  );
                  if (drillsGone.length)
                    app.log.info({ schedulers: drillsGone }, 'removed the schedules of drills no longer scheduled');
                }
                if (c)
                  app.log.info(
                    {
                      scheduler: CHECKPOINT_SCHEDULER_ID,
                      pattern: c.pattern,
                      next: c.next && new Date(c.next).toISOString(),
                      upserted: c.upserted,
                    },
                    'audit checkpoint schedule',
                  );
                app.log.info(
                  {
                    scheduler: SCHEDULER_ID,
                    pattern: s.pattern,
                    next: s.next && new Date(s.next).toISOString(),
                    upserted: s.upserted,
                  },
                  'discovery schedule',
                );
                if (s.next !== null && s.next < Date.now() - 60_000) {
                  app.log.warn(
                    { scheduler: SCHEDULER_ID, next: new Date(s.next).toISOString() },
                    'scheduler next run is in the past: is any worker running the scan queue?',
                  );
                }
              }
              app.log.info({ queues: workers.workers.map((w) => w.name) }, 'worker started');
              const signal = await new Promise<NodeJS.Signals>((resolve) => {
                process.once('SIGINT', resolve);
                process.once('SIGTERM', resolve);
              });
              const deadline = app.config.worker.shutdownTimeoutSeconds * 1000;
              app.log.info({ signal, deadlineMs: deadline }, 'shutting down');
              const { graceful } = await workers.close(deadline);
              await closeQueues(queues);
              if (!graceful)
                app.log.warn('shutdown deadline passed; active jobs were abandoned and will be retried as stalled');
              return graceful ? 0 : 1;
            },
            'info',
          ),
        ),
      );
    });
}
