/**
 * Audit-append benchmark: `npm run bench:audit [-- options]`. A measurement, not a test.
 *
 * For each configuration (writers × mode) it appends N realistic `finding.opened` events to one
 * hash chain in Redis with the JSONL mirror on (each sync fsyncs the file), then verifies the
 * chain in Redis (`RedisAuditLog.verify()`) and in the file (`verifyJsonl`), and prints one line:
 * writers, mode, events, seconds, events/s, verify result.
 *
 * Writers are separate processes (this script forked with `--child`), each with its own Redis
 * connection, RedisAuditLog and JsonlMirror, all on the same prefix and the same file: that is how
 * several worker processes share one chain. One writer runs in a child process too, so every
 * configuration is measured the same way. Wall time runs from "go" (sent once every writer is
 * connected and has built its inputs) to the last writer's "done".
 *
 * Modes:
 *   append  single `append()` calls, `--in-flight` (2000, the window finalize and evaluate queue at once) issued at once per writer, chunk after
 *           chunk through Promise.all: how the evaluation calls it.
 *   batch   `appendMany()` with `--batch` (500) inputs per call, one call after another.
 *
 * Options:
 *   --events N        events per configuration, split across the writers (default 20000)
 *   --writers 1,4     writer counts to run (default 1,4)
 *   --mode M          append | batch | both (default both)
 *   --batch [N]       appendMany batch size (default 500); given alone, it also selects --mode batch
 *   --in-flight N     concurrent append() calls per writer in append mode (default 2000)
 *   --timeout S       per configuration; writers still running are killed (default 600)
 *   --hmac            HMAC-SHA256 the chain (random key) instead of plain SHA-256
 *   --json            finish with one JSON line holding every number
 *
 * Each configuration uses a fresh random Redis prefix and a temp file; both are deleted afterwards.
 * Target (issue): at least 20,000 events/s with one writer and the mirror on.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import {
  type AppendInput,
  AuditMirrorError,
  JsonlMirror,
  RedisAuditLog,
  type VerifyResult,
  verifyJsonl,
} from '../../src/audit/index.js';
import { systemClock } from '../../src/clock.js';
import {
  argValue,
  checkFlags,
  deletePrefix,
  hasFlag,
  intArg,
  perSecond,
  REDIS_URL,
  randomPrefix,
  usage,
} from './support.js';

type Mode = 'append' | 'batch';

interface WriterJob {
  type: 'job';
  redisUrl: string;
  prefix: string;
  file: string;
  runId: string;
  offset: number;
  count: number;
  mode: Mode;
  inFlight: number;
  batch: number;
  hmacKey?: string;
}

interface WriterDone {
  type: 'done';
  ms: number;
  /** Calls that resolved (append mode: events; batch mode: events of batches that resolved). */
  appended: number;
  /** Events recorded in Redis whose mirror sync failed (AuditMirrorError). */
  mirrorFailed: number;
  /** Events whose append rejected for any other reason. */
  failed: number;
  errors: string[];
}

type ChildMessage = { type: 'listening' } | { type: 'ready' } | WriterDone | { type: 'fatal'; error: string };

const POLICIES = [
  'agent-key-unused-30d',
  'agent-admin-equivalent',
  'agent-two-active-keys',
  'unregistered-agent',
  'owasp-nhi5-overprivileged',
  'cis-aws-1.14-key-rotation',
];
const SEVERITIES = ['critical', 'high', 'medium', 'low', 'info'];

/** One realistic finding.opened event; the key id is obviously fake. */
export function benchEvent(runId: string, i: number): AppendInput {
  const keyId = `AKIABENCH${String(i).padStart(11, '0')}`;
  const credentialId = `aws/123456789012/access-key/${keyId}`;
  const agentId = `agent-bench-${String(i % 500).padStart(3, '0')}`;
  return {
    type: 'finding.opened',
    subject: credentialId,
    data: {
      policy: POLICIES[i % POLICIES.length],
      credentialId,
      agentId,
      severity: SEVERITIES[i % SEVERITIES.length],
      message: `Access key ${keyId} of ${agentId} has not been used for ${30 + (i % 60)} days (limit 30)`,
      scanId: `scan-bench-${runId}`,
    },
    idempotencyKey: `bench/${runId}/${i}`,
  };
}

