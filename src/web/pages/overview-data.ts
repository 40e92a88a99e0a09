/**
 * What the overview reads, from the services the API routes use:
 *
 * - the trend of open findings by severity: each scan's evaluation summary records the open
 *   findings by severity once it was applied (findings/service.ts `EvaluationSummary.open`, the
 *   same numbers as the `evaluation.finished` audit event), at `evaluatedAt`. Held evaluations
 *   applied nothing and are left out; scans never evaluated have no count. Nothing is derived:
 *   the chart draws the recorded counts;
 * - the newest finished scan (its units, problems and drift counts) and the scan before it.
 */

import type { ScanSummary } from '../../inventory/summary.js';
import type { App } from '../../main.js';
import { SEVERITIES, type Severity } from '../../model/finding.js';

export const TREND_DAYS = [30, 90] as const;
export type TrendDays = (typeof TREND_DAYS)[number];
/** How many scan ids the trend looks through at most (newest first): 90 days of 10-minute scans. */
export const TREND_SCAN_LIMIT = 13_000;
/** At most this many points are drawn; more are thinned to the last one in each time bucket. */
export const TREND_MAX_POINTS = 360;
const BATCH = 250;
const DAY = 86_400_000;

export interface TrendPoint {
  scanId: string;
  /** When the evaluation was applied, epoch ms. */
  at: number;
  open: Record<Severity, number>;
}

export interface Trend {
  from: number;
  to: number;
  days: TrendDays;
  /** Ascending by time. */
  points: TrendPoint[];
  /** The newest evaluation before `from`: what was open when the range begins. */
  start: TrendPoint | null;
  /** How many evaluations fell in the range before thinning. */
  evaluated: number;
  /** The bucket width when thinned, ms; null when every evaluation is drawn. */
  thinnedTo: number | null;
}

export const daysOf = (v: string | undefined): TrendDays => (v === '90' ? 90 : 30);

const counts = (open: Record<string, number>): Record<Severity, number> =>
  Object.fromEntries(SEVERITIES.map((s) => [s, open[s] ?? 0])) as Record<Severity, number>;

/** The open findings by severity at each scan's evaluation over the last `days` days. */
export async function openTrend(app: App, now: Date, days: TrendDays): Promise<Trend> {
  const to = now.getTime();
  const from = to - days * DAY;
  const ids = await app.scans.recentIds(TREND_SCAN_LIMIT);
  const inRange: TrendPoint[] = [];
  let start: TrendPoint | null = null;
  for (let i = 0; i < ids.length && !start; i += BATCH) {
    const batch = ids.slice(i, i + BATCH);
    const evaluations = await Promise.all(batch.map((id) => app.findings.evaluation(id)));
    for (const [j, e] of evaluations.entries()) {
      if (!e || e.held) continue;
      const at = Date.parse(e.evaluatedAt);
      if (Number.isNaN(at) || at > to) continue;
      const p: TrendPoint = { scanId: batch[j]!, at, open: counts(e.open) };
      if (at >= from) inRange.push(p);
      else if (!start || at > start.at) start = p;
    }
  }
  inRange.sort((a, b) => a.at - b.at || (a.scanId < b.scanId ? -1 : 1));
  let points = inRange;
  let thinnedTo: number | null = null;
  if (inRange.length > TREND_MAX_POINTS) {
    thinnedTo = Math.ceil((to - from) / TREND_MAX_POINTS);
    const last = new Map<number, TrendPoint>();
    for (const p of inRange) last.set(Math.floor((p.at - from) / thinnedTo), p);
    points = [...last.values()];
  }
  return { from, to, days, points, start, evaluated: inRange.length, thinnedTo };
}

export interface LastScans {
  /** The newest scan that finished (complete or partial), if any. */
  last: ScanSummary | null;
  /** The finished scan before it. */
  previous: ScanSummary | null;
  /** A scan running now, newer than `last`. */
  running: ScanSummary | null;
}

export async function lastScans(app: App): Promise<LastScans> {
  const recent = await app.scans.recent(20);
  const finished = recent.filter((s) => s.status !== 'running');
  const running = recent.find((s) => s.status === 'running') ?? null;
  const last = finished[0] ?? null;
  return {
    last,
    previous: finished[1] ?? null,
    running: running && last && running.startedAt < last.startedAt ? null : running,
  };
}

/** Open findings per severity (every severity present, zero when none). */
export function openBySeverity(findings: readonly { state: string; severity: Severity }[]): Record<Severity, number> {
  const out = counts({});
  for (const f of findings) if (f.state === 'open') out[f.severity]++;
  return out;
}
