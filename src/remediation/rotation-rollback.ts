/**
 * A person's rollback of a rotation, any time before its old credential is deleted: audited as
 * `rotation.rollback.intent` (before the backend is touched) and `.result`, with the person's name;
 * the rotator puts the old credential back in service and in the delivery, then retires the new
 * one; the rotation lets go of its principal and credentials. The caller holds the plan's lease.
 */
import { CwError, ErrorCodes } from '../errors.js';
import type { ActionRecord } from '../model/action.js';
import type { RotationRunner } from './rotation-runner.js';
import type { RemediationService } from './service.js';

export async function rollbackRotation(
  svc: RemediationService,
  runner: Pick<RotationRunner, 'rotator' | 'context' | 'release'>,
  rec: ActionRecord,
  by: string,
): Promise<ActionRecord> {
  const now = () => svc.d.clock.now().toISOString();
  const { rotator, params } = runner.rotator(rec);
  const progress = rec.rotation;
  if (!progress)
    throw new CwError(ErrorCodes.INPUT, `action ${rec.plan.id}: the rotation has not started; nothing to roll back`);
  if (progress.done.some((x) => x.step === 'delete'))
    throw new CwError(
      ErrorCodes.INPUT,
      `action ${rec.plan.id}: the old credential is deleted; a finished rotation cannot be rolled back`,
    );
  const store = svc.store;
  const id = rec.plan.id;
  const tries = progress.tries.rollback ?? 0;
  await svc.d.audit.append({
    type: 'rotation.rollback.intent',
    actor: by,
    subject: rec.plan.target.credentialId,
    data: { planId: id, step: progress.step, newId: progress.newId ?? null },
    idempotencyKey: `${id}/rotation/rollback/${tries + 1}/intent`,
    effects: [
      ...store.patchEffects(
        id,
        {
          rotation: { ...progress, tries: { ...progress.tries, rollback: tries + 1 } },
          rollbackIntentAt: now(),
        },
        now(),
        '',
      ),
    ],
  });
  const ctx = runner.context(rec, params, progress, null);
  const detail = await rotator.rollback(ctx);
  const at = now();
  await svc.d.audit.append({
    type: 'rotation.rollback.result',
    actor: by,
    subject: rec.plan.target.credentialId,
    data: { planId: id, detail },
    idempotencyKey: `${id}/rotation/rollback/${tries + 1}/result`,
    effects: [
      ...store.patchEffects(
        id,
        { state: 'rolled-back', rollback: { by, at, detail } },
        at,
        `rolled back by ${by}: ${detail}`,
      ),
      ...runner.release(rec, progress, rotator),
    ],
  });
  return (await store.get(id))!;
}
