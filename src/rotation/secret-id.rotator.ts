/**
 * rotate-secret-id: an AppRole secret ID replaced with no outage.
 *
 *   prepare  the role exists and binds secret IDs, and still lists the old accessor (ownership
 *            is checked by listing the role, CVE-2023-24999); the delivery KV holds the old
 *            accessor or no secret ID at all, else the rotation stops. Reads the KV version.
 *   create   lists the role's accessors (checkpointed), then issues a new secret ID for exactly
 *            that role, copying the old one's cidr_list, token_bound_cidrs and metadata and adding
 *            `credwarden_rotation=<plan id>` to the metadata. The secret is held in memory only.
 *            An accessor that was not there at the checkpoint and carries this rotation's metadata
 *            is an earlier attempt's, whose secret died with its worker: it is destroyed first.
 *   deliver  proves the new secret ID works (an AppRole login whose token is revoked at once, or,
 *            when a login would spend a use or could be refused by a CIDR binding, a lookup by
 *            value), then writes it to KV with check-and-set over the version read in prepare.
 *            With no secret in memory (a resumed run) and no write of ours in KV, the new secret ID
 *            is an orphan: destroyed, and the rotation goes back to create.
 *   verify   reads the delivered version back and proves the secret ID in it the same way.
 *   adopt    Vault records no use of a secret ID: waits `graceHours` after the verification,
 *            checking every `pollMinutes` that the new secret ID is still there.
 *   delete   destroys the old accessor, after checking the role still lists it.
 *
 * Only ever the two exact secret IDs of the one role: the old one (the plan's target) and the new
 * one (recorded at creation, and marked in its metadata). A secret ID is destroyed as an orphan
 * only when its metadata names this rotation; the old one leaves only through delete.
 */
import { vaultIds, where } from '../actions/vault-support.js';
import type { ActionPlan } from '../model/action.js';
import { vaultSecretIdId } from '../model/ids.js';
import type { RotationStep } from '../model/rotation.js';
import type { Secret } from '../util/secret.js';
import { heldIn, ROTATION_FIELD, readDelivery } from './delivery.js';
import { type CredentialOps, type Rotator, type StepContext, type StepOutcome, until } from './rotator.js';
import { deliverStep, graceAdopt, readDelivered, rollbackDelivery, undoDelivery, verifiedPatch } from './steps.js';

const KIND = 'approle-secret-id' as const;
const KEYS = ['mount', 'role', 'secretIdAccessor'] as const;

const idsOf = (plan: ActionPlan) => vaultIds(plan, KEYS);

const strs = (v: unknown): string[] => (Array.isArray(v) ? v.map(String).filter((x) => x !== '') : []);
const num = (v: unknown): number => (typeof v === 'number' ? v : 0);
const metaOf = (v: unknown): Record<string, string> =>
  v && typeof v === 'object'
    ? Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, String(x)]))
    : {};

/** "role deploy-agent on auth/approle (vault main)", for messages. */
function roleName(plan: ActionPlan): string {
  const ids = idsOf(plan);
  return `role "${ids.role}" on auth/${ids.mount} (${where(ids)})`;
}

async function listed(ctx: StepContext): Promise<string[]> {
  const { cluster, namespace, mount, role } = idsOf(ctx.plan);
  return ctx.ports.vault.listSecretIdAccessors(cluster, namespace, mount, role);
}

async function lookup(ctx: StepContext, accessor: string): Promise<Record<string, unknown> | null> {
  const { cluster, namespace, mount, role } = idsOf(ctx.plan);
  return ctx.ports.vault.lookupSecretIdAccessor(cluster, namespace, mount, role, accessor);
}

/** Does this secret ID's metadata say this rotation made it? */
const madeHere = (ctx: StepContext, sd: Record<string, unknown> | null): boolean =>
  metaOf(sd?.metadata)[ROTATION_FIELD] === ctx.plan.id;

/**
 * Destroys a secret ID this rotation made: only one the role lists (CVE-2023-24999) and whose
 * metadata names this rotation; never the one being rotated.
 */
