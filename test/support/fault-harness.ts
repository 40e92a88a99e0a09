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
 * Pluggable: `phases` (PhaseSpec), `checks` (InvariantCheck), `replayRules` (ReplayRule), `config`
 * (extra credwarden.yaml keys, e.g. remediation settings).
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
import { Redis } from 'ioredis';
import { stringify } from 'yaml';
import { DEFAULT_CHECKS, type InvariantCheck, readAuditEvents, type TrialContext } from './fault-checks.js';
import type { FaultEstate } from './fault-estate.js';
import {
  DEFAULT_PHASES,
  type KillPlan,
  type PhaseCalibration,
  type PhaseSpec,
  type Rng,
  seededRng,
  trialSeed,
} from './fault-phases.js';
import { type Child, cliError, ROOT, runCli, startChild, stopChild } from './fault-procs.js';
import type { ReplayEvent, ReplayRule, Violation } from './fault-replay.js';
import { deleteByPrefix, REDIS_URL } from './redis.js';

export { DEFAULT_CHECKS, type InvariantCheck, type TrialContext } from './fault-checks.js';
export { DEFAULT_PHASES, type KillPlan, PHASES, type PhaseSpec } from './fault-phases.js';
export { ensureBuilt } from './fault-procs.js';
export { formatCalibration, formatSummary, formatTrial, reportViolations } from './fault-report.js';

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
}

