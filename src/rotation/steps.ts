/**
 * The steps every rotator runs the same way, over its own CredentialOps: the delivery (prove the
 * new credential, then one check-and-set write), its undo when the delivered credential turns out
 * not to work, and the delivery half of a rollback. What differs per kind (how a credential is
 * retired, how it is proven) is in the rotator; what must never differ (a new credential is
 * delivered only once proven, a concurrent writer is never overwritten, a lost secret is retired,
 * rollback writes only over credwarden's own version) is here, once.
 */
import type { RotationProgress } from '../model/rotation.js';
import type { Secret } from '../util/secret.js';
import { heldIn, readDelivery, restoreDelivery, writeDelivery } from './delivery.js';
import type { CredentialOps, StepContext, StepOutcome } from './rotator.js';

/**
 * deliver: the new credential is proven, then written over the KV version read in prepare. A
 * resumed run with no secret in memory and no write of this rotation in KV has lost the secret:
 * the credential is retired and the rotation goes back to create.
 */
export async function deliverStep(ctx: StepContext, ops: CredentialOps): Promise<StepOutcome> {
  const d = ctx.plan.delivery!;
  const newId = ctx.progress.newId!;
  const before = ctx.progress.kvBefore!;
  const current = await readDelivery(ctx.ports, d);
  const held = heldIn(ops.kind, d, current);
  // A write of ours that a dead worker did not record; announced again (the announcement may not
  // have gone out before the worker died).
  if (current && held.rotation === ctx.plan.id && held.credentialId === newId) {
    await ctx.announce(current.version);
    return {
      kind: 'next',
      detail: `found version ${current.version} already delivered`,
      patch: { delivered: { version: current.version, at: ctx.now().toISOString() } },
    };
  }
  if (!ctx.secret) {
    const r = await ops.retire(ctx, newId, 'its secret was lost before delivery');
    return {
      kind: 'back',
      to: 'create',
      detail: `${r}; creating a new ${ops.noun}`,
      patch: {
        orphans: [...new Set([...ctx.progress.orphans, newId])],
        newId: undefined,
        newCreatedAt: undefined,
      },
    };
  }
  if ((current?.version ?? 0) !== before.version) {
    const r = await ops.retire(ctx, newId, 'not delivered: the delivery secret changed');
    return {
      kind: 'stop',
      detail: `check-and-set conflict: the delivery secret is at version ${current?.version ?? 0}, not ${before.version} as when the rotation began; someone else wrote it, nothing was overwritten; ${r}`,
    };
  }
  const proof = await ops.prove(ctx, newId, ctx.secret);
  if (!proof.ok) {
    const r = await ops.retire(ctx, newId, 'it never worked');
    return { kind: 'stop', detail: `the new ${ops.noun} ${newId} could not be proven: ${proof.how}; ${r}` };
  }
  const w = await writeDelivery(ctx.ports, ops.kind, d, current, { id: newId, secret: ctx.secret }, ctx.plan.id);
  if ('conflict' in w) {
    const r = await ops.retire(ctx, newId, 'not delivered: check-and-set conflict');
    return {
      kind: 'stop',
      detail: `${w.conflict}: someone else wrote the delivery secret; nothing was overwritten; ${r}`,
    };
  }
  await ctx.announce(w.version);
  return {
    kind: 'next',
    detail: `${proof.how}; delivered ${newId} as version ${w.version}`,
    patch: { delivered: { version: w.version, at: ctx.now().toISOString() } },
  };
}

/**
 * The delivered version as verify reads it back: the secret it holds, or why the step stops (the
 * version no longer holds the new credential).
 */
export async function readDelivered(
  ctx: StepContext,
  ops: CredentialOps,
): Promise<{ secret: Secret; version: number } | { stop: StepOutcome }> {
  const d = ctx.plan.delivery!;
  const newId = ctx.progress.newId!;
  const version = ctx.progress.delivered!.version;
  const held = heldIn(ops.kind, d, await readDelivery(ctx.ports, d, version));
  if (held.credentialId !== newId || !held.secret)
    return {
      stop: {
        kind: 'stop',
        detail: `version ${version} of the delivery secret does not hold ${newId} any more (destroyed?)`,
      },
    };
  return { secret: held.secret, version };
}

/** The delivered credential does not work: the old one goes back into KV (still in service), the new one is retired. */
export async function undoDelivery(ctx: StepContext, ops: CredentialOps, why: string): Promise<StepOutcome> {
  const d = ctx.plan.delivery!;
  const before = ctx.progress.kvBefore!;
  const delivered = ctx.progress.delivered!;
  const old = before.version > 0 ? await readDelivery(ctx.ports, d, before.version) : null;
  if (!old)
    return {
      kind: 'stop',
      detail: `${why}; the delivery secret had no earlier version to restore, so ${ctx.progress.newId} stays in it (nothing better to give the agent)`,
    };
  const w = await restoreDelivery(ctx.ports, d, old, delivered.version);
  if ('conflict' in w)
    return {
      kind: 'stop',
      detail: `${why}; could not restore the old ${ops.noun} in KV (${w.conflict}), so ${ctx.progress.newId} is kept`,
    };
  const r = await ops.retire(ctx, ctx.progress.newId!, why);
  return { kind: 'stop', detail: `${why}; restored the old ${ops.noun} as version ${w.version}; ${r}` };
}

