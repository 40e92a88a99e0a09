/**
 * The rotation runner: drives one rotation (an action record whose type has `rotation`) through
 * its rotator's steps (src/rotation/). The executor hands it a record once the start is gated
 * like any action (intent, kill switch, rate slot, live re-check, refusal, pre-state); a woken
 * job hands it a record `in-progress`.
 *
 * Per step attempt: `rotation.<step>.intent` (its effects bump the step's try count, so every
 * attempt is audited once, whatever the retries), the kill switch and the change window, the
 * step, then `rotation.<step>.result` whose effects store the progress. A step that waits
 * (adoption, afterDays, a closed window) leaves the record `in-progress` with `nextAt`, queues a
 * delayed wake-up job and a `P:rot:wakes` entry (the sweep re-queues a lost wake-up). A step
 * that stops ends the rotation failed, with the old credential still in service.
 *
 * Exclusion: one rotation per principal (P:rot:principal) and every credential a rotation holds
 * (the old one and the new one, P:rot:active) is held against any other action by the guard.
 * Within one rotation the executor's per-plan lease keeps it to one runner at a time.
 *
 * The new secret exists only in this process's memory between create and deliver, in one run.
 */
import { getActionType } from '../actions/index.js';
import type { AuditEventType } from '../audit/event-types.js';
import { CwError, describeError, ErrorCodes } from '../errors.js';
import type { ActionRecord, ActionResult } from '../model/action.js';
import type { RotationProgress, RotationStep } from '../model/rotation.js';
import { awsKeyRotator } from '../rotation/aws-key.rotator.js';
import { advance } from '../rotation/progress.js';
import type { RotateParams, Rotator, StepContext, StepOutcome } from '../rotation/rotator.js';
import { secretIdRotator } from '../rotation/secret-id.rotator.js';
import { retireUndelivered } from '../rotation/steps.js';
import { tokenRotator } from '../rotation/token.rotator.js';
import type { Effect } from '../util/effects.js';
import type { Secret } from '../util/secret.js';
import { windowState } from './guard.js';
import { rollbackRotation } from './rotation-rollback.js';
import type { RemediationService } from './service.js';

const ROTATORS: ReadonlyMap<RotationProgress['kind'], Rotator> = new Map([
  [awsKeyRotator.kind, awsKeyRotator],
  [secretIdRotator.kind, secretIdRotator],
  [tokenRotator.kind, tokenRotator],
]);

/** How long a rotation stopped by the kill switch, the breaker or a window waits before it looks again. */
const STOPPED_RETRY_MS = 5 * 60_000;
/** How long a rotation waits for another rotation of the same principal. */
const BUSY_RETRY_MS = 15 * 60_000;

export type FinishRotation = (
  rec: ActionRecord,
  r: { outcome: ActionResult['outcome']; detail: string },
  effects: Effect[],
) => Promise<ActionRecord>;

/** Announces a delivery to a webhook target (wired by main.ts; absent: webhook targets fail). */
export type Announce = (rec: ActionRecord, version: number) => Promise<void>;

export const rotatorFor = (kind: RotationProgress['kind']): Rotator | undefined => ROTATORS.get(kind);

export class RotationRunner {
  constructor(
    private readonly svc: RemediationService,
    private readonly finish: FinishRotation,
    private readonly announce: Announce | null = null,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
  ) {}

  private get d() {
    return this.svc.d;
  }

  private now = () => this.d.clock.now().toISOString();

  private principalKey(rec: ActionRecord): string {
    return `${rec.plan.target.source}|${rec.plan.target.principal}`;
  }

  rotator(rec: ActionRecord): { rotator: Rotator; params: RotateParams } {
    const type = getActionType(rec.plan.action);
    const rotator = type?.rotation ? ROTATORS.get(type.rotation) : undefined;
    if (!type || !rotator)
      throw new CwError(ErrorCodes.INTERNAL, `action ${rec.plan.id}: ${rec.plan.action} is not a rotation`);
    return { rotator, params: type.schema.parse(rec.plan.params) as RotateParams };
  }

