/**
 * rotate-key: an IAM access key replaced with no outage (remediation.md §1.3 and §1.4).
 *
 *   prepare     the two-key limit: a second key is deleted only when it is Inactive and credwarden
 *               made it (or the policy's `secondKey: inactive` says any Inactive one); an Active
 *               second key, or a person's, stops the rotation. Reads the delivery's KV version.
 *   create      lists the user's keys (checkpointed), then CreateAccessKey. The secret is held in
 *               memory only. A key found that was not there at the checkpoint is an earlier
 *               attempt's, whose secret died with its worker: it is retired first.
 *   deliver     proves the new key works (STS, retried while IAM propagates), then writes it to KV
 *               with check-and-set over the version read in prepare: the KV path never holds a key
 *               that does not work, and a concurrent writer is detected, never overwritten. With
 *               no secret in memory (a resumed run) and no write of ours in KV, the new key is an
 *               orphan: retired, and the rotation goes back to create.
 *   verify      reads the delivered version back and proves the key in it authenticates as the user.
 *   adopt       waits until the agent uses the new key (its last use moves past the verification)
 *               and the old key's last use stops moving, or until `graceHours` passed.
 *   deactivate  sets the old key Inactive (reversible: `actions rollback`).
 *   delete      after `afterDays`, deletes the old key, if it is still Inactive.
 *
 * Only ever the two exact keys: the old one (the plan's target) and the new one (recorded at
 * creation). The old key is never retired as an orphan, and a key is retired only when the
 * record proves credwarden made it.
 */
import { keyOf } from '../actions/aws-support.js';
import type { ActionPlan } from '../model/action.js';
import { awsAccessKeyId } from '../model/ids.js';
import type { RotationProgress, RotationStep } from '../model/rotation.js';
import type { Secret } from '../util/secret.js';
import { heldIn, readDelivery } from './delivery.js';
import { type CredentialOps, type Rotator, type StepContext, type StepOutcome, until } from './rotator.js';
import { deliverStep, readDelivered, rollbackDelivery, undoDelivery, verifiedPatch } from './steps.js';

const DAY = 86_400_000;

/** Does the ARN name this user in this account (any path)? */
export function arnIsUser(arn: string | null, account: string, userName: string): boolean {
  const m = /^arn:aws[a-z-]*:iam::(\d{12}):user\/(?:.*\/)?([^/]+)$/.exec(arn ?? '');
  return !!m && m[1] === account && m[2] === userName;
}

async function retire(ctx: StepContext, keyId: string, why: string): Promise<string> {
  const { account, userName, accessKeyId: old } = keyOf(ctx.plan);
  // Never the key being rotated: the old key leaves only through deactivate and delete.
  if (keyId === old) throw new Error(`refusing to retire ${keyId}: it is the key being rotated`);
  const k = await ctx.ports.aws.getAccessKey(account, userName, keyId);
  if (!k) return `${keyId} already gone`;
  if (k.status === 'Active') await ctx.ports.aws.updateAccessKey(account, userName, keyId, 'Inactive');
  await ctx.ports.aws.deleteAccessKey(account, userName, keyId);
  return `retired ${keyId} (${why})`;
}

/** The new key works and authenticates as the user: polled while IAM propagates it. */
async function works(ctx: StepContext, keyId: string, secret: Secret): Promise<boolean> {
  const { account, userName } = keyOf(ctx.plan);
  const arn = await until(
    () => ctx.ports.aws.callerArn(account, keyId, secret),
    ctx.params.verifyTimeoutSeconds * 1000,
    ctx.sleep,
  );
  return arnIsUser(arn, account, userName);
}