/**
 * The delivery half of a rollback: the old credential's KV version written back as a new
 * version, only over credwarden's own write, and proven from there. Returns the notes and
 * whether the new credential may be retired (not when KV had no earlier version: the new one is
 * then the only credential the agent can read). Throws, naming what to do by hand, otherwise.
 */
export async function rollbackDelivery(
  ctx: StepContext,
  ops: CredentialOps,
  oldId: string,
): Promise<{ notes: string[]; retireNew: boolean }> {
  const p = ctx.progress;
  const d = ctx.plan.delivery!;
  if (!p.delivered) return { notes: [], retireNew: true };
  if (!p.kvBefore || p.kvBefore.version === 0)
    return {
      notes: [`kept ${p.newId}: the delivery had no earlier version, so it is the ${ops.noun} the agent reads`],
      retireNew: false,
    };
  const current = await readDelivery(ctx.ports, d);
  const held = heldIn(ops.kind, d, current);
  if (held.credentialId === oldId) return { notes: [`KV already holds ${oldId}`], retireNew: true };
  if (current?.version !== p.delivered.version || held.rotation !== ctx.plan.id)
    throw new Error(
      `the delivery secret changed after credwarden wrote version ${p.delivered.version} (now ${current?.version ?? 'none'}); restore it by hand`,
    );
  const oldSnap = await readDelivery(ctx.ports, d, p.kvBefore.version);
  if (!oldSnap?.data)
    throw new Error(`version ${p.kvBefore.version} of the delivery secret is deleted or destroyed; restore it by hand`);
  const w = await restoreDelivery(ctx.ports, d, oldSnap, p.delivered.version);
  if ('conflict' in w) throw new Error(`${w.conflict}; restore it by hand`);
  const back = heldIn(ops.kind, d, await readDelivery(ctx.ports, d, w.version));
  const proof = back.secret ? await ops.prove(ctx, oldId, back.secret) : { ok: false, how: `KV holds no ${ops.noun}` };
  if (!proof.ok)
    throw new Error(`the restored ${ops.noun} ${oldId} could not be proven: ${proof.how}; the new one is kept`);
  return { notes: [`restored ${oldId} in KV as version ${w.version}`, proof.how], retireNew: true };
}

/**
 * A rotation that stops with a new credential not recorded as delivered: retired, unless the
 * delivery holds it after all (a write whose worker failed before recording it), in which case
 * it is the credential the agent reads and stays.
 */
export async function retireUndelivered(
  ctx: StepContext,
  ops: CredentialOps,
  id: string,
  why: string,
): Promise<string> {
  const d = ctx.plan.delivery!;
  const snap = await readDelivery(ctx.ports, d);
  const held = heldIn(ops.kind, d, snap);
  if (snap && held.credentialId === id && held.rotation === ctx.plan.id)
    return `kept ${id}: the delivery holds it (version ${snap.version})`;
  return ops.retire(ctx, id, why);
}

/** verify's patch: the adoption deadline from now, and the last uses adopt compares against. */
export function verifiedPatch(
  ctx: StepContext,
  lastUsed: { newAtVerify: string | null; old: string | null } = { newAtVerify: null, old: null },
): Partial<RotationProgress> {
  const now = ctx.now();
  return {
    verifiedAt: now.toISOString(),
    adopt: {
      deadline: new Date(now.getTime() + ctx.params.graceHours * 3_600_000).toISOString(),
      newLastUsedAtVerify: lastUsed.newAtVerify,
      oldLastUsed: lastUsed.old,
      checks: 0,
    },
  };
}

/**
 * adopt for a credential Vault records no use of (a secret ID, a token): the old one goes only
 * once `graceHours` passed, and only while the new one is still there to replace it.
 */
export async function graceAdopt(
  ctx: StepContext,
  ops: CredentialOps,
  oldId: string,
  newStillValid: boolean,
): Promise<StepOutcome> {
  const a = ctx.progress.adopt!;
  const newId = ctx.progress.newId!;
  const checks = a.checks + 1;
  if (!newStillValid)
    return {
      kind: 'stop',
      detail: `the new ${ops.noun} ${newId} is no longer valid (revoked, destroyed or expired); the old one ${oldId} is kept (\`actions rollback\` puts it back in KV)`,
    };
  const now = ctx.now().getTime();
  const deadline = Date.parse(a.deadline);
  if (now >= deadline)
    return {
      kind: 'next',
      detail: `grace of ${ctx.params.graceHours} h elapsed (Vault records no use of a ${ops.noun}); ${newId} is still valid`,
      patch: { adopt: { ...a, checks, observed: 'grace-elapsed' } },
    };
  return {
    kind: 'wait',
    detail: `waiting for the agent to pick up ${newId} (Vault records no use of a ${ops.noun}); grace ends ${a.deadline}`,
    until: new Date(Math.min(deadline, now + Math.max(ctx.params.pollMinutes * 60_000, 1000))),
    patch: { adopt: { ...a, checks } },
  };
}