  /** Runs the rotation's steps until it waits, stops or completes. */
  async run(start: ActionRecord): Promise<ActionRecord> {
    const { rotator, params } = this.rotator(start);
    const store = this.svc.store;
    const id = start.plan.id;
    if (!start.plan.delivery)
      return this.finish(
        start,
        { outcome: 'failed', detail: 'no delivery target: a rotation never creates a credential nobody can read' },
        [],
      );
    let progress: RotationProgress = start.rotation ?? {
      kind: rotator.kind,
      step: rotator.steps[0]!,
      done: [],
      tries: {},
      delivery: start.plan.delivery,
      orphans: [],
    };

    // One rotation per principal: a second one waits for the first to end.
    const pkey = this.principalKey(start);
    await this.d.redis.hsetnx(store.keys.rotatingPrincipal(), pkey, id);
    const holder = await this.d.redis.hget(store.keys.rotatingPrincipal(), pkey);
    if (holder !== id) {
      const other = holder ? await store.state(holder) : null;
      if (holder && other && ['queued', 'running', 'in-progress'].includes(other))
        return this.wait(
          start,
          progress,
          `another rotation of ${start.plan.target.principal} (${holder}) is in progress`,
          this.d.clock.now().getTime() + BUSY_RETRY_MS,
          'prepare',
        );
      // A stale holder (ended without releasing): take over.
      await this.d.redis.hset(store.keys.rotatingPrincipal(), pkey, id);
    }
    await this.d.redis.hset(store.keys.rotating(), start.plan.target.credentialId, id);

    let secret: Secret | null = null;
    let rec = start;
    while (progress.step !== 'complete') {
      const step: RotationStep = progress.step;
      const stop = await this.stopReason();
      if (stop) return this.wait(rec, progress, stop, this.d.clock.now().getTime() + STOPPED_RETRY_MS, step);
      const tries = (progress.tries[step] ?? 0) + 1;
      progress = { ...progress, tries: { ...progress.tries, [step]: tries }, waiting: undefined };
      const base = `${id}/rotation/${step}/${tries}`;
      await this.d.audit.append({
        type: `rotation.${step}.intent` as AuditEventType,
        actor: 'credwarden',
        subject: rec.plan.target.credentialId,
        data: { planId: id, step, try: tries, target: rec.plan.target.identity, newId: progress.newId ?? null },
        idempotencyKey: `${base}/intent`,
        effects: store.patchEffects(id, { state: 'running', rotation: progress }, this.now(), `${step}: started`),
      });
      let checkpoints = 0;
      const ctx: StepContext = this.context(rec, params, progress, secret, {
        checkpoint: async (patch, note) => {
          progress = { ...progress, ...patch };
          ctx.progress = progress;
          checkpoints++;
          await this.d.audit.append({
            type: `rotation.${step}.checkpoint` as AuditEventType,
            actor: 'credwarden',
            subject: rec.plan.target.credentialId,
            data: { planId: id, step, try: tries, note, ...patch },
            idempotencyKey: `${base}/checkpoint/${checkpoints}`,
            effects: store.patchEffects(id, { rotation: progress }, this.now(), ''),
          });
        },
        announce: async (version) => {
          if (progress.delivery.type !== 'webhook') return;
          if (!this.announce) throw new CwError(ErrorCodes.CONFIG, 'webhook delivery is not wired in this process');
          await this.announce(rec, version);
        },
      });
      let outcome: StepOutcome;
      try {
        outcome = await rotator.run(step, ctx);
      } catch (err) {
        if (err instanceof CwError && err.retryable) throw err;
        outcome = await this.stopAfterError(ctx, rotator, step, progress, err);
      }
      const at = this.now();
      const extra: Effect[] = [];
      progress = advance(progress, rotator.steps, step, outcome, at);
      // The secret lives from create to deliver, no longer.
      secret = outcome.kind === 'next' ? (outcome.secret ?? null) : null;
      const state: ActionRecord['state'] = outcome.kind === 'wait' ? 'in-progress' : 'running';
      if (outcome.kind === 'wait')
        extra.push({ op: 'zadd', key: store.keys.wakes(), member: id, score: outcome.until.getTime() });
      if (outcome.kind === 'next' && step === 'create' && progress.newId) {
        extra.push({ op: 'hset', key: store.keys.made(), field: progress.newId, value: id });
        extra.push({
          op: 'hset',
          key: store.keys.rotating(),
          field: rotator.credentialIdOf(rec.plan, progress.newId),
          value: id,
        });
      }
      await this.d.audit.append({
        type: `rotation.${step}.result` as AuditEventType,
        actor: 'credwarden',
        subject: rec.plan.target.credentialId,
        data: {
          planId: id,
          step,
          try: tries,
          outcome: outcome.kind,
          detail: outcome.detail,
          newId: progress.newId ?? null,
        },
        idempotencyKey: `${base}/result`,
        effects: [
          ...store.patchEffects(id, { state, rotation: progress }, at, `${step}: ${outcome.kind}: ${outcome.detail}`),
          ...extra,
        ],
      });
      rec = (await store.get(id))!;
      if (outcome.kind === 'wait') {
        await this.svc.enqueueWake(id, outcome.until.getTime());
        return rec;
      }
      if (outcome.kind === 'stop')
        return this.finish(
          rec,
          { outcome: 'failed', detail: `rotation stopped at ${step}: ${outcome.detail}` },
          this.release(rec, progress, rotator),
        );
    }
    const summary = progress.done.map((x) => `${x.step}: ${x.detail}`).join('; ');
    return this.finish(rec, { outcome: 'done', detail: `rotated: ${summary}` }, this.release(rec, progress, rotator));
  }

