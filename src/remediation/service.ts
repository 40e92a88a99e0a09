import { CwError, ErrorCodes } from '../errors.js';
import type { ActionPlan, ActionRecord, ActionState, GuardDecision } from '../model/action.js';
import type { Policy } from '../policy/model.js';
import { computeOnce, firstWriterWins } from '../util/compute-once.js';
import type { Effect } from '../util/effects.js';
import { RemediationControls } from './controls.js';
import { queuedPatch, sameDecision, stateFor } from './decision-state.js';
import { notifyApprovalRequests, type RemediationNotifier, silentNotifier } from './notify.js';
import { computeRun } from './scan-run.js';
import { ActionStore, liveKey } from './store.js';

export { queuedPatch, stateFor } from './decision-state.js';

import type { Enqueue, RemediateJob, RemediationDeps, RunSummary, StoredRun } from './deps.js';

export type { Enqueue, RemediateJob, RemediationDeps, RunSummary, StoredRun } from './deps.js';

const RUN_TTL_S = 7 * 86_400;

export class RemediationService {
  readonly store: ActionStore;
  readonly controls: RemediationControls;

  private enqueueFn: Enqueue | null = null;

  constructor(readonly d: RemediationDeps) {
    this.store = new ActionStore(d.redis, d.prefix);
    this.controls = new RemediationControls(d.redis, this.store.keys, d.audit, d.config, d.clock);
  }

  /** Binds the `remediate` queue (queue/runtime.ts does, as it binds the scan completion hook). */
  setEnqueue(fn: Enqueue): void {
    this.enqueueFn = fn;
  }

  /** Queues one job per plan for its current attempt; idempotent (deterministic job ids). */
  async enqueue(planIds: readonly string[]): Promise<void> {
    if (planIds.length === 0) return;
    const attempts = await Promise.all(planIds.map((id) => this.d.redis.hget(this.store.keys.action(id), 'attempt')));
    await this.enqueueJobs(planIds.map((planId, i) => ({ planId, key: `a${attempts[i] ?? 0}` })));
  }

  /** Queues a rotation's wake-up at `at` (ms); the same wake-up is the same job. */
  async enqueueWake(planId: string, at: number): Promise<void> {
    await this.enqueueJobs([{ planId, key: `w${at}`, delayMs: Math.max(0, at - this.d.clock.now().getTime()) }]);
  }

  private async enqueueJobs(jobs: readonly RemediateJob[]): Promise<void> {
    if (!this.enqueueFn) throw new CwError(ErrorCodes.QUEUE, 'no remediate queue is bound: actions cannot be queued');
    await this.enqueueFn(jobs);
  }

  policy(name: string): Policy | undefined {
    return this.d.policies.policies.find((p) => p.name === name);
  }

  /** Plan, decide, record and queue one scan's actions; safe to call again (same result). */
  async planScan(scanId: string): Promise<RunSummary> {
    const evaluation = await this.d.findings.evaluation(scanId);
    if (!evaluation || evaluation.held) {
      return { scanId, plans: 0, byDecision: {}, byState: {}, queued: [], skipped: 0 };
    }
    const key = this.store.keys.run(scanId);
    const { value: run } = await computeOnce<StoredRun>(
      this.d.redis,
      key,
      () => computeRun(this, scanId),
      firstWriterWins(this.d.redis, key, RUN_TTL_S),
    );
    const queued: string[] = [];
    const asked: string[] = [];
    const byState: Record<string, number> = {};
    for (const plan of run.plans) {
      const decision = run.decisions[plan.id]!;
      const state = await this.apply(run, plan, decision);
      byState[state] = (byState[state] ?? 0) + 1;
      if (state === 'queued') queued.push(plan.id);
      if (state === 'awaiting-approval') asked.push(plan.id);
    }
    await this.enqueue(queued);
    await this.notifyHeldBatches(run);
    await notifyApprovalRequests(this.notifier, (id) => this.store.get(id), run.at, asked);
    const byDecision: Record<string, number> = {};
    for (const d of Object.values(run.decisions)) byDecision[d.decision] = (byDecision[d.decision] ?? 0) + 1;
    if (run.plans.length)
      this.d.log.info(
        { scanId, byDecision, queued: queued.length, skipped: run.skipped.length },
        'remediation planned',
      );
    return { scanId, plans: run.plans.length, byDecision, byState, queued, skipped: run.skipped.length };
  }

  get notifier(): RemediationNotifier {
    return this.d.notifier ?? silentNotifier;
  }

