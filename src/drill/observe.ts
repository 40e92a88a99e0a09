/**
 * What the pipeline did about a drill's credentials, read from the audit log (the one record every
 * stage writes), from the seq at which the risky state existed:
 *
 * - detected: a finding opened (reopened, escalated, widened) on a planted credential with one of
 *   the scenario's detectors among its hits;
 * - alerted: a notification carrying such a finding was delivered (`alert.sent`);
 * - remediated: an action on a planted credential finished `done` (or `already-done` by another
 *   action of the same drill); or, where people must approve it, the approval was asked for.
 *
 * A guardrail that stops the action ends the drill as failed at once with its reasons: dry-run
 * (nothing would ever run), a deny (min-age, protect, allow lists). A hold (window, cap, rate,
 * breaker, kill switch) may lift before the deadline, so it is only the reason if the deadline
 * passes. A drill never bypasses a guardrail.
 */
import type { AuditEvent } from '../audit/event.js';
import type { DrillRecord } from './store.js';

const FINDING_EVENTS = new Set([
  'finding.opened',
  'finding.reopened',
  'finding.escalated',
  'finding.policies-changed',
  'finding.unsuppressed',
]);

export type StageUpdate =
  | { stage: 'detect'; at: string; policy: string; fingerprint: string }
  | { stage: 'alert'; at: string; sink: string; mode: string; notification: string }
  | {
      stage: 'remediate' | 'approval';
      at: string;
      planId: string;
      action: string;
      decision: string;
      state: string;
      outcome: string | null;
      reasons: string[];
    }
  | {
      stage: 'blocked';
      at: string;
      reason: string;
      planId: string;
      action: string;
      decision: string;
      reasons: string[];
    }
  | { stage: 'held'; reason: string }
  | { stage: 'queued'; planId: string };

interface PlanSeen {
  action: string;
  decision: string;
  state: string;
  reasons: string[];
}

type Reason = { message?: string; guard?: string };

const reasonsOf = (v: unknown): string[] =>
  Array.isArray(v) ? v.map((r: Reason) => (r?.guard ? `${r.guard}: ${r.message ?? ''}` : String(r?.message ?? r))) : [];

export class DrillObserver {
  private readonly fingerprints = new Set<string>();
  private readonly plans = new Map<string, PlanSeen>();

  constructor(
    private readonly credentials: ReadonlySet<string>,
    /** The detectors that count as this scenario's detection. */
    private readonly detectors: readonly string[],
    /** The detectors of a finding's hits (the finding as stored now). */
    private readonly detectorsOf: (fingerprint: string) => Promise<string[]>,
  ) {}

  /** The updates one audit event brings, given what the record has reached so far. */
  async feed(e: AuditEvent, rec: Pick<DrillRecord, 'detection' | 'alert' | 'remediation'>): Promise<StageUpdate[]> {
    const d = e.data;
    if (FINDING_EVENTS.has(e.type) && this.credentials.has(String(d.credentialId))) {
      this.fingerprints.add(e.subject);
      if (rec.detection) return [];
      const found = await this.detectorsOf(e.subject);
      if (!found.some((x) => this.detectors.includes(x))) return [];
      return [{ stage: 'detect', at: e.time, policy: String(d.policy), fingerprint: e.subject }];
    }
    if (e.type === 'alert.sent' && !rec.alert && rec.detection) {
      const fps = Array.isArray(d.fingerprints) ? d.fingerprints.map(String) : [];
      if (!fps.some((f) => this.fingerprints.has(f))) return [];
      return [{ stage: 'alert', at: e.time, sink: String(d.sink), mode: String(d.mode), notification: e.subject }];
    }
    if (e.type === 'action.planned' && this.credentials.has(e.subject)) return this.planned(e);
    if (e.type === 'action.result' && this.credentials.has(e.subject)) {
      const plan = this.plans.get(String(d.planId));
      const outcome = String(d.outcome);
      if (rec.remediation?.outcome === 'done') return [];
      if (!['done', 'already-done'].includes(outcome))
        return [{ stage: 'held', reason: `${String(d.action)} ended ${outcome}: ${String(d.detail ?? '')}` }];
      return [
        {
          stage: 'remediate',
          at: e.time,
          planId: String(d.planId),
          action: String(d.action),
          decision: plan?.decision ?? 'allow',
          state: 'done',
          outcome,
          reasons: [String(d.detail ?? '')],
        },
      ];
    }
    return [];
  }

  private planned(e: AuditEvent): StageUpdate[] {
    const d = e.data;
    const seen: PlanSeen = {
      action: String(d.action),
      decision: String(d.decision),
      state: String(d.state),
      reasons: reasonsOf(d.reasons),
    };
    const planId = String(d.planId);
    this.plans.set(planId, seen);
    const base = { at: e.time, planId, action: seen.action, decision: seen.decision, reasons: seen.reasons };
    if (seen.state === 'awaiting-approval') return [{ stage: 'approval', ...base, state: seen.state, outcome: null }];
    if (seen.decision === 'dry-run')
      return [
        {
          stage: 'blocked',
          ...base,
          reason: `remediation is in dry-run: ${seen.action} was planned and will never run (${seen.reasons.join('; ') || 'dry-run'})`,
        },
      ];
    if (seen.decision === 'deny')
      return [{ stage: 'blocked', ...base, reason: `a guardrail denied ${seen.action}: ${seen.reasons.join('; ')}` }];
    if (seen.decision === 'hold')
      return [{ stage: 'held', reason: `${seen.action} is held: ${seen.reasons.join('; ') || 'held'}` }];
    return [{ stage: 'queued', planId }];
  }
}
