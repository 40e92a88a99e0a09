/**
 * `credwarden evaluation held|release`: the detection guardrail's hand-off to a person. A held
 * evaluation (one that would resolve most open findings while their credentials are all still
 * present) applied nothing and paged nothing; `release` applies it as computed, audited with the
 * name of who confirmed it, then queues its alerts for the workers to deliver.
 */
import type { Command } from 'commander';
import { CwError, ErrorCodes } from '../../errors.js';
import { queueDeliveries } from '../../queue/deliveries.js';
import { closeQueues, createQueues } from '../../queue/runtime.js';
import { type GlobalOptions, type Io, runCommand, withApp } from '../context.js';

export function registerEvaluation(program: Command, io: Io, exit: (code: number) => void): void {
  const ev = program.command('evaluation').description('evaluations held back by the detection guardrail');
  ev.command('held')
    .description('show the held evaluation, if any (exit 1 when one is held)')
    .action(async () => {
      const opts = program.opts<GlobalOptions>();
      exit(
        await runCommand(opts, io, () =>
          withApp(opts, 'producer', async (app) => {
            const held = await app.findings.held();
            if (opts.json) io.out(JSON.stringify(held, null, 2));
            else if (!held) io.out('no evaluation is held');
            else {
              io.out(`scan ${held.scanId}: HELD: ${held.held!.reason}`);
              io.out(`  nothing was applied or paged; to apply it: ${held.held!.release}`);
            }
            return held ? 1 : 0;
          }),
        ),
      );
    });
  ev.command('release')
    .description('apply a held evaluation as computed, audited with your name, and queue its alerts')
    .requiredOption('--scan <id>', 'the held scan (see `evaluation held`)')
    .requiredOption('--as <name>', 'who confirms it (recorded in the audit log)')
    .action(async (cmd: { scan: string; as: string }) => {
      const opts = program.opts<GlobalOptions>();
      exit(
        await runCommand(opts, io, () =>
          withApp(opts, 'producer', async (app) => {
            if (!cmd.as.trim()) throw new CwError(ErrorCodes.INPUT, '--as must name who confirms the release');
            const held = await app.findings.held();
            if (!held || held.scanId !== cmd.scan) {
              throw new CwError(
                ErrorCodes.INPUT,
                held
                  ? `scan ${cmd.scan} is not the newest held evaluation; that is ${held.scanId} (only the newest matches the findings as they stand)`
                  : `no evaluation is held (scan ${cmd.scan} is not held, or a newer evaluation superseded it)`,
              );
            }
            const s = await app.findings.evaluateScan(cmd.scan, undefined, { by: `user:${cmd.as.trim()}` });
            const queues = createQueues(app);
            try {
              const notes = await app.alerts.planScan(cmd.scan);
              const queued = await queueDeliveries(queues.alerts, notes, app.config.alerts.delivery);
              if (opts.json) io.out(JSON.stringify({ ...s, notificationsQueued: queued }, null, 2));
              else {
                const t = Object.entries(s.transitions).map(([k, v]) => `${k.replace('finding.', '')} ${v}`);
                io.out(`released scan ${cmd.scan}: ${t.join(', ') || 'no changes'}; ${queued} notifications queued`);
              }
            } finally {
              await closeQueues(queues);
            }
            return 0;
          }),
        ),
      );
    });
}