  /** One page per policy whose batch a cap held (enforce mode only: a dry-run holds nothing for real). */
  private async notifyHeldBatches(run: StoredRun): Promise<void> {
    const byPolicy = new Map<string, { plans: ActionPlan[]; reason: string }>();
    for (const p of run.plans) {
      const d = run.decisions[p.id];
      const cap = d?.decision === 'hold' ? d.reasons.find((r) => r.code === 'cap-exceeded') : undefined;
      if (!cap) continue;
      const e = byPolicy.get(p.policy) ?? { plans: [], reason: cap.message };
      e.plans.push(p);
      byPolicy.set(p.policy, e);
    }
    for (const [policy, e] of byPolicy) await this.notifier.batchHeld(run.scanId, policy, e.plans, e.reason);
  }

  /** Creates or re-decides one record; returns its state afterwards. */
  private async apply(run: StoredRun, plan: ActionPlan, decision: GuardDecision): Promise<ActionState> {
    const existing = await this.store.get(plan.id);
    const lapsed = existing?.state === 'awaiting-approval' && this.approvalLapsed(existing, run.at);
    if (existing && !this.redecidable(existing) && !lapsed) return existing.state;
    const state = stateFor(decision);
    // The same decision for the same reasons is not a transition: nothing is audited again, so a
    // plan held or dry-run for weeks leaves one event, not one per scan.
    if (existing && !lapsed && existing.state === state && sameDecision(existing.decision, decision)) return state;
    const at = run.at;
    const note = decision.reasons.map((r) => r.message).join('; ') || decision.decision;
    const effects: Effect[] = existing
      ? this.store.patchEffects(plan.id, { decision, state }, at, note)
      : this.store.createEffects(plan, decision, state, at, note);
    if (state === 'awaiting-approval') {
      effects.push(...this.store.patchEffects(plan.id, { approvalRequestedAt: at }, at, note));
      // An expired request is asked again from scratch: earlier approvals do not carry over.
      if (lapsed) effects.push({ op: 'del', key: this.store.keys.approvals(plan.id) });
    }
    if (state === 'queued') effects.push(...this.store.patchEffects(plan.id, queuedPatch(existing), at, note));
    effects.push(...(await this.supersede(plan, at)));
    await this.d.audit.append({
      type: 'action.planned',
      actor: 'credwarden',
      subject: plan.target.credentialId,
      data: {
        planId: plan.id,
        action: plan.action,
        policy: plan.policy,
        scanId: run.scanId,
        decision: decision.decision,
        reasons: decision.reasons,
        state,
        reversible: plan.reversible,
        target: plan.target.identity,
      },
      idempotencyKey: `${plan.id}/planned/${run.scanId}`,
      effects,
    });
    return (await this.store.state(plan.id)) ?? state;
  }

  /** An approval request older than `approvals.expiresHours`. */
  approvalLapsed(r: ActionRecord, at: string): boolean {
    if (!r.approvalRequestedAt) return false;
    return Date.parse(at) > Date.parse(r.approvalRequestedAt) + this.d.config.approvals.expiresHours * 3_600_000;
  }

  private redecidable(r: ActionRecord): boolean {
    if (r.state === 'planned' || r.state === 'dry-run' || r.state === 'held') return true;
    return r.state === 'denied' && !r.denial;
  }

  /** A new plan for the same policy, action and credential replaces an older undecided one. */
  private async supersede(plan: ActionPlan, at: string): Promise<Effect[]> {
    const prior = await this.store.livePlanId(plan);
    if (!prior || prior === plan.id) return [];
    const old = await this.store.get(prior);
    if (!old || !(this.redecidable(old) || old.state === 'awaiting-approval')) return [];
    return this.store.patchEffects(
      prior,
      {
        state: 'cancelled',
        result: {
          outcome: 'cancelled',
          preState: null,
          postState: null,
          detail: `superseded by ${plan.id}: the facts changed (${liveKey(plan)})`,
          at,
        },
      },
      at,
      `superseded by ${plan.id}`,
    );
  }

  /** A scan's stored run (its plans and decisions), or null before it was planned. */
  async runOf(scanId: string): Promise<StoredRun | null> {
    const raw = await this.d.redis.get(this.store.keys.run(scanId));
    return raw ? (JSON.parse(raw) as StoredRun) : null;
  }

  async show(id: string): Promise<ActionRecord | null> {
    return this.store.get(id);
  }

  async list(
    filter: { state?: ActionState; policy?: string; agent?: string } = {},
    limit = 1000,
  ): Promise<ActionRecord[]> {
    const all = await this.store.list(limit);
    return all.filter(
      (r) =>
        (!filter.state || r.state === filter.state) &&
        (!filter.policy || r.plan.policy === filter.policy) &&
        (!filter.agent || r.plan.agentId === filter.agent),
    );
  }
}