async function retire(ctx: StepContext, accessor: string, why: string): Promise<string> {
  const { cluster, namespace, mount, role, secretIdAccessor: old } = idsOf(ctx.plan);
  if (accessor === old) throw new Error(`refusing to destroy ${accessor}: it is the secret ID being rotated`);
  if (!(await listed(ctx)).includes(accessor)) return `${accessor} already gone`;
  const sd = await lookup(ctx, accessor);
  if (!sd) return `${accessor} already gone`;
  if (!madeHere(ctx, sd))
    throw new Error(
      `refusing to destroy secret ID ${accessor}: its metadata does not name rotation ${ctx.plan.id}, so it is not provably credwarden's`,
    );
  await ctx.ports.vault.destroySecretIdAccessor(cluster, namespace, mount, role, accessor);
  return `destroyed secret ID ${accessor} (${why})`;
}

/**
 * Secret IDs that appeared after the create checkpoint and carry this rotation's metadata: made
 * by an attempt that died before recording them (their secret is lost).
 */
async function leftovers(ctx: StepContext, accessors: readonly string[]): Promise<string[]> {
  const prior = ctx.progress.priorIds;
  if (!prior) return [];
  const { secretIdAccessor: old } = idsOf(ctx.plan);
  const out: string[] = [];
  for (const a of accessors.filter((x) => !prior.includes(x) && x !== old))
    if (madeHere(ctx, await lookup(ctx, a))) out.push(a);
  return out;
}

/**
 * Proves a secret ID works for the role. An AppRole login (its token revoked at once) when that
 * costs nothing; a lookup by value (which spends no use) when the role or the secret ID limits
 * the uses, or a CIDR binding could refuse a login from where credwarden runs.
 */
async function works(ctx: StepContext, accessor: string, secret: Secret): Promise<{ ok: boolean; how: string }> {
  const { cluster, namespace, mount, role } = idsOf(ctx.plan);
  const v = ctx.ports.vault;
  const r = await v.readAppRole(cluster, namespace, mount, role);
  if (!r) return { ok: false, how: `${roleName(ctx.plan)} is gone` };
  const sd = await lookup(ctx, accessor);
  if (!sd) return { ok: false, how: `the role does not list secret ID ${accessor}` };
  const limited = num(r.secret_id_num_uses) > 0 || num(sd.secret_id_num_uses) > 0;
  const bound = strs(r.secret_id_bound_cidrs).length > 0 || strs(sd.cidr_list).length > 0;
  const timeout = ctx.params.verifyTimeoutSeconds * 1000;
  if (!limited && !bound) {
    const roleId = await v.readRoleId(cluster, namespace, mount, role);
    if (!roleId) return { ok: false, how: `${roleName(ctx.plan)} has no role_id` };
    const ok = await until(
      async () => ((await v.approleLoginWorks(cluster, namespace, mount, roleId, secret)) ? true : null),
      timeout,
      ctx.sleep,
    );
    return { ok: ok === true, how: 'an AppRole login with the role_id (its token revoked at once)' };
  }
  const ok = await until(
    async () => ((await v.secretIdValid(cluster, namespace, mount, role, secret)) ? true : null),
    timeout,
    ctx.sleep,
  );
  return {
    ok: ok === true,
    how: `a lookup by value (${limited ? 'uses are limited: a login would spend one' : 'CIDR-bound: a login from credwarden could be refused by the binding'})`,
  };
}

/** What the new secret ID copies from the old one (the lookup's values; metadata gets the rotation id). */
function bodyFrom(sd: Record<string, unknown>, planId: string): Record<string, unknown> {
  const cidrs = strs(sd.cidr_list);
  const tokenCidrs = strs(sd.token_bound_cidrs);
  return {
    // Vault takes the metadata as a JSON string of string values.
    metadata: JSON.stringify({ ...metaOf(sd.metadata), [ROTATION_FIELD]: planId }),
    ...(cidrs.length ? { cidr_list: cidrs } : {}),
    ...(tokenCidrs.length ? { token_bound_cidrs: tokenCidrs } : {}),
  };
}

