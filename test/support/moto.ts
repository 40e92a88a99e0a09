/**
 * Real moto_server (AWS IAM/STS emulator) for tests. Guarantees:
 * - Each startMoto() call gets its own moto_server process on a free 127.0.0.1 port, so test files
 *   (separate vitest processes) never share state. useMoto() does this once per file.
 * - The venv at .venv/moto is (re)installed via scripts/moto-venv.sh when moto_server is missing or
 *   its stamp does not match scripts/requirements-moto.txt; concurrent workers serialise on a
 *   mkdir lock at .cw/moto-venv.lock and only one of them runs pip.
 * - startMoto() resolves only once GET /moto-api/ answers (<= 30 s), else rejects naming the log
 *   file .cw/moto-<port>.log that holds moto's stdout/stderr.
 * - MOTO_ACCOUNT_ID is not inherited (pass it in opts.env to force it): multi-account tests rely on
 *   AssumeRole into other account ids.
 * - stop() is idempotent and awaits exit (SIGTERM, SIGKILL after 3 s); servers still running when
 *   the worker process exits are SIGKILLed.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll } from 'vitest';
import { ensureVenv, freePort, killAndWait, live } from './venv.js';

export interface MotoServer {
  endpoint: string;
  port: number;
  reset(): Promise<void>;
  stop(): Promise<void>;
}

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CW_DIR = join(ROOT, '.cw');
const INSTALL_TIMEOUT_MS = 600_000;
const VENV = join(ROOT, '.venv', 'moto');
const MOTO_BIN = join(VENV, 'bin', 'moto_server');
const READY_TIMEOUT_MS = 30_000;

/** Dummy-credential SDK v3 client config pointing at a moto endpoint. */
export function awsTestClientConfig(endpoint: string): {
  region: 'us-east-1';
  endpoint: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
} {
  return { region: 'us-east-1', endpoint, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } };
}

async function answers(endpoint: string): Promise<boolean> {
  try {
    const res = await fetch(`${endpoint}/moto-api/`, { signal: AbortSignal.timeout(1_000) });
    await res.arrayBuffer();
    return res.ok;
  } catch {
    return false;
  }
}

function logTail(log: string): string {
  const text = existsSync(log) ? readFileSync(log, 'utf8') : '';
  return text.trim().split('\n').slice(-5).join('\n');
}

/** Spawns one moto_server on a free port; retries a lost port race (EADDRINUSE) twice. */
export async function startMoto(opts: { env?: Record<string, string> } = {}): Promise<MotoServer> {
  await ensureVenv('moto', 'moto_server');
  mkdirSync(CW_DIR, { recursive: true });
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.MOTO_ACCOUNT_ID;
  Object.assign(env, opts.env);

  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const endpoint = `http://127.0.0.1:${port}`;
    const log = join(CW_DIR, `moto-${port}.log`);
    const fd = openSync(log, 'w');
    const child = spawn(MOTO_BIN, ['-H', '127.0.0.1', '-p', String(port)], { env, stdio: ['ignore', fd, fd] });
    closeSync(fd);
    live.add(child);
    let spawnError: Error | undefined;
    child.once('error', (err) => {
      spawnError = err;
    });
    child.once('exit', () => live.delete(child));

    const deadline = Date.now() + READY_TIMEOUT_MS;
    let ready = false;
    while (!ready && !spawnError && Date.now() < deadline && child.exitCode === null && child.signalCode === null) {
      ready = await answers(endpoint);
      if (!ready) await sleep(100);
    }
    if (ready) {
      return {
        endpoint,
        port,
        async reset() {
          const res = await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
          await res.arrayBuffer();
          if (!res.ok) throw new Error(`POST ${endpoint}/moto-api/reset -> HTTP ${res.status}`);
        },
        stop: () => killAndWait(child),
      };
    }
    const why = spawnError
      ? `failed to spawn (${spawnError.message})`
      : child.exitCode !== null
        ? `exited with code ${child.exitCode}`
        : `gave no answer on /moto-api/ within ${READY_TIMEOUT_MS} ms`;
    if (!spawnError) await killAndWait(child);
    live.delete(child);
    const tail = logTail(log);
    if (/address already in use/i.test(tail) && attempt < 3) continue;
    throw new Error(`moto_server on ${endpoint} ${why}; see ${log}\n${tail}`);
  }
}

/** Call at the top of a test file; the returned object is filled in by beforeAll (cold install can take ~1 min). */
export function useMoto(opts: { env?: Record<string, string> } = {}): MotoServer {
  const ctx = {} as MotoServer;
  beforeAll(async () => {
    Object.assign(ctx, await startMoto(opts));
  }, INSTALL_TIMEOUT_MS + READY_TIMEOUT_MS);
  afterAll(async () => {
    await ctx.stop?.();
  });
  return ctx;
}