// ---------------------------------------------------------------------------------------------
// Child: one writer process.

function nextMessage<T>(): Promise<T> {
  return new Promise((resolve) => process.once('message', (m) => resolve(m as T)));
}

function describe(err: unknown): string {
  return err instanceof Error ? `${err.constructor.name}: ${err.message}` : String(err);
}

async function writer(): Promise<void> {
  const send = (m: ChildMessage): void => {
    process.send?.(m);
  };
  // Asks for its job only once it listens, so the job cannot arrive before the listener does.
  const jobMessage = nextMessage<WriterJob>();
  send({ type: 'listening' });
  const job = await jobMessage;
  const redis = new Redis(job.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    const mirror = new JsonlMirror(redis, { prefix: job.prefix, path: job.file });
    const log = new RedisAuditLog(redis, {
      prefix: job.prefix,
      clock: systemClock,
      actor: 'credwarden-bench',
      mirror,
      ...(job.hmacKey ? { hmacKey: job.hmacKey } : {}),
    });
    const inputs = Array.from({ length: job.count }, (_, k) => benchEvent(job.runId, job.offset + k));
    const go = nextMessage<{ type: 'go' }>();
    send({ type: 'ready' });
    await go;

    const done: WriterDone = { type: 'done', ms: 0, appended: 0, mirrorFailed: 0, failed: 0, errors: [] };
    const note = (err: unknown, events: number): void => {
      if (err instanceof AuditMirrorError) done.mirrorFailed += events;
      else done.failed += events;
      const msg = describe(err);
      if (done.errors.length < 3 && !done.errors.includes(msg)) done.errors.push(msg);
    };
    const t0 = performance.now();
    if (job.mode === 'append') {
      for (let i = 0; i < inputs.length; i += job.inFlight) {
        const settled = await Promise.allSettled(inputs.slice(i, i + job.inFlight).map((e) => log.append(e)));
        for (const s of settled) {
          if (s.status === 'fulfilled') done.appended++;
          else note(s.reason, 1);
        }
      }
    } else {
      for (let i = 0; i < inputs.length; i += job.batch) {
        const chunk = inputs.slice(i, i + job.batch);
        try {
          done.appended += (await log.appendMany(chunk)).length;
        } catch (err) {
          note(err, chunk.length);
        }
      }
    }
    done.ms = performance.now() - t0;
    send(done);
  } catch (err) {
    send({ type: 'fatal', error: describe(err) });
  } finally {
    redis.disconnect();
  }
}

// ---------------------------------------------------------------------------------------------
// Parent: runs the configurations, verifies, prints.

interface Result {
  writers: number;
  mode: Mode;
  batch?: number;
  inFlight?: number;
  events: number;
  seconds: number;
  eventsPerSecond: number;
  timedOut: boolean;
  appended: number;
  mirrorFailed: number;
  failed: number;
  errors: string[];
  fileBytes: number;
  verify: {
    redis: { ok: boolean; count: number; detail?: string };
    file: { ok: boolean; count: number; detail?: string };
  };
  ok: boolean;
}

const live = new Set<ChildProcess>();
const cleanups = new Set<() => Promise<void>>();

async function cleanupAll(): Promise<void> {
  for (const c of live) c.kill('SIGKILL');
  for (const c of [...cleanups]) await c().catch(() => undefined);
}

function verifyText(r: VerifyResult | { error: string }): { ok: boolean; count: number; detail?: string } {
  if ('error' in r) return { ok: false, count: 0, detail: r.error };
  if (r.ok) return { ok: true, count: r.count };
  const b = r.firstBroken!;
  return { ok: false, count: r.count, detail: `broken at #${b.seq}: ${b.reason}: ${b.detail}` };
}

