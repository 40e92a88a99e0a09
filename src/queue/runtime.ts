/**
 * The queues of one process (producers) and their Redis error logging. The workers that consume
 * them are wired in jobs/workers.ts, beside the processors they run.
 */
import { Queue } from 'bullmq';
import type { App } from '../main.js';
import { createRedis, nodeOptions, type RedisClient, RedisErrorLog } from './connection.js';
import { queueDeliveries } from './deliveries.js';
import {
  alertQueueName,
  type CheckpointJobPayload,
  type DecidePayload,
  type DeliverPayload,
  type DiscoverPayload,
  type DrillJobPayload,
  type EvaluatePayload,
  type ExportJobPayload,
  type FinalizePayload,
  ids,
  JobNames,
  QueueNames,
  type RemediatePayload,
  type StartScanPayload,
} from './names.js';
import { queuePrefix } from './prefix.js';

export interface Queues {
  scan: Queue<StartScanPayload>;
  discover: Queue<DiscoverPayload>;
  inventory: Queue<FinalizePayload>;
  evaluate: Queue<EvaluatePayload>;
  remediate: Queue<RemediatePayload>;
  /** Slack clicks on Approve and Deny (the API queues them, a worker decides: api/slack.ts). */
  decisions: Queue<DecidePayload>;
  /** Audit checkpoints (the checkpoint job scheduler's queue: audit/checkpoints.ts). */
  audit: Queue<CheckpointJobPayload>;
  /** Scheduled findings exports (`evidence.exports`: export/run.ts). */
  export: Queue<ExportJobPayload>;
  /** Scheduled drills (`schedules.drills`: drill/runner.ts). */
  drill: Queue<DrillJobPayload>;
  /** Sink name → its delivery queue. */
  alerts: Map<string, Queue<DeliverPayload>>;
}

/** BullMQ's `prefix` for `queue`: every Queue and Worker of that queue takes this one (queue/prefix.ts). */
export function bullPrefix(app: App, queue: string): string {
  return queuePrefix(app.config.redis, queue);
}

/** The connection createQueues made for a cluster's queues (BullMQ leaves a shared client open). */
const queueConnections = new WeakMap<Queues, RedisClient>();

const errorLogs = new WeakMap<App, RedisErrorLog>();

/**
 * The one reporter of Redis errors for an app (README "Redis outages"): every connection the
 * runtime creates, and the app's own, log through it, rate limited, as pino JSON.
 */
export function redisErrorLog(app: App): RedisErrorLog {
  let log = errorLogs.get(app);
  if (!log) {
    log = new RedisErrorLog(app.log);
    errorLogs.set(app, log);
    // The app's own connection: connectRedis gave it a silent listener; this one logs.
    log.watch(app.redis, 'app');
    log.watchRecovery(app.redis, 'app');
  }
  return log;
}

/**
 * The queues, on connections that follow the app's Redis profile: in a command (producer) a
 * Redis command fails fast rather than queueing forever; in the worker (the app's connection has
 * maxRetriesPerRequest null) it waits out a blip, as the workers do, because the processors add
 * jobs through these queues: failing fast there fails a job just because its queue's connection
 * reconnects a moment after the worker's. Either way a lost connection is retried every 200 ms
 * growing to 2 s (BullMQ's default grows to 20 s, so a queue could lag a recovered Redis by that).
 */
export function createQueues(app: App): Queues {
  const ridesOutBlips = nodeOptions(app.redis).maxRetriesPerRequest === null;
  const profile = {
    maxRetriesPerRequest: ridesOutBlips ? null : 1,
    retryStrategy: (times: number) => Math.min(200 * times, 2000),
  };
  // BullMQ builds a Redis from options, never a Cluster: on a cluster every queue shares one
  // client (BullMQ's scripts for one queue run on the master of that queue's slot).
  const shared = app.config.redis.cluster
    ? createRedis(app.config.redis, 'worker', { ...profile, lazyConnect: false })
    : null;
  const connection = shared ?? { url: app.config.redis.url, ...profile };
  const errors = redisErrorLog(app);
  if (shared) errors.watch(shared, 'queues');
  // Every Queue gets an 'error' listener: without one BullMQ prints each connection error's stack.
  const queue = <T>(name: string): Queue<T> => {
    const q = new Queue<T>(name, { connection, prefix: bullPrefix(app, name) });
    errors.watch(q, `queue ${name}`);
    return q;
  };
  const q: Queues = {
    scan: queue<StartScanPayload>(QueueNames.scan),
    discover: queue<DiscoverPayload>(QueueNames.discover),
    inventory: queue<FinalizePayload>(QueueNames.inventory),
    evaluate: queue<EvaluatePayload>(QueueNames.evaluate),
    remediate: queue<RemediatePayload>(QueueNames.remediate),
    decisions: queue<DecidePayload>(QueueNames.decisions),
    audit: queue<CheckpointJobPayload>(QueueNames.audit),
    export: queue<ExportJobPayload>(QueueNames.export),
    drill: queue<DrillJobPayload>(QueueNames.drill),
    alerts: new Map(app.config.alerts.sinks.map((s) => [s.name, queue<DeliverPayload>(alertQueueName(s.name))])),
  };
  // A replayed plan is the same job (remediate/<plan id>/a<attempt>): queued once, run once; a
  // plan queued again (held, then allowed) is a new attempt and a new job.
  app.remediation.setEnqueue(async (jobs) => {
    await q.remediate.addBulk(
      jobs.map((j) => ({
        name: JobNames.remediate,
        data: { planId: j.planId },
        opts: {
          jobId: ids.remediate(j.planId, j.key),
          attempts: 5,
          backoff: { type: 'exponential', delay: 2000 },
          ...(j.delayMs ? { delay: j.delayMs } : {}),
        },
      })),
    );
  });
  // Remediation's alert transitions go out on the sinks' own delivery queues (deterministic job ids).
  app.alerts.remediationNotices.setEnqueue((notes) => queueDeliveries(q.alerts, notes, app.config.alerts.delivery));
  app.orchestrator.setCompletionHook(async (scanId) => {
    const job = await q.inventory.getJob(ids.finalize(scanId));
    if (!job) return;
    try {
      await job.promote();
    } catch {
      // Already promoted, running or done: the finalize job is idempotent either way.
    }
  });
  if (shared) queueConnections.set(q, shared);
  return q;
}

export async function closeQueues(q: Queues): Promise<void> {
  await Promise.all([
    q.scan.close(),
    q.discover.close(),
    q.inventory.close(),
    q.evaluate.close(),
    q.remediate.close(),
    q.decisions.close(),
    q.audit.close(),
    q.export.close(),
    q.drill.close(),
    ...[...q.alerts.values()].map((a) => a.close()),
  ]);
  queueConnections.get(q)?.disconnect();
}
