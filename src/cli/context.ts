/**
 * What every command shares: global options, the app lifecycle, progress lines, and the one rule
 * for failures: one line on stderr (`credwarden: CW_ERR_…: what failed and where`), the stack only
 * with --debug, exit 2 for bad input or an unreachable dependency.
 */

import { CwError, describeError, ErrorCodes } from '../errors.js';
import type { ScanSummary } from '../inventory/summary.js';
import { type App, buildApp } from '../main.js';
import type { ConnectionProfile } from '../queue/connection.js';
import { escapeTerminal } from './terminal.js';

export interface GlobalOptions {
  config: string;
  json?: boolean;
  debug?: boolean;
  progress?: boolean;
}

export const DEFAULT_CONFIG = process.env.CREDWARDEN_CONFIG ?? 'credwarden.yaml';

export interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
  stderrIsTty: boolean;
  /** The width tables are cut to; absent: stdout's columns, or 120 when it is not a terminal. */
  columns?: number;
  /** All of standard input; absent: the process's stdin. */
  readStdin?: () => Promise<string>;
}

/** Standard input, read to its end (through `io.readStdin` when a test gives one). */
export async function readAllStdin(io: Io): Promise<string> {
  if (io.readStdin) return io.readStdin();
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * An Io over two streams. Everything written passes escapeTerminal (no command can print a raw
 * control or bidi character, whatever a credential field holds) and ends with a newline.
 */
export function streamIo(stdout: NodeJS.WritableStream, stderr: NodeJS.WritableStream, stderrIsTty: boolean): Io {
  const line = (s: string) => {
    const safe = escapeTerminal(s);
    return safe.endsWith('\n') ? safe : `${safe}\n`;
  };
  return {
    out: (s) => stdout.write(line(s)),
    err: (s) => stderr.write(line(s)),
    stderrIsTty,
  };
}

export const processIo: Io = streamIo(process.stdout, process.stderr, process.stderr.isTTY === true);

/** Log level: --debug, else the config's `log.level`, else `defaultLevel` (warn for commands, info for the worker). */
export async function withApp<T>(
  opts: GlobalOptions,
  profile: ConnectionProfile,
  fn: (app: App) => Promise<T>,
  defaultLevel = 'warn',
): Promise<T> {
  const app = await buildApp({
    configPath: opts.config,
    redisProfile: profile,
    defaultLogLevel: defaultLevel,
    ...(opts.debug ? { logLevel: 'debug' } : {}),
  });
  try {
    return await fn(app);
  } finally {
    await app.close();
  }
}

/** Progress lines on stderr, at most one a second, when stderr is a terminal or --progress is set. */
export function progressReporter(opts: GlobalOptions, io: Io): ((m: string) => void) | undefined {
  if (!opts.progress && !io.stderrIsTty) return undefined;
  let last = 0;
  return (m) => {
    const now = Date.now();
    if (now - last < 1000) return;
    last = now;
    io.err(`… ${m}`);
  };
}

/** Run a command body; returns the exit code. */
export async function runCommand(opts: { debug?: boolean }, io: Io, body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (err) {
    io.err(`credwarden: ${describeError(err)}`);
    if (opts.debug && err instanceof Error && err.stack) io.err(err.stack);
    return err instanceof CwError ? err.exitCode : 2;
  }
}

export function parseSource(v: string | undefined): 'aws' | 'vault' | undefined {
  if (v === undefined) return undefined;
  if (v === 'aws' || v === 'vault') return v;
  throw new CwError(ErrorCodes.INPUT, `--source must be "aws" or "vault", got "${v}"`);
}

/**
 * The exit status of a finished scan: 2 with one line when a dependency was unreachable (that is
 * an environment problem, not a finding), 1 when the scan is partial, else 0.
 */
export function scanExitCode(summary: ScanSummary, io: Io): number {
  const unreachable = summary.units.flatMap((u) => u.problems).find((p) => p.code === ErrorCodes.UNREACHABLE);
  if (unreachable) {
    io.err(`credwarden: ${ErrorCodes.UNREACHABLE}: ${unreachable.message}`);
    return 2;
  }
  if (summary.status !== 'complete') {
    io.err(
      'credwarden: scan is PARTIAL: some units could not be read completely (see the problems listed); nothing was concluded removed for them',
    );
    return 1;
  }
  return 0;
}