export interface PhaseWindow {
  /** ms after the scan was queued, first and last seen active, and the audit seq then. */
  enterAt: number;
  exitAt: number;
  enterSeq: number;
  exitSeq: number;
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

interface Snapshot {
  at: number;
  seq: number;
  active: Record<string, string[]>;
}

interface TrialFiles {
  dir: string;
  configPath: string;
  auditFile: string;
}

const v = (check: string, detail: string): Violation => ({ check, detail });
const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

export class FaultHarness {
  readonly calibration = new Map<string, PhaseCalibration>();
  private readonly redis: Redis;
  private readonly children = new Set<Child>();
  private readonly prefixes = new Set<string>();
  private readonly runId = randomUUID().slice(0, 8);
  private readonly o: Required<Omit<HarnessOptions, 'config'>> & Pick<HarnessOptions, 'config'>;
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
      ...(defined as unknown as HarnessOptions),
    };
    this.queues = [...new Set([...QUEUES, ...this.o.phases.flatMap((p) => p.queues)])];
    this.redis = new Redis(this.o.redisUrl, { maxRetriesPerRequest: 1 });
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
      const a = this.worker('A', files, workers);
      await a.ready;
      if (!phase) this.standbys(files, workers);
      const q = await runCli(files.configPath, ['scan', '--json'], 30_000);
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
      else r.violations.push(v('scan-finished', outcome.reason));
      r.auditEvents = Number((await this.redis.hget(`${prefix}:audit:head`, 'seq')) ?? 0);
      await Promise.all(workers.map((w) => stopChild(w, 8_000)));
      for (const f of await failedJobs(this.redis, prefix))
        r.notes.push(`${f.queue} job ${f.id} failed for good: ${f.reason}`);
      for (const w of workers) r.notes.push(...jobFailures(w));
      r.violations.push(...(await this.check(r, files)));
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
      redis: { url: this.o.redisUrl, prefix },
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
    const c = startChild(label, args, join(files.dir, `worker-${label}.log`));
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
      if (Date.now() > enterBy || (await scanDone(this.redis, r.prefix, r.scanId))) {
        r.missed = `phase ${phase.name} was never seen active`;
        return undefined;
      }
      await sleep(this.o.pollMs);
      s = await watch.poll();
    }
    const enter = s;
    this.standbys(files, workers);
    const counter = new EventCounter(this.redis, r.prefix, enter.seq, phase.countEvents);
    for (;;) {
      if (plan.kind === 'delay' && s.at - enter.at >= plan.ms) break;
      if (plan.kind === 'events' && (await counter.count(s.seq)) >= plan.n) break;
      if (!inPhase(s)) break; // the phase ended first: kill now, recorded as not landed
      await sleep(this.o.pollMs);
      s = await watch.poll();
    }
    a.proc.kill('SIGKILL');
    await a.exited;
    const post = await watch.poll();
    this.worker('A2', files, workers);
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
    };
  }

  private async waitFinished(
    scanId: string,
    prefix: string,
    deadline: number,
    watch: Watch,
  ): Promise<{ finished: boolean; status: string | undefined; reason: string }> {
    let lastFailedCheck = 0;
    for (;;) {
      const [status, evaluation] = await this.redis.hmget(`${prefix}:scan:${scanId}`, 'status', 'evaluation');
      const where = `status ${status ?? 'missing'}, evaluation ${evaluation ? 'present' : 'missing'}`;
      if ((status === 'complete' || status === 'partial') && evaluation) return { finished: true, status, reason: '' };
      if (Date.now() - lastFailedCheck > 250) {
        lastFailedCheck = Date.now();
        const stuck = (await failedJobs(this.redis, prefix)).filter((f) => TERMINAL_QUEUES.has(f.queue));
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

async function scanDone(redis: Redis, prefix: string, scanId: string): Promise<boolean> {
  const [status, evaluation] = await redis.hmget(`${prefix}:scan:${scanId}`, 'status', 'evaluation');
  return (status === 'complete' || status === 'partial') && !!evaluation;
}

/** Jobs in any queue's failed set (all attempts spent, or stalled too often), with BullMQ's reason. */
async function failedJobs(redis: Redis, prefix: string): Promise<{ queue: string; id: string; reason: string }[]> {
  const out: { queue: string; id: string; reason: string }[] = [];
  for (const q of QUEUES) {
    for (const id of await redis.zrange(`${prefix}:bull:${q}:failed`, 0, -1)) {
      const [reason, attempts] = await redis.hmget(`${prefix}:bull:${q}:${id}`, 'failedReason', 'atm');
      out.push({ queue: q, id, reason: `${reason ?? '?'} (attempts made: ${attempts ?? '?'})` });
    }
  }
  return out;
}

/** "job failed" lines a worker logged (each failed attempt of a job shows up here). */
function jobFailures(c: Child): string[] {
  return c
    .messages()
    .filter((m) => m.msg === 'job failed')
    .map((m) => `worker ${c.label}: ${String(m.queue)} job ${String(m.jobId)} attempt failed: ${String(m.err)}`);
}

/** Polls the active lists and the audit head; records per queue when it was first and last seen active. */
class Watch {
  readonly windows: Record<string, PhaseWindow> = {};
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly queues: readonly string[],
    readonly origin: number,
  ) {}

  async poll(): Promise<Snapshot> {
    const p = this.redis.pipeline();
    for (const q of this.queues) p.lrange(`${this.prefix}:bull:${q}:active`, 0, -1);
    p.hget(`${this.prefix}:audit:head`, 'seq');
    const res = (await p.exec()) ?? [];
    const s: Snapshot = { at: Date.now(), seq: Number(res[this.queues.length]?.[1] ?? 0), active: {} };
    for (const [i, q] of this.queues.entries()) {
      const ids = (res[i]?.[1] as string[] | null) ?? [];
      s.active[q] = ids;
      if (!ids.length) continue;
      const t = s.at - this.origin;
      const w = this.windows[q];
      if (!w) this.windows[q] = { enterAt: t, exitAt: t, enterSeq: s.seq, exitSeq: s.seq };
      else Object.assign(w, { exitAt: t, exitSeq: s.seq });
    }
    return s;
  }
}

/** Counts audit events after `fromSeq`: by seq, or by reading the stream when a filter is given. */
class EventCounter {
  private readSeq: number;
  private matched = 0;
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly fromSeq: number,
    private readonly filter?: (e: ReplayEvent) => boolean,
  ) {
    this.readSeq = fromSeq;
  }

  async count(headSeq: number): Promise<number> {
    if (!this.filter) return headSeq - this.fromSeq;
    if (headSeq > this.readSeq) {
      for (const e of await readAuditEvents(this.redis, this.prefix, this.readSeq + 1)) {
        if (this.filter(e)) this.matched++;
        this.readSeq = e.seq;
      }
    }
    return this.matched;
  }
}
