/**
 * Redis going away under credwarden, on a redis-server of the test's own (issue 8):
 * (a) `scan --once` while Redis is flushed, or restarted without persistence, mid-scan: the scan
 *     vanished; one line saying so, exit 2, at once (it used to wait for its deadline and say
 *     only CW_ERR_TIMEOUT);
 * (b) Redis restarted with persistence mid-scan: the scan survives, but the CLI's connection
 *     (producer profile) does not reconnect; one line saying so, exit 2, at once;
 * (c) the worker process while Redis is down for ~3 s and back: it recovers (a queued scan
 *     completes), and every stderr line is pino JSON, with only a handful about the outage (it
 *     used to print hundreds of raw stack traces from Queue and ioredis 'error' events).
 * The built CLI runs (a) as a process too: it must exit, not linger on a worker connection that
 * was closed while it reconnected (src/queue/settle.ts).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { run } from '../../src/cli/main.js';
import { registry } from '../fixtures/aws-estate.js';
import { useMotoCredentialsEnv } from '../support/app.js';
import { captureIo } from '../support/capture.js';
import { useMoto } from '../support/moto.js';
import { type RedisServer, startRedisServer } from '../support/redis-server.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
// A build of this tree of its own, so this file never races another test file reading dist/.
const OUT = join(ROOT, '.cw', 'dist-redis-outage');
const CLI = join(OUT, 'src', 'cli', 'main.js');
const ACCOUNT = '123456789012';

function writeConfig(redisUrl: string, config: Record<string, unknown>): string {
  const dir = mkdtempSync(join(tmpdir(), 'cw-outage-'));
  writeFileSync(join(dir, 'agents.yaml'), stringify(registry));
  const path = join(dir, 'credwarden.yaml');
  writeFileSync(
    path,
    stringify({
      registry: 'agents.yaml',
      audit: { file: join(dir, 'audit.jsonl') },
      ...config,
      redis: { url: redisUrl, prefix: 'cw' },
    }),
  );
  return path;
}

/** A TCP server that accepts connections and never says a word: a discover job hangs in its first AWS call. */
async function blackHole(): Promise<{ endpoint: string; sockets: Socket[]; close(): Promise<void> }> {
  const sockets: Socket[] = [];
  const server: Server = createServer((s) => {
    sockets.push(s);
    s.on('error', () => {});
  });
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  const { port } = server.address() as { port: number };
  return {
    endpoint: `http://127.0.0.1:${port}`,
    sockets,
    close: () =>
      new Promise((res) => {
        for (const s of sockets) s.destroy();
        server.close(() => res());
      }),
  };
}

