/**
 * The one place schedules are upserted. BullMQ job schedulers are keyed by id and updated in
 * place, so upserting on every deploy is safe; workers call this under a short Redis lock so a
 * fleet booting at once does not race (bullmq#3272). Schedules are never removed and re-added
 * (bullmq#3063).
 */
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
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
  const lock = `${prefix}:schedule-lock`;
  const got = (await redis.set(lock, String(process.pid), 'PX', 30_000, 'NX')) === 'OK';
  if (got) {
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
  }
  const s = await scanQueue.getJobScheduler(SCHEDULER_ID);
  return { upserted: got, pattern: s?.pattern ?? pattern, next: s?.next ?? null };
}
