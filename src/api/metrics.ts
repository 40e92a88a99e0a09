/**
 * The Prometheus metrics behind GET /metrics (issue 12), on a registry of their own (never
 * prom-client's global one): Node's default metrics, prefixed `credwarden_`, and what Redis holds,
 * read through the owning services at scrape time (metrics-snapshot.ts).
 *
 * One read serves every scrape for cacheMs (10 s), so a 1 s scrape interval reads Redis once every
 * 10 s; concurrent scrapes share the read in flight. A read that fails or takes longer than
 * readTimeoutMs never fails the scrape: the last values stay, `credwarden_metrics_scrape_errors_total`
 * goes up, and the next read is tried once the cache period is over.
 *
 * `credwarden_audit_append_seconds` is the histogram every process adds to in Redis
 * (audit/append-latency.ts), exposed by a collector of its own: cumulative `le` buckets, +Inf,
 * _sum and _count. No Redis keys of its own.
 */
import { Counter, collectDefaultMetrics, Gauge, type Metric, Registry } from 'prom-client';
import { type AppendLatencySnapshot, AUDIT_APPEND_BUCKETS } from '../audit/append-latency.js';
import type { Queues } from '../queue/runtime.js';
import { type MetricsApp, readSnapshot, ScanTally, type Snapshot } from './metrics-snapshot.js';

export type { MetricsApp } from './metrics-snapshot.js';

export interface ApiMetricsOptions {
  /** An App (only config, redis, scans, findings, remediation and log are read). */
  app: MetricsApp;
  queues: Queues;
  /** How long one read of Redis serves scrapes; default (and at most) 10 s. */
  cacheMs?: number;
  /** A read slower than this counts as a failed one; default 5 s. */
  readTimeoutMs?: number;
  /** Milliseconds for the cache (test hook); default Date.now. */
  now?: () => number;
}

export const METRIC_PREFIX = 'credwarden_';
const MAX_CACHE_MS = 10_000;

/**
 * A histogram whose values come from elsewhere (the shared Redis hash): the registry asks it for
 * its values like any metric (`get()`), and it answers with the last snapshot, made cumulative.
 */
class SharedHistogram {
  readonly type = 'histogram' as const;
  readonly aggregator = 'sum' as const;
  private snapshot: AppendLatencySnapshot = { buckets: [], sum: 0, count: 0 };

  constructor(
    readonly name: string,
    readonly help: string,
  ) {}

  set(s: AppendLatencySnapshot): void {
    this.snapshot = s;
  }

  async get() {
    const s = this.snapshot;
    // Every default bound is always exposed (zeros included); a bound only some process used is kept too.
    const bounds = [...new Set([...AUDIT_APPEND_BUCKETS, ...s.buckets.map((b) => b.le)])]
      .filter(Number.isFinite)
      .sort((a, b) => a - b);
    const total = s.buckets.reduce((n, b) => n + b.count, 0);
    const values = bounds.map((le) => ({
      metricName: `${this.name}_bucket`,
      labels: { le: String(le) },
      value: s.buckets.reduce((n, b) => (b.le <= le ? n + b.count : n), 0),
    }));
    values.push({ metricName: `${this.name}_bucket`, labels: { le: '+Inf' }, value: total });
    return {
      name: this.name,
      help: this.help,
      type: this.type,
      aggregator: this.aggregator,
      values: [
        ...values,
        { metricName: `${this.name}_sum`, labels: {}, value: s.sum },
        // The buckets' total: _count always equals +Inf (the flush writes both in one MULTI anyway).
        { metricName: `${this.name}_count`, labels: {}, value: total },
      ],
    };
  }

  reset(): void {}
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`reading the metrics took longer than ${ms} ms`)), ms);
    timer.unref();
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

export class ApiMetrics {
  readonly register = new Registry();
  private readonly app: MetricsApp;
  private readonly queues: Queues;
  private readonly cacheMs: number;
  private readonly readTimeoutMs: number;
  private readonly now: () => number;
  private readonly tally = new ScanTally();
  private readAt = Number.NEGATIVE_INFINITY;
  private reading: Promise<void> | null = null;

  private readonly scrapeErrors: Counter;
  private readonly scans: Gauge<'outcome'>;
  private readonly lastScan: Gauge;
  private readonly credentials: Gauge<'kind' | 'source'>;
  private readonly findingsOpen: Gauge<'severity'>;
  private readonly actions: Gauge<'state' | 'action'>;
  private readonly queueJobs: Gauge<'queue' | 'state'>;
  private readonly paused: Gauge;
  private readonly appendLatency: SharedHistogram;

