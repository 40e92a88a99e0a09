/**
 * src/queue/watch.ts against real Redis and BullMQ, with processors of the test's own so each
 * case is exact: a retrying job's last failure in the progress lines, then its failure for good
 * (coded from the error the attempt threw, since BullMQ keeps only the message); the deadline
 * naming the step it was waiting for; deliveries still pending at their deadline reported, not
 * dropped; and the delivery deadline's arithmetic.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CwError, ErrorCodes } from '../../src/errors.js';
import { createLogger } from '../../src/logger.js';
import type { App } from '../../src/main.js';
import { RedisErrorLog } from '../../src/queue/connection.js';
import { ids, JobNames } from '../../src/queue/names.js';
import { bullPrefix, closeQueues, createQueues, type Queues } from '../../src/queue/runtime.js';
import { openWatchConnection, ScanJobFailedError, ScanWatch } from '../../src/queue/watch.js';
import {
  DELIVERY_WAIT_CAP_MS,
  deliveryLine,
  deliveryTimeoutMs,
  watchDeliveries,
} from '../../src/queue/watch-deliveries.js';
import { testApp, writeTestFiles } from '../support/app.js';
import { testWorker, useRedis } from '../support/redis.js';

const r = useRedis('scan-watch');
let app: App;
let queues: Queues;

function watchFor(scanId: string, progress: string[], lastError?: (id: string) => unknown) {
  const redis = openWatchConnection(app.config.redis, new RedisErrorLog(createLogger({ level: 'silent' })));
  const watch = new ScanWatch({
    queues,
    redis,
    keys: app.scans.keys,
    scanId,
    units: [],
    where: r.url,
    progress: (m) => progress.push(m),
    pollMs: 50,
    ...(lastError ? { lastError } : {}),
  });
  return { watch, close: () => redis.disconnect() };
}

describe('ScanWatch', () => {
  beforeAll(async () => {
    process.env.CW_SW_SLACK = 'http://127.0.0.1:9/services/T/B/x';
    app = await testApp(
      writeTestFiles(
        {
          redis: { prefix: r.prefix },
          alerts: { sinks: [{ name: 'slow', type: 'slack', webhookUrl: ['$', '{env:CW_SW_SLACK}'].join('') }] },
        },
        { agents: [] },
      ),
    );
    queues = createQueues(app);
  });
  afterAll(async () => {
    if (queues) await closeQueues(queues);
    await app?.close();
  });

  it('shows a retrying job’s last failure, then stops at once when it has failed for good (exit 2)', async () => {
    const scanId = 'watch-retry';
    const errors = new Map<string, unknown>();
    // A processor that fails like an unwrapped CwError: BullMQ keeps "boom", not the code.
    const worker = testWorker(
      'scan',
      async () => {
        throw new CwError(ErrorCodes.AWS, 'boom', { retryable: true });
      },
      r.prefix,
      { prefix: bullPrefix(app, 'scan') },
    );
    worker.on('failed', (job, err) => {
      if (job?.id) errors.set(job.id, err);
    });
    const progress: string[] = [];
    const { watch, close } = watchFor(scanId, progress, (id) => errors.get(id));
    try {
      await queues.scan.add(
        JobNames.startScan,
        { trigger: 'cli', scanId },
        { jobId: ids.startScan(scanId), attempts: 3, backoff: { type: 'fixed', delay: 400 } },
      );
      const err = await watch.untilFinished(20_000).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ScanJobFailedError);
      expect((err as CwError).message).toBe(`start-scan of scan ${scanId} failed after 3 attempts: CW_ERR_AWS: boom`);
      expect((err as CwError).code).toBe(ErrorCodes.QUEUE);
      expect((err as CwError).exitCode).toBe(2);
      expect(progress).toContain(
        `scan ${scanId}: waiting for start-scan (attempt 1 of 3 failed: CW_ERR_AWS: boom; retrying)`,
      );
    } finally {
      await worker.close();
      close();
    }
  });

  it('ends at its deadline with CW_ERR_TIMEOUT naming the step it waited for', async () => {
    const scanId = 'watch-timeout';
    const { watch, close } = watchFor(scanId, []);
    try {
      // Nothing runs the scan queue (the worker of the case above is closed).
      await queues.scan.add(JobNames.startScan, { trigger: 'cli', scanId }, { jobId: ids.startScan(scanId) });
      await expect(watch.untilFinished(600)).rejects.toMatchObject({
        code: ErrorCodes.TIMEOUT,
        message: `scan ${scanId} did not finish within 1 s: still waiting for start-scan`,
      });
    } finally {
      close();
    }
  });

  it('reports a delivery still pending at its deadline', async () => {
    const scanId = 'watch-pending';
    const n = { id: 'msg_watch_pending', sink: 'slow', mode: 'digest' };
    await r.redis.set(`${r.keyPrefix}:alerts:plan:${scanId}`, JSON.stringify({ notifications: [n] }));
    // Queued, but no worker runs alert-slow.
    await queues.alerts.get('slow')!.add(JobNames.deliver, { notificationId: n.id }, { jobId: ids.deliver(n.id) });
    const report = await watchDeliveries({
      alerts: app.alerts,
      queues,
      config: app.config.alerts,
      scanId,
      pollMs: 50,
      timeoutMs: 300,
    });
    expect(report).toMatchObject({
      sent: 0,
      failed: 0,
      pending: 1,
      bySink: { slow: { sent: 0, failed: 0, pending: 1 } },
    });
    expect(report.pendingIds).toEqual([n.id]);
    expect(deliveryLine(report)).toBe('alerts: 0 sent, 0 failed, 1 pending (slow 1) after 0 s');
  });
});

describe(deliveryTimeoutMs.name, () => {
  const sink = (name: string, max: number, perSeconds: number) => ({
    name,
    timeoutMs: 10_000,
    rateLimit: { max, perSeconds },
  });

  it('covers every retry, every attempt timing out, and the rate limit of the slowest sink, plus 5 s', () => {
    const cfg = { delivery: { attempts: 3, backoffMs: 1000 }, sinks: [sink('a', 1, 1), sink('b', 60, 60)] };
    // a: backoff 1 s + 2 s, 3 × 10 s timeouts, 3 notifications × 3 attempts at 1/s: 8 more windows.
    // b: the same backoff and timeouts, but its 3 sends fit its first window.
    expect(deliveryTimeoutMs(cfg, [{ sink: 'a' }, { sink: 'a' }, { sink: 'a' }, { sink: 'b' }])).toBe(
      3000 + 30_000 + 8000 + 5000,
    );
    expect(deliveryTimeoutMs(cfg, [{ sink: 'b' }])).toBe(3000 + 30_000 + 5000);
    expect(deliveryTimeoutMs(cfg, [])).toBe(5000);
  });

  it('is capped at 5 minutes', () => {
    const cfg = { delivery: { attempts: 6, backoffMs: 2000 }, sinks: [sink('a', 1, 3600)] };
    expect(deliveryTimeoutMs(cfg, [{ sink: 'a' }])).toBe(DELIVERY_WAIT_CAP_MS);
  });
});