function copied(sd: Record<string, unknown>): string {
  const cidrs = strs(sd.cidr_list);
  const tokenCidrs = strs(sd.token_bound_cidrs);
  const keys = Object.keys(metaOf(sd.metadata)).filter((k) => k !== ROTATION_FIELD);
  return [
    `cidr_list [${cidrs.join(', ')}]`,
    `token_bound_cidrs [${tokenCidrs.join(', ')}]`,
    `metadata keys [${keys.join(', ')}]`,
  ].join(', ');
}

async function prepare(ctx: StepContext): Promise<StepOutcome> {
  const { cluster, namespace, mount, role, secretIdAccessor: old } = idsOf(ctx.plan);
  const d = ctx.plan.delivery!;
  const r = await ctx.ports.vault.readAppRole(cluster, namespace, mount, role);
  if (!r) return { kind: 'stop', detail: `${roleName(ctx.plan)} is gone` };
  if (r.bind_secret_id === false)
    return {
      kind: 'stop',
      detail: `${roleName(ctx.plan)} does not bind secret IDs (bind_secret_id false): a new secret ID would change nothing`,
    };
  if (!(await listed(ctx)).includes(old))
    return {
      kind: 'stop',
      detail: `secret ID accessor ${old} is no longer listed under ${roleName(ctx.plan)} (destroyed or expired); credwarden acts only on an accessor the role itself lists (CVE-2023-24999)`,
    };
  const sd = await lookup(ctx, old);
  if (!sd) return { kind: 'stop', detail: `secret ID ${old} is gone from ${roleName(ctx.plan)}` };
  const kv = await readDelivery(ctx.ports, d);
  const held = heldIn(KIND, d, kv);
  // No secret ID in the delivery at all (none yet, or only other fields such as a role_id) is
  // fine; one credwarden cannot account for is not replaced.
  const empty = !kv || (held.credentialId === null && held.secret === null);
  if (!empty && held.credentialId !== old && held.rotation !== ctx.plan.id)
    return {
      kind: 'stop',
      detail: `the delivery secret (version ${kv!.version}) holds ${held.credentialId ? `secret ID accessor ${held.credentialId}` : 'a secret ID with no secret_id_accessor'}, not the one being rotated (${old}); credwarden will not replace a credential it cannot account for`,
    };
  const kvBefore = ctx.progress.kvBefore ?? { version: kv?.version ?? 0, credentialId: held.credentialId };
  return {
    kind: 'next',
    detail: `${roleName(ctx.plan)} lists ${old}; the new secret ID copies ${copied(sd)}; delivery at version ${kvBefore.version}`,
    patch: { kvBefore },
  };
}

async function create(ctx: StepContext): Promise<StepOutcome> {
  const { cluster, namespace, mount, role, secretIdAccessor: old } = idsOf(ctx.plan);
  let accessors = await listed(ctx);
  if (!accessors.includes(old))
    return {
      kind: 'stop',
      detail: `secret ID accessor ${old} is no longer listed under ${roleName(ctx.plan)}: someone destroyed it during the rotation`,
    };
  const retired: string[] = [];
  const retiredIds: string[] = [];
  for (const a of await leftovers(ctx, accessors)) {
    retired.push(await retire(ctx, a, 'created by an attempt that died before recording it'));
    retiredIds.push(a);
  }
  const recorded = ctx.progress.newId;
  if (recorded && recorded !== old && !retiredIds.includes(recorded) && accessors.includes(recorded)) {
    retired.push(await retire(ctx, recorded, 'its secret was lost before delivery'));
    retiredIds.push(recorded);
  }
  if (retired.length) accessors = await listed(ctx);
  const sd = await lookup(ctx, old);
  if (!sd) return { kind: 'stop', detail: `secret ID ${old} is gone from ${roleName(ctx.plan)}` };
  await ctx.checkpoint(
    { priorIds: accessors },
    `${accessors.length} secret ID accessor(s) listed under ${roleName(ctx.plan)} before create`,
  );
  const made = await ctx.ports.vault.createSecretId(cluster, namespace, mount, role, bodyFrom(sd, ctx.plan.id));
  return {
    kind: 'next',
    detail: `created secret ID ${made.accessor} for ${roleName(ctx.plan)}${retired.length ? `; ${retired.join('; ')}` : ''}`,
    patch: {
      newId: made.accessor,
      newCreatedAt: ctx.now().toISOString(),
      ...(retiredIds.length ? { orphans: [...ctx.progress.orphans, ...retiredIds] } : {}),
    },
    secret: made.secretId,
  };
}

