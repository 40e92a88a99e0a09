/**
 * The period's drills, folded from the audit chain (never from the live drill store, so a pack is
 * reproducible from the chain alone). Every drill.* event carries `subject` = the drill id and
 * `data.drill` = the whole record after the change (drill/store.ts DrillRecord):
 * - a `drill.finished` event recorded in [from, to] makes its drill one of the period's, as its
 *   record says (status, stage, reason, times, what it planted, cleanup);
 * - a later `drill.cleaned` event of such a drill (up to `to`) updates its cleanup, should the
 *   cleanup be recorded after the result.
 * Drills still running at `to`, or finished outside the period, are not the period's. The record
 * is read defensively: the audit log is the source of truth, but a field may be missing.
 */
import type { AuditEvent } from '../audit/event.js';
import type { DrillEvidence } from './model.js';

type Obj = Record<string, unknown>;

const obj = (v: unknown): Obj => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {});
const str = (v: unknown): string => (typeof v === 'string' ? v : v === null || v === undefined ? '' : String(v));
const strOrNull = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);
const msOf = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : null);
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.map(str) : []);

function cleanupOf(v: unknown): DrillEvidence['cleanup'] {
  if (v === null || typeof v !== 'object') return null;
  const c = obj(v);
  return {
    removed: strings(c.removed),
    gone: strings(c.gone),
    failed: (Array.isArray(c.failed) ? c.failed : []).map((f) => ({ id: str(obj(f).id), error: str(obj(f).error) })),
  };
}

/** The evidence of one drill from its drill.finished event. */
export function drillEvidence(e: AuditEvent): DrillEvidence {
  const r = obj(e.data.drill);
  const t = obj(r.times);
  const target = obj(r.target);
  const det = r.detection ? obj(r.detection) : null;
  const alert = r.alert ? obj(r.alert) : null;
  const rem = r.remediation ? obj(r.remediation) : null;
  const passed = r.status === 'passed';
  const reason = strOrNull(r.reason);
  return {
    id: str(r.id) || e.subject,
    scenario: str(r.scenario),
    trigger: str(r.trigger),
    by: str(r.by),
    target: `${str(target.sourceType)} ${str(target.source)}`.trim(),
    startedAt: strOrNull(r.startedAt),
    finishedAt: strOrNull(r.finishedAt) ?? e.time,
    event: { seq: e.seq, time: e.time },
    status: passed ? 'passed' : 'failed',
    stage: str(r.stage),
    reason:
      passed || r.status === 'failed'
        ? reason
        : `recorded as finished with status ${JSON.stringify(r.status ?? null)}${reason ? `: ${reason}` : ''}`,
    times: {
      detectMs: msOf(t.detectMs),
      alertMs: msOf(t.alertMs),
      remediateMs: msOf(t.remediateMs),
      approvalMs: msOf(t.approvalMs),
    },
    detection: det ? { policy: str(det.policy), at: str(det.at) } : null,
    alert: alert ? { sink: str(alert.sink), mode: str(alert.mode), at: str(alert.at) } : null,
    remediation: rem
      ? {
          action: str(rem.action),
          decision: str(rem.decision),
          state: str(rem.state),
          outcome: strOrNull(rem.outcome),
          at: str(rem.at),
        }
      : null,
    planted: (Array.isArray(r.planted) ? r.planted : []).map((p) => {
      const x = obj(p);
      return { kind: str(x.kind), id: str(x.id), credentialId: strOrNull(x.credentialId) };
    }),
    cleanup: cleanupOf(r.cleanup),
  };
}

export class DrillsFold {
  private readonly drills = new Map<string, DrillEvidence>();

  constructor(
    private readonly fromMs: number,
    private readonly toMs: number,
  ) {}

  /** An event recorded at or before `to` (collect.ts gives no later one). */
  apply(e: AuditEvent, t: number): void {
    if (e.type === 'drill.finished') {
      if (t < this.fromMs || t > this.toMs) return;
      const d = drillEvidence(e);
      this.drills.delete(d.id);
      this.drills.set(d.id, d);
      return;
    }
    if (e.type !== 'drill.cleaned') return;
    const id = str(obj(e.data.drill).id) || e.subject;
    const d = this.drills.get(id);
    const cleanup = cleanupOf(obj(e.data.drill).cleanup);
    if (d && cleanup) d.cleanup = cleanup;
  }

  finish(): DrillEvidence[] {
    return [...this.drills.values()];
  }
}
