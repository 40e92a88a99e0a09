/**
 * A redis-server of the test's own, on a free 127.0.0.1 port, for tests that stop, crash, restart
 * or flush Redis (never the shared server at REDIS_URL).
 * - No persistence by default (`--save '' --appendonly no`), so a restart comes back empty, as a
 *   Redis without persistence does; `persistent: true` turns on the AOF with fsync always, so a
 *   restart keeps every write.
 * - `crash()` SIGKILLs the server and awaits its exit; `start()` starts it again on the same port
 *   and resolves once it answers PING (<= 10 s). `stop()` is idempotent; servers still running
 *   when the test process exits are SIGKILLed.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { freePort } from './venv.js';

export interface RedisServer {
  port: number;
  url: string;
  /** SIGKILL, as a crash or an OOM kill would. */
  crash(): Promise<void>;
  /** (Re)start on the same port. */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** A short-lived client for one command (FLUSHALL, HGETALL …). */
  call<T>(fn: (r: Redis) => Promise<T>): Promise<T>;
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

async function pings(url: string): Promise<boolean> {
  const r = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  r.on('error', () => {});
  try {
    await r.connect();
    return (await r.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    r.disconnect();
  }
}

export async function startRedisServer(opts: { persistent?: boolean } = {}): Promise<RedisServer> {
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  const dir = mkdtempSync(join(tmpdir(), 'cw-redis-'));
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', ''];
  args.push(...(opts.persistent ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no']));
  let child: ChildProcess | undefined;

  const exited = (c: ChildProcess) =>
    c.exitCode !== null || c.signalCode !== null
      ? Promise.resolve()
      : new Promise<void>((r) => c.once('exit', () => r()));

  const server: RedisServer = {
    port,
    url,
    async start() {
      const c = spawn('redis-server', args, { stdio: 'ignore' });
      child = c;
      live.add(c);
      c.once('exit', () => live.delete(c));
      const deadline = Date.now() + 10_000;
      while (!(await pings(url))) {
        if (c.exitCode !== null || Date.now() > deadline)
          throw new Error(`redis-server on port ${port} did not answer PING (exit ${c.exitCode})`);
        await sleep(50);
      }
    },
    async crash() {
      if (!child) return;
      const c = child;
      child = undefined;
      c.kill('SIGKILL');
      await exited(c);
    },
    async stop() {
      await server.crash();
    },
    async call(fn) {
      const r = new Redis(url, { maxRetriesPerRequest: 1 });
      r.on('error', () => {});
      try {
        return await fn(r);
      } finally {
        r.disconnect();
      }
    },
  };
  await server.start();
  return server;
}