async function prepare(ctx: StepContext): Promise<StepOutcome> {
  const { account, userName, accessKeyId: old } = keyOf(ctx.plan);
  const keys = await ctx.ports.aws.listAccessKeys(account, userName);
  if (!keys) return { kind: 'stop', detail: `user ${userName} is gone from account ${account}` };
  const mine = keys.find((k) => k.accessKeyId === old);
  if (!mine) return { kind: 'stop', detail: `key ${old} is no longer among the keys of user ${userName}` };
  const newId = ctx.progress.newId;
  const others = keys.filter((k) => k.accessKeyId !== old && k.accessKeyId !== newId);
  let secondKeyDeleted: RotationProgress['secondKeyDeleted'];
  if (others.length > 0) {
    const other = others[0]!;
    const made = await ctx.madeByCredwarden(other.accessKeyId);
    const why = made
      ? 'Inactive and made by an earlier credwarden rotation'
      : 'Inactive, and the policy says secondKey: inactive';
    if (other.status === 'Active')
      return {
        kind: 'stop',
        detail: `user ${userName} already has a second key ${other.accessKeyId} and it is Active; a rotation needs a free key slot (IAM allows two keys per user) and never deletes a key in use`,
      };
    if (!made && ctx.params.secondKey !== 'inactive')
      return {
        kind: 'stop',
        detail: `user ${userName} already has a second key ${other.accessKeyId} (Inactive) that credwarden did not make; credwarden never deletes a key a person made (a policy can allow it with secondKey: inactive)`,
      };
    await ctx.checkpoint(
      { secondKeyDeleted: { id: other.accessKeyId, reason: why } },
      `deleting second key ${other.accessKeyId}: ${why}`,
    );
    await ctx.ports.aws.deleteAccessKey(account, userName, other.accessKeyId);
    secondKeyDeleted = { id: other.accessKeyId, reason: why };
  }
  const kv = await readDelivery(ctx.ports, ctx.plan.delivery!);
  const held = heldIn('aws-key', ctx.plan.delivery!, kv);
  if (kv && held.credentialId !== old && held.rotation !== ctx.plan.id)
    return {
      kind: 'stop',
      detail: `the delivery secret (version ${kv.version}) holds ${held.credentialId ?? 'no access_key_id'}, not the key being rotated (${old}); credwarden will not replace a credential it cannot account for`,
    };
  const kvBefore = ctx.progress.kvBefore ?? { version: kv?.version ?? 0, credentialId: held.credentialId };
  return {
    kind: 'next',
    detail: `key slot free${secondKeyDeleted ? ` (deleted ${secondKeyDeleted.id}: ${secondKeyDeleted.reason})` : ''}; delivery at version ${kvBefore.version}`,
    patch: { kvBefore, ...(secondKeyDeleted ? { secondKeyDeleted } : {}) },
  };
}

async function create(ctx: StepContext): Promise<StepOutcome> {
  const { account, userName, accessKeyId: old } = keyOf(ctx.plan);
  const retired: string[] = [];
  let keys = await ctx.ports.aws.listAccessKeys(account, userName);
  if (!keys) return { kind: 'stop', detail: `user ${userName} is gone from account ${account}` };
  // A key made by an earlier attempt of this step whose worker died before recording it: it is
  // not in the checkpointed list, and its secret is lost. (A recorded new key whose secret was
  // lost is retired by deliver, which then comes back here.)
  const prior = ctx.progress.priorIds;
  if (prior) {
    const extra = keys.filter((k) => !prior.includes(k.accessKeyId) && k.accessKeyId !== old);
    if (extra.length > 1)
      return {
        kind: 'stop',
        detail: `user ${userName} has ${extra.length} keys that appeared during the rotation (${extra.map((k) => k.accessKeyId).join(', ')}); not guessing which is credwarden's`,
      };
    for (const k of extra) {
      // Named in the audit before it is touched: the key credwarden made and now retires.
      const orphans = [...new Set([...ctx.progress.orphans, k.accessKeyId])];
      await ctx.checkpoint(
        { orphans },
        `retiring ${k.accessKeyId}: created by an attempt that died before recording it`,
      );
      retired.push(await retire(ctx, k.accessKeyId, 'created by an attempt that died before recording it'));
    }
  }
  if (retired.length) keys = (await ctx.ports.aws.listAccessKeys(account, userName)) ?? [];
  if (keys.length >= 2)
    return {
      kind: 'stop',
      detail: `user ${userName} has two keys again (${keys.map((k) => k.accessKeyId).join(', ')}): someone added one during the rotation`,
    };
  await ctx.checkpoint(
    { priorIds: keys.map((k) => k.accessKeyId) },
    `keys before create: ${keys.map((k) => k.accessKeyId).join(', ')}`,
  );
  const made = await ctx.ports.aws.createAccessKey(account, userName);
  return {
    kind: 'next',
    detail: `created ${made.accessKeyId}${retired.length ? `; ${retired.join('; ')}` : ''}`,
    patch: { newId: made.accessKeyId, newCreatedAt: made.createDate ?? ctx.now().toISOString() },
    secret: made.secret,
  };
}

