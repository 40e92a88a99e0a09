/**
 * Crash safety of remediation, end to end (issue 10; DESIGN invariants 3, 4 and 6): a real worker
 * is SIGKILLed at a random point of a batch of deactivate-key actions against moto and restarted
 * (test/support/fault-remediate.ts). Every trial must end with every plan done (nothing in this
 * estate may hold, fail or cancel), at most one UpdateAccessKey per key at moto and only on
 * planned keys (a user's used key stays Active), every result preceded by its intent and re-check,
 * intent and re-check durable before the backend call, moto's state equal to the records, and
 * `audit verify` passing.
 *
 * CW_FAULT_REMEDIATE_TRIALS (default 4) kill trials, CW_FAULT_SEED the seed (random otherwise;
 * every failure message names it), CW_FAULT_REMEDIATE_USERS the agent users (default 20).
 * `npm run fault:remediate -- --trials 100` runs the full measurement.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RedisClient } from '../../src/queue/connection.js';
import { type AwsRecordingProxy, startAwsRecordingProxy } from '../support/aws-recording-proxy.js';
import {
  ensureBuilt,
  FaultHarness,
  type FaultReport,
  formatCalibration,
  formatSummary,
  formatTrial,
  reportViolations,
} from '../support/fault-harness.js';
import { type RemediationSetup, remediationSetup } from '../support/fault-remediate.js';
import { useMoto } from '../support/moto.js';
import { openTestRedis } from '../support/redis.js';

const TRIALS = Number(process.env.CW_FAULT_REMEDIATE_TRIALS ?? 4);
const SEED = Number(process.env.CW_FAULT_SEED ?? Math.floor(Math.random() * 2 ** 31));
const USERS = Number(process.env.CW_FAULT_REMEDIATE_USERS ?? 20);
/** A failing trial can take the whole finish deadline (60 s) plus its checks. */
const TIMEOUT_MS = (TRIALS + 1) * 90_000 + 60_000;

const moto = useMoto();
let proxy: AwsRecordingProxy;
let redis: RedisClient;
let setup: RemediationSetup;
let harness: FaultHarness | undefined;

describe('SIGKILLed workers in a batch of remediation actions (fault harness)', () => {
  beforeAll(async () => {
    ensureBuilt();
    proxy = await startAwsRecordingProxy(moto.endpoint);
    redis = openTestRedis();
    setup = remediationSetup({
      proxy,
      motoEndpoint: moto.endpoint,
      resetMoto: () => moto.reset(),
      redis,
      users: USERS,
    });
  }, 180_000);

  afterAll(async () => {
    await harness?.close();
    await proxy?.close();
    redis?.disconnect();
    setup?.close();
  }, 30_000);

  it(
    `${TRIALS} kill trials: every plan done once, no key touched twice or outside the plans, audit in order`,
    async () => {
      harness = new FaultHarness(setup.options);
      const h = harness;
      const lines: string[] = [];
      const report: FaultReport = await h.runTrials({
        trials: TRIALS,
        seed: SEED,
        onTrial: (r) => {
          lines.push(formatTrial(r));
          if (r.index < 0) lines.push(`calibration: ${formatCalibration(h.calibration)}`);
        },
      });
      lines.push(formatSummary(report));
      const log = lines.join('\n');
      process.stderr.write(`${log}\n`);

      const violations = reportViolations(report);
      expect(violations, `seed ${SEED}: ${violations.length} violations\n${log}`).toEqual([]);
      // A harness whose kills never land inside the batch proves nothing.
      expect(report.landed, `seed ${SEED}: kills landed ${report.landed}/${TRIALS}\n${log}`).toBeGreaterThan(0);
    },
    TIMEOUT_MS,
  );
});
