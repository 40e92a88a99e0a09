/**
 * What /metrics reports, read from Redis through the services that own each piece (ScanService,
 * FindingsService, RemediationService, the BullMQ queues, the audit latency hash). One read is a
 * Snapshot; api/metrics.ts caches it and turns it into Prometheus metrics. No keys of its own.
 */
import type { Queue } from 'bullmq';
import { actionNames } from '../actions/index.js';
import { type AppendLatencySnapshot, readAppendLatency } from '../audit/append-latency.js';
import type { ScanService } from '../inventory/scan-service.js';
import type { ScanStatus } from '../inventory/summary.js';
import type { App } from '../main.js';
import { ACTION_STATES, type ActionState } from '../model/action.js';
import { SEVERITIES, type Severity } from '../model/finding.js';
import { keyPrefix } from '../queue/prefix.js';
import type { Queues } from '../queue/runtime.js';

/** The parts of an App the metrics read. */
export type MetricsApp = Pick<App, 'config' | 'redis' | 'scans' | 'findings' | 'remediation' | 'log'>;

export const SCAN_OUTCOMES: readonly ScanStatus[] = ['running', 'complete', 'partial'];
export const QUEUE_STATES = ['waiting', 'active', 'delayed', 'failed', 'completed'] as const;

export interface Snapshot {
  scans: Record<ScanStatus, number>;
  /** Finish time (Unix seconds) of the newest finished scan; 0 when none finished. */
  lastScanSeconds: number;
  credentials: { kind: string; source: string; count: number }[];
  openFindings: Record<Severity, number>;
  /** Every state × every action type, zeros included, plus any other action name found. */
  actions: { state: ActionState; action: string; count: number }[];
  queues: { queue: string; state: (typeof QUEUE_STATES)[number]; count: number }[];
  remediationPaused: boolean;
  appendLatency: AppendLatencySnapshot;
}

/** Every action record, not only the newest 1,000 that `list` returns by default. */
const ALL = Number.MAX_SAFE_INTEGER;
/** Scan summaries read at once. */
const SUMMARY_CHUNK = 200;

/**
 * The stored scans by outcome. A finished scan's outcome never changes (finalize runs once), so
 * each finished scan is read once per process; only running and new scans are read again.
 */
export class ScanTally {
  private readonly settled = new Map<string, { status: ScanStatus; finishedAt: number }>();

  async read(scans: ScanService): Promise<Pick<Snapshot, 'scans' | 'lastScanSeconds'>> {
    const ids = await scans.recentIds(ALL);
    const live = new Set(ids);
    for (const id of this.settled.keys()) if (!live.has(id)) this.settled.delete(id);
    const counts = Object.fromEntries(SCAN_OUTCOMES.map((o) => [o, 0])) as Record<ScanStatus, number>;
    const todo = ids.filter((id) => !this.settled.has(id));
    for (let i = 0; i < todo.length; i += SUMMARY_CHUNK) {
      const summaries = await Promise.all(todo.slice(i, i + SUMMARY_CHUNK).map((id) => scans.summary(id)));
      for (const s of summaries) {
        if (!s) continue;
        if (s.status === 'running' || !s.finishedAt) counts[s.status]++;
        else this.settled.set(s.id, { status: s.status, finishedAt: Date.parse(s.finishedAt) || 0 });
      }
    }
    let last = 0;
    for (const s of this.settled.values()) {
      counts[s.status]++;
      last = Math.max(last, s.finishedAt);
    }
    return { scans: counts, lastScanSeconds: last / 1000 };
  }
}

function allQueues(q: Queues): Queue[] {
  return [q.scan, q.discover, q.inventory, q.evaluate, q.remediate, q.decisions, ...q.alerts.values()] as Queue[];
}

async function queueCounts(q: Queues): Promise<Snapshot['queues']> {
  const per = await Promise.all(
    allQueues(q).map(async (queue) => {
      const c = await queue.getJobCounts(...QUEUE_STATES);
      return QUEUE_STATES.map((state) => ({ queue: queue.name, state, count: c[state] ?? 0 }));
    }),
  );
  return per.flat();
}

async function credentialCounts(app: MetricsApp): Promise<Snapshot['credentials']> {
  const by = new Map<string, { kind: string; source: string; count: number }>();
  for (const c of await app.scans.currentInventory()) {
    const k = `${c.kind}\u0000${c.source}`;
    const e = by.get(k) ?? { kind: c.kind, source: c.source, count: 0 };
    e.count++;
    by.set(k, e);
  }
  return [...by.values()];
}

async function openFindings(app: MetricsApp): Promise<Snapshot['openFindings']> {
  const out = Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>;
  for (const f of await app.findings.all()) if (f.state === 'open') out[f.severity] = (out[f.severity] ?? 0) + 1;
  return out;
}

async function actionCounts(app: MetricsApp): Promise<Snapshot['actions']> {
  const records = await app.remediation.list({}, ALL);
  const names = new Set([...actionNames(), ...records.map((r) => r.plan.action)]);
  const counts = new Map<string, number>();
  for (const r of records)
    counts.set(`${r.state}|${r.plan.action}`, (counts.get(`${r.state}|${r.plan.action}`) ?? 0) + 1);
  return ACTION_STATES.flatMap((state) =>
    [...names].sort().map((action) => ({ state, action, count: counts.get(`${state}|${action}`) ?? 0 })),
  );
}

/** One full read; rejects if any part of it fails (the caller keeps its last snapshot then). */
export async function readSnapshot(app: MetricsApp, queues: Queues, tally: ScanTally): Promise<Snapshot> {
  const [scans, credentials, findings, actions, queueJobs, paused, appendLatency] = await Promise.all([
    tally.read(app.scans),
    credentialCounts(app),
    openFindings(app),
    actionCounts(app),
    queueCounts(queues),
    app.remediation.controls.pauseState(),
    readAppendLatency(app.redis, keyPrefix(app.config.redis)),
  ]);
  return {
    ...scans,
    credentials,
    openFindings: findings,
    actions,
    queues: queueJobs,
    remediationPaused: paused !== null,
    appendLatency,
  };
}
