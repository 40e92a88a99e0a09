/**
 * The worker process of the rotation kill trials (`node --import tsx fault-rotate-worker.ts`): it
 * builds the App on the scenario's config file and executes one plan (`app.executor.execute`)
 * until its record is final, as the remediate job and its delayed wake-ups would. A rotation that
 * waits (adopt, delete) is executed again once the shared clock reaches `rotation.nextAt`; the
 * worker never moves the clock: the test does.
 *
 * Environment:
 *   CW_ROT_CONFIG      the scenario's credwarden.yaml
 *   CW_ROT_CLOCK       a file holding credwarden's "now" in ms (the test's ManualClock, shared)
 *   CW_ROT_KILL_EVENT  optional: once an audit event of this type (and CW_ROT_KILL_TRY, the step's
 *                      try, when set) is durably appended, print `KILLPOINT <json>` on stdout and
 *                      stop there, for the test to SIGKILL this process.
 *   CW_ROT_TRACE       optional: each audit append, its time and duration, on stderr (debugging).
 * The worker starts as a standby: it builds its App, prints `READY`, and does nothing until the
 * line `GO <plan id>` arrives on stdin (the test sends it once the previous worker is dead; the
 * start-up, ~0.8 s of tsx and buildApp, overlaps the previous generation).
 * stdout: `READY`, `KILLPOINT {...}` and, at the end, `FINAL {"state":…}`. Logs go nowhere.
 */
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Clock } from '../../src/clock.js';
import { CwError } from '../../src/errors.js';
import { createLogger } from '../../src/logger.js';
import { buildApp } from '../../src/main.js';

const env = (name: string): string => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
};

const clockFile = env('CW_ROT_CLOCK');
/** credwarden's time: the test's clock, read from the file at each call (written atomically). */
const clock: Clock = {
  now() {
    const t = Number(readFileSync(clockFile, 'utf8'));
    if (!Number.isFinite(t)) throw new Error(`clock file ${clockFile} holds no time`);
    return new Date(t);
  },
};

const FINAL = new Set(['done', 'failed', 'cancelled', 'held', 'denied', 'dry-run', 'awaiting-approval', 'rolled-back']);

/** The first stdin line `GO <plan id>`. */
function go(): Promise<string> {
  return new Promise((resolve, reject) => {
    const rl = createInterface({ input: process.stdin });
    rl.on('line', (l) => {
      const m = /^GO (\S+)$/.exec(l.trim());
      if (!m) return;
      resolve(m[1]!);
      rl.close();
    });
    rl.on('close', () => reject(new Error('stdin closed before GO')));
  });
}

async function main(): Promise<void> {
  const started = go();
  const app = await buildApp({
    configPath: env('CW_ROT_CONFIG'),
    log: createLogger({ level: 'silent' }),
    clock,
    awsRetryDelayMs: 1,
  });
  // No BullMQ here: wake-ups are this loop's own (it looks at nextAt).
  app.remediation.setEnqueue(async () => {});

  if (process.env.CW_ROT_TRACE) {
    const t0 = Date.now();
    const a = app.audit.append.bind(app.audit);
    app.audit.append = async (input) => {
      const t1 = Date.now();
      const ev = await a(input);
      process.stderr.write(`TRACE +${t1 - t0} ${ev.type} took ${Date.now() - t1}\n`);
      return ev;
    };
  }
  const killType = process.env.CW_ROT_KILL_EVENT;
  const killTry = process.env.CW_ROT_KILL_TRY ? Number(process.env.CW_ROT_KILL_TRY) : undefined;
  if (killType) {
    const append = app.audit.append.bind(app.audit);
    app.audit.append = async (input) => {
      const ev = await append(input);
      const data = ev.data as Record<string, unknown>;
      if (ev.type === killType && (killTry === undefined || data.try === killTry)) {
        process.stdout.write(`KILLPOINT ${JSON.stringify({ seq: ev.seq, type: ev.type, try: data.try ?? null })}\n`);
        await new Promise(() => {}); // the test SIGKILLs this process now
      }
      return ev;
    };
  }

  process.stdout.write('READY\n');
  const planId = await started;
  for (;;) {
    const rec = await app.remediation.store.get(planId);
    if (!rec) throw new Error(`no action ${planId}`);
    if (FINAL.has(rec.state)) {
      process.stdout.write(`FINAL ${JSON.stringify({ state: rec.state, detail: rec.result?.detail ?? null })}\n`);
      break;
    }
    const nextAt = rec.rotation?.nextAt;
    if (rec.state === 'in-progress' && nextAt && Date.parse(nextAt) > clock.now().getTime()) {
      await sleep(5);
      continue;
    }
    try {
      await app.executor.execute(planId);
    } catch (err) {
      // The execution lease of a killed worker, a transient backend error: the job would retry.
      if (err instanceof CwError && err.retryable) {
        process.stderr.write(`retryable: ${err.message}\n`);
        await sleep(20);
        continue;
      }
      throw err;
    }
  }
  await app.close();
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`worker failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
