/**
 * Fault trials: SIGKILL real workers in the middle of discover / finalize / evaluate and check the
 * audit trail and the state afterwards (test/support/fault-harness.ts). A measurement run, not a
 * test: it prints one line per trial (and its violations) and a summary line, and exits 1 when any
 * trial failed.
 *
 *   npm run fault:trials -- [--trials 30] [--seed N] [--from I] [--users 60] [--workers 2]
 *                           [--phases discover,finalize,evaluate] [--finish-timeout 60] [--keep-failed]
 *
 * Replay one failing trial: the same --seed, --from its index, --trials 1.
 */
import type { FaultHarness as Harness, PhaseSpec } from '../test/support/fault-harness.js';
import type { MotoServer } from '../test/support/moto.js';
import { cliFlags } from './lib/flags.js';

// Before the AWS SDK loads (the seeding helpers import it): credwarden's CI runs Node 20 on purpose.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const { FAULT_ACCOUNTS, seedFaultEstate } = await import('../test/support/fault-estate.js');
const { ensureBuilt, FaultHarness, formatCalibration, formatSummary, formatTrial, PHASES } = await import(
  '../test/support/fault-harness.js'
);
const { startMoto } = await import('../test/support/moto.js');

const { flag, intFlag, fail: failWith } = cliFlags('fault-trials');
// An explicit type, so a call narrows like a `never` function declaration.
const fail: (msg: string) => never = failWith;

const trials = intFlag('trials', 30, 1);
const seed = intFlag('seed', Math.floor(Math.random() * 2 ** 31));
const from = intFlag('from', 0);
const users = intFlag('users', 60, 1);
const workers = intFlag('workers', 2, 1);
const finishTimeoutMs = intFlag('finish-timeout', 60, 5) * 1000;
const phaseNames = (flag('phases') ?? 'discover,finalize,evaluate').split(',');
const phases: PhaseSpec[] = phaseNames.map((n) => {
  const p = (PHASES as Record<string, PhaseSpec>)[n];
  if (!p) fail(`unknown phase "${n}" (valid: ${Object.keys(PHASES).join(', ')})`);
  return p;
});

console.log(`fault trials: seed ${seed} (replay: --seed ${seed} --from I --trials 1), ${trials} trials from #${from}`);
let moto: MotoServer | undefined;
let harness: Harness | undefined;
const shutdown = async (code: number) => {
  await harness?.close().catch(() => undefined);
  await moto?.stop().catch(() => undefined);
  process.exit(code);
};
process.once('SIGINT', () => void shutdown(130));
process.once('SIGTERM', () => void shutdown(143));

try {
  ensureBuilt();
  moto = await startMoto();
  const estate = await seedFaultEstate(moto.endpoint, { accounts: FAULT_ACCOUNTS, usersPerAccount: users });
  console.log(
    `estate: ${estate.accounts.length} accounts × ${users} agent users, ${estate.credentials} credentials (seeded in ${estate.seedMs} ms)`,
  );
  harness = new FaultHarness({
    endpoint: moto.endpoint,
    estate,
    workers,
    finishTimeoutMs,
    phases,
    keepFailed: process.argv.includes('--keep-failed'),
  });
  const h = harness;
  const report = await h.runTrials({
    trials,
    seed,
    from,
    onTrial: (r) => {
      console.log(formatTrial(r));
      if (r.index < 0) console.log(`calibration: ${formatCalibration(h.calibration)}`);
    },
  });
  console.log(formatSummary(report));
  await shutdown(report.failed > 0 ? 1 : 0);
} catch (err) {
  console.error(`fault-trials: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  await shutdown(2);
}