const OPS: CredentialOps = {
  kind: 'aws-key',
  noun: 'key',
  retire,
  async prove(ctx, id, secret) {
    return (await works(ctx, id, secret))
      ? { ok: true, how: `${id} authenticates as the user (sts:GetCallerIdentity)` }
      : { ok: false, how: `it did not authenticate as the user within ${ctx.params.verifyTimeoutSeconds} s` };
  },
};

const deliver = (ctx: StepContext): Promise<StepOutcome> => deliverStep(ctx, OPS);

async function verify(ctx: StepContext): Promise<StepOutcome> {
  const { account, accessKeyId: old } = keyOf(ctx.plan);
  const newId = ctx.progress.newId!;
  const read = await readDelivered(ctx, OPS);
  if ('stop' in read) return read.stop;
  const proof = await OPS.prove(ctx, newId, read.secret);
  if (!proof.ok) return undoDelivery(ctx, OPS, `the delivered key ${newId} does not authenticate as the user`);
  const version = read.version;
  const [newUse, oldUse] = await Promise.all([
    ctx.ports.aws.getAccessKeyLastUsed(account, newId),
    ctx.ports.aws.getAccessKeyLastUsed(account, old),
  ]);
  return {
    kind: 'next',
    detail: `version ${version} holds ${newId}, which authenticates as the user`,
    patch: verifiedPatch(ctx, { newAtVerify: newUse?.lastUsedDate ?? null, old: oldUse?.lastUsedDate ?? null }),
  };
}

async function adopt(ctx: StepContext): Promise<StepOutcome> {
  const { account, accessKeyId: old } = keyOf(ctx.plan);
  const a = ctx.progress.adopt!;
  const newId = ctx.progress.newId!;
  const [newUse, oldUse] = await Promise.all([
    ctx.ports.aws.getAccessKeyLastUsed(account, newId),
    ctx.ports.aws.getAccessKeyLastUsed(account, old),
  ]);
  const newUsed = !!newUse?.lastUsedDate && newUse.lastUsedDate !== a.newLastUsedAtVerify;
  const oldStill = (oldUse?.lastUsedDate ?? null) === a.oldLastUsed;
  const checks = a.checks + 1;
  if (newUsed && oldStill && checks > 1)
    return {
      kind: 'next',
      detail: `the agent uses ${newId} (last used ${newUse!.lastUsedDate}); ${old} last used ${oldUse?.lastUsedDate ?? 'never'}, not moving`,
      patch: { adopt: { ...a, checks, observed: 'used', oldLastUsed: oldUse?.lastUsedDate ?? null } },
    };
  const now = ctx.now();
  const deadline = Date.parse(a.deadline);
  if (now.getTime() >= deadline)
    return {
      kind: 'next',
      detail: `grace of ${ctx.params.graceHours} h elapsed (${newUsed ? `${newId} in use` : `${newId} not seen in use`}; ${oldStill ? `${old} not moving` : `${old} still in use`})`,
      patch: { adopt: { ...a, checks, observed: 'grace-elapsed', oldLastUsed: oldUse?.lastUsedDate ?? null } },
    };
  const next = Math.min(deadline, now.getTime() + Math.max(ctx.params.pollMinutes * 60_000, 1000));
  return {
    kind: 'wait',
    detail: `waiting for adoption (${newUsed ? `${newId} in use` : `${newId} not used yet`}; ${oldStill ? `${old} not moving` : `${old} still moving`}); grace ends ${a.deadline}`,
    until: new Date(next),
    patch: { adopt: { ...a, checks, oldLastUsed: oldUse?.lastUsedDate ?? null } },
  };
}

