/**
 * Fault harness: SIGKILL real worker processes in the middle of a scan phase, then check from
 * outside that nothing was audited twice and nothing was lost (DESIGN invariants 4–6).
 *
 * A trial, against an estate already seeded in moto (fault-estate.ts):
 *   1. a fresh Redis prefix and audit file; config with short worker leases
 *      (`worker: { leaseSeconds: 3, stalledCheckSeconds: 1, maxStalledCount: 5 }`);
 *   2. worker A (`node dist/src/cli/main.js --config C worker --no-schedule`); `scan --json` queues
 *      a scan;
 *   3. black-box phase detection (fault-phases.ts): `<prefix>:bull:<queue>:active` and
 *      `<prefix>:audit:head` seq, polled every few ms. When the target phase is first seen, the
 *      standby worker(s) B start: until then A is the only worker, so A holds the phase's job and is
 *      the one to kill. The kill plan runs, A is SIGKILLed, where it landed is recorded (the phase's
 *      job still active, audit seq), and a restarted worker A2 starts;
 *   4. a bounded wait until `<prefix>:scan:<id>` is complete|partial with `evaluation`; a job that
 *      failed for good on a queue the scan needs (scan, inventory, evaluate) ends it early;
 *   5. the workers are stopped (SIGTERM, then SIGKILL) and the checks run (fault-checks.ts).
 * A control trial (no kill) runs first: it must pass too, and it calibrates each phase's duration
 * and audit events so the kill points are drawn from inside the phases.
 *
 * Pluggable: `phases` (PhaseSpec, with an optional onKilled probe), `checks` (InvariantCheck),
 * `replayRules` (ReplayRule), `config` (extra credwarden.yaml keys, e.g. remediation settings),
 * `child` (Node flags and environment for every credwarden process), `beforeTrial` (e.g. re-seed
 * the estate), `settle` (what must be finished besides the scan, e.g. every queued action).
 *
 * Cleanup: children are SIGKILLed at the end of each trial, on close() and at process exit; each
 * trial's prefix is deleted; its directory (config, audit file, worker logs, under .cw/fault/) is
 * removed unless keepFailed keeps a failed one. moto belongs to the caller (useMoto() in tests,
 * startMoto() in the script).
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { stringify } from 'yaml';
import type { RedisClient } from '../../src/queue/connection.js';
import { DEFAULT_CHECKS, type InvariantCheck, readAuditEvents, type TrialContext } from './fault-checks.js';
import type { FaultEstate } from './fault-estate.js';
import {
  DEFAULT_PHASES,
  type KillPlan,
  type KillProbe,
  type PhaseCalibration,
  type PhaseSpec,
  type Rng,
  seededRng,
  trialSeed,
} from './fault-phases.js';
import { type Child, type ChildOptions, cliError, ROOT, runCli, startChild, stopChild } from './fault-procs.js';
import type { ReplayRule, Violation } from './fault-replay.js';
import {
  EventCounter,
  failedJobs,
  jobFailures,
  type PhaseWindow,
  type Snapshot,
  scanDone,
  Watch,
} from './fault-watch.js';
import { deleteByPrefix, openTestRedis, REDIS_URL, testKeyPrefix, testRedisConfig } from './redis.js';

export { DEFAULT_CHECKS, type InvariantCheck, type TrialContext } from './fault-checks.js';
export { DEFAULT_PHASES, type KillPlan, type KillProbe, PHASES, type PhaseSpec } from './fault-phases.js';
export { type ChildOptions, ensureBuilt } from './fault-procs.js';
export { formatCalibration, formatSummary, formatTrial, reportViolations, stepCounts } from './fault-report.js';
export type { PhaseWindow } from './fault-watch.js';

const QUEUES = ['scan', 'discover', 'inventory', 'evaluate'];
/** Queues whose job failing for good means the scan can no longer finish (a discover unit is recorded as failed instead). */
const TERMINAL_QUEUES = new Set(['scan', 'inventory', 'evaluate']);

export interface KillRecord {
  phase: string;
  plan: KillPlan;
  /** The target phase's job was still active when the worker had died. */
  landed: boolean;
  /** Queues with an active job right after the kill (the dead worker's jobs). */
  activeAtKill: Record<string, string[]>;
  seqAtPhaseStart: number;
  /** Audit seq when the kill was decided, and once the worker was dead (the exact point). */
  seqAtDecision: number;
  seqAtKill: number;
  /** ms after the phase was first seen: the kill decided, the worker dead. */
  msAtDecision: number;
  msIntoPhase: number;
  /** Counted events (the phase's countEvents) between phase start and the worker's death. */
  eventsIntoPhase: number;
  /** What the phase's onKilled probe found right after the kill (its violations are the trial's). */
  probe?: KillProbe;
}

