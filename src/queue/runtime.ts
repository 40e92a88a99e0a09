/**
 * Queues and workers for one process. Every queue has exactly one processor, checked at startup
 * (a job name with no processor stops startup). Shutdown closes the workers with a deadline:
 * BullMQ's close() waits for active jobs without a timeout, so the deadline is enforced here.
 */
import { type Processor, Queue, Worker } from 'bullmq';
import { discoverProcessor } from '../../jobs/discover.processor.js';
import { evaluateProcessor } from '../../jobs/evaluate.processor.js';
import { finalizeProcessor } from '../../jobs/finalize.processor.js';
import { startScanProcessor } from '../../jobs/start-scan.processor.js';
import { CwError, ErrorCodes } from '../errors.js';
import type { App } from '../main.js';
import {
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
      fn: evaluateProcessor(app.findings) as Processor,
      concurrency: 1,
    },
  };
  for (const name of Object.values(JobNames)) {
    if (!processors[name]) throw new CwError(ErrorCodes.QUEUE, `job "${name}" has no processor`);
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
  await Promise.all([q.scan.close(), q.discover.close(), q.inventory.close(), q.evaluate.close()]);
}
