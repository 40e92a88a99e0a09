/**
 * One drill, start to end (issue 15): plant a synthetic risky credential in the one place config
 * names, ask for a scan of that place, watch the normal pipeline detect, alert and remediate it
 * (drill/observe.ts), and always clean up, whatever happened.
 *
 * Guarantees:
 * - one drill at a time (a lease), so two drills never count each other's credentials;
 * - nothing is created before it is recorded (`drill.plant-intent`), and the record changes with
 *   its audit event (effects), so a crashed drill's leftovers are known by exact name
 *   (`drill cleanup` removes them);
 * - the pipeline is the normal one: the drill asks for a scan like a person would, and remediation
 *   runs under every guardrail; a guardrail that stops it fails the drill and says which;
 * - passed means: detected, alerted, remediated (or approval asked for where approval is required)
 *   before the deadline, and everything planted was removed.
 */
import { randomBytes } from 'node:crypto';
import { CwError, ErrorCodes } from '../errors.js';
import type { App } from '../main.js';
import type { Queues } from '../queue/runtime.js';
import { requestScan } from '../scan/request.js';
import { Lease } from '../util/lease.js';
import { type DrillScenario, type DrillsConfig, SCENARIO_TARGET } from './config.js';
import { DrillObserver } from './observe.js';
import { drillLook, type PlantContext, type Planter, type PlanterFor, type Removal } from './planter.js';
import { DETECTORS, DrillRecorder, stageUpdate, unitFor } from './record.js';
import type { DrillRecord } from './store.js';

export interface DrillRunOptions {
  scenario: DrillScenario;
  trigger: DrillRecord['trigger'];
  by: string;
  queues: Queues;
  /** Test hook: how often the audit log is read (default 500 ms). */
  pollMs?: number;
  /** Test hook: how long a denied or dry-run plan waits for another plan that may run (default 10 s). */
  blockGraceMs?: number;
}

/** How long a denied or dry-run plan waits for another plan of the same drill that may run. */
const BLOCK_GRACE_MS = 10_000;

export function drillsConfigOf(app: App, scenario: DrillScenario): DrillsConfig {
  const cfg = app.config.drills;
  const target = SCENARIO_TARGET[scenario];
  if (!cfg)
    throw new CwError(
      ErrorCodes.CONFIG,
      `${app.config.configFile}: drills: not configured; name where drills may plant (drills.aws.account, drills.vault.cluster)`,
    );
  if (!cfg[target])
    throw new CwError(
      ErrorCodes.CONFIG,
      `${app.config.configFile}: drills.${target}: not configured; the ${scenario} drill plants in ${target === 'aws' ? 'an AWS account' : 'a Vault namespace'}`,
    );
  return cfg;
}

export class DrillRunner {
  constructor(
    private readonly app: App,
    private readonly planterFor: PlanterFor,
  ) {}