/** Besides the scan, what must be finished before the checks run (e.g. every queued action). */
export interface SettleCondition {
  name: string;
  /** null: settled; else what is still pending. `stuck`: it can no longer settle (ends the wait). */
  pending(redis: RedisClient, prefix: string, scanId: string): Promise<{ pending: string | null; stuck?: string }>;
}

export interface TrialResult {
  index: number;
  phase: string;
  seed: number;
  prefix: string;
  scanId: string;
  kill?: KillRecord;
  /** Why no kill happened in a kill trial. */
  missed?: string;
  finished: boolean;
  status: string | undefined;
  /** Audit events once the trial's scan was done (before the checks' second scan). */
  auditEvents: number;
  violations: Violation[];
  notes: string[];
  durationMs: number;
  timeline: { windows: Record<string, PhaseWindow>; killAt?: number; finishedAt?: number };
}

export interface HarnessOptions {
  endpoint: string;
  estate: FaultEstate;
  redisUrl?: string;
  /** Worker processes while the target phase runs: A plus (workers - 1) standbys; default 2. */
  workers?: number;
  leaseSeconds?: number;
  stalledCheckSeconds?: number;
  maxStalledCount?: number;
  /** scan.timeoutSeconds (the finalize deadline); default 25. */
  scanTimeoutSeconds?: number;
  /** How long to wait for the scan to finish after the kill; default 60 s. */
  finishTimeoutMs?: number;
  pollMs?: number;
  phases?: PhaseSpec[];
  checks?: InvariantCheck[];
  replayRules?: ReplayRule[];
  /** Extra keys merged into every trial's credwarden.yaml. */
  config?: Record<string, unknown>;
  /** Keep a failed trial's directory (config, audit file, worker logs). */
  keepFailed?: boolean;
  /** Node flags and environment for every credwarden process the harness and its checks start. */
  child?: ChildOptions;
  /** Awaited before each trial's first worker starts (e.g. re-seed moto). */
  beforeTrial?: (t: { index: number; prefix: string; configPath: string; auditFile: string }) => Promise<void>;
  settle?: SettleCondition;
}

export interface FaultReport {
  seed: number;
  control?: TrialResult;
  trials: TrialResult[];
  perPhase: Record<string, number>;
  landed: number;
  passed: number;
  failed: number;
  durationMs: number;
}

interface TrialFiles {
  dir: string;
  configPath: string;
  auditFile: string;
}

type OptionalKeys = 'config' | 'beforeTrial' | 'settle';

const v = (check: string, detail: string): Violation => ({ check, detail });
const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

export class FaultHarness {
  readonly calibration = new Map<string, PhaseCalibration>();
  private readonly redis: RedisClient;
  private readonly children = new Set<Child>();
  private readonly prefixes = new Set<string>();
  private readonly runId = randomUUID().slice(0, 8);
  private readonly o: Required<Omit<HarnessOptions, OptionalKeys>> & Pick<HarnessOptions, OptionalKeys>;
  private readonly queues: string[];
  private closed = false;

  constructor(opts: HarnessOptions) {
    const defined = Object.fromEntries(Object.entries(opts).filter(([, x]) => x !== undefined));
    this.o = {
      redisUrl: REDIS_URL,
      workers: 2,
      leaseSeconds: 3,
      stalledCheckSeconds: 1,
      maxStalledCount: 5,
      scanTimeoutSeconds: 25,
      finishTimeoutMs: 60_000,
      pollMs: 2,
      phases: DEFAULT_PHASES,
      checks: DEFAULT_CHECKS,
      replayRules: [],
      keepFailed: false,
      child: {},
      ...(defined as unknown as HarnessOptions),
    };
    this.queues = [...new Set([...QUEUES, ...this.o.phases.flatMap((p) => p.queues)])];
    this.redis = openTestRedis({}, this.o.redisUrl);
  }

