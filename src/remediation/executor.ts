/**
 * Remediation, the acting half: one `remediate/<plan id>` job runs one action, in this order
 * (DESIGN flow and invariants 3, 4 and 6):
 *   1. the intent event, durably (no intent, no action; one per plan, whatever the retries);
 *   2. the kill switch and the breaker, read now; the change window;
 *   3. the rate and cooldown slot, reserved by plan id (a retry finds its own);
 *   4. the target's live state: already as the action leaves it → "already done", no call;
 *   5. the live re-check (live-check.ts): present, the same principal, the policy still hits;
 *   6. the action's own refusal (delete-key on an active key, a foreign quarantine policy);
 *   7. `action.checked` with the pre-state (what rollback restores), then the kill switch again;
 *   8. the one backend call, then the read-back and verify;
 *   9. the result event with pre- and post-state, the cooldown/afterDays bookkeeping, the
 *      breaker's count.
 * A worker killed anywhere leaves a record the retry finishes: after 1 the intent is not
 * repeated; after 7 the recorded pre-state is kept (the target may already be changed); after 8
 * step 4 sees the change and records "already done" with the pre-state from 7.
 */
import { actionTypes, getActionType } from '../actions/index.js';
import { CwError, describeError, ErrorCodes } from '../errors.js';
import type { ActionRecord, ActionResult, ActionState, TargetState } from '../model/action.js';
import type { Effect } from '../util/effects.js';
import { Lease } from '../util/lease.js';
import { windowState } from './guard.js';
import { liveCheck } from './live-check.js';
import { type Announce, RotationRunner } from './rotation-runner.js';
import type { RemediationService } from './service.js';

const STATE_OF = {
  done: 'done',
  'already-done': 'done',
  cancelled: 'cancelled',
  failed: 'failed',
  held: 'held',
} as const satisfies Record<ActionResult['outcome'], ActionState>;

export class ActionExecutor {
  readonly rotations: RotationRunner;

  constructor(
    private readonly svc: RemediationService,
    opts: { announce?: Announce; sleep?: (ms: number) => Promise<void> } = {},
  ) {
    this.rotations = new RotationRunner(
      svc,
      (rec, r, effects) => this.finish(rec, r, rec.preState ?? null, null, r.outcome !== 'held', effects),
      opts.announce ?? null,
      opts.sleep,
    );
  }

  private get d() {
    return this.svc.d;
  }

  private now = () => this.d.clock.now().toISOString();

  /**
   * Runs one attempt of the action. A permanent error once the intent is recorded (a denied read,
   * a remediation role that cannot act in the account, a live re-check that cannot run) ends the
   * attempt as failed with its reason, counted by the breaker, instead of leaving the record
   * `running` with no result; a transient error is thrown, for the job's retry.
   */
  async execute(planId: string): Promise<ActionRecord> {
    // One execution of a plan at a time, across workers: a job whose BullMQ lock lapsed (a stalled
    // event loop) and was handed to another worker must not run the backend call twice. The lease
    // renews while this runs and lapses soon after a holder dies; a second runner gets a retryable
    // error and its job tries again later, when the record says what the first one did.
    const lease = await Lease.acquire(this.d.redis, this.svc.store.keys.lock(planId), {
      ttlMs: this.d.leaseMs ?? 30_000,
      waitMs: 0,
      what: `action ${planId}`,
    });
    try {
      return await this.attempt(planId);
    } catch (err) {
      if (!(err instanceof CwError) || err.retryable) throw err;
      const rec = await this.svc.store.get(planId);
      if (rec?.state !== 'running') throw err;
      return this.finish(rec, { outcome: 'failed', detail: describeError(err) }, rec.preState ?? null, null, true);
    } finally {
      await lease.release();
    }
  }

  /**
   * The job gave up (its last attempt failed on a transient error): a record still queued or
   * running is finished as failed with that reason, so nothing stays `running` with no result.
   */
  async abandon(planId: string, reason: string): Promise<ActionRecord | null> {
    const rec = await this.svc.store.get(planId);
    if (!rec || (rec.state !== 'running' && rec.state !== 'queued')) return rec;
    // A rotation under way is not failed for a transient error: both credentials still work, and
    // it looks again later (a failed rotation would strand a delivered key).
    if (rec.rotation) return this.rotations.park(rec, `the job gave up for now: ${reason}`);
    return this.finish(
      rec,
      { outcome: 'failed', detail: `gave up after the job's last attempt: ${reason}` },
      rec.preState ?? null,
      null,
      true,
    );
  }

