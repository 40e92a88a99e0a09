/**
 * What people do to actions: approve, deny, roll back (four-eyes). Each is audited with the
 * person as the actor (`user:<name>`: the CLI's `--as NAME`, an API subject, a Slack user mapped
 * to one, so a person is one approver however they reach credwarden) and the source (`cli`,
 * `api`, `slack`, `dashboard`); each refuses with CW_ERR_GUARDRAIL and one clear reason when it
 * does not apply.
 *
 * - approve: only an action awaiting approval and not expired (`approvals.expiresHours` after it
 *   was asked; the next scan plans it again). One approval per person (the approvals hash has one
 *   field per name, so the same person twice is refused, never counted twice); the person the
 *   action is the request of (`plan.requestedBy`: the policy's `enforcedBy`) is refused. At
 *   `approvals.approvers` distinct names the action is queued, once (keyed by plan and attempt).
 *   Approval does not skip anything after it: the executor's live re-check still cancels an
 *   action whose facts changed, with the reason.
 * - deny: an action awaiting approval; settled for good (no later run re-decides that plan).
 * - rollback: an action whose class needs approval (`approvals.required` matches its plan) is
 *   rolled back only with approval too: the first call records the request
 *   (`action.rollback-requested`), and the rollback runs once `approvers` people other than the
 *   one who asked approve it (approve and deny act on the pending request). A denied rollback
 *   request is final; an expired one may be asked again. Other actions roll back at once.
 */
import { CwError, ErrorCodes } from '../errors.js';
import type { ActionRecord } from '../model/action.js';
import { approvalRequired } from './guard.js';
import { Rollbacks } from './rollback.js';
import type { RotationRunner } from './rotation-runner.js';
import { queuedPatch, type RemediationService } from './service.js';

const refuse = (msg: string) => new CwError(ErrorCodes.GUARDRAIL, msg);

export type DecisionSource = 'cli' | 'api' | 'slack' | 'dashboard';

/** Where a decision came from, and the person's reason (recorded in the audit event). */
export interface Decided {
  source: DecisionSource;
  reason?: string;
}

const CLI: Decided = { source: 'cli' };
const how = (d: Decided) => ({ source: d.source, ...(d.reason ? { reason: d.reason } : {}) });

export class ActionPeople {
  private readonly rollbacks: Rollbacks;

  constructor(
    private readonly svc: RemediationService,
    rotations: RotationRunner | null = null,
  ) {
    this.rollbacks = new Rollbacks(svc, rotations);
  }

  async load(id: string): Promise<ActionRecord> {
    const r = await this.svc.store.get(id);
    if (!r) throw new CwError(ErrorCodes.NOT_FOUND, `no action ${id} (see \`credwarden actions list\`)`);
    return r;
  }

  /** The time an approval asked for at `askedAt` lapses, and whether it has. */
  private lapse(askedAt: string | undefined): { until: Date; lapsed: boolean } | null {
    if (!askedAt) return null;
    const hours = this.svc.d.config.approvals.expiresHours;
    const until = new Date(Date.parse(askedAt) + hours * 3_600_000);
    return { until, lapsed: this.svc.d.clock.now().getTime() > until.getTime() };
  }

  /** A rollback request that approve and deny act on: asked, not denied, not run, not expired. */
  private pendingRollback(r: ActionRecord): NonNullable<ActionRecord['rollbackRequest']> | null {
    const q = r.rollbackRequest;
    if (!q || q.denial || r.state === 'rolled-back') return null;
    return this.lapse(q.at)?.lapsed ? null : q;
  }

  async approve(id: string, by: string, decided: Decided = CLI): Promise<ActionRecord> {
    const r = await this.load(id);
    if (r.state !== 'awaiting-approval') {
      if (this.pendingRollback(r)) return this.approveRollback(r, by, decided);
      throw refuse(`action ${id} is ${r.state}, not awaiting approval`);
    }
    const lapse = this.lapse(r.approvalRequestedAt);
    if (lapse?.lapsed)
      throw refuse(
        `action ${id}: the approval request expired at ${lapse.until.toISOString()} (${this.svc.d.config.approvals.expiresHours} h after it was asked); the next scan asks again`,
      );
    if (r.plan.requestedBy === by)
      throw refuse(
        `action ${id} is the request of ${by} (policy ${r.plan.policy} enforcedBy): whoever asked for an action may not approve it`,
      );
    if (r.approvals.some((a) => a.by === by))
      throw refuse(`action ${id} is already approved by ${by}: a second approver must be someone else`);
    const { store, d } = { store: this.svc.store, d: this.svc.d };
    const at = d.clock.now().toISOString();
    const { appended } = await d.audit.record({
      type: 'approval.granted',
      actor: by,
      subject: r.plan.target.credentialId,
      data: {
        planId: id,
        action: r.plan.action,
        approvals: r.approvals.length + 1,
        needed: d.config.approvals.approvers,
        ...how(decided),
      },
      idempotencyKey: `${id}/approval/${r.attempt}/${by}`,
      effects: [{ op: 'hset', key: store.keys.approvals(id), field: by, value: at }],
    });
    if (!appended) throw refuse(`action ${id} is already approved by ${by}`);
    const count = await d.redis.hlen(store.keys.approvals(id));
    if (count >= d.config.approvals.approvers) {
      const note = `approved by ${count} (${(await d.redis.hkeys(store.keys.approvals(id))).sort().join(', ')})`;
      await d.audit.append({
        type: 'action.planned',
        actor: by,
        subject: r.plan.target.credentialId,
        data: {
          planId: id,
          action: r.plan.action,
          policy: r.plan.policy,
          decision: 'allow',
          state: 'queued',
          reasons: [{ guard: 'approval', code: 'approved', message: note }],
        },
        idempotencyKey: `${id}/approved/${r.attempt}`,
        effects: store.patchEffects(id, { state: 'queued', ...queuedPatch(r) }, at, note),
      });
      if ((await store.state(id)) === 'queued') await this.svc.enqueue([id]);
    }
    return this.load(id);
  }