  /** Kills every child, deletes every prefix still in use, closes Redis. Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    await this.killAll();
    for (const p of this.prefixes) await deleteByPrefix(this.redis, `${p}:`).catch(() => 0);
    this.prefixes.clear();
    if (this.redis.status !== 'end') this.redis.disconnect();
  }

  /** The control trial (no kill); sets `calibration` from its phase windows. */
  async calibrate(): Promise<TrialResult> {
    const r = await this.runTrial(-1, null, 0);
    for (const p of this.o.phases) {
      const ws = p.queues.map((q) => r.timeline.windows[q]).filter((w): w is PhaseWindow => !!w);
      if (!ws.length) continue;
      this.calibration.set(p.name, {
        durationMs: Math.max(1, Math.max(...ws.map((w) => w.exitAt)) - Math.min(...ws.map((w) => w.enterAt))),
        events: Math.max(0, Math.max(...ws.map((w) => w.exitSeq)) - Math.min(...ws.map((w) => w.enterSeq))),
      });
    }
    return r;
  }

  /**
   * The control trial, then `trials` kill trials cycling over the phases (trial i: phase i mod P,
   * seed trialSeed(seed, i)), starting at index `from`. To replay a failing trial: the same seed,
   * from = its index, trials = 1. onTrial sees each result as it completes.
   */
  async runTrials(opts: {
    trials: number;
    seed: number;
    from?: number;
    onTrial?: (r: TrialResult) => void;
  }): Promise<FaultReport> {
    const t0 = Date.now();
    const control = await this.calibrate();
    opts.onTrial?.(control);
    const trials: TrialResult[] = [];
    const from = opts.from ?? 0;
    for (let i = from; i < from + opts.trials && !this.closed; i++) {
      const r = await this.runTrial(i, this.o.phases[i % this.o.phases.length]!, trialSeed(opts.seed, i));
      trials.push(r);
      opts.onTrial?.(r);
    }
    const perPhase: Record<string, number> = {};
    for (const r of trials) perPhase[r.phase] = (perPhase[r.phase] ?? 0) + 1;
    const all = [control, ...trials];
    return {
      seed: opts.seed,
      control,
      trials,
      perPhase,
      landed: trials.filter((r) => r.kill?.landed).length,
      passed: all.filter((r) => r.violations.length === 0).length,
      failed: all.filter((r) => r.violations.length > 0).length,
      durationMs: Date.now() - t0,
    };
  }

  /** One trial; `phase` null is a control trial (no kill). A failed trial is a result, never a throw. */
  async runTrial(index: number, phase: PhaseSpec | null, seed: number): Promise<TrialResult> {
    const t0 = Date.now();
    const prefix = `cwfault-${this.runId}-${index < 0 ? 'control' : `t${index}`}`;
    this.prefixes.add(prefix);
    const files = this.writeFiles(prefix);
    const r: TrialResult = {
      index,
      phase: phase?.name ?? 'control',
      seed,
      prefix,
      scanId: '',
      finished: false,
      status: undefined,
      auditEvents: 0,
      violations: [],
      notes: [],
      durationMs: 0,
      timeline: { windows: {} },
    };
    const workers: Child[] = [];
    try {
      await this.o.beforeTrial?.({ index, prefix, configPath: files.configPath, auditFile: files.auditFile });
      const a = this.worker('A', files, workers);
      await a.ready;
      if (!phase) this.standbys(files, workers);
      const q = await runCli(files.configPath, ['scan', '--json'], 30_000, this.o.child);
      if (q.code !== 0) throw new Error(`scan --json: ${cliError(q)}`);
      r.scanId = (JSON.parse(q.stdout) as { scanId: string }).scanId;
      const watch = new Watch(this.redis, prefix, this.queues, Date.now());
      let deadline = Date.now() + this.o.finishTimeoutMs;
      if (phase) {
        r.kill = await this.killInPhase(phase, seededRng(seed), watch, a, r, files, workers);
        if (r.kill) {
          r.timeline.killAt = Date.now() - watch.origin;
          deadline = Date.now() + this.o.finishTimeoutMs;
        }
      }
      const outcome = await this.waitFinished(r.scanId, prefix, deadline, watch);
      r.timeline.windows = watch.windows;
      r.finished = outcome.finished;
      r.status = outcome.status;
      if (outcome.finished) r.timeline.finishedAt = Date.now() - watch.origin;
      else r.violations.push(v(outcome.check ?? 'scan-finished', outcome.reason));
      r.auditEvents = Number((await this.redis.hget(`${testKeyPrefix(prefix)}:audit:head`, 'seq')) ?? 0);
      await Promise.all(workers.map((w) => stopChild(w, 8_000)));
      for (const f of await failedJobs(this.redis, prefix, this.queues))
        r.notes.push(`${f.queue} job ${f.id} failed for good: ${f.reason}`);
      for (const w of workers) r.notes.push(...jobFailures(w));
      r.violations.push(...(r.kill?.probe?.violations ?? []), ...(await this.check(r, files)));
    } catch (err) {
      r.violations.push(v('harness', `trial crashed: ${message(err)}`));
    } finally {
      await this.killAll();
      await deleteByPrefix(this.redis, `${prefix}:`).catch(() => 0);
      this.prefixes.delete(prefix);
      if (r.violations.length && this.o.keepFailed) r.notes.push(`kept ${files.dir}`);
      else rmSync(files.dir, { recursive: true, force: true });
      r.durationMs = Date.now() - t0;
    }
    return r;
  }

