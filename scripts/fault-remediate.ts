/**
 * Remediation fault trials (issue 10 "Crash safety"): SIGKILL a real worker at a random point of a
 * batch of deactivate-key actions, restart it, and check every plan's end state, the calls moto
 * received (through a recording proxy), the audit order and `audit verify`
 * (test/support/fault-remediate.ts). A measurement run, not a test: one line per trial (and its
 * violations), then a summary line with where the kills landed; exits 1 when any trial failed.
 *
 *   npm run fault:remediate -- [--trials 100] [--seed N] [--from I] [--users 30] [--workers 1]
 *                              [--phases remediate,evaluate] [--finish-timeout 60] [--keep-failed]
 *
 * Replay one failing trial: the same --seed, --from its index, --trials 1.
 */
import type { RedisClient } from '../src/queue/connection.js';
import type { AwsRecordingProxy } from '../test/support/aws-recording-proxy.js';
import type { FaultHarness as Harness, PhaseSpec } from '../test/support/fault-harness.js';
import type { MotoServer } from '../test/support/moto.js';
import { cliFlags } from './lib/flags.js';

// Before the AWS SDK loads (the seeding helpers import it): credwarden's CI runs Node 20 on purpose.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const { startAwsRecordingProxy } = await import('../test/support/aws-recording-proxy.js');
const { ensureBuilt, FaultHarness, formatCalibration, formatSummary, formatTrial, PHASES } = await import(
  '../test/support/fault-harness.js'
);
const { remediationSetup } = await import('../test/support/fault-remediate.js');
const { startMoto } = await import('../test/support/moto.js');
const { openTestRedis } = await import('../test/support/redis.js');

const { flag, intFlag, fail: failWith } = cliFlags('fault-remediate');
// An explicit type, so a call narrows like a `never` function declaration.
const fail: (msg: string) => never = failWith;

const trials = intFlag('trials', 100, 1);
const seed = intFlag('seed', Math.floor(Math.random() * 2 ** 31));
const from = intFlag('from', 0);
const users = intFlag('users', 30, 1);
const workers = intFlag('workers', 1, 1);
const finishTimeoutMs = intFlag('finish-timeout', 60, 5) * 1000;
const phaseNames = (flag('phases') ?? 'remediate').split(',');

console.log(
  `remediation fault trials: seed ${seed} (replay: --seed ${seed} --from I --trials 1), ${trials} trials from #${from}`,
);
let moto: MotoServer | undefined;
let proxy: AwsRecordingProxy | undefined;
let redis: RedisClient | undefined;
let harness: Harness | undefined;
let cleanup: (() => void) | undefined;
const shutdown = async (code: number) => {
  await harness?.close().catch(() => undefined);
  await proxy?.close().catch(() => undefined);
  await moto?.stop().catch(() => undefined);
  redis?.disconnect();
  cleanup?.();
  process.exit(code);
};
process.once('SIGINT', () => void shutdown(130));
process.once('SIGTERM', () => void shutdown(143));

try {
  ensureBuilt();
  moto = await startMoto();
  proxy = await startAwsRecordingProxy(moto.endpoint);
  redis = openTestRedis();
  const m = moto;
  const setup = remediationSetup({
    proxy,
    motoEndpoint: m.endpoint,
    resetMoto: () => m.reset(),
    redis,
    users,
    workers,
  });
  cleanup = setup.close;
  const known: Record<string, PhaseSpec> = { ...PHASES, remediate: setup.options.phases![0]! };
  const phases = phaseNames.map(
    (n) => known[n] ?? fail(`unknown phase "${n}" (valid: ${Object.keys(known).join(', ')})`),
  );
  harness = new FaultHarness({
    ...setup.options,
    phases,
    finishTimeoutMs,
    keepFailed: process.argv.includes('--keep-failed'),
  });
  const h = harness;
  const report = await h.runTrials({
    trials,
    seed,
    from,
    onTrial: (r) => {
      console.log(formatTrial(r));
      if (r.index < 0) {
        const planned = setup.trial.keys.filter((k) => k.matches).length;
        console.log(
          `estate: ${users} agent users, ${setup.trial.keys.length} keys, ${planned} never-used (planned) — re-seeded per trial (${setup.trial.seedMs} ms)`,
        );
        console.log(`calibration: ${formatCalibration(h.calibration)}`);
      }
    },
  });
  console.log(formatSummary(report));
  await shutdown(report.failed > 0 ? 1 : 0);
} catch (err) {
  console.error(`fault-remediate: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  await shutdown(2);
}