async function until(
  cond: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string | (() => Promise<string>),
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === 'string' ? what : await what()}`);
    await new Promise((res) => setTimeout(res, 25));
  }
}

/**
 * Start `scan --once` in-process against `server` with its one discover job hanging, run
 * `disrupt` once the scan is in flight, and return how the command ended.
 */
async function scanOnceThrough(
  server: RedisServer,
  disrupt: () => Promise<void>,
): Promise<{ code: number; stderr: string[]; afterDisruptMs: number }> {
  const hole = await blackHole();
  // scan.timeoutSeconds 60: a regression waits 90 s, well past this test's timeout.
  const configPath = writeConfig(server.url, {
    aws: { endpoint: hole.endpoint, maxAttempts: 1, accounts: [{ id: ACCOUNT }] },
    scan: { timeoutSeconds: 60 },
    worker: { shutdownTimeoutSeconds: 1 },
  });
  const io = captureIo();
  try {
    const done = run(['--config', configPath, 'scan', '--once'], io);
    await until(() => hole.sockets.length > 0, 15_000, 'the discover job to call AWS');
    // The scan is in flight: its hash exists, its discover job is active.
    expect(await server.call((r) => r.keys('cw:scan:scan-*'))).toHaveLength(1);
    await disrupt();
    const t0 = Date.now();
    const code = await done;
    return { code, stderr: io.stderr, afterDisruptMs: Date.now() - t0 };
  } finally {
    await hole.close();
  }
}

describe('Redis lost under scan --once', () => {
  beforeAll(() => {
    useMotoCredentialsEnv();
  });

  it('(a) FLUSHALL mid-scan: "vanished", exit 2, at once', async () => {
    const server = await startRedisServer();
    try {
      const res = await scanOnceThrough(server, async () => {
        await server.call((r) => r.flushall());
      });
      expect(res.stderr).toEqual([
        expect.stringMatching(
          /^credwarden: CW_ERR_REDIS: scan scan-\S+ vanished from Redis \(was Redis restarted without persistence or flushed\?\)$/,
        ),
      ]);
      expect(res.code).toBe(2);
      expect(res.afterDisruptMs).toBeLessThan(5_000);
    } finally {
      await server.stop();
    }
  }, 30_000);

  it('(a) restarted without persistence mid-scan: "vanished", exit 2, at once', async () => {
    const server = await startRedisServer();
    try {
      const res = await scanOnceThrough(server, async () => {
        await server.crash();
        await server.start();
      });
      expect(res.stderr).toEqual([
        expect.stringMatching(/^credwarden: CW_ERR_REDIS: scan scan-\S+ vanished from Redis \(/),
      ]);
      expect(res.code).toBe(2);
      expect(res.afterDisruptMs).toBeLessThan(5_000);
    } finally {
      await server.stop();
    }
  }, 30_000);

  it('(b) restarted with persistence mid-scan: the connection it cannot regain is named, exit 2, at once', async () => {
    const server = await startRedisServer({ persistent: true });
    try {
      const res = await scanOnceThrough(server, async () => {
        await server.crash();
        await server.start();
      });
      expect(res.stderr).toEqual([
        expect.stringMatching(
          /^credwarden: CW_ERR_REDIS: the connection to Redis at redis:\/\/127\.0\.0\.1:\d+ closed while waiting for discovery \(0 of 1 units reported\) of scan scan-\S+ \(was Redis restarted\?\); scan --once does not reconnect/,
        ),
      ]);
      expect(res.code).toBe(2);
      expect(res.afterDisruptMs).toBeLessThan(5_000);
      // The scan itself survived the restart.
      expect(await server.call((r) => r.keys('cw:scan:scan-*'))).toHaveLength(1);
    } finally {
      await server.stop();
    }
  }, 30_000);
});

describe('the built CLI through a Redis outage', () => {
  const moto = useMoto();
  let server: RedisServer | undefined;
  let child: ChildProcess | undefined;

  beforeAll(() => {
    useMotoCredentialsEnv();
    // Always build: a stale build would test old code.
    execFileSync('npx', ['tsc', '-p', 'tsconfig.json', '--outDir', OUT], { cwd: ROOT, stdio: 'inherit' });
  }, 120_000);

  afterAll(async () => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await server?.stop();
  });

  it('(a) the scan --once process itself exits 2 when Redis restarts empty under it', async () => {
    const srv = await startRedisServer();
    const hole = await blackHole();
    try {
      const configPath = writeConfig(srv.url, {
        aws: { endpoint: hole.endpoint, maxAttempts: 1, accounts: [{ id: ACCOUNT }] },
        scan: { timeoutSeconds: 60 },
        worker: { shutdownTimeoutSeconds: 1 },
      });
      const proc = spawn(process.execPath, [CLI, '--config', configPath, 'scan', '--once'], {
        cwd: ROOT,
        env: {
          PATH: process.env.PATH,
          AWS_ACCESS_KEY_ID: 'testing',
          AWS_SECRET_ACCESS_KEY: 'testing',
          AWS_REGION: 'us-east-1',
          AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const err: string[] = [];
      proc.stderr!.setEncoding('utf8').on('data', (d: string) => err.push(d));
      const exited = new Promise<number | null>((res) => proc.once('exit', (code) => res(code)));
      try {
        await until(() => hole.sockets.length > 0, 20_000, 'the discover job to call AWS');
        await srv.crash();
        await srv.start();
        const t0 = Date.now();
        // A process that lingers (a worker connection that never ends) fails here, not only a slow one.
        const code = await Promise.race([
          exited,
          new Promise<'still running'>((res) => setTimeout(() => res('still running'), 15_000)),
        ]);
        expect(code, err.join('')).toBe(2);
        expect(Date.now() - t0).toBeLessThan(15_000);
        const lines = err
          .join('')
          .split('\n')
          .filter((l) => l.trim() !== '');
        expect(lines.filter((l) => !l.startsWith('{'))).toEqual([
          expect.stringMatching(/^credwarden: CW_ERR_REDIS: scan scan-\S+ vanished from Redis \(/),
        ]);
      } finally {
        if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
      }
    } finally {
      await hole.close();
      await srv.stop();
    }
  }, 60_000);

  it('(c) the worker recovers, and every stderr line is pino JSON with only a few about the outage', async () => {
    server = await startRedisServer();
    const srv = server;
    const configPath = writeConfig(srv.url, {
      aws: { endpoint: moto.endpoint, accounts: [{ id: ACCOUNT }] },
      scan: { timeoutSeconds: 60 },
      worker: { shutdownTimeoutSeconds: 5 },
    });
    const proc = spawn(process.execPath, [CLI, '--config', configPath, 'worker', '--no-schedule'], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH,
        AWS_ACCESS_KEY_ID: 'testing',
        AWS_SECRET_ACCESS_KEY: 'testing',
        AWS_REGION: 'us-east-1',
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = proc;
    const chunks: string[] = [];
    proc.stderr!.setEncoding('utf8').on('data', (s: string) => chunks.push(s));
    const exited = new Promise<number | null>((res) => proc.once('exit', (code) => res(code)));
    const lines = () =>
      chunks
        .join('')
        .split('\n')
        .filter((l) => l.trim() !== '');
    const messages = () =>
      lines()
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as { msg?: string; level?: number });

    await until(() => messages().some((m) => m.msg === 'worker started'), 20_000, `"worker started" (${lines()})`);
    const before = lines().length;

    await srv.crash();
    await new Promise((res) => setTimeout(res, 3_000));
    await srv.start();

    // Recovery: a scan queued now (by `scan` without --once) is run to the end by that worker.
    const io = captureIo();
    expect(await run(['--config', configPath, '--json', 'scan'], io)).toBe(0);
    const { scanId } = JSON.parse(io.stdout.join('')) as { scanId: string };
    await until(
      async () => (await srv.call((r) => r.hget(`cw:scan:${scanId}`, 'status'))) === 'complete',
      30_000,
      async () =>
        `scan ${scanId} to complete on the recovered worker (stderr: ${lines().slice(-8).join('\n')}; keys: ${(await srv.call((r) => r.keys('*'))).sort().join(' ')})`,
    );

    proc.kill('SIGTERM');
    expect(await exited).toBe(0);

    const all = lines();
    const notJson = all.filter((l) => {
      try {
        JSON.parse(l);
        return false;
      } catch {
        return true;
      }
    });
    expect(notJson, all.join('\n')).toEqual([]);
    const outage = all.slice(before).filter((l) => /redis|ECONNREFUSED|Connection is closed/i.test(l));
    expect(outage.length, outage.join('\n')).toBeGreaterThan(0);
    expect(outage.length, outage.join('\n')).toBeLessThan(20);
    expect(messages().some((m) => m.msg === 'redis error')).toBe(true);
    expect(messages().some((m) => m.msg === 'redis connection restored')).toBe(true);
  }, 90_000);
});