  private async killAll(): Promise<void> {
    for (const c of this.children) if (c.alive()) c.proc.kill('SIGKILL');
    await Promise.all([...this.children].map((c) => c.exited));
    this.children.clear();
  }

  private writeFiles(prefix: string): TrialFiles {
    const base = join(ROOT, '.cw', 'fault');
    mkdirSync(base, { recursive: true });
    const dir = mkdtempSync(join(base, `${prefix}-`));
    const auditFile = join(dir, 'audit.jsonl');
    writeFileSync(join(dir, 'agents.yaml'), stringify(this.o.estate.registry));
    const configPath = join(dir, 'credwarden.yaml');
    const config = {
      registry: 'agents.yaml',
      redis: testRedisConfig({ url: this.o.redisUrl, prefix }),
      aws: {
        endpoint: this.o.endpoint,
        accounts: this.o.estate.accounts.map((id) => ({ id, roleArn: `arn:aws:iam::${id}:role/credwarden-reader` })),
      },
      audit: { file: auditFile },
      scan: { timeoutSeconds: this.o.scanTimeoutSeconds },
      worker: {
        leaseSeconds: this.o.leaseSeconds,
        stalledCheckSeconds: this.o.stalledCheckSeconds,
        maxStalledCount: this.o.maxStalledCount,
        shutdownTimeoutSeconds: 5,
      },
      ...this.o.config,
    };
    writeFileSync(configPath, stringify(config));
    return { dir, configPath, auditFile };
  }

  private worker(label: string, files: TrialFiles, workers: Child[]): Child {
    // A test that timed out has closed the harness while a trial still runs: start nothing more.
    if (this.closed) throw new Error('the harness was closed');
    const args = ['--config', files.configPath, 'worker', '--no-schedule'];
    const c = startChild(label, args, join(files.dir, `worker-${label}.log`), this.o.child);
    this.children.add(c);
    workers.push(c);
    return c;
  }

  private standbys(files: TrialFiles, workers: Child[]): void {
    for (let i = 1; i < this.o.workers; i++) this.worker(`B${i}`, files, workers);
  }

  private async killInPhase(
    phase: PhaseSpec,
    rng: Rng,
    watch: Watch,
    a: Child,
    r: TrialResult,
    files: TrialFiles,
    workers: Child[],
  ): Promise<KillRecord | undefined> {
    const plan = phase.plan(rng, this.calibration.get(phase.name));
    const inPhase = (s: Snapshot) => phase.queues.some((q) => (s.active[q]?.length ?? 0) > 0);
    const enterBy = Date.now() + 60_000;
    let s = await watch.poll();
    while (!inPhase(s)) {
      if (Date.now() > enterBy || (await this.allDone(r.prefix, r.scanId))) {
        r.missed = `phase ${phase.name} was never seen active`;
        return undefined;
      }
      await sleep(this.o.pollMs);
      s = await watch.poll();
    }
    const enter = s;
    this.standbys(files, workers);
    const filter = plan.kind === 'events' ? (plan.filter ?? phase.countEvents) : phase.countEvents;
    const counter = new EventCounter(this.redis, r.prefix, enter.seq, filter);
    for (;;) {
      if (plan.kind === 'delay' && s.at - enter.at >= plan.ms) break;
      if (plan.kind === 'events' && (await counter.count(s.seq)) >= plan.n) break;
      if (plan.kind === 'signal' && plan.fired()) break;
      if (!inPhase(s)) break; // the phase ended first: kill now, recorded as not landed
      await sleep(this.o.pollMs);
      s = await watch.poll();
    }
    a.proc.kill('SIGKILL');
    await a.exited;
    const killedAt = Date.now();
    const post = await watch.poll();
    this.worker('A2', files, workers);
    const probe = await phase
      .onKilled?.({
        redis: this.redis,
        prefix: r.prefix,
        active: post.active,
        seqAtKill: post.seq,
        killedAt,
        leaseMs: this.o.leaseSeconds * 1000,
      })
      .catch((err: unknown): KillProbe => ({ violations: [v('kill-probe', `probe crashed: ${message(err)}`)] }));
    return {
      phase: phase.name,
      plan,
      landed: inPhase(post),
      activeAtKill: Object.fromEntries(Object.entries(post.active).filter(([, ids]) => ids.length > 0)),
      seqAtPhaseStart: enter.seq,
      seqAtDecision: s.seq,
      seqAtKill: post.seq,
      msAtDecision: s.at - enter.at,
      msIntoPhase: post.at - enter.at,
      eventsIntoPhase: await counter.count(post.seq),
      ...(probe ? { probe } : {}),
    };
  }

