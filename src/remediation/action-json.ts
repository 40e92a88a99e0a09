/**
 * An action record as people and scripts read it, shared by `credwarden actions --json` and the
 * HTTP API (README "actions --json"): id, action, policy, credentialId, state, decision, reasons,
 * reversible, target, approvals, result, plannedAt, updatedAt, and a rotation's progress.
 * Never a secret: records hold none (model/action.ts, model/rotation.ts).
 */
import type { ActionRecord } from '../model/action.js';
import { describeDelivery } from '../model/rotation.js';

export function actionJson(r: ActionRecord) {
  return {
    id: r.plan.id,
    action: r.plan.action,
    policy: r.plan.policy,
    credentialId: r.plan.target.credentialId,
    principal: r.plan.target.principal,
    agentId: r.plan.agentId,
    state: r.state,
    decision: r.decision?.decision ?? null,
    reasons: r.decision?.reasons ?? [],
    reversible: r.plan.reversible,
    target: r.plan.target.identity,
    approvals: r.approvals,
    ...(r.denial ? { denial: r.denial } : {}),
    result: r.result ?? null,
    ...(r.rollback ? { rollback: r.rollback } : {}),
    ...(r.plan.requestedBy ? { requestedBy: r.plan.requestedBy } : {}),
    ...(r.rollbackRequest ? { rollbackRequest: r.rollbackRequest, rollbackApprovals: r.rollbackApprovals ?? [] } : {}),
    ...(r.rotation ? { rotation: rotationJson(r) } : {}),
    attempt: r.attempt,
    scanId: r.plan.scanId,
    plannedAt: r.plan.plannedAt,
    updatedAt: r.updatedAt,
  };
}

/** A rotation's progress for people and scripts: the step, what is waited for, the new credential's id. */
export function rotationJson(r: ActionRecord) {
  const p = r.rotation!;
  return {
    kind: p.kind,
    step: p.step,
    waiting: p.waiting ?? null,
    nextAt: p.nextAt ?? null,
    newId: p.newId ?? null,
    delivery: describeDelivery(p.delivery),
    deliveredVersion: p.delivered?.version ?? null,
    adoption: p.adopt?.observed ?? null,
    deleteAfter: p.deleteAfter ?? null,
    orphansRetired: p.orphans,
    stopped: p.stopped ?? null,
    done: p.done,
  };
}

/**
 * One action in full (`GET /api/v1/actions/{id}`): actionJson plus the plan, the history, the
 * approval request, a rollback request and its approvals, and the pre-state a rollback restores.
 */
export function actionDetailJson(r: ActionRecord) {
  return {
    ...actionJson(r),
    plan: r.plan,
    history: r.history,
    approvalRequestedAt: r.approvalRequestedAt ?? null,
    rollbackRequest: r.rollbackRequest ?? null,
    rollbackApprovals: r.rollbackApprovals ?? [],
    rollbackIntentAt: r.rollbackIntentAt ?? null,
    preState: r.preState ?? null,
  };
}