const OPS: CredentialOps = { kind: KIND, noun: 'secret ID', retire, prove: works };

const deliver = (ctx: StepContext): Promise<StepOutcome> => deliverStep(ctx, OPS);

async function verify(ctx: StepContext): Promise<StepOutcome> {
  const newId = ctx.progress.newId!;
  const read = await readDelivered(ctx, OPS);
  if ('stop' in read) return read.stop;
  const version = read.version;
  const proof = await works(ctx, newId, read.secret);
  if (!proof.ok) return undoDelivery(ctx, OPS, `the delivered secret ID ${newId} was not accepted (${proof.how})`);
  return {
    kind: 'next',
    detail: `version ${version} holds ${newId}, proven by ${proof.how}`,
    patch: verifiedPatch(ctx),
  };
}

async function adopt(ctx: StepContext): Promise<StepOutcome> {
  return graceAdopt(ctx, OPS, idsOf(ctx.plan).secretIdAccessor, (await listed(ctx)).includes(ctx.progress.newId!));
}

async function remove(ctx: StepContext): Promise<StepOutcome> {
  const { cluster, namespace, mount, role, secretIdAccessor: old } = idsOf(ctx.plan);
  const newId = ctx.progress.newId!;
  const accessors = await listed(ctx);
  if (!accessors.includes(newId))
    return {
      kind: 'stop',
      detail: `the new secret ID ${newId} is no longer listed under ${roleName(ctx.plan)}; the old one ${old} is not destroyed`,
    };
  // Listed under the role: it belongs to it (CVE-2023-24999), so the destroy path is exact.
  if (!accessors.includes(old)) return { kind: 'next', detail: `${old} was already gone` };
  await ctx.ports.vault.destroySecretIdAccessor(cluster, namespace, mount, role, old);
  if ((await listed(ctx)).includes(old)) return { kind: 'stop', detail: `the read-back still lists ${old}` };
  return { kind: 'next', detail: `destroyed the old secret ID ${old}` };
}

const STEPS: Partial<Record<RotationStep, (ctx: StepContext) => Promise<StepOutcome>>> = {
  prepare,
  create,
  deliver,
  verify,
  adopt,
  delete: remove,
};

async function rollback(ctx: StepContext): Promise<string> {
  const { secretIdAccessor: old } = idsOf(ctx.plan);
  const p = ctx.progress;
  const notes: string[] = [];
  const accessors = await listed(ctx);
  if (!accessors.includes(old))
    throw new Error(
      `the old secret ID ${old} is gone from ${roleName(ctx.plan)} (destroyed or expired); there is nothing to roll back to`,
    );
  const kv = await rollbackDelivery(ctx, OPS, old);
  notes.push(...kv.notes);
  for (const a of await leftovers(ctx, accessors))
    if (a !== p.newId) notes.push(await retire(ctx, a, 'rolled back: created by an attempt that died'));
  if (p.newId && p.newId !== old && kv.retireNew) notes.push(await retire(ctx, p.newId, 'rolled back'));
  return notes.join('; ') || 'nothing to undo';
}

export const secretIdRotator: Rotator = {
  kind: KIND,
  ops: OPS,
  steps: ['prepare', 'create', 'deliver', 'verify', 'adopt', 'delete'],
  run: (step, ctx) => {
    const fn = STEPS[step];
    if (!fn) throw new Error(`a secret ID rotation has no ${step} step`);
    return fn(ctx);
  },
  credentialIdOf: (plan, newId) => {
    const { cluster, namespace, mount, role } = idsOf(plan);
    return vaultSecretIdId(cluster, namespace, mount, role, newId);
  },
  rollback,
};
