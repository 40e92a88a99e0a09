/**
 * Child processes for the fault harness: credwarden workers and one-shot CLI runs, spawned from
 * dist/ (the real CLI, as a user runs it). Guarantees:
 * - every child is SIGKILLed when this process exits, whatever happened (a failed test, a timeout);
 * - a child that cannot be spawned resolves as exited (code null) instead of throwing an unhandled
 *   'error' event;
 * - runCli() never hangs: the child is SIGKILLed after its timeout (timedOut: true).
 * Children get a minimal environment: PATH, HOME, TMPDIR and moto's dummy AWS credentials, plus
 * what ChildOptions adds (Node flags such as a `--import` preload, environment variables).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createWriteStream, existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const CLI = join(ROOT, 'dist', 'src', 'cli', 'main.js');

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface Child {
  label: string;
  proc: ChildProcess;
  /** Resolves when the worker logged "worker started"; rejects if it exits first. */
  ready: Promise<void>;
  exited: Promise<Exit>;
  alive(): boolean;
  /** Pino lines (parsed) the process wrote to stderr. */
  messages(): Record<string, unknown>[];
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

/** Extra Node flags (before the script) and environment variables for a child. */
export interface ChildOptions {
  nodeArgs?: readonly string[];
  env?: Readonly<Record<string, string>>;
}

function childEnv(extra: ChildOptions['env']): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    TMPDIR: process.env.TMPDIR,
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    AWS_REGION: 'us-east-1',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    ...extra,
  };
}

function spawnCli(
  args: string[],
  opts: ChildOptions = {},
): { proc: ChildProcess; exited: Promise<Exit>; spawnError: () => Error | undefined } {
  const proc = spawn(process.execPath, [...(opts.nodeArgs ?? []), CLI, ...args], {
    cwd: ROOT,
    env: childEnv(opts.env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(proc);
  let error: Error | undefined;
  const exited = new Promise<Exit>((res) => {
    proc.once('exit', (code, signal) => {
      live.delete(proc);
      res({ code, signal });
    });
    proc.once('error', (err) => {
      error = err;
      live.delete(proc);
      res({ code: null, signal: null });
    });
  });
  return { proc, exited, spawnError: () => error };
}

/** Starts `node dist/src/cli/main.js <args>` as a long-running process, its output in `logFile`. */
export function startChild(label: string, args: string[], logFile: string, opts: ChildOptions = {}): Child {
  const { proc, exited, spawnError } = spawnCli(args, opts);
  const log = createWriteStream(logFile, { flags: 'a' });
  const messages: Record<string, unknown>[] = [];
  let partial = '';
  let onStarted: () => void = () => {};
  const started = new Promise<void>((res) => {
    onStarted = res;
  });
  proc.stdout?.setEncoding('utf8').on('data', (s: string) => log.write(s));
  proc.stderr?.setEncoding('utf8').on('data', (s: string) => {
    log.write(s);
    const lines = (partial + s).split('\n');
    partial = lines.pop() ?? '';
    for (const l of lines) {
      if (!l.startsWith('{')) continue;
      try {
        const m = JSON.parse(l) as Record<string, unknown>;
        messages.push(m);
        if (m.msg === 'worker started') onStarted();
      } catch {
        // not a log line
      }
    }
  });
  void exited.then(() => log.end());
  const ready = Promise.race([
    started,
    exited.then((x) => {
      const why = spawnError()?.message ?? `${x.code ?? x.signal}`;
      throw new Error(`${label} exited (${why}) before "worker started"; log ${logFile}`);
    }),
  ]);
  ready.catch(() => undefined);
  return {
    label,
    proc,
    ready,
    exited,
    alive: () => proc.exitCode === null && proc.signalCode === null && !spawnError(),
    messages: () => messages,
  };
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  ms: number;
}

/** Runs `credwarden --config <configPath> <args>` once; SIGKILLed after timeoutMs. */
export async function runCli(
  configPath: string,
  args: string[],
  timeoutMs: number,
  opts: ChildOptions = {},
): Promise<CliResult> {
  const t0 = Date.now();
  const { proc, exited, spawnError } = spawnCli(['--config', configPath, ...args], opts);
  let stdout = '';
  let stderr = '';
  let timedOut = false;
  proc.stdout?.setEncoding('utf8').on('data', (s: string) => {
    stdout += s;
  });
  proc.stderr?.setEncoding('utf8').on('data', (s: string) => {
    stderr += s;
  });
  const timer = setTimeout(() => {
    timedOut = true;
    proc.kill('SIGKILL');
  }, timeoutMs);
  const { code } = await exited;
  clearTimeout(timer);
  const err = spawnError();
  return {
    code,
    stdout,
    stderr: err ? `spawn failed: ${err.message}\n${stderr}` : stderr,
    timedOut,
    ms: Date.now() - t0,
  };
}

/**
 * What a failed CLI run said, in one line: its own `credwarden: …` lines (not the JSON log lines an
 * in-process worker writes), else the tail of stderr.
 */
export function cliError(r: CliResult): string {
  const lines = r.stderr.split('\n').filter((l) => l.trim() && !l.startsWith('{'));
  const said = (lines.length ? lines.join(' | ') : (r.stderr.trim().split('\n').at(-1) ?? '')).slice(-400);
  return `exit ${r.code}${r.timedOut ? ' (killed: timed out)' : ''}${said ? `: ${said}` : ''}`;
}

/** SIGTERM (the worker's graceful shutdown), then SIGKILL after graceMs. */
export async function stopChild(c: Child, graceMs: number): Promise<void> {
  if (!c.alive()) return;
  c.proc.kill('SIGTERM');
  const done = await Promise.race([c.exited.then(() => true), sleep(graceMs).then(() => false)]);
  if (!done) {
    c.proc.kill('SIGKILL');
    await c.exited;
  }
}

/** Builds dist/ when it is missing or older than any file under src/ or jobs/. */
export function ensureBuilt(): void {
  const newest = (dir: string): number => {
    let t = 0;
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
    }
    return t;
  };
  const built = existsSync(CLI) ? statSync(CLI).mtimeMs : 0;
  if (built >= Math.max(newest(join(ROOT, 'src')), newest(join(ROOT, 'jobs')))) return;
  try {
    execFileSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: ROOT, stdio: 'pipe', encoding: 'utf8' });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`building dist/ failed: ${`${e.stdout ?? ''}${e.stderr ?? ''}`.trim() || e.message}`);
  }
}
