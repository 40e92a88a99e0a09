/**
 * The scheduled checkpoint job: its BullMQ job scheduler is upserted once under the schedule lock
 * when two workers boot together (with the discovery schedule, in the same lease), and its
 * processor is idempotent: a retried job (the webhook answered 500 once) covers the head its first
 * attempt pinned, records no second event and no second file line, and only re-sends the webhook;
 * a later tick with nothing new writes nothing at all.
 */
import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Processor, Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkpointProcessor } from '../../jobs/checkpoint.processor.js';
import { CheckpointService, checkpointSettings } from '../../src/audit/checkpoints.js';
import { loadConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/logger.js';
import { CHECKPOINT_SCHEDULER_ID, type CheckpointJobPayload, QueueNames, SCHEDULER_ID } from '../../src/queue/names.js';
import { checkpointSchedule, discoverSchedule, upsertSchedules } from '../../src/queue/scheduler.js';
import { lineSink } from '../support/capture.js';
import {
  fileLines,
  hookSecret,
  makeChain,
  makeKey,
  type TestChain,
  type TestKey,
} from '../support/checkpoint-chain.js';
import type { Receiver } from '../support/receivers/server.js';
import { startWebhookReceiver, type WebhookReceived } from '../support/receivers/webhook.js';
import { openTestRedis, testKeyPrefix, testQueue, testWorker, useRedis } from '../support/redis.js';

const ctx = useRedis('audit-ckpt-jobs');
const keysDir = mkdtempSync(join(tmpdir(), 'cw-keys-'));
let key: TestKey;
let hook: Receiver<WebhookReceived>;
const closers: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  key = makeKey(keysDir, 'evidence');
  hook = await startWebhookReceiver({ secrets: [hookSecret()] });
});
afterAll(async () => {
  for (const c of closers.reverse()) await c();
  await hook.close();
  await rm(keysDir, { recursive: true, force: true });
});

describe('the checkpoint job scheduler', () => {
  it('is upserted once, under the schedule lock, when two workers boot at once', async () => {
    const prefix = `${ctx.prefix}-sched`;
    const workers = [0, 1].map(() => {
      const redis = openTestRedis();
      const scan = testQueue(QueueNames.scan, prefix);
      const audit = testQueue<CheckpointJobPayload>(QueueNames.audit, prefix);
      closers.push(
        () => scan.close(),
        () => audit.close(),
        async () => redis.disconnect(),
      );
      return { redis, scan, audit };
    });
    let upserts = 0;
    for (const w of workers) {
      for (const q of [w.scan, w.audit] as Queue[]) {
        const real = q.upsertJobScheduler.bind(q);
        q.upsertJobScheduler = ((...args: Parameters<typeof real>) => {
          upserts++;
          return real(...args);
        }) as typeof real;
      }
    }
    const states = await Promise.all(
      workers.map((w) =>
        upsertSchedules(w.redis, testKeyPrefix(prefix), [
          discoverSchedule(w.scan, '*/15 * * * *'),
          checkpointSchedule(w.audit, '0 * * * *'),
        ]),
      ),
    );
    expect(states.map((s) => s.map((x) => x.upserted))).toEqual(
      expect.arrayContaining([
        [true, true],
        [false, false],
      ]),
    );
    expect(upserts).toBe(2);
    const schedulers = await workers[1]!.audit.getJobSchedulers();
    expect(schedulers).toHaveLength(1);
    expect(schedulers[0]).toMatchObject({ key: CHECKPOINT_SCHEDULER_ID, pattern: '0 * * * *', tz: 'UTC' });
    expect(await workers[0]!.scan.getJobScheduler(SCHEDULER_ID)).toMatchObject({ pattern: '*/15 * * * *' });
    // The one that upserted reports the next run (the other may read before the upsert lands).
    expect(states.find((s) => s[1]!.upserted)![1]!.next).toBeGreaterThan(Date.now());
  });
});

describe('checkpoint settings', () => {
  it('warns at startup of a file sink inside the audit file directory; refuses a webhook sink that is not one', async () => {
    const c = await makeChain(ctx.redis, { prefix: `${ctx.prefix}-settings`, key, hookUrl: hook.url, events: 0 });
    closers.push(() => c.app.close());
    const sink = lineSink();
    const settings = checkpointSettings(c.app.config);
    const inside = join(c.files.dir, 'anchor', 'checkpoints.jsonl');
    const service = new CheckpointService({
      ...settings,
      sinks: [...settings.sinks, { type: 'file', path: inside }],
      audit: c.app.audit,
      redis: ctx.redis,
      prefix: c.prefix,
      clock: c.app.clock,
      log: createLogger({ level: 'info', destination: sink }),
    });
    service.announce();
    service.announce();
    const warned = sink.lines.map((l) => JSON.parse(l)).filter((l) => l.level === 40);
    expect(warned).toEqual([
      expect.objectContaining({ path: inside, msg: expect.stringContaining('inside the audit file directory') }),
    ]);
    expect(await service.checkpointNow()).toMatchObject({ status: 'empty' });
    const config = await loadConfig(c.files.configPath);
    const bad = {
      ...config,
      evidence: {
        ...config.evidence,
        checkpoints: { ...config.evidence.checkpoints, sinks: [{ type: 'webhook' as const, sink: 'nope' }] },
      },
    };
    expect(() => checkpointSettings(bad)).toThrow(
      'evidence.checkpoints.sinks[0].sink: "nope" is not a sink in alerts.sinks',
    );
  });
});

