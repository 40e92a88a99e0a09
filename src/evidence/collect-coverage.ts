/**
 * Scan coverage of the period, folded from scan.started and scan.finished (those recorded at or
 * before `to`): every scan that started or finished in the period with its units and how each
 * ended (a unit with no problem is complete; a Timeout problem is timed-out; any other problem
 * partial), and per unit how many complete scans it had and the largest gap between them.
 *
 * The largest gap is the longest stretch of the period with no complete scan of the unit:
 * measured over [from, each complete scan's finish time, to], so a unit never completely scanned
 * has a gap of the whole period. Units configured now but never completely scanned in the period
 * are what an auditor must see first (controls.ts turns them into `not-evidenced`).
 * Memory: the scans of the period and the ones still running; a scan finished before `from` is
 * dropped as it finishes.
 */
import type { AuditEvent } from '../audit/event.js';
import type { ScanEvidence, UnitCoverage, UnitScanStatus } from './model.js';

export interface ConfiguredUnit {
  key: string;
  label: string;
  sourceType: string;
}

interface Problem {
  unit: string;
  code: string;
  message: string;
  scope: string;
}

const HOUR_MS = 3_600_000;
const str = (v: unknown): string => (typeof v === 'string' ? v : '');

function problemsOf(v: unknown): Problem[] {
  if (!Array.isArray(v)) return [];
  return v.map((p) => {
    const o = (p ?? {}) as Record<string, unknown>;
    return { unit: str(o.unit), code: str(o.code), message: str(o.message), scope: str(o.scope) };
  });
}

export function unitStatusFrom(problems: readonly { code: string }[]): UnitScanStatus {
  if (problems.length === 0) return 'complete';
  return problems.some((p) => p.code === 'Timeout') ? 'timed-out' : 'partial';
}

export class CoverageFold {
  private readonly scans = new Map<string, ScanEvidence>();

  constructor(
    private readonly fromMs: number,
    private readonly toMs: number,
  ) {}

  apply(e: AuditEvent, t: number): void {
    if (e.type === 'scan.started') {
      const units = Array.isArray(e.data.units) ? e.data.units.filter((u): u is string => typeof u === 'string') : [];
      this.scans.set(e.subject, {
        id: e.subject,
        trigger: str(e.data.trigger),
        startedAt: e.time,
        finishedAt: null,
        status: 'running',
        units: units.map((key) => ({ key, status: 'not-reported', problems: [] })),
      });
      return;
    }
    if (e.type !== 'scan.finished') return;
    if (t < this.fromMs) {
      this.scans.delete(e.subject);
      return;
    }
    let s = this.scans.get(e.subject);
    if (!s) {
      // Started before the chain did: the finish is all there is.
      s = { id: e.subject, trigger: '', startedAt: e.time, finishedAt: null, status: 'running', units: [] };
      this.scans.set(e.subject, s);
    }
    const problems = problemsOf(e.data.problems);
    s.finishedAt = e.time;
    s.status = e.data.status === 'complete' ? 'complete' : 'partial';
    for (const p of problems)
      if (!s.units.some((u) => u.key === p.unit)) s.units.push({ key: p.unit, status: 'partial', problems: [] });
    for (const u of s.units) {
      u.problems = problems
        .filter((p) => p.unit === u.key)
        .map(({ code, message, scope }) => ({ code, message, scope }));
      u.status = unitStatusFrom(u.problems);
    }
  }

  private periodScans(): ScanEvidence[] {
    return [...this.scans.values()]
      .filter((s) => {
        const started = Date.parse(s.startedAt);
        return s.finishedAt !== null || (started >= this.fromMs && started <= this.toMs);
      })
      .sort((a, b) => a.startedAt.localeCompare(b.startedAt) || a.id.localeCompare(b.id));
  }

  /** The ids of the period's scans. */
  scanIds(): string[] {
    return this.periodScans().map((s) => s.id);
  }

  /**
   * The scans of the period (oldest first) and the coverage of every unit configured or scanned.
   * `statusOf` may refine a unit's status from the stored scan summary (partial vs failed).
   */
  finish(
    configured: readonly ConfiguredUnit[],
    statusOf: (scanId: string, unit: string) => UnitScanStatus | undefined = () => undefined,
  ): { scans: ScanEvidence[]; units: UnitCoverage[] } {
    const scans = this.periodScans();
    for (const s of scans)
      for (const u of s.units) {
        const refined = statusOf(s.id, u.key);
        if (refined && (refined === 'complete') === (u.status === 'complete')) u.status = refined;
      }
    const units = new Map<string, UnitCoverage & { times: number[]; why: Set<string> }>();
    const unit = (key: string, label = key, sourceType = key.split('/')[0] ?? '', isConfigured = false) => {
      let u = units.get(key);
      if (!u) {
        u = {
          key,
          label,
          sourceType,
          configured: isConfigured,
          scans: 0,
          completeScans: 0,
          lastComplete: null,
          largestGapHours: 0,
          reasons: [],
          times: [],
          why: new Set(),
        };
        units.set(key, u);
      }
      return u;
    };
    for (const c of configured) unit(c.key, c.label, c.sourceType, true);
    for (const s of scans)
      for (const su of s.units) {
        const u = unit(su.key);
        u.scans++;
        if (su.status === 'complete' && s.finishedAt) {
          u.completeScans++;
          u.times.push(Date.parse(s.finishedAt));
          u.lastComplete = s.finishedAt;
        } else if (s.finishedAt) {
          for (const p of su.problems) u.why.add(`${p.code}: ${p.message}`);
          if (su.problems.length === 0) u.why.add(`${su.status}`);
        }
      }
    const out: UnitCoverage[] = [];
    for (const { times, why, ...u } of units.values()) {
      const points = [this.fromMs, ...times.sort((a, b) => a - b), this.toMs];
      let gap = 0;
      for (let i = 1; i < points.length; i++) gap = Math.max(gap, points[i]! - points[i - 1]!);
      out.push({ ...u, largestGapHours: Math.round((gap / HOUR_MS) * 100) / 100, reasons: [...why].sort() });
    }
    return { scans, units: out.sort((a, b) => a.key.localeCompare(b.key)) };
  }
}
