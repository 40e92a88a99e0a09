/**
 * Audit append latency, shared by every process: each process buckets its own appends in memory
 * (RedisAuditLog's `onAppend` observer) and adds them to one Redis hash every second and on close,
 * so the hash is a cumulative Prometheus histogram of all processes' appends (workers append most
 * events, the API process few). The API's /metrics reads it (readAppendLatency).
 *
 * Redis keys:
 *   <prefix>:metrics:audit-append  Hash: `b:<le>` → appends that took at most `le` seconds and more
 *                                  than the bucket below (`b:+Inf` the rest), `sum` (seconds) and
 *                                  `count`. Only ever incremented (HINCRBY/HINCRBYFLOAT, one MULTI
 *                                  per flush, so `count` always equals the buckets' total).
 */
import type { RedisClient } from '../queue/connection.js';

/** Upper bounds in seconds: one fsync'd group commit is milliseconds; an append gives up at 10 s. */
export const AUDIT_APPEND_BUCKETS: readonly number[] = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

export const appendLatencyKey = (prefix: string): string => `${prefix}:metrics:audit-append`;

export interface AppendLatencyOptions {
  prefix: string;
  /** How often the buffered counts go to Redis; default 1 s. */
  intervalMs?: number;
  /** How long close() waits for its last flush (Redis may be down); default 2 s. */
  closeTimeoutMs?: number;
  buckets?: readonly number[];
  /** A failed flush keeps its counts for the next one; this hears about it. */
  onError?: (err: unknown) => void;
}

/** The histogram as stored: per-bucket (not yet cumulative) counts, ascending `le`, +Inf last. */
export interface AppendLatencySnapshot {
  buckets: { le: number; count: number }[];
  sum: number;
  count: number;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

export class AppendLatencyRecorder {
  private readonly key: string;
  private readonly bounds: readonly number[];
  /** One slot per bound, then +Inf. */
  private counts: number[];
  private sum = 0;
  private count = 0;
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> | null = null;
  private closed = false;

  constructor(
    private readonly redis: RedisClient,
    private readonly opts: AppendLatencyOptions,
  ) {
    this.key = appendLatencyKey(opts.prefix);
    this.bounds = [...(opts.buckets ?? AUDIT_APPEND_BUCKETS)].sort((a, b) => a - b);
    this.counts = new Array(this.bounds.length + 1).fill(0);
  }

  /** The observer to hand to RedisAuditLog (`onAppend`): memory only, never throws. */
  readonly observe = (seconds: number): void => {
    if (!Number.isFinite(seconds) || seconds < 0) return;
    let i = this.bounds.findIndex((b) => seconds <= b);
    if (i === -1) i = this.bounds.length;
    this.counts[i]!++;
    this.sum += seconds;
    this.count++;
  };

  /** Starts the periodic flush (the timer never keeps the process alive). */
  start(): this {
    if (!this.timer && !this.closed) {
      // A flush still in flight (Redis slow or reconnecting) is not queued behind: the next tick takes it all.
      this.timer = setInterval(() => {
        if (!this.flushing) void this.flush();
      }, this.opts.intervalMs ?? 1000);
      this.timer.unref();
    }
    return this;
  }

  /**
   * Adds what was observed since the last flush to the hash. One flush at a time: while one is in
   * flight (Redis slow or reconnecting) observations keep accumulating in memory, in fixed slots.
   */
  async flush(): Promise<void> {
    while (this.flushing) await this.flushing.catch(() => undefined);
    if (this.count === 0) return;
    const counts = this.counts;
    const sum = this.sum;
    const count = this.count;
    this.counts = new Array(counts.length).fill(0);
    this.sum = 0;
    this.count = 0;
    const m = this.redis.multi();
    counts.forEach((n, i) => {
      if (n > 0) m.hincrby(this.key, `b:${i < this.bounds.length ? String(this.bounds[i]) : '+Inf'}`, n);
    });
    m.hincrbyfloat(this.key, 'sum', sum).hincrby(this.key, 'count', count);
    this.flushing = m.exec().then(
      (res) => {
        const err = res?.find(([e]) => e)?.[0];
        if (err) throw err;
      },
      (err: unknown) => {
        // Not written: keep the counts for the next flush.
        counts.forEach((n, i) => {
          this.counts[i]! += n;
        });
        this.sum += sum;
        this.count += count;
        throw err;
      },
    );
    try {
      await this.flushing;
    } catch (err) {
      this.opts.onError?.(err);
    } finally {
      this.flushing = null;
    }
  }

  /** Stops the timer and flushes what is left, waiting at most closeTimeoutMs. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await Promise.race([this.flush(), sleep(this.opts.closeTimeoutMs ?? 2000)]);
  }
}

/** Reads the shared histogram; fields it does not recognise are ignored. */
export async function readAppendLatency(redis: RedisClient, prefix: string): Promise<AppendLatencySnapshot> {
  const h = await redis.hgetall(appendLatencyKey(prefix));
  const buckets: { le: number; count: number }[] = [];
  for (const [field, value] of Object.entries(h)) {
    if (!field.startsWith('b:')) continue;
    const le = field === 'b:+Inf' ? Number.POSITIVE_INFINITY : Number(field.slice(2));
    if (!Number.isNaN(le)) buckets.push({ le, count: Number(value) || 0 });
  }
  buckets.sort((a, b) => a.le - b.le);
  return { buckets, sum: Number(h.sum ?? 0) || 0, count: Number(h.count ?? 0) || 0 };
}

/** `p` itself, telling `observe` how long it took to resolve (never on rejection); an observer that throws is ignored. */
export function timeResolution<T>(p: Promise<T>, observe: ((seconds: number) => void) | undefined): Promise<T> {
  if (!observe) return p;
  const t0 = performance.now();
  return p.then((v) => {
    try {
      observe((performance.now() - t0) / 1000);
    } catch {
      // An observer never fails the call it observes.
    }
    return v;
  });
}
