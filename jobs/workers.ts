/**
 * The workers of one process: each queue gets exactly one processor, checked at startup (a job
 * name with no processor stops startup). Shutdown closes the workers with a deadline: BullMQ's
 * close() waits for active jobs without a timeout, so the deadline is enforced here.
 */
import { type Processor, Worker } from 'bullmq';
import { CwError, ErrorCodes } from '../src/errors.js';
import { runExport } from '../src/export/run.js';
import type { App } from '../src/main.js';
import { createRedis } from '../src/queue/connection.js';
import { alertQueueName, JobNames, QueueNames } from '../src/queue/names.js';
import { bullPrefix, type Queues, redisErrorLog } from '../src/queue/runtime.js';
import { untilSettled } from '../src/queue/settle.js';
import { checkpointProcessor } from './checkpoint.processor.js';
import { decideProcessor } from './decide.processor.js';
import { deliverProcessor } from './deliver.processor.js';
import { discoverProcessor } from './discover.processor.js';
import { drillProcessor } from './drill.processor.js';
import { evaluateProcessor } from './evaluate.processor.js';
import { exportProcessor } from './export.processor.js';
import { finalizeProcessor } from './finalize.processor.js';
import { remediateProcessor } from './remediate.processor.js';
import { startScanProcessor } from './start-scan.processor.js';

export interface Workers {
  workers: Worker[];
  close(deadlineMs: number): Promise<{ graceful: boolean }>;
}

export function startWorkers(app: App, queues: Queues): Workers {
  // On a cluster BullMQ needs a client (it builds a Redis from options, never a Cluster): every
  // Worker uses this one for its commands (BullMQ leaves a client it was given open: closed below)
  // and a duplicate of it for its blocking fetch.
  const shared = app.config.redis.cluster ? createRedis(app.config.redis, 'worker') : null;
  const connection = shared ?? { url: app.config.redis.url, maxRetriesPerRequest: null };
  const w = app.config.worker;
  const base = {
    connection,
    // A killed worker's job goes back to wait after its lease lapses and the next stalled check.
    lockDuration: w.leaseSeconds * 1000,
    stalledInterval: w.stalledCheckSeconds * 1000,
    maxStalledCount: w.maxStalledCount,
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
        remediation: app.remediation,
        rotations: app.executor.rotations,
        alertQueues: queues.alerts,
        delivery: app.config.alerts.delivery,
      }) as Processor,
      concurrency: 1,
    },
    [JobNames.remediate]: {
      queue: QueueNames.remediate,
      fn: remediateProcessor(app.executor, app.remediation.notifier) as Processor,
      concurrency: app.config.remediation.concurrency,
    },
    [JobNames.decide]: {
      queue: QueueNames.decisions,
      fn: decideProcessor({
        people: app.people,
        responseHosts: () => app.config.api.slack?.responseHosts ?? [],
        approvers: () => app.config.remediation.approvals.approvers,
        log: app.log.child({ component: 'slack' }),
      }) as Processor,
      // One decision at a time per worker: clicks are few, and two on one action need no race.
      concurrency: 1,
    },
    [JobNames.checkpoint]: {
      queue: QueueNames.audit,
      fn: checkpointProcessor(app.checkpoints) as Processor,
      concurrency: 1,
    },
    [JobNames.export]: {
      queue: QueueNames.export,
      fn: exportProcessor((name, tick) => runExport(app, name, tick)) as Processor,
      concurrency: 1,
    },
    [JobNames.drill]: {
      queue: QueueNames.drill,
      fn: drillProcessor(app, queues) as Processor,
      concurrency: 1,
    },
  };
  // Worker 'error' events (their connections, the blocking one included) log through one rate-limited reporter.
  const errors = redisErrorLog(app);
  if (shared) errors.watch(shared, 'workers');
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
      { ...base, prefix: bullPrefix(app, p.queue), concurrency: p.concurrency },
    );
    w.on('failed', (job, err) => app.log.error({ queue: p.queue, jobId: job?.id, err: err.message }, 'job failed'));
    errors.watch(w, `worker ${p.queue}`);
    return w;
  });
  const deliver = deliverProcessor(app.alerts) as Processor;
  for (const s of app.config.alerts.sinks) {
    const queue = alertQueueName(s.name);
    // The per-sink rate limit: BullMQ limiters hold across every worker on the queue.
    const w = new Worker(queue, deliver, {
      ...base,
      prefix: bullPrefix(app, queue),
      concurrency: 2,
      limiter: { max: s.rateLimit.max, duration: s.rateLimit.perSeconds * 1000 },
    });
    w.on('failed', (job, err) => app.log.warn({ queue, jobId: job?.id, err: err.message }, 'alert delivery failed'));
    errors.watch(w, `worker ${queue}`);
    workers.push(w);
  }
  return {
    workers,
    async close(deadlineMs) {
      try {
        return await closeWorkers(workers, deadlineMs);
      } finally {
        shared?.disconnect();
      }
    },
  };
}

/** Closes `workers` within `deadlineMs`; past it, aborts their jobs and drops their connections. */
async function closeWorkers(workers: Worker[], deadlineMs: number): Promise<{ graceful: boolean }> {
  // A connection still reconnecting after a Redis restart would make BullMQ's close hang (settle.ts).
  await untilSettled(workers, Math.min(deadlineMs, 10_000));
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
}