  private async waitFinished(
    scanId: string,
    prefix: string,
    deadline: number,
    watch: Watch,
  ): Promise<{ finished: boolean; status: string | undefined; reason: string; check?: string }> {
    let lastFailedCheck = 0;
    for (;;) {
      const [status, evaluation] = await this.redis.hmget(
        `${testKeyPrefix(prefix)}:scan:${scanId}`,
        'status',
        'evaluation',
      );
      const where = `status ${status ?? 'missing'}, evaluation ${evaluation ? 'present' : 'missing'}`;
      if ((status === 'complete' || status === 'partial') && evaluation) {
        const unsettled = await this.waitSettled(scanId, prefix, deadline, watch);
        if (!unsettled) return { finished: true, status, reason: '' };
        return { finished: false, status, reason: unsettled, check: this.o.settle?.name ?? 'settled' };
      }
      if (Date.now() - lastFailedCheck > 250) {
        lastFailedCheck = Date.now();
        const stuck = (await failedJobs(this.redis, prefix, QUEUES)).filter((f) => TERMINAL_QUEUES.has(f.queue));
        if (stuck.length) {
          const why = stuck.map((f) => `${f.queue} job ${f.id} failed for good: ${f.reason}`).join('; ');
          return {
            finished: false,
            status: status ?? undefined,
            reason: `scan ${scanId} can no longer finish (${where}): ${why}`,
          };
        }
      }
      if (Date.now() > deadline) {
        const reason = `scan ${scanId} did not finish within ${Math.round(this.o.finishTimeoutMs / 1000)} s (${where})`;
        return { finished: false, status: status ?? undefined, reason };
      }
      await watch.poll();
      await sleep(10);
    }
  }

  /** The scan finished and (with a settle condition) nothing it started is pending. */
  private async allDone(prefix: string, scanId: string): Promise<boolean> {
    if (!(await scanDone(this.redis, prefix, scanId))) return false;
    return !this.o.settle || (await this.o.settle.pending(this.redis, prefix, scanId)).pending === null;
  }

  /** Waits for the settle condition (after the scan finished); null once settled, else why not. */
  private async waitSettled(scanId: string, prefix: string, deadline: number, watch: Watch): Promise<string | null> {
    const c = this.o.settle;
    if (!c) return null;
    for (;;) {
      const p = await c.pending(this.redis, prefix, scanId);
      if (p.pending === null) return null;
      if (p.stuck) return `${c.name}: can no longer settle: ${p.stuck}`;
      if (Date.now() > deadline)
        return `${c.name}: not settled within ${Math.round(this.o.finishTimeoutMs / 1000)} s: ${p.pending}`;
      await watch.poll();
      await sleep(20);
    }
  }

  private async check(r: TrialResult, files: TrialFiles): Promise<Violation[]> {
    const ctx: TrialContext = {
      index: r.index,
      prefix: r.prefix,
      scanId: r.scanId,
      configPath: files.configPath,
      auditFile: files.auditFile,
      redis: this.redis,
      finished: r.finished,
      replayRules: this.o.replayRules,
      events: () => readAuditEvents(this.redis, r.prefix),
      cli: (args, timeoutMs) => runCli(files.configPath, args, timeoutMs, this.o.child),
      note: (s) => r.notes.push(s),
    };
    const out: Violation[] = [];
    for (const c of this.o.checks) {
      try {
        out.push(...(await c.run(ctx)));
      } catch (err) {
        out.push(v(c.name, `check crashed: ${message(err)}`));
      }
    }
    return out;
  }
}
