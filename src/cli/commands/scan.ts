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

export function registerScan(program: Command, io: Io, exit: (code: number) => void): void {
  program
    .command('scan')
    .description('run a scan through the queues')
    .option('--once', 'run it here with an in-process worker and wait for the result')
    .option('--account <id>', 'only this AWS account id (or unit key)')
    .action(async (cmd: { once?: boolean; account?: string }) => {
      const opts = program.opts<GlobalOptions>();
      exit(
        await runCommand(opts, io, async () =>
          withApp(opts, 'producer', async (app) => {
            const units = app.orchestrator.units(cmd.account ? { account: cmd.account } : {});
            const scanId = newScanId('scan', app.clock);
            const queues = createQueues(app);
            const workers = cmd.once ? startWorkers(app, queues) : null;
            try {
              await queues.scan.add(
                JobNames.startScan,
                { trigger: 'cli', scanId, units: units.map((u) => u.key) },
                { jobId: ids.startScan(scanId), attempts: 3 },
              );
              if (!workers) {
                io.out(opts.json ? JSON.stringify({ scanId, queued: true }) : `queued scan ${scanId}`);
                return 0;
              }
              const summary = await waitForScan(
                app.scans.summary.bind(app.scans),
                scanId,
                app.config.scan.timeoutSeconds * 1000 + 30_000,
                progressReporter(opts, io),
              );
              io.out(opts.json ? JSON.stringify(summary, null, 2) : summaryText(summary));
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
