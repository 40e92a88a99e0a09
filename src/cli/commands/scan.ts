/**
 * `credwarden scan --once`: run discovery through the queues with an in-process worker, wait for
 * the scan, its evaluation and its alert deliveries, print the summary. Without --once: enqueue a
 * scan for running workers.
 *
 * The wait watches the scan's own jobs (src/queue/watch.ts): a job that failed for good, a scan
 * that vanished from Redis, or a lost Redis ends it at once with one line and exit 2; the deadline
 * (scan.timeoutSeconds + 30 s for the scan, as long again for its evaluation) with CW_ERR_TIMEOUT
 * naming the step. Deliveries still pending at their deadline, or failed, are reported: exit 1.
 */
import type { Command } from 'commander';
import { startWorkers } from '../../../jobs/workers.js';
import { CwError, ErrorCodes } from '../../errors.js';
import { redisWhere } from '../../queue/connection.js';
import { closeQueues, createQueues, redisErrorLog } from '../../queue/runtime.js';
import { closeSettled } from '../../queue/settle.js';
import { openWatchConnection, ScanWatch } from '../../queue/watch.js';
import { type DeliveryReport, deliveryLine, watchDeliveries } from '../../queue/watch-deliveries.js';
import { type RemediationReport, remediationLine, watchRemediation } from '../../queue/watch-remediation.js';
import { requestScan } from '../../scan/request.js';
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
            const queues = createQueues(app);
            const workers = cmd.once ? startWorkers(app, queues) : null;
            // The error each job's last attempt threw here: it carries the CwError code that
            // BullMQ's failedReason (the message only) lacks.
            const lastErrors = new Map<string, unknown>();
            for (const w of workers?.workers ?? [])
              w.on('failed', (job, err) => {
                if (job?.id) lastErrors.set(job.id, err);
              });
            const watchRedis = workers ? openWatchConnection(app.config.redis, redisErrorLog(app)) : null;
            try {
              const asOf = parseAsOf(cmd.asOf);
              const { scanId, units } = await requestScan(app, queues, {
                trigger: 'cli',
                ...(cmd.account ? { account: cmd.account } : {}),
                ...(asOf ? { asOf } : {}),
              });
              if (!workers || !watchRedis) {
                io.out(opts.json ? JSON.stringify({ scanId, queued: true }) : `queued scan ${scanId}`);
                return 0;
              }
              const progress = progressReporter(opts, io);
              const lastError = (jobId: string) => lastErrors.get(jobId);
              const watch = new ScanWatch({
                queues,
                redis: watchRedis,
                appRedis: app.redis,
                keys: app.scans.keys,
                scanId,
                units: units.map((u) => u.key),
                where: redisWhere(app.config.redis.url),
                lastError,
                ...(progress ? { progress } : {}),
              });
              const deadline = app.config.scan.timeoutSeconds * 1000 + 30_000;
              await watch.untilFinished(deadline);
              await watch.untilEvaluated(deadline);
              const summary = await app.scans.summary(scanId);
              const evaluation = await app.findings.evaluation(scanId);
              if (!summary || !evaluation)
                throw new CwError(ErrorCodes.REDIS, `scan ${scanId}: its summary or evaluation is missing from Redis`);
              const alerts = await watchDeliveries({
                alerts: app.alerts,
                queues,
                config: app.config.alerts,
                scanId,
                lastError,
                ...(progress ? { progress } : {}),
              });
              const remediation = await watchRemediation({
                remediation: app.remediation,
                queues,
                scanId,
                timeoutMs: app.config.remediation.waitSeconds * 1000,
                lastError,
                ...(progress ? { progress } : {}),
              });
              const open = (await app.findings.all()).filter((f) => f.state === 'open');
              if (opts.json) {
                const { pendingIds: _p, timeoutMs: _t, ...alertsOut } = alerts;
                io.out(JSON.stringify({ ...summary, evaluation, alerts: alertsOut, remediation }, null, 2));
              } else {
                io.out(summaryText(summary));
                if (evaluation.held) {
                  io.out(`  evaluation HELD: ${evaluation.held.reason}`);
                  io.out(`  nothing was applied or paged; to apply it: ${evaluation.held.release}`);
                }
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
                if (app.config.alerts.sinks.length > 0) io.out(`  ${deliveryLine(alerts)}`);
                io.out(`  ${remediationLine(remediation, app.config.remediation.mode)}`);
                for (const a of remediation.settled) io.out(`    ${a.action} ${a.credentialId}: ${a.detail}`);
              }
              // A held evaluation is a problem a person must look at: exit 1, with one line on stderr.
              let heldCode = 0;
              if (evaluation.held) {
                io.err(
                  `credwarden: ${ErrorCodes.HELD}: the evaluation of scan ${scanId} is held: ${evaluation.held.reason}`,
                );
                heldCode = 1;
              }
              return Math.max(
                scanExitCode(summary, io),
                alertsExitCode(alerts, io),
                heldCode,
                remediationExitCode(remediation, io),
              );
            } finally {
              if (workers) await closeSettled(workers, app.config.worker.shutdownTimeoutSeconds * 1000, app.log);
              await closeQueues(queues);
              watchRedis?.disconnect();
            }
          }),
        ),
      );
    });
}

/** 1 with one line when an action this scan ran failed, or is still running at the deadline. */
function remediationExitCode(r: RemediationReport, io: Io): number {
  // Only what this scan ran: an older failed action is in `actions list`, not a new failure.
  const failed = r.settled.filter((a) => a.state === 'failed').length + r.failures.length;
  if (failed === 0 && r.pendingIds.length === 0) return 0;
  io.err(
    `credwarden: remediation: ${failed} action(s) failed, ${r.pendingIds.length} still running after ${Math.round(r.timeoutMs / 1000)} s; see \`credwarden actions list --state failed\``,
  );
  return 1;
}

/**
 * 1 with one line when a delivery of this scan failed or is still pending at the deadline: a page
 * that did not go out is something on-call must hear about; else 0.
 */
function alertsExitCode(r: DeliveryReport, io: Io): number {
  if (r.failed === 0 && r.pending === 0) return 0;
  const failed = r.failures.map((f) => `${f.sink}: ${f.reason}`).join('; ');
  io.err(
    `credwarden: alerts: ${r.failed} of ${r.sent + r.failed + r.pending} deliveries failed${failed ? ` (${failed})` : ''}, ${r.pending} still pending${r.pending ? ` after ${Math.round(r.timeoutMs / 1000)} s` : ''}; see \`credwarden alerts list --failed\``,
  );
  return 1;
}
