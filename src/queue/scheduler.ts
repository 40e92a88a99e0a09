/**
 * The one place schedules are upserted. BullMQ job schedulers are keyed by id and updated in
 * place, so upserting on every deploy is safe; workers call this under a short Redis lock so a
 * fleet booting at once does not race (bullmq#3272). Schedules are never removed and re-added
 * (bullmq#3063). Every schedule of a worker (discovery, audit checkpoints, findings exports, drills) is
 * upserted under the one lock, taken once.
 *
 * Redis keys (prefix P):
 *   P:schedule-lock   string  the lease of the worker upserting the schedule (left to lapse)
 *   P:bull:*                  BullMQ's own keys (queues, job schedulers)
 */
import type { Queue } from 'bullmq';
import type { DrillScenario } from '../drill/config.js';
import { CwError } from '../errors.js';
import { Lease } from '../util/lease.js';
import type { RedisClient } from './connection.js';
import {
  CHECKPOINT_SCHEDULER_ID,
  type CheckpointJobPayload,
  type DrillJobPayload,
  drillSchedulerId,
  type ExportJobPayload,
  exportSchedulerId,
  JobNames,
  SCHEDULER_ID,
  type StartScanPayload,
} from './names.js';

export interface ScheduleState {
  upserted: boolean;
  pattern: string;
  next: number | null;
}

/** One job scheduler: its queue, id, cron pattern (UTC) and the job it adds. */
export interface ScheduleSpec {
  queue: Queue;
  id: string;
  pattern: string;
  name: string;
  data: unknown;
  attempts: number;
}

export function discoverSchedule(scanQueue: Queue, pattern: string): ScheduleSpec {
  const data: StartScanPayload = { trigger: 'schedule' };
  return { queue: scanQueue, id: SCHEDULER_ID, pattern, name: JobNames.startScan, data, attempts: 3 };
}

/** `evidence.checkpoints.schedule`: one checkpoint job per tick (jobs/checkpoint.processor.ts). */
export function checkpointSchedule(auditQueue: Queue, pattern: string): ScheduleSpec {
  const data: CheckpointJobPayload = { trigger: 'schedule' };
  return { queue: auditQueue, id: CHECKPOINT_SCHEDULER_ID, pattern, name: JobNames.checkpoint, data, attempts: 5 };
}

/** One `evidence.exports` entry: one export job per tick (jobs/export.processor.ts, export/run.ts). */
export function exportSchedule(exportQueue: Queue, e: { name: string; schedule: string }): ScheduleSpec {
  const data: ExportJobPayload = { name: e.name };
  return {
    queue: exportQueue,
    id: exportSchedulerId(e.name),
    pattern: e.schedule,
    name: JobNames.export,
    data,
    attempts: 5,
  };
}

/** One `schedules.drills` entry: one drill job per tick (jobs/drill.processor.ts). A drill is never retried. */
export function drillSchedule(drillQueue: Queue, d: { scenario: DrillScenario; cron: string }): ScheduleSpec {
  const data: DrillJobPayload = { scenario: d.scenario };
  return {
    queue: drillQueue,
    id: drillSchedulerId(d.scenario),
    pattern: d.cron,
    name: JobNames.drill,
    data,
    attempts: 1,
  };
}

/** Removes the job schedulers of drills no longer scheduled. */
export async function pruneDrillSchedules(drillQueue: Queue, scenarios: readonly string[]): Promise<string[]> {
  const keep = new Set(scenarios.map(drillSchedulerId));
  const stale = (await drillQueue.getJobSchedulers())
    .map((s) => s.key)
    .filter((id) => id.startsWith(drillSchedulerId('')) && !keep.has(id));
  for (const id of stale) await drillQueue.removeJobScheduler(id);
  return stale;
}

/** Removes the job schedulers of exports no longer configured (an export dropped from the config stops). */
export async function pruneExportSchedules(exportQueue: Queue, names: readonly string[]): Promise<string[]> {
  const keep = new Set(names.map(exportSchedulerId));
  const stale = (await exportQueue.getJobSchedulers())
    .map((s) => s.key)
    .filter((id) => id.startsWith(exportSchedulerId('')) && !keep.has(id));
  for (const id of stale) await exportQueue.removeJobScheduler(id);
  return stale;
}

/** Upserts every spec under the schedule lock; without the lock (another worker has it) upserts nothing. */
export async function upsertSchedules(
  redis: RedisClient,
  prefix: string,
  specs: readonly ScheduleSpec[],
): Promise<ScheduleState[]> {
  // Held for the upsert only; a worker that dies holding it frees it when the lease lapses.
  const lease = await Lease.acquire(redis, `${prefix}:schedule-lock`, { ttlMs: 30_000, what: 'the schedule' }).catch(
    (err: unknown) => {
      if (err instanceof CwError && err.retryable) return null; // another worker is upserting it now
      throw err;
    },
  );
  const got = lease !== null;
  if (lease) {
    for (const s of specs) {
      await s.queue.upsertJobScheduler(
        s.id,
        { pattern: s.pattern, tz: 'UTC' },
        {
          name: s.name,
          data: s.data,
          opts: {
            attempts: s.attempts,
            backoff: { type: 'exponential', delay: 5000 },
            removeOnComplete: { age: 7 * 86_400, count: 1000 },
            removeOnFail: { age: 30 * 86_400 },
          },
        },
      );
    }
    // Not released: the lease keeps a fleet booting at once from upserting over and over.
    lease.stopRenewing();
  }
  const out: ScheduleState[] = [];
  for (const spec of specs) {
    const s = await spec.queue.getJobScheduler(spec.id);
    out.push({ upserted: got, pattern: s?.pattern ?? spec.pattern, next: s?.next ?? null });
  }
  return out;
}

export async function upsertDiscoverSchedule(
  scanQueue: Queue,
  redis: RedisClient,
  prefix: string,
  pattern: string,
): Promise<ScheduleState> {
  const [s] = await upsertSchedules(redis, prefix, [discoverSchedule(scanQueue, pattern)]);
  return s!;
}
