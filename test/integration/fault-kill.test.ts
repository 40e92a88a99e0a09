/**
 * Crash safety, end to end (DESIGN invariants 4–6): real worker processes are SIGKILLed in the
 * middle of discover, finalize and evaluate (test/support/fault-harness.ts), a standby or a
 * restarted worker picks the job up, and afterwards the audit chain verifies, no transition was
 * audited twice or lost, the stored state equals the replayed audit trail, the scan finished
 * (complete, or honestly partial) and was evaluated, a clean re-scan changes nothing, and a
 * finalize or evaluation killed while holding the inventory lease leaves no lock that outlives it
 * (it lapses within worker.leaseSeconds; fault-phases.ts leaseProbe).
 *
 * CW_FAULT_TRIALS (default 6: 2 per phase) sets the number of kill trials, CW_FAULT_SEED the seed
 * (random otherwise; every failure message names it), CW_FAULT_USERS the agent users per account.
 * `npm run fault:trials -- --trials 30` runs more of them with a per-trial report.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FaultEstate, seedFaultEstate } from '../support/fault-estate.js';
import {
  ensureBuilt,
  FaultHarness,
  type FaultReport,
  formatCalibration,
  formatSummary,
  formatTrial,
  reportViolations,
} from '../support/fault-harness.js';
import { useMoto } from '../support/moto.js';

const TRIALS = Number(process.env.CW_FAULT_TRIALS ?? 6);
const SEED = Number(process.env.CW_FAULT_SEED ?? Math.floor(Math.random() * 2 ** 31));
const USERS = Number(process.env.CW_FAULT_USERS ?? 60);
/** A failing trial can take the whole finish deadline (60 s) plus its checks. */
const TIMEOUT_MS = (TRIALS + 1) * 90_000 + 60_000;

const moto = useMoto();
let estate: FaultEstate;
let harness: FaultHarness | undefined;

describe('SIGKILLed workers (fault harness)', () => {
  beforeAll(async () => {
    ensureBuilt();
    estate = await seedFaultEstate(moto.endpoint, { usersPerAccount: USERS });
  }, 180_000);

  afterAll(async () => {
    await harness?.close();
  }, 30_000);

  it(
    `${TRIALS} kill trials over discover, finalize and evaluate leave no duplicated or lost transition`,
    async () => {
      harness = new FaultHarness({ endpoint: moto.endpoint, estate });
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
      // A harness whose kills never land inside a phase proves nothing.
      expect(report.landed, `seed ${SEED}: kills landed ${report.landed}/${TRIALS}\n${log}`).toBeGreaterThan(0);
    },
    TIMEOUT_MS,
  );
});