  /**
   * A step that failed for good stops the rotation. Invariant 7: a new credential that never
   * reached the delivery has a secret nobody holds once this process lets go of it, so it is
   * retired first.
   */
  private async stopAfterError(
    ctx: StepContext,
    rotator: Rotator,
    step: RotationStep,
    progress: RotationProgress,
    err: unknown,
  ): Promise<StepOutcome> {
    const detail = `${step} failed: ${describeError(err)}`;
    const orphan = progress.newId && !progress.delivered ? progress.newId : null;
    if (!orphan) return { kind: 'stop', detail };
    const note = await retireUndelivered(
      ctx,
      rotator.ops,
      orphan,
      `the rotation stopped at ${step} before delivering it`,
    ).catch((e: unknown) => `could not retire ${orphan} (${describeError(e)}): retire it by hand`);
    return { kind: 'stop', detail: `${detail}; ${note}`, patch: { orphans: [...progress.orphans, orphan] } };
  }

  /** Effects that let go of the principal and the credentials once a rotation ends. */
  release(rec: ActionRecord, progress: RotationProgress, rotator: Rotator): Effect[] {
    const keys = this.svc.store.keys;
    const out: Effect[] = [
      { op: 'hdel', key: keys.rotatingPrincipal(), field: this.principalKey(rec) },
      { op: 'hdel', key: keys.rotating(), field: rec.plan.target.credentialId },
    ];
    for (const n of [progress.newId, ...progress.orphans])
      if (n) out.push({ op: 'hdel', key: keys.rotating(), field: rotator.credentialIdOf(rec.plan, n) });
    return out;
  }

  /** A step's context; `hooks` replace the no-op checkpoint and announcement (rollback keeps them). */
  context(
    rec: ActionRecord,
    params: RotateParams,
    progress: RotationProgress,
    secret: Secret | null,
    hooks: Partial<Pick<StepContext, 'checkpoint' | 'announce'>> = {},
  ): StepContext {
    return {
      plan: rec.plan,
      progress,
      params,
      ports: this.d.ports,
      now: () => this.d.clock.now(),
      secret,
      madeByCredwarden: async (cid) => (await this.d.redis.hget(this.svc.store.keys.made(), cid)) !== null,
      checkpoint: async () => {},
      announce: async () => {},
      sleep: this.sleep,
      ...hooks,
    };
  }

  /** Leaves a rotation in progress, to be looked at again later (a job that gave up on a transient error). */
  park(rec: ActionRecord, reason: string): Promise<ActionRecord> {
    const progress = rec.rotation!;
    const step = progress.step === 'complete' ? 'delete' : progress.step;
    return this.wait(rec, progress, reason, this.d.clock.now().getTime() + BUSY_RETRY_MS, step);
  }

  private async wait(
    rec: ActionRecord,
    progress: RotationProgress,
    reason: string,
    atMs: number,
    step: RotationStep,
  ): Promise<ActionRecord> {
    const store = this.svc.store;
    const at = this.now();
    const next = { ...progress, nextAt: new Date(atMs).toISOString(), waiting: reason };
    await this.d.audit.append({
      type: `rotation.${step}.result` as AuditEventType,
      actor: 'credwarden',
      subject: rec.plan.target.credentialId,
      data: { planId: rec.plan.id, step, outcome: 'wait', detail: reason, nextAt: next.nextAt },
      idempotencyKey: `${rec.plan.id}/rotation/${step}/${progress.tries[step] ?? 0}/held/${atMs}`,
      effects: [
        ...store.patchEffects(rec.plan.id, { state: 'in-progress', rotation: next }, at, `waiting: ${reason}`),
        { op: 'zadd', key: store.keys.wakes(), member: rec.plan.id, score: atMs },
      ],
    });
    await this.svc.enqueueWake(rec.plan.id, atMs);
    return (await store.get(rec.plan.id))!;
  }

  private async stopReason(): Promise<string | null> {
    const stop = await this.svc.controls.stopped();
    if (stop) return stop.reason;
    const w = windowState(this.d.config, this.d.clock.now());
    return w.open ? null : (w.reason ?? 'outside the change windows');
  }

  /**
   * Re-queues rotations whose wake-up is due (a delayed job lost with a Redis restore, or a
   * worker down at the time): called after each scan's planning. Entries of rotations that ended
   * are dropped.
   */
  async sweep(): Promise<string[]> {
    const keys = this.svc.store.keys;
    const nowMs = this.d.clock.now().getTime();
    const due = await this.d.redis.zrangebyscore(keys.wakes(), 0, nowMs, 'WITHSCORES');
    const woke: string[] = [];
    for (let i = 0; i < due.length; i += 2) {
      const id = due[i]!;
      const at = Number(due[i + 1]);
      const state = await this.svc.store.state(id);
      if (state !== 'in-progress') {
        await this.d.redis.zrem(keys.wakes(), id);
        continue;
      }
      await this.svc.enqueueWake(id, at);
      woke.push(id);
    }
    return woke;
  }

  /** A person's rollback of a rotation before its old credential is deleted (rotation-rollback.ts). */
  rollback(rec: ActionRecord, by: string): Promise<ActionRecord> {
    return rollbackRotation(this.svc, this, rec, by);
  }
}
