/**
 * `credwarden drill run --scenario NAME [--once] [--as NAME]`: plant, watch the pipeline, clean up,
 * print every measured time; exit 0 only when the drill passed and cleaned up, 1 when it failed,
 * 2 for bad input or config. Without --once the running workers do the work (as for `scan`);
 * with it, an in-process worker does. `drill list`, `drill show ID`: the records.
 */
import { userInfo } from 'node:os';
import type { Command } from 'commander';
import { startWorkers } from '../../../jobs/workers.js';
import { DRILL_SCENARIOS, type DrillScenario } from '../../drill/config.js';
import { describeDrill, durationText } from '../../drill/describe.js';
import { DrillRunner } from '../../drill/runner.js';
import { CwError, ErrorCodes } from '../../errors.js';
import { closeQueues, createQueues } from '../../queue/runtime.js';
import { closeSettled } from '../../queue/settle.js';
import { type GlobalOptions, type Io, runCommand, withApp } from '../context.js';

function scenarioOf(v: string | undefined): DrillScenario {
  if (!v || !(DRILL_SCENARIOS as readonly string[]).includes(v))
    throw new CwError(
      ErrorCodes.INPUT,
      `--scenario: must be one of ${DRILL_SCENARIOS.join(', ')}${v ? ` (got "${v}")` : ''}`,
    );
  return v as DrillScenario;
}

function starter(as: string | undefined): string {
  if (as !== undefined) {
    if (!as.trim()) throw new CwError(ErrorCodes.INPUT, '--as: must name who runs the drill');
    return `user:${as.trim()}`;
  }
  try {
    return `cli:${userInfo().username}`;
  } catch {
    return 'cli';
  }
}

export function registerDrill(program: Command, io: Io, exit: (code: number) => void): void {
  const drill = program.command('drill').description('drills: prove detection, alerting and remediation end to end');
  drill
    .command('run')
    .description('plant a synthetic risky credential, measure the pipeline, clean up')
    .requiredOption('--scenario <name>', DRILL_SCENARIOS.join(' | '))
    .option('--once', 'run the pipeline here with an in-process worker (else: the running workers)')
    .option('--as <name>', 'who runs it (recorded in the audit log; default: the OS user)')
    .action(async (cmd: { scenario: string; once?: boolean; as?: string }) => {
      const opts = program.opts<GlobalOptions>();
      exit(
        await runCommand(opts, io, async () => {
          const scenario = scenarioOf(cmd.scenario);
          const by = starter(cmd.as);
          return withApp(opts, cmd.once ? 'worker' : 'producer', async (app) => {
            const queues = createQueues(app);
            const workers = cmd.once ? startWorkers(app, queues) : null;
            try {
              const rec = await new DrillRunner(app, app.drillPlanters).run({ scenario, trigger: 'cli', by, queues });
              io.out(opts.json ? JSON.stringify(rec, null, 2) : describeDrill(rec).join('\n'));
              if (rec.status !== 'passed')
                io.err(`credwarden: drill ${rec.id} failed at stage ${rec.stage}: ${rec.reason}`);
              return rec.status === 'passed' ? 0 : 1;
            } finally {
              if (workers) await closeSettled(workers, app.config.worker.shutdownTimeoutSeconds * 1000, app.log);
              await closeQueues(queues);
            }
          });
        }),
      );
    });
  drill
    .command('list')
    .description('recent drills, newest first')
    .option('--limit <n>', 'how many', '20')
    .action(async (cmd: { limit: string }) => {
      const opts = program.opts<GlobalOptions>();
      exit(
        await runCommand(opts, io, () =>
          withApp(opts, 'producer', async (app) => {
            const limit = Number(cmd.limit);
            if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
              throw new CwError(ErrorCodes.INPUT, '--limit: must be an integer from 1 to 1000');
            const recs = await app.drills.list(limit);
            if (opts.json) io.out(JSON.stringify(recs, null, 2));
            else if (recs.length === 0) io.out('no drills yet');
            else
              for (const r of recs)
                io.out(
                  `${r.id}  ${r.scenario.padEnd(22)} ${r.status.padEnd(7)} ${r.startedAt}  detect ${durationText(r.times.detectMs)}  alert ${durationText(r.times.alertMs)}  ${r.times.approvalMs !== undefined ? `approval ${durationText(r.times.approvalMs)}` : `remediate ${durationText(r.times.remediateMs)}`}${r.reason ? `  (${r.stage}: ${r.reason})` : ''}`,
                );
            return 0;
          }),
        ),
      );
    });
  drill
    .command('cleanup')
    .description('remove what interrupted drills planted (a drill whose process stopped), and end them failed')
    .action(async () => {
      const opts = program.opts<GlobalOptions>();
      exit(
        await runCommand(opts, io, () =>
          withApp(opts, 'producer', async (app) => {
            const done = await new DrillRunner(app, app.drillPlanters).cleanupAbandoned();
            if (opts.json) io.out(JSON.stringify(done, null, 2));
            else if (done.length === 0) io.out('no interrupted drills');
            else for (const r of done) io.out(describeDrill(r).join('\n'));
            return done.some((r) => r.cleanup?.failed.length) ? 1 : 0;
          }),
        ),
      );
    });
  drill
    .command('show')
    .description('one drill: what it planted, saw, measured and removed')
    .argument('<id>')
    .action(async (id: string) => {
      const opts = program.opts<GlobalOptions>();
      exit(
        await runCommand(opts, io, () =>
          withApp(opts, 'producer', async (app) => {
            const rec = await app.drills.get(id);
            if (!rec) throw new CwError(ErrorCodes.INPUT, `no drill ${id} (see \`credwarden drill list\`)`);
            io.out(opts.json ? JSON.stringify(rec, null, 2) : describeDrill(rec).join('\n'));
            return 0;
          }),
        ),
      );
    });
}