describe('the checkpoint job processor', () => {
  let c: TestChain;
  let queue: Queue<CheckpointJobPayload>;

  beforeAll(async () => {
    c = await makeChain(ctx.redis, { prefix: `${ctx.prefix}-job`, key, hookUrl: hook.url });
    closers.push(() => c.app.close());
    expect(c.app.config.evidence.checkpoints.schedule).toBe('0 * * * *'); // hourly by default
    queue = testQueue<CheckpointJobPayload>(QueueNames.audit, c.prefix);
    const worker = testWorker(QueueNames.audit, checkpointProcessor(c.app.checkpoints) as Processor, c.prefix);
    closers.push(
      () => queue.close(),
      () => worker.close(),
    );
  });

  async function finished(id: string) {
    for (let i = 0; i < 200; i++) {
      const job = await queue.getJob(id);
      const state = await job?.getState();
      if (state === 'completed' || state === 'failed') return job!;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`job ${id} did not finish`);
  }

  const checkpointEvents = async () => (await c.log.read(1)).filter((e) => e.type === 'audit.checkpoint');

  it('a retried job covers the head it pinned: one event, one file line, the webhook sent again', async () => {
    const chainId = (await c.log.read(1, 1))[0]!.hash;
    const hookId = `checkpoint-${chainId.slice(0, 16)}-30`;
    hook.respondWith([500]);
    const job = await queue.add(
      'checkpoint',
      { trigger: 'schedule' },
      { attempts: 3, backoff: { type: 'fixed', delay: 100 } },
    );
    const done = await finished(job.id!);
    expect(await done.getState()).toBe('completed');
    expect(done.attemptsMade).toBe(2);
    expect(done.data.head).toEqual({ seq: 30, hash: (await c.log.read(30, 1))[0]!.hash });
    expect(done.returnvalue).toEqual({ status: 'existing', seq: 30, eventSeq: 31 });
    expect((await checkpointEvents()).map((e) => e.seq)).toEqual([31]);
    expect(await fileLines(c.anchor)).toHaveLength(1);
    const sent = hook.requests.filter((r) => r.headers['webhook-id'] === hookId);
    expect(sent.map((r) => [r.status, r.verified])).toEqual([
      [500, true],
      [204, true],
    ]);
    expect(sent[1]!.rawBody).toBe(sent[0]!.rawBody);
  });

  it('a later tick with nothing new, and the same head asked again, write nothing', async () => {
    const requests = hook.requests.length;
    const again = await finished((await queue.add('checkpoint', { trigger: 'schedule' })).id!);
    expect(again.returnvalue).toEqual({ status: 'existing', seq: 30, eventSeq: 31 });
    const head30 = (await c.log.read(30, 1))[0]!;
    const direct = await c.app.checkpoints.checkpointNow({ head: { seq: 30, hash: head30.hash } });
    expect(direct).toMatchObject({ status: 'existing', eventSeq: 31 });
    expect(direct.status !== 'off' && direct.status !== 'empty' && direct.sinks.map((s) => s.status)).toEqual([
      'already',
      'already',
    ]);
    expect((await checkpointEvents()).map((e) => e.seq)).toEqual([31]);
    expect(await fileLines(c.anchor)).toHaveLength(1);
    expect(hook.requests.length).toBe(requests);
    // New events: the next tick checkpoints the new head (the previous checkpoint event included).
    await c.app.audit.append({ type: 'action.intent', actor: 'w', subject: 's', data: { i: 99 } });
    const next = await finished((await queue.add('checkpoint', { trigger: 'schedule' })).id!);
    expect(next.returnvalue).toEqual({ status: 'written', seq: 32, eventSeq: 33 });
    expect(await fileLines(c.anchor)).toHaveLength(2);
  });

  it('refuses to sign a chain rewritten under the last checkpoint', async () => {
    const all = await c.log.read(1);
    const e10 = all[9]!;
    // The last checkpoint covers seq 32: cut the tail below it and ask for a checkpoint again.
    await ctx.redis.xdel(c.log.eventsKey, '33-0', '32-0');
    await ctx.redis.hset(c.log.headKey, 'seq', '31', 'hash', all[30]!.hash);
    await expect(c.app.checkpoints.checkpointNow({ head: { seq: 10, hash: e10.hash } })).rejects.toThrow(
      /checkpoint refused: checkpoint #32 of .* the chain holds no such event/,
    );
  });
});