  async deny(id: string, by: string, reason = 'denied', decided: Decided = CLI): Promise<ActionRecord> {
    const r = await this.load(id);
    const { store, d } = { store: this.svc.store, d: this.svc.d };
    const at = d.clock.now().toISOString();
    const pending = r.state === 'awaiting-approval' ? null : this.pendingRollback(r);
    if (pending) {
      await d.audit.append({
        type: 'approval.denied',
        actor: by,
        subject: r.plan.target.credentialId,
        data: { planId: id, action: r.plan.action, for: 'rollback', requestedBy: pending.by, ...how(decided), reason },
        idempotencyKey: `${id}/rollback-denied/${pending.at}`,
        effects: store.patchEffects(
          id,
          { rollbackRequest: { ...pending, denial: { by, at, reason } } },
          at,
          `rollback denied by ${by}: ${reason}`,
        ),
      });
      return this.load(id);
    }
    if (r.state !== 'awaiting-approval') throw refuse(`action ${id} is ${r.state}, not awaiting approval`);
    await d.audit.append({
      type: 'approval.denied',
      actor: by,
      subject: r.plan.target.credentialId,
      data: { planId: id, action: r.plan.action, ...how(decided), reason },
      idempotencyKey: `${id}/denied/${r.attempt}`,
      effects: store.patchEffects(
        id,
        { state: 'denied', denial: { by, at, reason } },
        at,
        `denied by ${by}: ${reason}`,
      ),
    });
    return this.load(id);
  }

  /**
   * Roll an action back, or ask for it when the action's class needs approval (the record's
   * `rollbackRequest` says so; the rollback runs when others approve).
   */
  async rollback(id: string, by: string, decided: Decided = CLI): Promise<ActionRecord> {
    const r = await this.load(id);
    const { d, store } = { d: this.svc.d, store: this.svc.store };
    if (!approvalRequired(r.plan, d.config)) return this.rollbacks.run(r, by);
    const problem = this.rollbacks.refusal(r);
    if (problem) throw refuse(problem);
    const q = r.rollbackRequest;
    if (q?.denial)
      throw refuse(`action ${id}: its rollback was denied by ${q.denial.by} (${q.denial.reason}); a denial is final`);
    const pending = this.pendingRollback(r);
    if (pending)
      throw refuse(
        `action ${id}: ${pending.by} asked for its rollback at ${pending.at}; it runs when ${d.config.approvals.approvers} other approver(s) approve it`,
      );
    const at = d.clock.now().toISOString();
    await d.audit.append({
      type: 'action.rollback-requested',
      actor: by,
      subject: r.plan.target.credentialId,
      data: { planId: id, action: r.plan.action, needed: d.config.approvals.approvers, ...how(decided) },
      idempotencyKey: `${id}/rollback-requested/${at}/${by}`,
      effects: [
        { op: 'del', key: store.keys.rollbackApprovals(id) },
        ...store.patchEffects(id, { rollbackRequest: { by, at } }, at, `rollback asked for by ${by}`),
      ],
    });
    return this.load(id);
  }

  private async approveRollback(r: ActionRecord, by: string, decided: Decided): Promise<ActionRecord> {
    const id = r.plan.id;
    const q = r.rollbackRequest!;
    const { d, store } = { d: this.svc.d, store: this.svc.store };
    if (q.by === by) throw refuse(`action ${id}: ${by} asked for this rollback and may not approve it`);
    if ((r.rollbackApprovals ?? []).some((a) => a.by === by))
      throw refuse(`action ${id}: the rollback is already approved by ${by}: a second approver must be someone else`);
    const problem = this.rollbacks.refusal(r);
    if (problem) throw refuse(problem);
    const { appended } = await d.audit.record({
      type: 'approval.granted',
      actor: by,
      subject: r.plan.target.credentialId,
      data: {
        planId: id,
        action: r.plan.action,
        for: 'rollback',
        requestedBy: q.by,
        approvals: (r.rollbackApprovals ?? []).length + 1,
        needed: d.config.approvals.approvers,
        ...how(decided),
      },
      idempotencyKey: `${id}/rollback-approval/${q.at}/${by}`,
      effects: [{ op: 'hset', key: store.keys.rollbackApprovals(id), field: by, value: d.clock.now().toISOString() }],
    });
    if (!appended) throw refuse(`action ${id}: the rollback is already approved by ${by}`);
    const approvers = (await d.redis.hkeys(store.keys.rollbackApprovals(id))).sort();
    if (approvers.length < d.config.approvals.approvers) return this.load(id);
    return this.rollbacks.run(await this.load(id), q.by, approvers);
  }
}
