/** `credwarden worker`: the long-running service. Upserts the schedule, runs the queues, shuts down within a deadline. */
import type { Command } from 'commander';
import { startWorkers } from '../../../jobs/workers.js';
import { SCHEDULER_ID } from '../../queue/names.js';
import { closeQueues, createQueues } from '../../queue/runtime.js';
import { upsertDiscoverSchedule } from '../../queue/scheduler.js';
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
              if (cmd.schedule) {
                const s = await upsertDiscoverSchedule(
                  queues.scan,
                  app.redis,
                  app.config.redis.prefix,
                  app.config.schedules.discover,
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