async function deactivate(ctx: StepContext): Promise<StepOutcome> {
  const { account, userName, accessKeyId: old } = keyOf(ctx.plan);
  const k = await ctx.ports.aws.getAccessKey(account, userName, old);
  if (!k) return { kind: 'stop', detail: `key ${old} is gone from user ${userName} (deleted by someone)` };
  if (k.status === 'Active') await ctx.ports.aws.updateAccessKey(account, userName, old, 'Inactive');
  const after = await ctx.ports.aws.getAccessKey(account, userName, old);
  if (after?.status !== 'Inactive')
    return { kind: 'stop', detail: `the read-back shows ${old} ${after?.status ?? 'gone'}, not Inactive` };
  const now = ctx.now();
  return {
    kind: 'next',
    detail: `${old} is Inactive${k.status === 'Inactive' ? ' (it already was)' : ''}; deleted after ${ctx.params.afterDays} days`,
    patch: {
      deactivatedAt: now.toISOString(),
      deleteAfter: new Date(now.getTime() + ctx.params.afterDays * DAY).toISOString(),
    },
  };
}

async function remove(ctx: StepContext): Promise<StepOutcome> {
  const { account, userName, accessKeyId: old } = keyOf(ctx.plan);
  const due = Date.parse(ctx.progress.deleteAfter!);
  if (ctx.now().getTime() < due)
    return {
      kind: 'wait',
      detail: `the old key ${old} is deleted at ${ctx.progress.deleteAfter}`,
      until: new Date(due),
    };
  const k = await ctx.ports.aws.getAccessKey(account, userName, old);
  if (!k) return { kind: 'next', detail: `${old} was already deleted` };
  if (k.status !== 'Inactive')
    return {
      kind: 'stop',
      detail: `${old} is ${k.status} again: someone re-activated it after credwarden deactivated it, so it is not deleted`,
    };
  await ctx.ports.aws.deleteAccessKey(account, userName, old);
  const gone = await ctx.ports.aws.getAccessKey(account, userName, old);
  if (gone) return { kind: 'stop', detail: `the read-back still lists ${old}` };
  return { kind: 'next', detail: `deleted ${old}` };
}

const STEPS: Record<RotationStep, (ctx: StepContext) => Promise<StepOutcome>> = {
  prepare,
  create,
  deliver,
  verify,
  adopt,
  deactivate,
  delete: remove,
};

async function rollback(ctx: StepContext): Promise<string> {
  const { account, userName, accessKeyId: old } = keyOf(ctx.plan);
  const p = ctx.progress;
  const notes: string[] = [];
  const k = await ctx.ports.aws.getAccessKey(account, userName, old);
  if (!k) throw new Error(`the old key ${old} is gone (deleted); there is nothing to roll back to`);
  if (k.status !== 'Active') {
    await ctx.ports.aws.updateAccessKey(account, userName, old, 'Active');
    notes.push(`re-activated ${old}`);
  }
  const kv = await rollbackDelivery(ctx, OPS, old);
  notes.push(...kv.notes);
  if (p.newId && p.newId !== old && kv.retireNew) notes.push(await retire(ctx, p.newId, 'rolled back'));
  return notes.join('; ') || 'nothing to undo';
}

export const awsKeyRotator: Rotator = {
  kind: 'aws-key',
  ops: OPS,
  steps: ['prepare', 'create', 'deliver', 'verify', 'adopt', 'deactivate', 'delete'],
  run: (step, ctx) => STEPS[step](ctx),
  credentialIdOf: (plan, newId) => awsAccessKeyId(keyOf(plan).account, newId),
  rollback,
};

/** The plan's target key id, for messages. */
export const oldKeyOf = (plan: ActionPlan): string => keyOf(plan).accessKeyId;
