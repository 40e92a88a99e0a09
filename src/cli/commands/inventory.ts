/** `credwarden inventory`: discover now (in this process, no queues), record the scan, print the credentials. */
import type { Command } from 'commander';
import { newScanId } from '../../scan/orchestrator.js';
import {
  type GlobalOptions,
  type Io,
  parseSource,
  progressReporter,
  runCommand,
  scanExitCode,
  withApp,
} from '../context.js';
import { credentialTable, summaryText, terminalWidth } from '../format.js';

export function registerInventory(program: Command, io: Io, exit: (code: number) => void): void {
  program
    .command('inventory')
    .description('discover agent credentials now and print them (a table, or --json records)')
    .option('--account <id>', 'only this AWS account id (or unit key)')
    .option('--source <type>', 'only this source: aws | vault')
    .action(async (cmd: { account?: string; source?: string }) => {
      const opts = program.opts<GlobalOptions>();
      exit(
        await runCommand(opts, io, async () =>
          withApp(opts, 'producer', async (app) => {
            const sourceType = parseSource(cmd.source);
            const units = app.orchestrator.units({
              ...(sourceType ? { sourceType } : {}),
              ...(cmd.account ? { account: cmd.account } : {}),
            });
            const scanId = newScanId('inventory', app.clock);
            const summary = await app.orchestrator.runInProcess(
              scanId,
              'cli-inventory',
              units,
              app.config.worker.discoverConcurrency,
              progressReporter(opts, io),
            );
            const creds = await app.scans.observed(scanId);
            if (opts.json) io.out(JSON.stringify(creds, null, 2));
            else io.out(`${credentialTable(creds, io.columns ?? terminalWidth())}\n\n${summaryText(summary)}`);
            return scanExitCode(summary, io);
          }),
        ),
      );
    });
}