  private async attempt(planId: string): Promise<ActionRecord> {
    const store = this.svc.store;
    const rec = await store.get(planId);
    if (!rec) throw new CwError(ErrorCodes.INPUT, `no action ${planId}`);
    if (rec.state !== 'queued' && rec.state !== 'running' && rec.state !== 'in-progress') return rec;
    const { plan } = rec;
    const type = getActionType(plan.action);
    if (!type)
      return this.finish(rec, { outcome: 'failed', detail: `unknown action ${plan.action}` }, null, null, false);
    // A rotation that started goes on from its progress: each step has its own intent and checks.
    if (rec.rotation) return this.rotations.run(rec);
    if (rec.state === 'in-progress') return rec;

    // 1. Intent, before anything is touched.
    await this.d.audit.append({
      type: 'action.intent',
      actor: 'credwarden',
      subject: plan.target.credentialId,
      data: {
        planId,
        attempt: rec.attempt,
        action: plan.action,
        policy: plan.policy,
        target: plan.target.identity,
        scanId: plan.scanId,
      },
      idempotencyKey: `${planId}/intent/${rec.attempt}`,
      effects: store.patchEffects(planId, { state: 'running' }, this.now(), 'intent recorded'),
    });

    // 2. Kill switch, breaker, window.
    const hold = await this.stopReason();
    if (hold) return this.hold(rec, hold);

    // 3. Rate and cooldown.
    const slot = await this.svc.controls.reserve(planId, plan.target.credentialId);
    if (!slot.ok) return this.hold(rec, slot.reason);

    // 4. Already done?
    const before = await type.inspect(plan, this.d.ports);
    const recorded = (await store.get(planId))?.preState ?? null;
    if (type.isDone(plan, before)) {
      // With this attempt's own pre-state recorded (action.checked), the change is credwarden's:
      // it was made after the live re-check and the worker died before the result.
      const ours = recorded !== null;
      const detail = ours
        ? 'done before a restart: the change made after the live re-check is read back now'
        : 'the target was already in the state this action leaves it in';
      return this.finish(rec, { outcome: ours ? 'done' : 'already-done', detail }, recorded ?? before, before, true);
    }

    // 5. Live re-check.
    const inventory = await this.d.scans.currentInventory();
    const check = await liveCheck(plan, this.svc.policy(plan.policy), inventory, this.d);
    if (!check.ok)
      return this.finish(
        rec,
        { outcome: check.outcome, detail: `${check.code}: ${check.reason}` },
        before,
        before,
        check.outcome === 'failed',
      );

    // 6. The action's own refusal.
    const doneBy = await this.svc.store.doneByAll(
      plan.target.credentialId,
      actionTypes().map((a) => a.name),
    );
    const refusal = type.refuse(plan, before, { now: this.d.clock.now(), lastDoneBy: (a) => doneBy.get(a) ?? null });
    if (refusal)
      return this.finish(rec, { outcome: 'cancelled', detail: `refused: ${refusal}` }, before, before, false);

    // 7. The pre-state, then the kill switch once more.
    const preState = recorded ?? before;
    await this.d.audit.append({
      type: 'action.checked',
      actor: 'credwarden',
      subject: plan.target.credentialId,
      data: { planId, checkedAt: check.checkedAt, policyHits: check.hits, preState },
      idempotencyKey: `${planId}/checked/${rec.attempt}`,
      effects: store.patchEffects(planId, { preState }, this.now(), 'live re-check passed'),
    });
    const late = await this.stopReason();
    if (late) return this.hold(rec, late);
    if (type.rotation) return this.rotations.run((await store.get(planId))!);

    // 8. Act, read back, verify.
    try {
      await type.execute(plan, this.d.ports, before);
    } catch (err) {
      if (err instanceof CwError && err.retryable) throw err;
      return this.finish(rec, { outcome: 'failed', detail: (err as Error).message }, preState, null, true);
    }
    const after = await type.inspect(plan, this.d.ports);
    if (!type.verify(plan, after))
      return this.finish(
        rec,
        { outcome: 'failed', detail: 'the read-back does not show the change' },
        preState,
        after,
        true,
      );
    return this.finish(
      rec,
      { outcome: 'done', detail: `${plan.action} on ${plan.target.credentialId}` },
      preState,
      after,
      true,
    );
  }

  private async stopReason(): Promise<string | null> {
    const stop = await this.svc.controls.stopped();
    if (stop) return stop.reason;
    const w = windowState(this.d.config, this.d.clock.now());
    return w.open ? null : (w.reason ?? 'outside the change windows');
  }

  /** Stops without acting; the attempt ends "held" and the next run decides again. */
  private hold(rec: ActionRecord, reason: string): Promise<ActionRecord> {
    this.d.log.warn({ planId: rec.plan.id, reason }, 'action held before acting');
    return this.finish(rec, { outcome: 'held', detail: reason }, null, null, false);
  }

  private async finish(
    rec: ActionRecord,
    r: { outcome: ActionResult['outcome']; detail: string },
    preState: TargetState | null,
    postState: TargetState | null,
    counts: boolean,
    extra: Effect[] = [],
  ): Promise<ActionRecord> {
    const { plan } = rec;
    const at = this.now();
    const result: ActionResult = { outcome: r.outcome, preState, postState, detail: r.detail, at };
    const state = STATE_OF[r.outcome];
    const keys = this.svc.store.keys;
    // A hold at execution replaces the planning decision, so `actions list` shows why it waits.
    const decision =
      r.outcome === 'held'
        ? {
            decision: 'hold' as const,
            reasons: [{ guard: 'executor', code: 'held-at-execution', message: r.detail }],
            decidedAt: at,
          }
        : undefined;
    const effects: Effect[] = [
      ...this.svc.store.patchEffects(plan.id, { state, result, decision }, at, r.detail),
      ...extra,
    ];
    // Only a change credwarden made counts as done by it (delete-key's afterDays runs from it): a
    // target someone else already changed is "already done", not credwarden's.
    if (r.outcome === 'done')
      effects.push({ op: 'hset', key: keys.doneBy(), field: `${plan.target.credentialId}|${plan.action}`, value: at });
    await this.d.audit.append({
      type: 'action.result',
      actor: 'credwarden',
      subject: plan.target.credentialId,
      data: {
        planId: plan.id,
        attempt: rec.attempt,
        action: plan.action,
        outcome: r.outcome,
        detail: r.detail,
        preState,
        postState,
      },
      idempotencyKey: `${plan.id}/result/${rec.attempt}`,
      effects,
    });
    if (counts && r.outcome !== 'already-done') await this.svc.controls.recordOutcome(plan.id, r.outcome !== 'failed');
    this.d.log.info({ planId: plan.id, action: plan.action, outcome: r.outcome }, 'action finished');
    return (await this.svc.store.get(plan.id))!;
  }
}
