/** `credwarden alerts test --sink NAME` sends a labelled test event now; `alerts list` shows recent deliveries and failures. */
import type { Command } from 'commander';
import { CwError, ErrorCodes } from '../../errors.js';
import { type GlobalOptions, type Io, runCommand, withApp } from '../context.js';
import { table } from '../format.js';

export function registerAlerts(program: Command, io: Io, exit: (code: number) => void): void {
  const alerts = program.command('alerts').description('alert sinks: test them, list deliveries');
  alerts
    .command('test')
    .description('send a test event to one sink, now')
    .requiredOption('--sink <name>', 'a sink from alerts.sinks')
    .action(async (cmd: { sink: string }) => {
      const opts = program.opts<GlobalOptions>();
      exit(
        await runCommand(opts, io, () =>
          withApp(opts, 'producer', async (app) => {
            if (!app.alerts.sinks.has(cmd.sink)) {
              throw new CwError(
                ErrorCodes.INPUT,
                `--sink ${cmd.sink}: no such sink (configured: ${[...app.alerts.sinks.keys()].join(', ') || 'none'})`,
              );
            }
            const res = await app.alerts.sendTest(cmd.sink);
            if (opts.json) io.out(JSON.stringify({ sink: cmd.sink, ...res }));
            else
              io.out(`${cmd.sink}: ${res.ok ? 'delivered' : 'FAILED'} (${res.status ?? 'no response'}) ${res.detail}`);
            return res.ok ? 0 : 1;
          }),
        ),
      );
    });
  alerts
    .command('list')
    .description('recent deliveries, newest first')
    .option('--failed', 'only failures')
    .option('--limit <n>', 'how many', '50')
    .action(async (cmd: { failed?: boolean; limit: string }) => {
      const opts = program.opts<GlobalOptions>();
      exit(
        await runCommand(opts, io, () =>
          withApp(opts, 'producer', async (app) => {
            const limit = Number(cmd.limit);
            if (!Number.isInteger(limit) || limit < 1)
              throw new CwError(ErrorCodes.INPUT, `--limit must be a positive integer, got "${cmd.limit}"`);
            const list = (await app.alerts.deliveries(cmd.failed ? 1000 : limit))
              .filter((d) => !cmd.failed || !d.ok)
              .slice(0, limit);
            if (opts.json) io.out(JSON.stringify(list, null, 2));
            else if (list.length === 0) io.out(cmd.failed ? 'no failed deliveries' : 'no deliveries yet');
            else
              io.out(
                table(
                  ['AT', 'SINK', 'MODE', 'ITEMS', 'RESULT', 'ATTEMPT', 'DETAIL'],
                  list.map((d) => [
                    d.at,
                    d.sink,
                    d.mode,
                    String(d.items),
                    d.ok
                      ? `ok ${d.status ?? ''}`.trim()
                      : `${d.final ? 'FAILED' : 'retrying'} ${d.status ?? ''}`.trim(),
                    String(d.attempt),
                    d.detail.slice(0, 80),
                  ]),
                ),
              );
            return 0;
          }),
        ),
      );
    });
}
