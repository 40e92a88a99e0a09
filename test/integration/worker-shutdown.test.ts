/**
 * The worker's shutdown contract (README "credwarden worker": shuts down within
 * worker.shutdownTimeoutSeconds on SIGTERM or SIGINT; src/queue/runtime.ts `close(deadlineMs)`):
 * (a) idle workers close gracefully and promptly;
 * (b) a job that never finishes (an AWS endpoint that accepts connections and never answers) does
 *     not hold shutdown past the deadline: close() resolves {graceful:false} at about the deadline
 *     (BullMQ's close(true) waits for the job, so the runtime aborts the jobs and disconnects);
 * (c) the real process: `node dist/src/cli/main.js worker` against moto and Redis upserts the
 *     discovery schedule (cron, UTC), logs that it started, and exits 0 on SIGTERM within the
 *     configured deadline.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { startWorkers } from '../../jobs/workers.js';
import { createLogger } from '../../src/logger.js';
import { type App, buildApp } from '../../src/main.js';
import { ids, JobNames, SCHEDULER_ID } from '../../src/queue/names.js';
import { closeQueues, createQueues } from '../../src/queue/runtime.js';
import { registry } from '../fixtures/aws-estate.js';
import { useMotoCredentialsEnv } from '../support/app.js';
import { useMoto } from '../support/moto.js';
import { deleteByPrefix, testQueue, testRedisConfig, useRedis } from '../support/redis.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLI = join(ROOT, 'dist', 'src', 'cli', 'main.js');
const moto = useMoto();
const r = useRedis('shutdown');

/** Config and registry files in a fresh directory; returns the config path. */
function writeConfig(config: Record<string, unknown>): string {
  const dir = mkdtempSync(join(tmpdir(), 'cw-shutdown-'));
  writeFileSync(join(dir, 'agents.yaml'), stringify(registry));
  const path = join(dir, 'credwarden.yaml');
  writeFileSync(
    path,
    stringify({
      registry: 'agents.yaml',
      audit: { file: join(dir, 'audit.jsonl') },
      ...config,
      redis: testRedisConfig(config.redis as Record<string, unknown> | undefined),
    }),
  );
  return path;
}

async function appFor(config: Record<string, unknown>): Promise<App> {
  return buildApp({ configPath: writeConfig(config), log: createLogger({ level: 'silent' }) });
}

/** A TCP server that accepts connections and never says a word. */
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

async function until(cond: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((res) => setTimeout(res, 25));
  }
}

