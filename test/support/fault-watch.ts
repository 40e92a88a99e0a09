/**
 * What the fault harness watches from outside (test/support/fault-harness.ts): the BullMQ active
 * lists and the audit head (Watch), audit events counted since a point (EventCounter), jobs that
 * failed for good, and the "job failed" lines a worker logged. Only documented Redis keys:
 * `<prefix>:bull:<queue>:active|failed`, `<prefix>:bull:<queue>:<id>` (failedReason, atm),
 * `<prefix>:audit:head`, `<prefix>:scan:<id>` (tagged on a cluster: testKeyPrefix, testQueueKey).
 */
import type { RedisClient } from '../../src/queue/connection.js';
import { readAuditEvents } from './fault-checks.js';
import type { Child } from './fault-procs.js';
import type { ReplayEvent } from './fault-replay.js';
import { testKeyPrefix, testQueueKey } from './redis.js';

export interface Snapshot {
  at: number;
  seq: number;
  active: Record<string, string[]>;
}

export interface PhaseWindow {
  /** ms after the scan was queued, first and last seen active, and the audit seq then. */
  enterAt: number;
  exitAt: number;
  enterSeq: number;
  exitSeq: number;
}

export async function scanDone(redis: RedisClient, prefix: string, scanId: string): Promise<boolean> {
  const [status, evaluation] = await redis.hmget(`${testKeyPrefix(prefix)}:scan:${scanId}`, 'status', 'evaluation');
  return (status === 'complete' || status === 'partial') && !!evaluation;
}

/** Jobs in any queue's failed set (all attempts spent, or stalled too often), with BullMQ's reason. */
export async function failedJobs(
  redis: RedisClient,
  prefix: string,
  queues: readonly string[],
): Promise<{ queue: string; id: string; reason: string }[]> {
  const out: { queue: string; id: string; reason: string }[] = [];
  for (const q of queues) {
    for (const id of await redis.zrange(`${testQueueKey(prefix, q)}:failed`, 0, -1)) {
      const [reason, attempts] = await redis.hmget(`${testQueueKey(prefix, q)}:${id}`, 'failedReason', 'atm');
      out.push({ queue: q, id, reason: `${reason ?? '?'} (attempts made: ${attempts ?? '?'})` });
    }
  }
  return out;
}

/** "job failed" lines a worker logged (each failed attempt of a job shows up here). */
export function jobFailures(c: Child): string[] {
  return c
    .messages()
    .filter((m) => m.msg === 'job failed')
    .map((m) => `worker ${c.label}: ${String(m.queue)} job ${String(m.jobId)} attempt failed: ${String(m.err)}`);
}

/** Polls the active lists and the audit head; records per queue when it was first and last seen active. */
export class Watch {
  readonly windows: Record<string, PhaseWindow> = {};
  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
    private readonly queues: readonly string[],
    readonly origin: number,
  ) {}

  async poll(): Promise<Snapshot> {
    // Not one pipeline: on a cluster each queue's keys are in their own slot, on their own master.
    const [seq, ...lists] = await Promise.all([
      this.redis.hget(`${testKeyPrefix(this.prefix)}:audit:head`, 'seq'),
      ...this.queues.map((q) => this.redis.lrange(`${testQueueKey(this.prefix, q)}:active`, 0, -1)),
    ]);
    const s: Snapshot = { at: Date.now(), seq: Number(seq ?? 0), active: {} };
    for (const [i, q] of this.queues.entries()) {
      const ids = (lists[i] as string[] | undefined) ?? [];
      s.active[q] = ids;
      if (!ids.length) continue;
      const t = s.at - this.origin;
      const w = this.windows[q];
      if (!w) this.windows[q] = { enterAt: t, exitAt: t, enterSeq: s.seq, exitSeq: s.seq };
      else Object.assign(w, { exitAt: t, exitSeq: s.seq });
    }
    return s;
  }
}

/** Counts audit events after `fromSeq`: by seq, or by reading the stream when a filter is given. */
export class EventCounter {
  private readSeq: number;
  private matched = 0;
  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
    private readonly fromSeq: number,
    private readonly filter?: (e: ReplayEvent) => boolean,
  ) {
    this.readSeq = fromSeq;
  }

  async count(headSeq: number): Promise<number> {
    if (!this.filter) return headSeq - this.fromSeq;
    if (headSeq > this.readSeq) {
      for (const e of await readAuditEvents(this.redis, this.prefix, this.readSeq + 1)) {
        if (this.filter(e)) this.matched++;
        this.readSeq = e.seq;
      }
    }
    return this.matched;
  }
}
