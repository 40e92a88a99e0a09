/**
 * What people do to actions: approve, deny, roll back. Each is audited with the person's name as
 * the actor; each refuses with CW_ERR_GUARDRAIL and one clear reason when it does not apply.
 *
 * - approve: only an action awaiting approval and not expired (`approvals.expiresHours` after it
 *   was asked). One approval per person (the approvals hash has one field per name, so the same
 *   person twice is refused, never counted twice). At `approvals.approvers` distinct names the
 *   action is queued, once (the `approved` event is keyed by the plan and attempt).
 * - deny: an action awaiting approval; settled for good (no later run re-decides it).
 * - rollback: only a reversible action that is done, whose target is as the action left it (the
 *   action's changedSince compares the live state with the recorded post-state); writes
 *   `action.rollback-intent` before the backend call, restores the recorded pre-state, verifies
 *   it, then `action.rolled-back`. A target already back in its pre-state is recorded only when
 *   this rollback's own intent came first (a retry after a crash); otherwise it is refused.
 */
import { getActionType } from '../actions/index.js';
import { CwError, ErrorCodes } from '../errors.js';
import type { ActionRecord } from '../model/action.js';
import { Lease } from '../util/lease.js';
import type { RotationRunner } from './rotation-runner.js';
import { queuedPatch, type RemediationService } from './service.js';

const refuse = (msg: string) => new CwError(ErrorCodes.GUARDRAIL, msg);

export class ActionPeople {
  constructor(
    private readonly svc: RemediationService,
    private readonly rotations: RotationRunner | null = null,
  ) {}

  private async load(id: string): Promise<ActionRecord> {
    const r = await this.svc.store.get(id);
    if (!r) throw new CwError(ErrorCodes.INPUT, `no action ${id} (see \`credwarden actions list\`)`);
    return r;
  }

  private expired(r: ActionRecord): string | null {
    if (!r.approvalRequestedAt) return null;
    const hours = this.svc.d.config.approvals.expiresHours;
    const until = Date.parse(r.approvalRequestedAt) + hours * 3_600_000;
    return this.svc.d.clock.now().getTime() > until
      ? `the approval request expired at ${new Date(until).toISOString()} (${hours} h after it was asked); the next scan asks again`
      : null;
  }

  async approve(id: string, by: string): Promise<ActionRecord> {
    const r = await this.load(id);
    if (r.state !== 'awaiting-approval') throw refuse(`action ${id} is ${r.state}, not awaiting approval`);
    const lapsed = this.expired(r);
    if (lapsed) throw refuse(`action ${id}: ${lapsed}`);
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

  async deny(id: string, by: string, reason = 'denied'): Promise<ActionRecord> {
    const r = await this.load(id);
    if (r.state !== 'awaiting-approval') throw refuse(`action ${id} is ${r.state}, not awaiting approval`);
    const { store, d } = { store: this.svc.store, d: this.svc.d };
    const at = d.clock.now().toISOString();
    await d.audit.append({
      type: 'approval.denied',
      actor: by,
      subject: r.plan.target.credentialId,
      data: { planId: id, action: r.plan.action, reason },
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

  async rollback(id: string, by: string): Promise<ActionRecord> {
    const r = await this.load(id);
    const type = getActionType(r.plan.action);
    if (type?.rotation) return this.rollbackRotation(r, by);
    if (!type?.reversible || !type.rollback || !type.isRolledBack)
      throw refuse(
        `action ${id} (${r.plan.action}) is not reversible: ${type?.docs.split('.')[0] ?? 'unknown action'}`,
      );
    if (r.state !== 'done') throw refuse(`action ${id} is ${r.state}; only a done action can be rolled back`);
    const pre = r.result?.preState ?? r.preState ?? null;
    const post = r.result?.postState ?? null;
    if (!pre || !post) throw refuse(`action ${id} has no recorded pre- and post-state to restore`);
    const { d, store } = { d: this.svc.d, store: this.svc.store };
    const current = await type.inspect(r.plan, d.ports);
    const intent = {
      type: 'action.rollback-intent' as const,
      actor: by,
      subject: r.plan.target.credentialId,
      data: { planId: id, action: r.plan.action, preState: pre },
      idempotencyKey: `${id}/rollback-intent/${r.attempt}`,
      effects: store.patchEffects(
        id,
        { rollbackIntentAt: d.clock.now().toISOString() },
        d.clock.now().toISOString(),
        '',
      ),
    };
    // Only a rollback whose intent was already recorded (an earlier attempt that died after its
    // backend call) may find the target restored and just record it; anyone else's restore is
    // refused, never audited as this person's rollback.
    if (type.isRolledBack(r.plan, pre, current)) {
      if (!r.rollbackIntentAt)
        throw refuse(
          `action ${id}: ${r.plan.target.credentialId} is already back in its pre-state (${JSON.stringify(current.facts)}), changed by someone else; nothing to roll back`,
        );
    } else {
      const changed = type.changedSince?.(r.plan, post, current) ?? null;
      if (changed)
        throw refuse(
          `action ${id}: ${r.plan.target.credentialId} changed since the action (${changed}); not rolled back`,
        );
      await d.audit.append(intent);
      await type.rollback(r.plan, d.ports, pre, current);
    }
    const after = await type.inspect(r.plan, d.ports);
    if (!type.isRolledBack(r.plan, pre, after))
      throw new CwError(
        ErrorCodes.INTERNAL,
        `action ${id}: the rollback did not restore the pre-state (read back: ${JSON.stringify(after.facts)})`,
      );
    const at = d.clock.now().toISOString();
    const detail = `restored ${JSON.stringify(pre.facts)}`;
    await d.audit.append({
      type: 'action.rolled-back',
      actor: by,
      subject: r.plan.target.credentialId,
      data: { planId: id, action: r.plan.action, preState: pre, restored: after },
      idempotencyKey: `${id}/rolled-back/${r.attempt}`,
      effects: [
        ...store.patchEffects(id, { state: 'rolled-back', rollback: { by, at, detail } }, at, `rolled back by ${by}`),
        { op: 'hdel', key: store.keys.doneBy(), field: `${r.plan.target.credentialId}|${r.plan.action}` },
      ],
    });
    return this.load(id);
  }

  /**
   * A rotation is rolled back while it is in progress or after it stopped, until the old
   * credential is deleted: the old one back in service and in the delivery, the new one retired.
   * It holds the plan's execution lease, so no step runs meanwhile.
   */
  private async rollbackRotation(r: ActionRecord, by: string): Promise<ActionRecord> {
    if (!this.rotations) throw new CwError(ErrorCodes.INTERNAL, 'rotation rollback is not wired in this process');
    if (!['in-progress', 'failed', 'held', 'running'].includes(r.state) || !r.rotation)
      throw refuse(
        `action ${r.plan.id} is ${r.state}; a rotation is rolled back while in progress or after it stopped, before the old credential is deleted`,
      );
    const lease = await Lease.acquire(this.svc.d.redis, this.svc.store.keys.lock(r.plan.id), {
      ttlMs: this.svc.d.leaseMs ?? 30_000,
      waitMs: 0,
      what: `action ${r.plan.id}`,
    });
    try {
      const fresh = await this.load(r.plan.id);
      try {
        return await this.rotations.rollback(fresh, by);
      } catch (err) {
        if (err instanceof CwError) throw err;
        throw refuse(`action ${r.plan.id}: rollback stopped: ${(err as Error).message}`);
      }
    } finally {
      await lease.release();
    }
  }
}
