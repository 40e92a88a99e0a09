/**
 * How `scan --once` waits: it watches its own jobs by their deterministic ids (names.ts `ids`),
 * not only the scan hash, so it never waits on something that can no longer happen.
 *
 * - A job of the scan (start-scan, discover per unit, finalize, evaluate) that failed for good
 *   (BullMQ state `failed`: attempts exhausted, UnrecoverableError, stalled too often) stops the
 *   wait at once with ScanJobFailedError (CW_ERR_QUEUE, exit 2) naming the job and its last
 *   failure. While a job is retrying, the step shows its last failure (progress lines).
 * - The scan hash `<prefix>:scan:<id>` that existed and is gone, or the start-scan job that was
 *   queued and is gone while the hash is missing, means Redis lost the scan (restarted without
 *   persistence, flushed): CW_ERR_REDIS, at once.
 * - Redis unreachable for longer than `redisGraceMs`, or the app's own connection closed for good
 *   (the producer profile never reconnects, so the in-process processors cannot go on): CW_ERR_REDIS.
 * - Past the deadline: CW_ERR_TIMEOUT naming the step it was waiting for.
 *
 * BullMQ stores a failed attempt's `err.message` as failedReason, which for a CwError lacks its
 * code. The code is taken from the error itself when a worker in this process ran the attempt
 * (`lastError`), or from the reason when it already starts with `CW_ERR_…:`.
 *
 * The watch reads Redis through its own connection (openWatchConnection), which reconnects, so it
 * can tell "Redis came back empty" from "Redis is down".
 */
import type { Queue } from 'bullmq';
import { CwError, ErrorCodes, isCwError } from '../errors.js';
import { sleep } from '../util/concurrency.js';
import { createRedis, type RedisClient, type RedisErrorLog, type RedisTarget } from './connection.js';
import { ids } from './names.js';
import type { Queues } from './runtime.js';

export type JobPhase = 'missing' | 'pending' | 'retrying' | 'completed' | 'failed';

export interface JobView {
  id: string;
  phase: JobPhase;
  /** Attempts finished so far (failed or completed). */
  attemptsMade: number;
  attempts: number;
  failedReason: string | null;
}

/** Where a job stands, from its hash (the state is read only for a finished job). */
export async function viewJob(queue: Queue, id: string): Promise<JobView> {
  const job = await queue.getJob(id);
  if (!job) return { id, phase: 'missing', attemptsMade: 0, attempts: 0, failedReason: null };
  let phase: JobPhase = job.failedReason ? 'retrying' : 'pending';
  if (job.finishedOn) {
    const state = await job.getState();
    if (state === 'completed' || state === 'failed') phase = state;
    else if (state === 'unknown') phase = 'missing';
  }
  return {
    id,
    phase,
    attemptsMade: job.attemptsMade,
    attempts: job.opts.attempts ?? 1,
    failedReason: job.failedReason || null,
  };
}

/** A job of the scan failed for good. Exit 2: a dependency or the environment failed, not a finding. */
export class ScanJobFailedError extends CwError {
  constructor(
    message: string,
    readonly jobId: string,
    readonly reason: string,
  ) {
    super(ErrorCodes.QUEUE, message);
  }

  override get exitCode(): number {
    return 2;
  }
}

const CODED = /^CW_ERR_[A-Z_]+: /;

/** A failure reason with its CwError code in front, when it can be known. */
export function codedReason(reason: string, err: unknown): string {
  if (CODED.test(reason)) return reason;
  return isCwError(err) ? `${err.code}: ${reason}` : reason;
}

/** A reconnecting connection for the watch: commands fail fast while Redis is down, the client keeps trying. */
export function openWatchConnection(target: RedisTarget, errors: RedisErrorLog): RedisClient {
  const redis = createRedis(target, 'producer', {
    maxRetriesPerRequest: 1,
    enableOfflineQueue: true,
    lazyConnect: false,
    connectTimeout: 3000,
    retryStrategy: (n) => Math.min(100 * n, 1000),
  });
  errors.watch(redis, 'scan watch');
  return redis;
}

export interface ScanWatchOptions {
  queues: Queues;
  /** The watch's own connection (openWatchConnection). */
  redis: RedisClient;
  /** The app's connection; once it has ended, the processors in this process cannot go on. */
  appRedis?: RedisClient;
  keys: { scan(id: string): string; units(id: string): string };
  scanId: string;
  /** The unit keys this scan was started with. */
  units: readonly string[];
  /** The Redis URL for messages (password masked). */
  where: string;
  progress?: (m: string) => void;
  /** The error a job's last attempt threw, when a worker in this process ran it. */
  lastError?: (jobId: string) => unknown;
  pollMs?: number;
  /** How long Redis may be unreachable before the watch gives up; default 10 s. */
  redisGraceMs?: number;
}

export class ScanWatch {
  private scanSeen = false;
  private step = 'start-scan (queued)';
  private lostSince: number | null = null;
  private appEndedAt: number | null = null;

  constructor(private readonly o: ScanWatchOptions) {}

  /** Until the scan is finalized (its status is no longer `running`). */
  untilFinished(timeoutMs: number): Promise<void> {
    return this.loop(timeoutMs, `scan ${this.o.scanId} did not finish`, () => this.finishedTick());
  }

  /** Until its evaluate job has completed: findings stored, alerts planned and queued. */
  untilEvaluated(timeoutMs: number): Promise<void> {
    this.step = 'evaluate (queued)';
    return this.loop(timeoutMs, `scan ${this.o.scanId} was not evaluated`, () => this.evaluatedTick());
  }

