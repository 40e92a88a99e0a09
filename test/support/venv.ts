/**
 * What the moto and OpenBao harnesses share: the project-local venvs (installed by
 * scripts/<name>-venv.sh, at most once across concurrent vitest workers), a free local port, and
 * the server processes they start (killed when the test process exits).
 */
import { type ChildProcess, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CW_DIR = join(ROOT, '.cw');
const INSTALL_TIMEOUT_MS = 600_000;

/** Path of an executable inside `.venv/<name>/bin`. */
export const venvBin = (name: string, exe: string): string => join(ROOT, '.venv', name, 'bin', exe);

function venvReady(name: string, exe: string): boolean {
  const stamp = join(ROOT, '.venv', name, '.requirements.sha256');
  if (!existsSync(venvBin(name, exe)) || !existsSync(stamp)) return false;
  const want = createHash('sha256')
    .update(readFileSync(join(ROOT, 'scripts', `requirements-${name}.txt`)))
    .digest('hex');
  return readFileSync(stamp, 'utf8').trim() === want;
}

/** Runs scripts/<name>-venv.sh at most once across concurrent workers (mkdir lock; stale after 15 min). */
export async function ensureVenv(name: string, exe: string): Promise<void> {
  if (venvReady(name, exe)) return;
  const lock = join(CW_DIR, `${name}-venv.lock`);
  mkdirSync(CW_DIR, { recursive: true });
  const deadline = Date.now() + INSTALL_TIMEOUT_MS;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const held = statSync(lock, { throwIfNoEntry: false });
      if (held && Date.now() - held.mtimeMs > 900_000) rmSync(lock, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${lock} (remove it if stale)`);
      await sleep(250);
    }
  }
  try {
    if (venvReady(name, exe)) return; // another worker installed it while we waited
    const script = join(ROOT, 'scripts', `${name}-venv.sh`);
    const r = spawnSync('bash', [script], {
      stdio: ['ignore', 'inherit', 'pipe'],
      encoding: 'utf8',
      timeout: INSTALL_TIMEOUT_MS,
    });
    if (r.status !== 0) {
      throw new Error(`scripts/${name}-venv.sh failed (${r.error?.message ?? `exit ${r.status}`}): ${r.stderr.trim()}`);
    }
    process.stderr.write(r.stderr);
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
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

/** Server processes started by the harnesses; any still running die with the test process. */
export const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** SIGTERM, then SIGKILL after 3 s; resolves once the process has exited. */
export async function killAndWait(child: ChildProcess): Promise<void> {
  const done = exited(child);
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
  await done;
  clearTimeout(timer);
  live.delete(child);
}