  async run(o: DrillRunOptions): Promise<DrillRecord> {
    const { app } = this;
    const cfg = drillsConfigOf(app, o.scenario);
    const target = SCENARIO_TARGET[o.scenario];
    const id = `drill-${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
    const look = drillLook(app.registry, id, target);
    const unit = unitFor(app, cfg, target);
    const planter = this.planterFor(target, cfg);
    const lease = await this.lock();
    // Holding the lock, every record still "running" is a drill whose process stopped: clean it up first.
    await this.recover()
      .then(() => app.drills.pruneMarks())
      .catch(async (err) => {
        await lease.release().catch(() => {});
        throw err;
      });
    const rec = new DrillRecorder(app, {
      id,
      scenario: o.scenario,
      trigger: o.trigger,
      by: o.by,
      target: { sourceType: target, source: unit.source },
      deadlineMs: cfg.deadlineMinutes * 60_000,
    });
    try {
      await rec.started();
      const ctx: PlantContext = {
        drillId: id,
        scenario: o.scenario,
        look,
        intent: (r) => rec.intent(r),
        planted: (r) => rec.planted(r),
      };
      try {
        await planter.plant(ctx);
        if (o.scenario === 'self-escalation') {
          // The first scan sees the credential harmless; the escalation after it is the drift.
          const first = await this.scan(o.queues, unit.key, rec);
          await this.untilEvaluated(first, rec, o.pollMs ?? 500);
          await planter.escalate!(ctx);
        }
      } catch (err) {
        rec.fail('plant', `planting failed: ${(err as Error).message}`);
      }
      if (!rec.failed) await this.watch(o, rec, unit.key);
    } catch (err) {
      rec.fail(rec.record.stage, `the drill stopped: ${(err as Error).message}`);
    } finally {
      await this.cleanup(planter, rec);
      // A scan of the place after cleanup: the drill's findings resolve (and any page with them).
      if (rec.record.scans.length) await this.scan(o.queues, unit.key, rec).catch(() => {});
      await rec.finished();
      await lease.release().catch(() => {});
    }
    return rec.record;
  }

  private lock(): Promise<Lease> {
    return Lease.acquire(this.app.redis, this.app.drills.keys.lock(), {
      ttlMs: this.app.config.worker.leaseSeconds * 1000,
      what: 'the drill lock (another drill is running)',
      code: ErrorCodes.INPUT,
    });
  }

  /** `drill cleanup`: take the lock, then clean up after every drill whose process stopped. */
  async cleanupAbandoned(): Promise<DrillRecord[]> {
    const lease = await this.lock();
    try {
      return await this.recover();
    } finally {
      await lease.release().catch(() => {});
    }
  }

  /** With the lock held: each "running" record is abandoned; remove what it planted and end it failed. */
  private async recover(): Promise<DrillRecord[]> {
    const out: DrillRecord[] = [];
    for (const r of (await this.app.drills.list(1000)).filter((x) => x.status === 'running')) {
      const rec = DrillRecorder.resume(this.app, r);
      rec.fail(
        r.stage,
        `interrupted: the drill's process stopped at stage ${r.stage}; its plants were removed afterwards`,
      );
      const cfg = this.app.config.drills;
      if (cfg?.[r.target.sourceType]) await this.cleanup(this.planterFor(r.target.sourceType, cfg), rec);
      else
        await rec.cleaned({
          removed: [],
          gone: [],
          failed: [
            { id: r.id, error: `drills.${r.target.sourceType} is no longer configured: remove its plants by hand` },
          ],
        });
      await rec.finished();
      out.push(rec.record);
    }
    return out;
  }

  private async scan(queues: Queues, unitKey: string, rec: DrillRecorder): Promise<string> {
    const { scanId } = await requestScan(this.app, queues, { trigger: 'drill', account: unitKey });
    rec.record.scans.push(scanId);
    return scanId;
  }

  /** Until the scan's evaluation is applied (the self-escalation drill's first, harmless scan). */
  private async untilEvaluated(scanId: string, rec: DrillRecorder, pollMs: number): Promise<void> {
    while (!(await this.app.findings.evaluation(scanId))) {
      if (rec.pastDeadline()) throw new Error(`the first scan ${scanId} was not evaluated before the deadline`);
      await sleep(pollMs);
    }
  }

  private async watch(o: DrillRunOptions, rec: DrillRecorder, unitKey: string): Promise<void> {
    const { app } = this;
    rec.riskNow();
    let cursor = (await app.audit.head()).seq + 1;
    await this.scan(o.queues, unitKey, rec);
    await rec.stageReached('detect');
    const observer = new DrillObserver(new Set(rec.credentialIds()), DETECTORS[o.scenario], async (fp) =>
      ((await app.findings.get(fp))?.hits ?? []).map((h) => h.detector),
    );
    let queued = false;
    let blocked: { reason: string; at: number } | null = null;
    let held: string | null = null;
    while (!rec.complete()) {
      const events = await app.audit.read(cursor, 500);
      for (const e of events) {
        cursor = e.seq + 1;
        for (const u of await observer.feed(e, rec.record)) {
          if (u.stage === 'queued') queued = true;
          else if (u.stage === 'held') held = u.reason;
          else if (u.stage === 'blocked') blocked ??= { reason: u.reason, at: Date.now() };
          else await rec.apply(stageUpdate(u, rec.riskAtMs()));
        }
      }
      if (rec.complete()) break;
      if (blocked && !queued && Date.now() - blocked.at > (o.blockGraceMs ?? BLOCK_GRACE_MS))
        return rec.fail('remediate', `${blocked.reason}; a drill never bypasses a guardrail`);
      if (rec.pastDeadline()) return rec.fail(rec.record.stage, rec.deadlineReason(held ?? blocked?.reason ?? null));
      if (events.length < 500) await sleep(o.pollMs ?? 500);
    }
  }

  private async cleanup(planter: Planter, rec: DrillRecorder): Promise<void> {
    const out: Removal = { removed: [], gone: [], failed: [] };
    try {
      await planter.remove(rec.record.id, rec.record.planted, out);
    } catch (err) {
      out.failed.push({ id: 'cleanup', error: (err as Error).message });
    }
    await rec.cleaned(out);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