describe('worker shutdown', () => {
  beforeAll(() => {
    useMotoCredentialsEnv();
  });

  it('(a) idle workers close gracefully, well before the deadline', async () => {
    const prefix = `${r.prefix}-idle`;
    const app = await appFor({ redis: { prefix } });
    const queues = createQueues(app);
    const workers = startWorkers(app, queues);
    try {
      await Promise.all(workers.workers.map((w) => w.waitUntilReady()));
      const t0 = Date.now();
      const res = await workers.close(5_000);
      const elapsed = Date.now() - t0;
      expect(res).toEqual({ graceful: true });
      expect(elapsed).toBeLessThan(2_000);
    } finally {
      await closeQueues(queues);
      await app.close();
      await deleteByPrefix(r.redis, prefix);
    }
  });

  describe('(b) a job that hangs', () => {
    /** What close(300) did while a discover job was stuck on a silent AWS endpoint. */
    let measured: { outcome: { graceful: boolean } | 'still waiting'; elapsedMs: number } | undefined;

    it('scenario: a discover job is stuck in an AWS call; close(300) is raced against 3 s', async () => {
      const hole = await blackHole();
      const prefix = `${r.prefix}-hang`;
      const app = await appFor({
        redis: { prefix },
        aws: { endpoint: hole.endpoint, maxAttempts: 1, accounts: [{ id: '111111111111' }] },
        scan: { timeoutSeconds: 60 },
      });
      const queues = createQueues(app);
      const workers = startWorkers(app, queues);
      let closing: Promise<{ graceful: boolean }> | undefined;
      try {
        const scanId = `hang-${randomUUID()}`;
        await queues.scan.add(
          JobNames.startScan,
          { trigger: 'cli', scanId },
          { jobId: ids.startScan(scanId), attempts: 1 },
        );
        // The discover job is in flight: its first AWS call reached the black hole.
        await until(() => hole.sockets.length > 0, 15_000, 'the discover job to call AWS');
        expect(await queues.discover.getActiveCount()).toBe(1);

        const t0 = Date.now();
        closing = workers.close(300);
        const outcome = await Promise.race([
          closing,
          new Promise<'still waiting'>((res) => setTimeout(() => res('still waiting'), 3_000)),
        ]);
        measured = { outcome, elapsedMs: Date.now() - t0 };
      } finally {
        // Let the hung request fail so every worker can finish closing, then clean up.
        await hole.close();
        const drained = await Promise.race([
          (closing ?? Promise.resolve()).then(() => true),
          new Promise<false>((res) => setTimeout(() => res(false), 10_000)),
        ]);
        expect(drained, 'workers closed once the hung call failed').toBe(true);
        await closeQueues(queues);
        await app.close();
        await deleteByPrefix(r.redis, prefix);
      }
    }, 30_000);

    // BullMQ 6.7.0's close(true) returns the graceful close already in progress, which waits for
    // the hung job; runtime.ts therefore aborts the jobs at the deadline (the signal reaches every
    // SDK call) and disconnects, so `credwarden worker` keeps worker.shutdownTimeoutSeconds.
    it('close(300) resolves {graceful:false} within about 300 ms rather than hanging', () => {
      expect(measured, 'the scenario above ran').toBeDefined();
      expect(measured!.outcome).toEqual({ graceful: false });
      expect(measured!.elapsedMs).toBeGreaterThanOrEqual(290);
      expect(measured!.elapsedMs).toBeLessThan(1_500);
    });
  });

  describe('(c) the worker process', () => {
    let child: ChildProcess | undefined;
    const stderr: string[] = [];
    const SHUTDOWN_SECONDS = 5;

    beforeAll(() => {
      if (!existsSync(CLI)) execFileSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: ROOT, stdio: 'inherit' });
    }, 120_000);

    afterAll(() => {
      if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });

    it('upserts the schedule, starts, and exits 0 on SIGTERM within worker.shutdownTimeoutSeconds', async () => {
      const prefix = `${r.prefix}-proc`;
      const configPath = writeConfig({
        redis: { prefix },
        aws: { endpoint: moto.endpoint, accounts: [{ id: '123456789012' }] },
        // A schedule that will not fire during the test.
        schedules: { discover: '0 0 1 1 *' },
        worker: { shutdownTimeoutSeconds: SHUTDOWN_SECONDS },
      });
      const proc = spawn(process.execPath, [CLI, '--config', configPath, 'worker'], {
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
      proc.stderr!.setEncoding('utf8').on('data', (s: string) => stderr.push(s));
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) =>
        proc.once('exit', (code, signal) => res({ code, signal })),
      );
      const log = () => stderr.join('');
      const messages = () =>
        log()
          .split('\n')
          .filter((l) => l.startsWith('{'))
          .map((l) => JSON.parse(l) as { msg?: string; scheduler?: string; pattern?: string });

      await until(
        () => messages().some((m) => m.msg === 'worker started') || proc.exitCode !== null,
        20_000,
        `"worker started" on stderr (so far: ${log()})`,
      );
      expect(proc.exitCode, log()).toBeNull();
      expect(messages().find((m) => m.msg === 'discovery schedule')).toMatchObject({
        scheduler: SCHEDULER_ID,
        pattern: '0 0 1 1 *',
      });
      const q = testQueue('scan', prefix);
      try {
        const schedulers = await q.getJobSchedulers();
        expect(schedulers).toEqual([expect.objectContaining({ key: SCHEDULER_ID, tz: 'UTC', pattern: '0 0 1 1 *' })]);
      } finally {
        await q.close();
      }

      const t0 = Date.now();
      proc.kill('SIGTERM');
      const timeout = new Promise<'timeout'>((res) =>
        setTimeout(() => res('timeout'), SHUTDOWN_SECONDS * 1000 + 3_000),
      );
      const result = await Promise.race([exited, timeout]);
      expect(result, log()).toEqual({ code: 0, signal: null });
      expect(Date.now() - t0).toBeLessThan(SHUTDOWN_SECONDS * 1000 + 3_000);
      expect(messages().some((m) => m.msg === 'shutting down')).toBe(true);
      await deleteByPrefix(r.redis, prefix);
    }, 60_000);
  });
});
