/**
 * How `scan --once` waits for its own alert deliveries: the notifications this scan's evaluation
 * planned, each job watched by its deterministic id until it is delivered, failed for good, or the
 * deadline (deliveryTimeoutMs) passes; then a report of what was sent, failed and still pending.
 */
import type { AlertService } from '../alerts/service.js';
import { sleep } from '../util/concurrency.js';
import { ids } from './names.js';
import type { Queues } from './runtime.js';
import { codedReason, viewJob } from './watch.js';

export interface SinkTally {
  sent: number;
  failed: number;
  pending: number;
}

export interface DeliveryReport extends SinkTally {
  bySink: Record<string, SinkTally>;
  failures: { sink: string; notificationId: string; reason: string }[];
  /** Notification ids still pending at the deadline. */
  pendingIds: string[];
  /** What the wait allowed, in ms. */
  timeoutMs: number;
}

export interface DeliveryTimeoutConfig {
  delivery: { attempts: number; backoffMs: number };
  sinks: readonly { name: string; timeoutMs: number; rateLimit: { max: number; perSeconds: number } }[];
}

export const DELIVERY_WAIT_CAP_MS = 300_000;

/**
 * How long `scan --once` waits for a scan's deliveries: for the slowest sink, every retry's
 * exponential backoff (backoffMs × (2^(attempts−1) − 1)), every attempt timing out (timeoutMs),
 * and every attempt of every notification through the sink's rate limit (one window per `max`
 * sends after the first); plus 5 s, at most 5 minutes.
 */
export function deliveryTimeoutMs(cfg: DeliveryTimeoutConfig, notifications: readonly { sink: string }[]): number {
  const { attempts, backoffMs } = cfg.delivery;
  let worst = 0;
  for (const s of cfg.sinks) {
    const n = notifications.filter((x) => x.sink === s.name).length;
    if (n === 0) continue;
    const backoff = backoffMs * (2 ** (attempts - 1) - 1);
    const sends = attempts * s.timeoutMs;
    // The limiter passes `max` sends per window: every further window is a wait.
    const rate = (Math.ceil((n * attempts) / s.rateLimit.max) - 1) * s.rateLimit.perSeconds * 1000;
    worst = Math.max(worst, backoff + sends + rate);
  }
  return Math.min(worst + 5000, DELIVERY_WAIT_CAP_MS);
}

/**
 * Wait for the deliveries a scan's evaluation planned (AlertService.planScan, one job
 * `ids.deliver(notificationId)` on `alert-<sink>` each) until each is sent or failed for good, or
 * the deadline passes; what is left then is reported as pending, never dropped silently.
 */
export async function watchDeliveries(o: {
  alerts: AlertService;
  queues: Queues;
  config: DeliveryTimeoutConfig;
  scanId: string;
  progress?: (m: string) => void;
  lastError?: (jobId: string) => unknown;
  pollMs?: number;
  /** Overrides the computed wait (tests). */
  timeoutMs?: number;
}): Promise<DeliveryReport> {
  const planned = (await o.alerts.plannedNotifications(o.scanId)) ?? [];
  const timeoutMs = o.timeoutMs ?? deliveryTimeoutMs(o.config, planned);
  const outcome = new Map<string, { ok: true } | { ok: false; reason: string }>();
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    for (const n of planned.filter((p) => !outcome.has(p.id))) {
      const queue = o.queues.alerts.get(n.sink);
      if (!queue) {
        outcome.set(n.id, { ok: false, reason: `sink "${n.sink}" is not configured in this process` });
        continue;
      }
      try {
        const v = await viewJob(queue, ids.deliver(n.id));
        if (v.phase === 'completed') outcome.set(n.id, { ok: true });
        else if (v.phase === 'failed')
          outcome.set(n.id, {
            ok: false,
            reason: codedReason(v.failedReason ?? 'no reason recorded', o.lastError?.(v.id)),
          });
        else if (v.phase === 'missing')
          outcome.set(
            n.id,
            (await o.alerts.isDelivered(n.id))
              ? { ok: true }
              : { ok: false, reason: `delivery job ${ids.deliver(n.id)} not found (removed?)` },
          );
      } catch {
        // Redis blipped: this notification stays pending; the next round asks again.
      }
    }
    const left = planned.length - outcome.size;
    if (left === 0 || Date.now() >= deadline) break;
    o.progress?.(`scan ${o.scanId}: waiting for ${left} of ${planned.length} alert deliveries`);
    await sleep(o.pollMs ?? 250);
  }
  const report: DeliveryReport = {
    sent: 0,
    failed: 0,
    pending: 0,
    bySink: {},
    failures: [],
    pendingIds: [],
    timeoutMs,
  };
  for (const n of planned) {
    const tally = report.bySink[n.sink] ?? { sent: 0, failed: 0, pending: 0 };
    report.bySink[n.sink] = tally;
    const r = outcome.get(n.id);
    if (!r) {
      tally.pending++;
      report.pending++;
      report.pendingIds.push(n.id);
    } else if (r.ok) {
      tally.sent++;
      report.sent++;
    } else {
      tally.failed++;
      report.failed++;
      report.failures.push({ sink: n.sink, notificationId: n.id, reason: r.reason });
    }
  }
  return report;
}

/** `alerts: 3 sent (pd 1, slack 2), 1 failed (hook: HTTP 400 …), 0 pending` */
export function deliveryLine(r: DeliveryReport): string {
  if (r.sent + r.failed + r.pending === 0) return 'alerts: none planned';
  const per = (k: keyof SinkTally) =>
    Object.entries(r.bySink)
      .filter(([, t]) => t[k] > 0)
      .map(([s, t]) => `${s} ${t[k]}`)
      .join(', ');
  const short = (s: string) => (s.length > 120 ? `${s.slice(0, 119)}…` : s);
  const parts = [`${r.sent} sent${r.sent ? ` (${per('sent')})` : ''}`];
  parts.push(
    `${r.failed} failed${r.failed ? ` (${r.failures.map((f) => `${f.sink}: ${short(f.reason)}`).join('; ')})` : ''}`,
  );
  parts.push(
    `${r.pending} pending${r.pending ? ` (${per('pending')}) after ${Math.round(r.timeoutMs / 1000)} s` : ''}`,
  );
  return `alerts: ${parts.join(', ')}`;
}
