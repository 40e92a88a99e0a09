/**
 * The one place schedules are upserted. BullMQ job schedulers are keyed by id and updated in
 * place, so upserting on every deploy is safe; workers call this under a short Redis lock so a
 * fleet booting at once does not race (bullmq#3272). Schedules are never removed and re-added
 * (bullmq#3063).
 *
 * Redis keys (prefix P):
 *   P:schedule-lock   string  the lease of the worker upserting the schedule (left to lapse)
 *   P:bull:*                  BullMQ's own keys (queues, job schedulers)
 */
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { CwError } from '../errors.js';
import { Lease } from '../util/lease.js';
import { JobNames, SCHEDULER_ID, type StartScanPayload } from './names.js';

export interface ScheduleState {
  upserted: boolean;
  pattern: string;
  next: number | null;
}

export async function upsertDiscoverSchedule(
  scanQueue: Queue,
  redis: Redis,
  prefix: string,
  pattern: string,
): Promise<ScheduleState> {
  // Held for the upsert only; a worker that dies holding it frees it when the lease lapses.
  const lease = await Lease.acquire(redis, `${prefix}:schedule-lock`, { ttlMs: 30_000, what: 'the schedule' }).catch(
    (err: unknown) => {
      if (err instanceof CwError && err.retryable) return null; // another worker is upserting it now
      throw err;
    },
  );
  const got = lease !== null;
  if (lease) {
    const data: StartScanPayload = { trigger: 'schedule' };
    await scanQueue.upsertJobScheduler(
      SCHEDULER_ID,
      { pattern, tz: 'UTC' },
      {
        name: JobNames.startScan,
        data,
        opts: {
          attempts: 3,
          backoff: { type: 'exponential', delay: 5000 },
          removeOnComplete: { age: 7 * 86_400, count: 1000 },
          removeOnFail: { age: 30 * 86_400 },
        },
      },
    );
    // Not released: the lease keeps a fleet booting at once from upserting over and over.
    lease.stopRenewing();
  }
  const s = await scanQueue.getJobScheduler(SCHEDULER_ID);
  return { upserted: got, pattern: s?.pattern ?? pattern, next: s?.next ?? null };
}
