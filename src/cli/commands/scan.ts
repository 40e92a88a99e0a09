/**
 * `credwarden scan --once`: run discovery through the queues with an in-process worker, wait for
 * the scan to finish, print its summary. Without --once: enqueue a scan for running workers.
 */
import type { Command } from 'commander';
import { CwError, ErrorCodes } from '../../errors.js';
import type { ScanSummary } from '../../inventory/summary.js';
import { ids, JobNames } from '../../queue/names.js';
import { closeQueues, createQueues, startWorkers } from '../../queue/runtime.js';
import { newScanId } from '../../scan/orchestrator.js';
import { sleep } from '../../util/concurrency.js';
import { type GlobalOptions, type Io, progressReporter, runCommand, scanExitCode, withApp } from '../context.js';
import { summaryText } from '../format.js';
import { parseAsOf } from './findings.js';

export function registerScan(program: Command, io: Io, exit: (code: number) => void): void {
  program
    .command('scan')
    .description('run a scan through the queues')
    .option('--once', 'run it here with an in-process worker and wait for the result')
    .option('--account <id>', 'only this AWS account id (or unit key)')
    .option('--as-of <iso>', 'evaluate every time-based rule as if it were this date')
    .action(async (cmd: { once?: boolean; account?: string; asOf?: string }) => {
      const opts = program.opts<GlobalOptions>();
      exit(
        await runCommand(opts, io, async () =>
          withApp(opts, 'producer', async (app) => {
            const units = app.orchestrator.units(cmd.account ? { account: cmd.account } : {});
            const scanId = newScanId('scan', app.clock);
            const queues = createQueues(app);
            const workers = cmd.once ? startWorkers(app, queues) : null;
            try {
              const asOf = parseAsOf(cmd.asOf);
              await queues.scan.add(
                JobNames.startScan,
                {
                  trigger: 'cli',
                  scanId,
                  units: units.map((u) => u.key),
                  ...(asOf ? { asOf: asOf.toISOString() } : {}),
                },
                { jobId: ids.startScan(scanId), attempts: 3 },
              );
              if (!workers) {
                io.out(opts.json ? JSON.stringify({ scanId, queued: true }) : `queued scan ${scanId}`);
                return 0;
              }
              const deadline = app.config.scan.timeoutSeconds * 1000 + 30_000;
              const summary = await waitForScan(
                app.scans.summary.bind(app.scans),
                scanId,
                deadline,
                progressReporter(opts, io),
              );
              const evaluation = await waitFor(
                () => app.findings.evaluation(scanId),
                deadline,
                `scan ${scanId} was not evaluated`,
              );
              const open = (await app.findings.all()).filter((f) => f.state === 'open');
              if (opts.json) io.out(JSON.stringify({ ...summary, evaluation }, null, 2));
              else {
                io.out(summaryText(summary));
                io.out(
                  `  evaluation (as of ${evaluation.asOf}): ${
                    Object.entries(evaluation.transitions)
                      .map(([k, v]) => `${k.replace('finding.', '')} ${v}`)
                      .join(', ') || 'no changes'
                  }`,
                );
                io.out(
                  `  open findings: ${open.length} (${
                    Object.entries(evaluation.open)
                      .map(([k, v]) => `${k} ${v}`)
                      .join(', ') || 'none'
                  }); suppressed: ${evaluation.suppressed}`,
                );
              }
              return scanExitCode(summary, io);
            } finally {
              await workers?.close(app.config.worker.shutdownTimeoutSeconds * 1000);
              await closeQueues(queues);
            }
          }),
        ),
      );
    });
}

async function waitFor<T>(get: () => Promise<T | null>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const v = await get();
    if (v) return v;
    await sleep(200);
  }
  throw new CwError(ErrorCodes.TIMEOUT, `${what} within ${Math.round(timeoutMs / 1000)} s`);
}

async function waitForScan(
  get: (id: string) => Promise<ScanSummary | null>,
  scanId: string,
  timeoutMs: number,
  progress?: (m: string) => void,
): Promise<ScanSummary> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const s = await get(scanId);
    if (s && s.status !== 'running') return s;
    progress?.(`scan ${scanId} running`);
    await sleep(200);
  }
  throw new CwError(ErrorCodes.TIMEOUT, `scan ${scanId} did not finish within ${Math.round(timeoutMs / 1000)} s`);
}
