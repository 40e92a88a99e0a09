/**
 * One measured bench:e2e pipeline run against the seeded moto, under a fresh Redis prefix:
 *   1. `INFO memory` used_memory (and CPU counters) before anything is written under the prefix;
 *   2. W worker processes (e2e-workers.ts), all ready before anything is asked of them; the
 *      counting proxy is reset;
 *   3. `credwarden --json scan` (no --once: it only queues the scan for the running workers);
 *   4. polls Redis until the pipeline is done: the scan finalized, its evaluation recorded, and
 *      the remediation run stored with a record for every plan in it (`P:acts` holds them all)
 *      (or the evaluation was held: then nothing is planned);
 *   5. reads the IAM calls, each worker's peak RSS and CPU, used_memory after, MEMORY USAGE of the
 *      prefix, the audit chain and the scan's records; stops the workers.
 * A worker that dies, the first failed job attempt (a worker's "job failed" line: a retried job is
 * not the pipeline's time) or 2 × --timeout ends the run as failed; what it measured up to then is
 * still read and reported.
 * The caller deletes the prefix afterwards.
 */
import { spawn } from 'node:child_process';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { isInterrupted, log, procStat, track } from './e2e-procs.js';
import type { CountingProxy } from './e2e-proxy.js';
import { type PrefixUsage, prefixUsage, type RedisTarget, redisCpuS, usedMemory } from './e2e-redis.js';
import { type AuditTally, readAudit, type Stages, stages, unitWindows } from './e2e-stages.js';
import { WorkerPool, type WorkerStat } from './e2e-workers.js';
import { seconds } from './support.js';

export interface PipelineInput {
  cli: string;
  root: string;
  dir: string;
  env: NodeJS.ProcessEnv;
  config: string;
  prefix: string;
  /** What credwarden puts before its keys: the prefix, or `{prefix}` in a cluster. */
  keyPrefix: string;
  redis: RedisTarget;
  proxy: CountingProxy;
  motoPid: number;
  workers: number;
  timeoutS: number;
}

export interface ScanRecord {
  status: string;
  counts: { credentials: number; byKind: Record<string, number>; agents: number; unregisteredAgent: number };
  apiCalls: { total: number; attempts?: number; byOperation?: Record<string, number> };
  units: { key: string; status: string; credentials: number; apiCalls: number; problems: unknown[] }[];
}

export interface PipelineResult {
  workers: number;
  prefix: string;
  scanId: string | null;
  done: boolean;
  /** Why the run is not done (timeout, a worker died, …); null when it is. */
  failure: string | null;
  stages: Stages | null;
  scan: ScanRecord | null;
  evaluation: { transitions: Record<string, number>; open: Record<string, number>; held?: unknown } | null;
  plans: number | null;
  units: { key: string; startedAt: number; finishedAt: number; credentials: number }[];
  calls: Record<string, number>;
  callErrors: number;
  workerStats: WorkerStat[];
  cpu: { workersS: number; motoS: number; redisS: number; benchS: number };
  memory: { before: number; after: number; prefix: PrefixUsage };
  audit: AuditTally | null;
  loadBefore: number;
}