  constructor(opts: ApiMetricsOptions) {
    this.app = opts.app;
    this.queues = opts.queues;
    this.cacheMs = Math.min(Math.max(opts.cacheMs ?? MAX_CACHE_MS, 0), MAX_CACHE_MS);
    this.readTimeoutMs = opts.readTimeoutMs ?? 5000;
    this.now = opts.now ?? Date.now;
    const registers = [this.register];
    collectDefaultMetrics({ register: this.register, prefix: METRIC_PREFIX });
    const name = (n: string) => `${METRIC_PREFIX}${n}`;
    this.scrapeErrors = new Counter({
      name: name('metrics_scrape_errors_total'),
      help: 'Scrapes whose read of Redis failed or timed out (the last values were served).',
      registers,
    });
    this.scans = new Gauge({
      name: name('scans'),
      help: 'Stored scans by outcome (running, complete, partial).',
      labelNames: ['outcome'],
      registers,
    });
    this.lastScan = new Gauge({
      name: name('last_scan_timestamp_seconds'),
      help: 'When the newest finished scan finished (Unix seconds); 0 before any scan finished.',
      registers,
    });
    this.credentials = new Gauge({
      name: name('credentials'),
      help: 'Credentials in the current inventory by kind and source (account id, or cluster/namespace).',
      labelNames: ['kind', 'source'],
      registers,
    });
    this.findingsOpen = new Gauge({
      name: name('findings_open'),
      help: 'Open findings by severity.',
      labelNames: ['severity'],
      registers,
    });
    this.actions = new Gauge({
      name: name('actions'),
      help: 'Remediation action records by state and action type (every state, zeros included).',
      labelNames: ['state', 'action'],
      registers,
    });
    this.queueJobs = new Gauge({
      name: name('queue_jobs'),
      help: 'BullMQ jobs by queue and state.',
      labelNames: ['queue', 'state'],
      registers,
    });
    this.paused = new Gauge({
      name: name('remediation_paused'),
      help: '1 while the remediation kill switch is on (credwarden remediation pause), else 0.',
      registers,
    });
    this.appendLatency = new SharedHistogram(
      name('audit_append_seconds'),
      'Audit append latency, call to durable (Redis and mirror), across every process.',
    );
    // The registry only asks a metric for name, type and get(); prom-client's types list its own classes.
    this.register.registerMetric(this.appendLatency as unknown as Metric);
  }

  /** The exposition for GET /metrics. Never rejects because Redis is unreachable. */
  async render(): Promise<{ contentType: string; body: string }> {
    await this.refresh();
    return { contentType: this.register.contentType, body: await this.register.metrics() };
  }

  /** Reads Redis at most once per cacheMs; a scrape during a read waits for that read. */
  private refresh(): Promise<void> {
    if (this.reading) return this.reading;
    const now = this.now();
    if (now - this.readAt < this.cacheMs) return Promise.resolve();
    this.readAt = now;
    this.reading = this.read().finally(() => {
      this.reading = null;
    });
    return this.reading;
  }

  private async read(): Promise<void> {
    try {
      this.apply(await withTimeout(readSnapshot(this.app, this.queues, this.tally), this.readTimeoutMs));
    } catch (err) {
      this.scrapeErrors.inc();
      this.app.log.warn({ err }, 'metrics: reading Redis failed; serving the last values');
    }
  }

  private apply(s: Snapshot): void {
    this.scans.reset();
    for (const [outcome, n] of Object.entries(s.scans)) this.scans.set({ outcome }, n);
    this.lastScan.set(s.lastScanSeconds);
    this.credentials.reset();
    for (const c of s.credentials) this.credentials.set({ kind: c.kind, source: c.source }, c.count);
    this.findingsOpen.reset();
    for (const [severity, n] of Object.entries(s.openFindings)) this.findingsOpen.set({ severity }, n);
    this.actions.reset();
    for (const a of s.actions) this.actions.set({ state: a.state, action: a.action }, a.count);
    this.queueJobs.reset();
    for (const q of s.queues) this.queueJobs.set({ queue: q.queue, state: q.state }, q.count);
    this.paused.set(s.remediationPaused ? 1 : 0);
    this.appendLatency.set(s.appendLatency);
  }
}
