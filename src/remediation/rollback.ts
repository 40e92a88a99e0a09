/**
 * Rolling an action back (people.ts decides when; this runs it):
 *
 * - a reversible action that is done, whose target is as the action left it (the action's
 *   changedSince compares the live state with the recorded post-state): writes
 *   `action.rollback-intent` before the backend call, restores the recorded pre-state, verifies it,
 *   then `action.rolled-back`. A target already back in its pre-state is recorded only when this
 *   rollback's own intent came first (a retry after a crash); otherwise it is refused.
 * - a rotation in progress or stopped, before the old credential is deleted: under the plan's
 *   execution lease, so no step runs meanwhile (rotation-rollback.ts).
 */
import { getActionType } from '../actions/index.js';
import { CwError, ErrorCodes } from '../errors.js';
import type { ActionRecord } from '../model/action.js';
import { Lease } from '../util/lease.js';
import type { RotationRunner } from './rotation-runner.js';
import type { RemediationService } from './service.js';

const refuse = (msg: string) => new CwError(ErrorCodes.GUARDRAIL, msg);

export class Rollbacks {
  constructor(
    private readonly svc: RemediationService,
    private readonly rotations: RotationRunner | null = null,
  ) {}

  /**
   * Why this record cannot be rolled back now, or null: checked when a rollback is asked for
   * (so a request that could never run is refused at once) and again when it runs.
   */
  refusal(r: ActionRecord): string | null {
    const id = r.plan.id;
    const type = getActionType(r.plan.action);
    if (type?.rotation)
      return ['in-progress', 'failed', 'held', 'running'].includes(r.state) && r.rotation
        ? null
        : `action ${id} is ${r.state}; a rotation is rolled back while in progress or after it stopped, before the old credential is deleted`;
    if (!type?.reversible || !type.rollback || !type.isRolledBack)
      return `action ${id} (${r.plan.action}) is not reversible: ${type?.docs.split('.')[0] ?? 'unknown action'}`;
    if (r.state !== 'done') return `action ${id} is ${r.state}; only a done action can be rolled back`;
    if (!(r.result?.preState ?? r.preState) || !r.result?.postState)
      return `action ${id} has no recorded pre- and post-state to restore`;
    return null;
  }

  /**
   * Roll back now, as `by` (the person who asked); `approvedBy` when others approved it. Under
   * the plan's execution lease, on the record as it is once the lease is held: two approvals
   * landing together, or a CLI and an API caller, run one rollback and the other is refused.
   */
  async run(r: ActionRecord, by: string, approvedBy: readonly string[] = []): Promise<ActionRecord> {
    const type = getActionType(r.plan.action);
    if (type?.rotation) {
      const problem = this.refusal(r);
      if (problem) throw refuse(problem);
      return this.rollbackRotation(r, by);
    }
    const lease = await Lease.acquire(this.svc.d.redis, this.svc.store.keys.lock(r.plan.id), {
      ttlMs: this.svc.d.leaseMs ?? 30_000,
      waitMs: 10_000,
      what: `action ${r.plan.id}`,
    });
    try {
      const fresh = await this.svc.store.get(r.plan.id);
      if (!fresh) throw new CwError(ErrorCodes.NOT_FOUND, `no action ${r.plan.id}`);
      return await this.restore(fresh, by, approvedBy);
    } finally {
      await lease.release();
    }
  }

  private async restore(r: ActionRecord, by: string, approvedBy: readonly string[]): Promise<ActionRecord> {
    const id = r.plan.id;
    const problem = this.refusal(r);
    if (problem) throw refuse(problem);
    const type = getActionType(r.plan.action)!;
    if (!type.rollback || !type.isRolledBack) throw refuse(`action ${id} is not reversible`);
    const pre = (r.result?.preState ?? r.preState)!;
    const post = r.result!.postState!;
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
      data: {
        planId: id,
        action: r.plan.action,
        preState: pre,
        restored: after,
        ...(approvedBy.length ? { approvedBy: [...approvedBy] } : {}),
      },
      idempotencyKey: `${id}/rolled-back/${r.attempt}`,
      effects: [
        ...store.patchEffects(id, { state: 'rolled-back', rollback: { by, at, detail } }, at, `rolled back by ${by}`),
        { op: 'hdel', key: store.keys.doneBy(), field: `${r.plan.target.credentialId}|${r.plan.action}` },
      ],
    });
    return (await this.svc.store.get(id))!;
  }

  /**
   * A rotation is rolled back while it is in progress or after it stopped, until the old
   * credential is deleted: the old one back in service and in the delivery, the new one retired.
   * It holds the plan's execution lease, so no step runs meanwhile.
   */
  private async rollbackRotation(r: ActionRecord, by: string): Promise<ActionRecord> {
    if (!this.rotations) throw new CwError(ErrorCodes.INTERNAL, 'rotation rollback is not wired in this process');
    const lease = await Lease.acquire(this.svc.d.redis, this.svc.store.keys.lock(r.plan.id), {
      ttlMs: this.svc.d.leaseMs ?? 30_000,
      waitMs: 0,
      what: `action ${r.plan.id}`,
    });
    try {
      const fresh = await this.svc.store.get(r.plan.id);
      if (!fresh) throw new CwError(ErrorCodes.NOT_FOUND, `no action ${r.plan.id}`);
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