function runScanCli(i: PipelineInput): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = track(
      spawn(process.execPath, [i.cli, '--config', i.config, '--json', 'scan'], {
        cwd: i.root,
        env: i.env,
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Where the pipeline stands, from Redis; `done` once the remediation run has a record for every plan. */
async function progress(
  i: PipelineInput,
  scanId: string,
  known: { plans: number | null },
): Promise<{ done: boolean; line: string }> {
  const c = i.redis.client;
  const k = i.keyPrefix;
  const [status, evaluation] = await c.hmget(`${k}:scan:${scanId}`, 'status', 'evaluation');
  const seq = Number((await c.hget(`${k}:audit:head`, 'seq')) ?? 0);
  if (!status) return { done: false, line: `scan not started yet; audit seq ${seq}` };
  if (status === 'running') {
    const unitsDone = await c.hget(`${k}:scan:${scanId}`, 'unitsDone');
    return { done: false, line: `inventory: ${unitsDone ?? 0} unit(s) reported; audit seq ${seq}` };
  }
  if (!evaluation) return { done: false, line: `scan ${status}; evaluating; audit seq ${seq}` };
  if ((JSON.parse(evaluation) as { held?: unknown }).held)
    return { done: true, line: 'evaluation HELD by the detection guardrail: nothing planned' };
  if (known.plans === null) {
    const run = await c.get(`${k}:rem:run:${scanId}`);
    if (!run) return { done: false, line: `evaluated; planning remediation; audit seq ${seq}` };
    known.plans = (JSON.parse(run) as { plans: unknown[] }).plans.length;
  }
  const recorded = await c.zcard(`${k}:acts`);
  return {
    done: recorded >= known.plans,
    line: `remediation: ${recorded} of ${known.plans} plans recorded; audit seq ${seq}`,
  };
}

export async function runPipeline(i: PipelineInput): Promise<PipelineResult> {
  const result: PipelineResult = {
    workers: i.workers,
    prefix: i.prefix,
    scanId: null,
    done: false,
    failure: null,
    stages: null,
    scan: null,
    evaluation: null,
    plans: null,
    units: [],
    calls: {},
    callErrors: 0,
    workerStats: [],
    cpu: { workersS: 0, motoS: 0, redisS: 0, benchS: 0 },
    memory: { before: 0, after: 0, prefix: { keys: 0, bytes: 0, groups: {} } },
    audit: null,
    loadBefore: loadavg()[0]!,
  };
  result.memory.before = await usedMemory(i.redis);
  const pool = new WorkerPool({
    cli: i.cli,
    cwd: i.root,
    config: i.config,
    env: i.env,
    dir: i.dir,
    tag: i.prefix,
  });
  let spawnedAt = 0;
  let queuedAt = 0;
  let cpu0: { moto: number; redis: number; bench: NodeJS.CpuUsage } | null = null;
  const known = { plans: null as number | null };
  try {
    log(`${i.workers} worker(s): starting`);
    await pool.start(i.workers);
    cpu0 = { moto: procStat(i.motoPid)?.cpuS ?? 0, redis: await redisCpuS(i.redis), bench: process.cpuUsage() };
    i.proxy.reset();
    log(`${i.workers} worker(s) ready (pids ${pool.pids().join(', ')}); queueing the scan`);
    spawnedAt = Date.now();
    const cli = await runScanCli(i);
    queuedAt = Date.now();
    const queued = (() => {
      try {
        return JSON.parse(cli.stdout) as { scanId?: string };
      } catch {
        return {};
      }
    })();
    if (cli.code !== 0 || !queued.scanId)
      throw new Error(`scan exited ${cli.code}: ${cli.stderr.trim() || cli.stdout}`);
    result.scanId = queued.scanId;
    log(`queued ${result.scanId} in ${seconds(queuedAt - spawnedAt)} s`);
    await waitUntilDone(i, pool, result.scanId, spawnedAt, known);
    result.done = true;
  } catch (err) {
    result.failure = (err as Error).message;
    log(`run with ${i.workers} worker(s) failed: ${result.failure}`);
  }
  const doneAt = Date.now();
  result.plans = known.plans;
  if (isInterrupted()) return result;
  try {
    // What the run cost, read before anything else reads or writes; also after a failure, up to it.
    result.calls = i.proxy.counts();
    result.callErrors = i.proxy.errors();
    result.workerStats = pool.stats();
    if (cpu0) {
      const bench = process.cpuUsage(cpu0.bench);
      result.cpu = {
        workersS: result.workerStats.reduce((s, w) => s + w.cpuS, 0),
        motoS: (procStat(i.motoPid)?.cpuS ?? cpu0.moto) - cpu0.moto,
        redisS: (await redisCpuS(i.redis)) - cpu0.redis,
        benchS: (bench.user + bench.system) / 1e6,
      };
    }
    result.memory.after = await usedMemory(i.redis);
    await pool.release();
    if (!result.scanId) return result;
    log('workers stopped; reading MEMORY USAGE of the prefix and the audit chain');
    result.memory.prefix = await prefixUsage(i.redis, i.prefix);
    const [summary, evaluation] = await i.redis.client.hmget(
      `${i.keyPrefix}:scan:${result.scanId}`,
      'summary',
      'evaluation',
    );
    result.scan = summary ? (JSON.parse(summary) as ScanRecord) : null;
    result.evaluation = evaluation ? (JSON.parse(evaluation) as PipelineResult['evaluation']) : null;
    result.units = await unitWindows(i.redis, i.keyPrefix, result.scanId);
    result.audit = await readAudit(i.redis, i.keyPrefix);
    result.stages = stages({ spawnedAt, queuedAt, doneAt, audit: result.audit, units: result.units });
  } catch (err) {
    result.failure ??= `reading the results: ${(err as Error).message}`;
  } finally {
    await pool.release();
  }
  return result;
}

/** Polls until the pipeline is done; throws when a worker died, a job attempt failed, or past 2 × --timeout. */
async function waitUntilDone(
  i: PipelineInput,
  pool: WorkerPool,
  scanId: string,
  spawnedAt: number,
  known: { plans: number | null },
): Promise<void> {
  const deadline = spawnedAt + 2 * i.timeoutS * 1000;
  let lastLog = 0;
  for (;;) {
    if (isInterrupted()) throw new Error('interrupted');
    const dead = pool.dead();
    if (dead) throw new Error(dead);
    // A retried job is not the pipeline's time: the first failed attempt ends the run, with its reason.
    if (pool.failures.length) throw new Error(`a job attempt failed: ${pool.failures[0]}`);
    const p = await progress(i, scanId, known).catch((err) => ({
      done: false,
      line: `Redis: ${(err as Error).message}`,
    }));
    if (p.done) {
      log(`done in ${seconds(Date.now() - spawnedAt)} s: ${p.line}`);
      return;
    }
    if (Date.now() > deadline) throw new Error(`not done within ${2 * i.timeoutS} s (2 × --timeout): ${p.line}`);
    if (Date.now() - lastLog >= 10_000) {
      lastLog = Date.now();
      log(`${seconds(Date.now() - spawnedAt)} s: ${p.line}`);
    }
    await sleep(250);
  }
}

export const configPath = (dir: string, prefix: string): string => join(dir, `${prefix}.credwarden.yaml`);
