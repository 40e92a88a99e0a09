/**
 * bench:e2e's W worker processes: `node dist/src/cli/main.js --config <cfg> worker --no-schedule`
 * (no discovery schedule, so nothing but the bench's one scan runs), each logging into its own
 * file. Ready once each has logged "worker started". While they work, their VmRSS is sampled every
 * second; at the end each one's VmHWM (peak RSS since it started) and CPU time are read, before
 * they are stopped.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { exited, onCleanup, type ProcStat, procStat, stopChild, track } from './e2e-procs.js';

export interface WorkerStat {
  index: number;
  pid: number;
  /** VmHWM at the end: the peak resident set. */
  peakRss: number;
  /** The largest VmRSS sampled during the run. */
  maxSampledRss: number;
  /** CPU seconds since it was ready. */
  cpuS: number;
  log: string;
}

interface Running {
  child: ChildProcess;
  out: WriteStream;
  log: string;
  maxRss: number;
  last: ProcStat | null;
  /** CPU seconds when it became ready: its start-up is not the pipeline's work. */
  cpu0: number;
  tail: string[];
}

export class WorkerPool {
  private readonly running: Running[] = [];
  /** Every failed job attempt the workers logged ("job failed"), described. */
  readonly failures: string[] = [];
  private sampler: NodeJS.Timeout | undefined;
  private releaseAll: (() => Promise<void>) | undefined;

  constructor(
    private readonly o: { cli: string; cwd: string; config: string; env: NodeJS.ProcessEnv; dir: string; tag: string },
  ) {}

  /** Starts n workers and waits until every one is ready (or throws with the log tail of the one that died). */
  async start(n: number, timeoutMs = 120_000): Promise<void> {
    this.releaseAll = onCleanup(`stopping ${n} worker(s)`, () => this.stop());
    const ready = Array.from({ length: n }, (_, i) => this.spawnOne(i, timeoutMs));
    await Promise.all(ready);
    for (const r of this.running) r.cpu0 = (r.child.pid ? procStat(r.child.pid)?.cpuS : 0) ?? 0;
    this.sampler = setInterval(() => this.sample(), 1000);
  }

  private spawnOne(i: number, timeoutMs: number): Promise<void> {
    const log = join(this.o.dir, `${this.o.tag}.worker-${i + 1}.log`);
    const out = createWriteStream(log);
    const child = track(
      spawn(process.execPath, [this.o.cli, '--config', this.o.config, 'worker', '--no-schedule'], {
        cwd: this.o.cwd,
        env: this.o.env,
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
    const r: Running = { child, out, log, maxRss: 0, last: null, cpu0: 0, tail: [] };
    this.running.push(r);
    return new Promise<void>((resolve, reject) => {
      let isReady = false;
      const partial = { out: '', err: '' };
      const onLine = (line: string) => {
        r.tail = [...r.tail, line].slice(-10);
        if (!isReady && line.includes('"msg":"worker started"')) {
          isReady = true;
          clearTimeout(timer);
          resolve();
        }
        if (line.includes('"msg":"job failed"')) {
          try {
            const e = JSON.parse(line) as { queue?: string; jobId?: string; err?: string };
            this.failures.push(`worker ${i + 1}: ${e.queue ?? '?'} job ${e.jobId ?? '?'} failed: ${e.err ?? '?'}`);
          } catch {
            this.failures.push(`worker ${i + 1}: ${line}`);
          }
        }
      };
      const onData = (which: 'out' | 'err') => (d: Buffer) => {
        out.write(d);
        const lines = (partial[which] + d.toString('utf8')).split('\n');
        partial[which] = lines.pop() ?? '';
        for (const l of lines) if (l) onLine(l);
      };
      child.stdout!.on('data', onData('out'));
      child.stderr!.on('data', onData('err'));
      const timer = setTimeout(
        () => reject(new Error(`worker ${i + 1} was not ready within ${timeoutMs / 1000} s; see ${log}`)),
        timeoutMs,
      );
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        if (!isReady)
          reject(
            new Error(
              `worker ${i + 1} exited (${signal ?? `code ${code}`}) before it was ready: ${r.tail.join(' | ')}`,
            ),
          );
      });
    });
  }

  private sample(): void {
    for (const r of this.running) {
      const s = r.child.pid ? procStat(r.child.pid) : null;
      if (!s) continue;
      r.last = s;
      r.maxRss = Math.max(r.maxRss, s.rss);
    }
  }

  /** A worker that exited while it should be working, described; null while all run. */
  dead(): string | null {
    const r = this.running.find((x) => x.child.exitCode !== null || x.child.signalCode !== null);
    if (!r) return null;
    return `worker pid ${r.child.pid} exited (${r.child.signalCode ?? `code ${r.child.exitCode}`}): ${r.tail.join(' | ')} (log ${r.log})`;
  }

  pids(): number[] {
    return this.running.map((r) => r.child.pid!);
  }

  /** Peak RSS and CPU of each worker now (call before stop()). */
  stats(): WorkerStat[] {
    this.sample();
    return this.running.map((r, index) => ({
      index: index + 1,
      pid: r.child.pid!,
      peakRss: r.last?.hwm ?? 0,
      maxSampledRss: r.maxRss,
      cpuS: r.last ? r.last.cpuS - r.cpu0 : 0,
      log: r.log,
    }));
  }

  /** SIGTERM to every worker (graceful shutdown), SIGKILL after 40 s; waits until all have exited. */
  async stop(): Promise<void> {
    if (this.sampler) clearInterval(this.sampler);
    this.sampler = undefined;
    await Promise.all(
      this.running.map(async (r) => {
        await stopChild(r.child, 40_000);
        await exited(r.child);
        r.out.end();
      }),
    );
  }

  /** Stops the workers now and takes them off the cleanup list. */
  async release(): Promise<void> {
    await this.releaseAll?.();
  }
}
