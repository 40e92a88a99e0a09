/**
 * Queues and workers for one process. Every queue has exactly one processor, checked at startup
 * (a job name with no processor stops startup). Shutdown closes the workers with a deadline:
 * BullMQ's close() waits for active jobs without a timeout, so the deadline is enforced here.
 */
import { type Processor, Queue, Worker } from 'bullmq';
import { deliverProcessor } from '../../jobs/deliver.processor.js';
import { discoverProcessor } from '../../jobs/discover.processor.js';
import { evaluateProcessor } from '../../jobs/evaluate.processor.js';
import { finalizeProcessor } from '../../jobs/finalize.processor.js';
import { startScanProcessor } from '../../jobs/start-scan.processor.js';
import { CwError, ErrorCodes } from '../errors.js';
import type { App } from '../main.js';
import {
  alertQueueName,
  type DeliverPayload,
  type DiscoverPayload,
  type EvaluatePayload,
  type FinalizePayload,
  ids,
  JobNames,
  QueueNames,
  type StartScanPayload,
} from './names.js';

export interface Queues {
  scan: Queue<StartScanPayload>;
  discover: Queue<DiscoverPayload>;
  inventory: Queue<FinalizePayload>;
  evaluate: Queue<EvaluatePayload>;
  /** Sink name → its delivery queue. */
  alerts: Map<string, Queue<DeliverPayload>>;
}

export function bullPrefix(app: App): string {
  return `${app.config.redis.prefix}:bull`;
}

export function createQueues(app: App): Queues {
  // Producers fail a command fast rather than queueing it forever.
  const connection = { url: app.config.redis.url, maxRetriesPerRequest: 1 };
  const opts = { connection, prefix: bullPrefix(app) };
  const q: Queues = {
    scan: new Queue<StartScanPayload>(QueueNames.scan, opts),
    discover: new Queue<DiscoverPayload>(QueueNames.discover, opts),
    inventory: new Queue<FinalizePayload>(QueueNames.inventory, opts),
    evaluate: new Queue<EvaluatePayload>(QueueNames.evaluate, opts),
    alerts: new Map(
      app.config.alerts.sinks.map((s) => [s.name, new Queue<DeliverPayload>(alertQueueName(s.name), opts)]),
    ),
  };
  app.orchestrator.setCompletionHook(async (scanId) => {
    const job = await q.inventory.getJob(ids.finalize(scanId));
    if (!job) return;
    try {
      await job.promote();
    } catch {
      // Already promoted, running or done: the finalize job is idempotent either way.
    }
  });
  return q;
}

export interface Workers {
  workers: Worker[];
  close(deadlineMs: number): Promise<{ graceful: boolean }>;
}

export function startWorkers(app: App, queues: Queues): Workers {
  const connection = { url: app.config.redis.url, maxRetriesPerRequest: null };
  const base = {
    connection,
    prefix: bullPrefix(app),
    removeOnComplete: { age: 7 * 86_400, count: 5000 },
    removeOnFail: { age: 30 * 86_400 },
  };
  const processors: Record<string, { queue: string; fn: Processor; concurrency: number }> = {
    [JobNames.startScan]: {
      queue: QueueNames.scan,
      fn: startScanProcessor({
        orchestrator: app.orchestrator,
        discoverQueue: queues.discover,
        inventoryQueue: queues.inventory,
        scanTimeoutMs: app.config.scan.timeoutSeconds * 1000,
      }) as Processor,
      concurrency: 1,
    },
    [JobNames.discover]: {
      queue: QueueNames.discover,
      fn: discoverProcessor(app.orchestrator) as Processor,
      concurrency: app.config.worker.discoverConcurrency,
    },
    [JobNames.finalize]: {
      queue: QueueNames.inventory,
      fn: finalizeProcessor(app.orchestrator, queues.evaluate) as Processor,
      concurrency: 1,
    },
    [JobNames.evaluate]: {
      queue: QueueNames.evaluate,
      fn: evaluateProcessor({
        findings: app.findings,
        alerts: app.alerts,
        alertQueues: queues.alerts,
        delivery: app.config.alerts.delivery,
      }) as Processor,
      concurrency: 1,
    },
  };
  // deliver runs on one queue per sink (below); every other job name needs its processor here.
  for (const name of Object.values(JobNames)) {
    if (name !== JobNames.deliver && !processors[name])
      throw new CwError(ErrorCodes.QUEUE, `job "${name}" has no processor`);
  }
  const workers = Object.entries(processors).map(([name, p]) => {
    const w = new Worker(
      p.queue,
      async (job, token, signal) => {
        if (job.name !== name)
          throw new CwError(ErrorCodes.QUEUE, `queue ${p.queue} has no processor for job "${job.name}"`);
        return p.fn(job, token, signal);
      },
      { ...base, concurrency: p.concurrency },
    );
    w.on('failed', (job, err) => app.log.error({ queue: p.queue, jobId: job?.id, err: err.message }, 'job failed'));
    w.on('error', (err) => app.log.error({ queue: p.queue, err: err.message }, 'worker error'));
    return w;
  });
  const deliver = deliverProcessor(app.alerts) as Processor;
  for (const s of app.config.alerts.sinks) {
    const queue = alertQueueName(s.name);
    // The per-sink rate limit: BullMQ limiters hold across every worker on the queue.
    const w = new Worker(queue, deliver, {
      ...base,
      concurrency: 2,
      limiter: { max: s.rateLimit.max, duration: s.rateLimit.perSeconds * 1000 },
    });
    w.on('failed', (job, err) => app.log.warn({ queue, jobId: job?.id, err: err.message }, 'alert delivery failed'));
    w.on('error', (err) => app.log.error({ queue, err: err.message }, 'worker error'));
    workers.push(w);
  }
  return {
    workers,
    async close(deadlineMs) {
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<'timeout'>((r) => {
        timer = setTimeout(() => r('timeout'), deadlineMs);
      });
      const closed = Promise.all(workers.map((w) => w.close())).then(() => 'closed' as const);
      const outcome = await Promise.race([closed, deadline]);
      clearTimeout(timer);
      if (outcome === 'timeout') {
        // BullMQ's close(true) returns the graceful close already in progress, which waits for the
        // stuck job; so abort the jobs (processors pass the signal on to every SDK call), give them
        // a moment to unwind, then drop the connections. Abandoned jobs are retried as stalled.
        for (const w of workers) w.cancelAllJobs('shutdown deadline passed');
        const unwound = await Promise.race([
          closed.then(() => true),
          new Promise<boolean>((r) => setTimeout(() => r(false), 1000).unref()),
        ]);
        if (!unwound) await Promise.all(workers.map((w) => w.disconnect().catch(() => undefined)));
        return { graceful: false };
      }
      return { graceful: true };
    },
  };
}

export async function closeQueues(q: Queues): Promise<void> {
  await Promise.all([
    q.scan.close(),
    q.discover.close(),
    q.inventory.close(),
    q.evaluate.close(),
    ...[...q.alerts.values()].map((a) => a.close()),
  ]);
}