  private async loop(timeoutMs: number, what: string, tick: () => Promise<boolean>): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.appEndedAt === null && this.o.appRedis?.status === 'end') this.appEndedAt = Date.now();
      const started = Date.now();
      let done = false;
      try {
        done = await tick();
        this.lostSince = null;
        // Redis answers the watch, the scan is still there, but the app's connection is gone for good.
        if (!done && this.appEndedAt !== null && started > this.appEndedAt) throw this.appConnectionLost();
      } catch (err) {
        if (isCwError(err)) throw err;
        this.lostSince ??= started;
        if (Date.now() - this.lostSince >= (this.o.redisGraceMs ?? 10_000)) throw this.redisLost(err);
      }
      if (done) return;
      if (Date.now() >= deadline) {
        throw new CwError(
          ErrorCodes.TIMEOUT,
          `${what} within ${Math.round(timeoutMs / 1000)} s: still waiting for ${this.step}`,
        );
      }
      this.o.progress?.(`scan ${this.o.scanId}: waiting for ${this.step}`);
      await sleep(this.o.pollMs ?? 250);
    }
  }

  /** The scan's status, or null before start-scan created it; throws when the scan vanished. */
  private async present(): Promise<string | null> {
    const { scanId, queues, keys } = this.o;
    const status = await this.o.redis.hget(keys.scan(scanId), 'status');
    if (status) {
      this.scanSeen = true;
      return status;
    }
    if (this.scanSeen) throw this.vanished();
    const start = await viewJob(queues.scan, ids.startScan(scanId));
    // The watch is built once start-scan is queued, so a missing job means it vanished.
    if (start.phase === 'missing') throw this.vanished();
    return null;
  }

  private vanished(): CwError {
    return new CwError(
      ErrorCodes.REDIS,
      `scan ${this.o.scanId} vanished from Redis (was Redis restarted without persistence or flushed?)`,
    );
  }

  private async finishedTick(): Promise<boolean> {
    const { scanId, queues, keys, units } = this.o;
    const status = await this.present();
    const start = await viewJob(queues.scan, ids.startScan(scanId));
    if (start.phase === 'failed') throw this.failed(`start-scan of scan ${scanId}`, start);
    if (status && status !== 'running') return true;
    // (A start-scan job already removed by retention is as good as completed once the scan exists.)
    if (!status || (start.phase !== 'completed' && start.phase !== 'missing')) {
      this.step = this.describe('start-scan', start);
      return false;
    }
    const reported = new Set(await this.o.redis.hkeys(keys.units(scanId)));
    const open = units.filter((u) => !reported.has(u));
    const views = await Promise.all(open.map((u) => viewJob(queues.discover, ids.discover(scanId, u))));
    for (const [i, v] of views.entries()) {
      if (v.phase === 'failed') throw this.failed(`discover of scan ${scanId} unit ${open[i]}`, v);
    }
    const fin = await viewJob(queues.inventory, ids.finalize(scanId));
    if (fin.phase === 'failed') throw this.failed(`finalize of scan ${scanId}`, fin);
    if (open.length > 0) {
      const retrying = views.findIndex((v) => v.phase === 'retrying');
      const r = retrying >= 0 ? `; ${open[retrying]}: ${this.retryNote(views[retrying]!)}` : '';
      this.step = `discovery (${units.length - open.length} of ${units.length} units reported${r})`;
    } else this.step = this.describe('finalize', fin);
    return false;
  }

  private async evaluatedTick(): Promise<boolean> {
    const { scanId, queues } = this.o;
    await this.present();
    const ev = await viewJob(queues.evaluate, ids.evaluate(scanId));
    if (ev.phase === 'failed') throw this.failed(`evaluate of scan ${scanId}`, ev);
    if (ev.phase === 'completed') return true;
    this.step = this.describe('evaluate', ev);
    return false;
  }

  private reason(v: JobView): string {
    return codedReason(v.failedReason ?? 'no reason recorded', this.o.lastError?.(v.id));
  }

  private retryNote(v: JobView): string {
    return `attempt ${v.attemptsMade} of ${v.attempts} failed: ${this.reason(v)}; retrying`;
  }

  private describe(name: string, v: JobView): string {
    if (v.phase === 'retrying') return `${name} (${this.retryNote(v)})`;
    if (v.phase === 'missing') return `${name} (not queued yet)`;
    return name;
  }

  private failed(what: string, v: JobView): ScanJobFailedError {
    const after =
      v.attemptsMade >= v.attempts
        ? `after ${v.attemptsMade} attempt${v.attemptsMade === 1 ? '' : 's'}`
        : `for good after ${v.attemptsMade} of ${v.attempts} attempts`;
    const reason = this.reason(v);
    return new ScanJobFailedError(`${what} failed ${after}: ${reason}`, v.id, reason);
  }

  private redisLost(err: unknown): CwError {
    const s = Math.round((Date.now() - (this.lostSince ?? Date.now())) / 1000);
    const msg = err instanceof Error ? err.message : String(err);
    return new CwError(
      ErrorCodes.REDIS,
      `lost Redis at ${this.o.where} for ${s} s while waiting for ${this.step} of scan ${this.o.scanId}: ${msg}`,
      { cause: err },
    );
  }

  private appConnectionLost(): CwError {
    return new CwError(
      ErrorCodes.REDIS,
      `the connection to Redis at ${this.o.where} closed while waiting for ${this.step} of scan ${this.o.scanId} ` +
        '(was Redis restarted?); scan --once does not reconnect: the scan is still in Redis for any running worker, or run scan --once again',
    );
  }
}
