/**
 * bench:e2e's child processes: every resource is registered with a release function, released in
 * reverse order by cleanup() (on success, on error and on SIGINT/SIGTERM); children are stopped
 * by their own pid (SIGTERM, then SIGKILL after a grace period), never by name. Also reads a
 * process's memory and CPU from /proc (Linux).
 */
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

export const log = (m: string): void => {
  process.stderr.write(`bench:e2e: ${m}\n`);
};

const releases: { what: string; fn: () => Promise<unknown> }[] = [];
let cleaning: Promise<void> | null = null;
let interrupted = false;

/** True once Ctrl-C (SIGINT) or SIGTERM arrived: the run stops, cleanup is under way. */
export const isInterrupted = (): boolean => interrupted;

/** Registers a release; returns a function that runs it now (once) and takes it off the list. */
export function onCleanup(what: string, fn: () => Promise<unknown>): () => Promise<void> {
  const entry = { what, fn };
  releases.push(entry);
  return async () => {
    const i = releases.indexOf(entry);
    if (i === -1) return;
    releases.splice(i, 1);
    await run(entry);
  };
}

async function run(r: { what: string; fn: () => Promise<unknown> }): Promise<void> {
  try {
    await r.fn();
  } catch (err) {
    log(`cleanup: ${r.what} failed: ${(err as Error).message}`);
  }
}

/** Releases everything, newest first (workers before their prefix, the prefix before moto); once. */
export function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    for (const r of releases.splice(0).reverse()) await run(r);
    // Anything still running that was never registered (a `credwarden scan` being spawned).
    await Promise.all([...live].map((c) => stopChild(c, 10_000)));
  })();
  return cleaning;
}

const live = new Set<ChildProcess>();

/** Tracks a child so Ctrl-C stops it before anything else is released. */
export function track(child: ChildProcess): ChildProcess {
  live.add(child);
  child.once('exit', () => live.delete(child));
  return child;
}

export function installSignalHandlers(): void {
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      log(`${sig}: cleaning up`);
      interrupted = true;
      // In order: the workers are gone before their Redis prefix is deleted (or they could write
      // keys back), and before moto (or they would fail against it).
      void cleanup().finally(() => process.exit(130));
    });
  }
}

export function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

export async function stopChild(child: ChildProcess, graceMs: number): Promise<void> {
  const done = exited(child);
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await done;
  clearTimeout(t);
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

export interface ProcStat {
  /** Resident set now, and its peak since the process started (VmHWM), in bytes. */
  rss: number;
  hwm: number;
  /** User + system CPU time so far, in seconds. */
  cpuS: number;
}

const CLK_TCK = 100; // sysconf(_SC_CLK_TCK) on Linux

/** The process's memory and CPU from /proc; null once it is gone. */
export function procStat(pid: number): ProcStat | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) * 1024;
    // Fields after the command name (which may hold spaces) start after its closing parenthesis.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(f[11]) + Number(f[12]); // utime, stime (fields 14 and 15)
    return { rss: kb('VmRSS'), hwm: kb('VmHWM'), cpuS: ticks / CLK_TCK };
  } catch {
    return null;
  }
}

export const mb = (bytes: number): string => (bytes / 1048576).toFixed(0);
