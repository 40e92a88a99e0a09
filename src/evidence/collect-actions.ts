/**
 * Remediation actions of the period, folded from action.* and approval.* events (those recorded
 * at or before `to`): each plan's decisions, the approvals and denials with who, when and through
 * what (cli, api, slack, dashboard), its last result with the approvers of the request it ran under, and a
 * rollback with who asked, who approved and who ran it. An action is in the period when one of its
 * events is. Memory grows with the actions (bounded by the remediation rate), not with the events.
 *
 * An approval request starts afresh each time a plan is decided `awaiting-approval` (an expired
 * request is asked again and earlier approvals do not carry over), so `result.approvedBy` is the
 * set of people who approved the request the action actually ran under.
 */
import type { AuditEvent } from '../audit/event.js';
import type { ActionEvidence, ApprovalEvidence } from './model.js';

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

interface Rec extends ActionEvidence {
  current: Set<string>;
}

function approval(e: AuditEvent): ApprovalEvidence {
  const reason = str(e.data.reason);
  return { by: e.actor, at: e.time, source: str(e.data.source), ...(reason ? { reason } : {}) };
}

export class ActionsFold {
  private readonly recs = new Map<string, Rec>();

  constructor(
    private readonly fromMs: number,
    /** `remediation.approvals.approvers`: what an approval needs when no event says. */
    private readonly approvers: number,
  ) {}

  apply(e: AuditEvent): void {
    const d = e.data;
    const planId = str(d.planId);
    if (!planId) return;
    let r = this.recs.get(planId);
    if (!r) {
      r = {
        planId,
        action: str(d.action) ?? '',
        policy: str(d.policy),
        credentialId: e.subject,
        plannedAt: e.time,
        decisions: [],
        approvalRequired: false,
        needed: null,
        approvals: [],
        denials: [],
        result: null,
        rollbackRequest: null,
        rollbackApprovals: [],
        rolledBack: null,
        firstEventAt: e.time,
        lastEventAt: e.time,
        current: new Set(),
      };
      this.recs.set(planId, r);
    }
    r.lastEventAt = e.time;
    r.policy ??= str(d.policy);
    const rollback = d.for === 'rollback';
    switch (e.type) {
      case 'action.planned': {
        const state = str(d.state) ?? '';
        const codes = Array.isArray(d.reasons)
          ? d.reasons.map((x) => str((x as { code?: unknown })?.code)).filter((x): x is string => x !== null)
          : [];
        r.decisions.push({ at: e.time, decision: str(d.decision) ?? '', state, codes });
        if (state === 'awaiting-approval') {
          r.approvalRequired = true;
          r.needed ??= this.approvers;
          r.current = new Set();
        }
        break;
      }
      case 'approval.granted':
        if (rollback) r.rollbackApprovals.push(approval(e));
        else {
          r.approvals.push(approval(e));
          r.current.add(e.actor);
          r.approvalRequired = true;
        }
        if (num(d.needed) !== null) {
          if (rollback && r.rollbackRequest) r.rollbackRequest.needed = num(d.needed);
          else if (!rollback) r.needed = num(d.needed);
        }
        break;
      case 'approval.denied':
        r.denials.push({ ...approval(e), ...(rollback ? { reason: `rollback: ${str(d.reason) ?? ''}` } : {}) });
        break;
      case 'action.result':
        r.result = {
          at: e.time,
          outcome: str(d.outcome) ?? '',
          detail: str(d.detail) ?? '',
          approvedBy: [...r.current].sort(),
        };
        break;
      case 'action.rollback-requested':
        r.rollbackRequest = { by: e.actor, at: e.time, needed: num(d.needed) };
        r.rollbackApprovals = [];
        break;
      case 'action.rolled-back':
        r.rolledBack = {
          by: e.actor,
          at: e.time,
          approvedBy: Array.isArray(d.approvedBy) ? d.approvedBy.filter((x): x is string => typeof x === 'string') : [],
        };
        break;
    }
  }

  /** The actions with an event in the period, by planned time. */
  finish(): ActionEvidence[] {
    return [...this.recs.values()]
      .filter((r) => Date.parse(r.lastEventAt) >= this.fromMs)
      .map(({ current: _, ...rest }) => rest)
      .sort((a, b) => a.plannedAt.localeCompare(b.plannedAt) || a.planId.localeCompare(b.planId));
  }
}