async function runConfig(
  redis: Redis,
  opts: { events: number; writers: number; mode: Mode; inFlight: number; batch: number; timeoutMs: number },
  hmacKey: string | undefined,
): Promise<Result> {
  const prefix = randomPrefix('audit');
  const runId = prefix.slice('cwbench-audit-'.length);
  const dir = await mkdtemp(join(tmpdir(), 'cwbench-audit-'));
  const file = join(dir, 'audit.jsonl');
  const cleanup = async (): Promise<void> => {
    await deletePrefix(redis, prefix);
    await rm(dir, { recursive: true, force: true });
  };
  cleanups.add(cleanup);
  try {
    const script = fileURLToPath(import.meta.url);
    const children: ChildProcess[] = [];
    const done: (WriterDone | undefined)[] = [];
    let lastDoneAt = 0;
    const fatal: string[] = [];
    const ready: Promise<void>[] = [];
    const finished: Promise<void>[] = [];
    let offset = 0;
    for (let w = 0; w < opts.writers; w++) {
      const count = Math.floor(opts.events / opts.writers) + (w < opts.events % opts.writers ? 1 : 0);
      const job: WriterJob = {
        type: 'job',
        redisUrl: REDIS_URL,
        prefix,
        file,
        runId,
        offset,
        count,
        mode: opts.mode,
        inFlight: opts.inFlight,
        batch: opts.batch,
        ...(hmacKey ? { hmacKey } : {}),
      };
      const child = fork(script, ['--child'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      live.add(child);
      children.push(child);
      let onReady: () => void = () => undefined;
      ready.push(new Promise((r) => (onReady = r)));
      finished.push(
        new Promise((resolve) => {
          child.on('message', (m: ChildMessage) => {
            if (m.type === 'listening') child.send(job);
            else if (m.type === 'ready') onReady();
            else if (m.type === 'done') {
              done[w] = m;
              lastDoneAt = performance.now();
            } else if (m.type === 'fatal') fatal.push(`writer ${w}: ${m.error}`);
          });
          child.once('exit', (code, signal) => {
            live.delete(child);
            if (!done[w] && !fatal.some((f) => f.startsWith(`writer ${w}:`)))
              fatal.push(`writer ${w}: exited (${signal ?? `code ${code}`}) before reporting`);
            onReady(); // a writer that died before "ready" must not hold the others back
            resolve();
          });
        }),
      );
      offset += count;
    }
    await Promise.all(ready);
    const t0 = performance.now();
    for (const c of children) if (c.connected) c.send({ type: 'go' });
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      Promise.all(finished).then(() => false),
      new Promise<boolean>((r) => {
        timer = setTimeout(() => r(true), opts.timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    // Until the last writer's "done" message: process exit and disconnect are not part of it.
    const wallMs = timedOut ? opts.timeoutMs : Math.max(lastDoneAt, t0) - t0;
    if (timedOut) {
      for (const c of children) c.kill('SIGKILL');
      await Promise.all(finished);
    }

    const reader = new RedisAuditLog(redis, { prefix, clock: systemClock, ...(hmacKey ? { hmacKey } : {}) });
    const redisVerify = verifyText(await reader.verify().catch((e: unknown) => ({ error: describe(e) })));
    const fileVerify = verifyText(
      await verifyJsonl(file, hmacKey ? { hmacKey } : {}).catch((e: unknown) => ({ error: describe(e) })),
    );
    const fileBytes = (await stat(file).catch(() => ({ size: 0 }))).size;
    const sum = (k: 'appended' | 'mirrorFailed' | 'failed') => done.reduce((a, d) => a + (d?.[k] ?? 0), 0);
    const errors = [...new Set(done.flatMap((d) => d?.errors ?? []).concat(fatal))];
    const events = redisVerify.count;
    return {
      writers: opts.writers,
      mode: opts.mode,
      ...(opts.mode === 'batch' ? { batch: opts.batch } : { inFlight: opts.inFlight }),
      events,
      seconds: Number((wallMs / 1000).toFixed(3)),
      eventsPerSecond: perSecond(events, wallMs),
      timedOut,
      appended: sum('appended'),
      mirrorFailed: sum('mirrorFailed'),
      failed: sum('failed'),
      errors,
      fileBytes,
      verify: { redis: redisVerify, file: fileVerify },
      ok:
        !timedOut &&
        errors.length === 0 &&
        redisVerify.ok &&
        fileVerify.ok &&
        redisVerify.count === opts.events &&
        fileVerify.count === opts.events,
    };
  } finally {
    await cleanup();
    cleanups.delete(cleanup);
  }
}

function line(r: Result, expected: number): string {
  const mode = r.mode === 'batch' ? `appendMany(${r.batch})` : `append(${r.inFlight} in flight)`;
  const v = (name: string, x: Result['verify']['redis']) =>
    `${name} ${x.ok ? 'OK' : 'BROKEN'} ${x.count}/${expected}${x.detail ? ` (${x.detail})` : ''}`;
  const extra = [
    r.timedOut ? 'TIMED OUT' : '',
    r.failed ? `${r.failed} failed` : '',
    r.mirrorFailed ? `${r.mirrorFailed} mirror failures` : '',
    ...r.errors.map((e) => `error: ${e.length > 300 ? `${e.slice(0, 300)}…` : e}`),
  ].filter(Boolean);
  return [
    `writers ${r.writers}`,
    `mode ${mode.padEnd(22)}`,
    `events ${String(r.events).padStart(7)}`,
    `seconds ${r.seconds.toFixed(2).padStart(8)}`,
    `events/s ${String(r.eventsPerSecond).padStart(7)}`,
    `verify ${v('redis', r.verify.redis)}, ${v('file', r.verify.file)}`,
    ...(extra.length ? [extra.join('; ')] : []),
  ].join('  ');
}

async function main(): Promise<void> {
  const B = 'audit';
  checkFlags(B, ['events', 'writers', 'mode', 'batch', 'in-flight', 'timeout', 'hmac', 'json']);
  const events = intArg(B, 'events', 20_000);
  const writersRaw = argValue('writers') ?? '1,4';
  const writers = writersRaw.split(',').map((s) => Number(s.trim()));
  if (writers.length === 0 || writers.some((w) => !Number.isInteger(w) || w < 1 || w > 64))
    usage(B, `--writers needs a comma-separated list of writer counts (1..64), got "${writersRaw}"`);
  const batchRaw = argValue('batch');
  const batch = batchRaw === undefined || batchRaw === '' ? 500 : intArg(B, 'batch', 500);
  const modeRaw = argValue('mode') ?? (batchRaw !== undefined ? 'batch' : 'both');
  if (!['append', 'batch', 'both'].includes(modeRaw))
    usage(B, `--mode must be append, batch or both, got "${modeRaw}"`);
  const modes: Mode[] = modeRaw === 'both' ? ['append', 'batch'] : [modeRaw as Mode];
  const inFlight = intArg(B, 'in-flight', 2000);
  const timeoutMs = intArg(B, 'timeout', 600) * 1000;
  const hmacKey = hasFlag('hmac') ? randomBytes(24).toString('hex') : undefined;

  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    await redis.ping();
  } catch (err) {
    usage(B, `cannot reach Redis at ${REDIS_URL}: ${describe(err)}`);
  }
  const onSignal = (sig: NodeJS.Signals) => {
    console.error(`bench:audit: ${sig}, cleaning up`);
    void cleanupAll().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  console.log(
    `audit append benchmark: ${events} events per configuration, JSONL mirror on (fsync), ` +
      `${hmacKey ? 'HMAC-SHA256' : 'SHA-256'}, Redis ${REDIS_URL}, node ${process.version}, temp files in ${tmpdir()}`,
  );
  const results: Result[] = [];
  try {
    for (const w of writers) {
      for (const mode of modes) {
        const r = await runConfig(redis, { events, writers: w, mode, inFlight, batch, timeoutMs }, hmacKey);
        results.push(r);
        console.log(line(r, events));
      }
    }
  } finally {
    await cleanupAll();
    redis.disconnect();
  }
  const one = results.filter((r) => r.writers === 1 && r.ok).map((r) => r.eventsPerSecond);
  const best = one.length ? Math.max(...one) : 0;
  console.log(
    writers.includes(1)
      ? `target: >= 20000 events/s with one writer and the mirror on; best verified one-writer rate: ${best} events/s (${
          best >= 20_000 ? 'met' : 'NOT met'
        })`
      : 'target: >= 20000 events/s with one writer and the mirror on; not measured (no --writers 1 run)',
  );
  if (hasFlag('json')) {
    console.log(
      JSON.stringify({
        bench: 'audit',
        node: process.version,
        eventsPerConfiguration: events,
        mirror: true,
        hmac: hmacKey !== undefined,
        target: { writers: 1, eventsPerSecond: 20_000, measured: writers.includes(1), met: best >= 20_000 },
        results,
      }),
    );
  }
  if (results.some((r) => !r.ok)) process.exitCode = 1;
}

if (hasFlag('child')) await writer();
else await main();
