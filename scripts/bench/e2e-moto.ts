/** bench:e2e's own moto_server (.venv/moto, installed by scripts/moto-venv.sh) on a free port. */
import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort, log, onCleanup, stopChild, track } from './e2e-procs.js';

async function answers(endpoint: string): Promise<boolean> {
  try {
    const res = await fetch(`${endpoint}/moto-api/`, { signal: AbortSignal.timeout(1000) });
    await res.arrayBuffer();
    return res.ok;
  } catch {
    return false;
  }
}

/** Starts moto_server; returns its endpoint and pid. It is stopped by cleanup(). */
export async function startMoto(root: string): Promise<{ endpoint: string; pid: number }> {
  const bin = join(root, '.venv', 'moto', 'bin', 'moto_server');
  if (!existsSync(bin)) {
    const r = spawnSync('bash', [join(root, 'scripts', 'moto-venv.sh')], { stdio: ['ignore', 2, 2] });
    if (r.status !== 0) throw new Error('scripts/moto-venv.sh failed');
  }
  mkdirSync(join(root, '.cw'), { recursive: true });
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const logFile = join(root, '.cw', `moto-${port}.log`);
  const env = { ...process.env };
  delete env.MOTO_ACCOUNT_ID;
  const out = createWriteStream(logFile);
  await new Promise((r) => out.once('open', r));
  const child = track(spawn(bin, ['-H', '127.0.0.1', '-p', String(port)], { env, stdio: ['ignore', out, out] }));
  onCleanup('stopping moto', async () => {
    await stopChild(child, 3000);
    out.close();
    log(`moto stopped (log ${logFile})`);
  });
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`moto_server exited with code ${child.exitCode}; see ${logFile}`);
    if (await answers(endpoint)) return { endpoint, pid: child.pid! };
    await sleep(100);
  }
  throw new Error(`moto_server gave no answer on ${endpoint}/moto-api/ within 30 s; see ${logFile}`);
}
