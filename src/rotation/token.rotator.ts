/**
 * rotate-token: a Vault token replaced with no outage.
 *
 *   prepare  looks the old token up by accessor: a root token, credwarden's own remediation
 *            token, a batch token, a token with a use limit (proving a new one would spend its
 *            uses), one with no policies (create-orphan would give the new one credwarden's own)
 *            or one whose entity grants identity policies (a token-store token cannot carry them)
 *            stops the rotation. Records what the new token copies; the delivery KV must hold the
 *            old accessor or no token at all. Reads the KV version.
 *   create   lists the namespace's token accessors (checkpointed), then auth/token/create-orphan
 *            with the old token's policies, meta, display name, TTL (creation_ttl), explicit max
 *            TTL, period, renewability, number of uses and type, plus meta
 *            `credwarden_rotation=<plan id>` (and no_default_policy when the old one lacked
 *            `default`). The token is held in memory only. An accessor that was not there at the
 *            checkpoint and carries this rotation's meta is an earlier attempt's, whose token died
 *            with its worker: it is revoked first.
 *   deliver  proves the new token (lookup-self signed with it: its accessor and policies), then
 *            writes it to KV with check-and-set over the version read in prepare. With no token in
 *            memory (a resumed run) and no write of ours in KV, the new token is an orphan: revoked,
 *            and the rotation goes back to create.
 *   verify   reads the delivered version back and proves the token in it the same way.
 *   adopt    Vault records no use of a token: waits `graceHours` after the verification, checking
 *            every `pollMinutes` that the new token is still valid.
 *   delete   revokes the old token by accessor (with its child tokens, as revoke-accessor does).
 *
 * Only ever the two exact tokens: the old one (the plan's target) and the new one (recorded at
 * creation, and marked in its meta). A token is revoked as an orphan only when its meta names this
 * rotation; the old one leaves only through delete.
 */
import { vaultIds, where } from '../actions/vault-support.js';
import type { ActionPlan } from '../model/action.js';
import { vaultTokenId } from '../model/ids.js';
import type { RotationStep } from '../model/rotation.js';
import type { Secret } from '../util/secret.js';
import { heldIn, ROTATION_FIELD, readDelivery } from './delivery.js';
import { type CredentialOps, type Rotator, type StepContext, type StepOutcome, until } from './rotator.js';
import { deliverStep, graceAdopt, readDelivered, rollbackDelivery, undoDelivery, verifiedPatch } from './steps.js';

const KIND = 'vault-token' as const;

const idsOf = (plan: ActionPlan) => vaultIds(plan, ['accessor']);

const strs = (v: unknown): string[] => (Array.isArray(v) ? v.map(String).filter((x) => x !== '') : []);
const num = (v: unknown): number => (typeof v === 'number' ? v : 0);
const metaOf = (v: unknown): Record<string, string> =>
  v && typeof v === 'object'
    ? Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, String(x)]))
    : {};
const sameSet = (a: readonly string[], b: readonly string[]): boolean =>
  new Set(a).size === new Set(b).size && a.every((x) => b.includes(x));

async function lookup(ctx: StepContext, accessor: string): Promise<Record<string, unknown> | null> {
  const { cluster, namespace } = idsOf(ctx.plan);
  return ctx.ports.vault.lookupTokenAccessor(cluster, namespace, accessor);
}

const madeHere = (ctx: StepContext, t: Record<string, unknown> | null): boolean =>
  metaOf(t?.meta)[ROTATION_FIELD] === ctx.plan.id;

/** Why a token cannot be rotated (prepare and create check it on the live lookup), or null. */
async function refusal(ctx: StepContext, t: Record<string, unknown>): Promise<string | null> {
  const { cluster, namespace, accessor: old } = idsOf(ctx.plan);
  const policies = strs(t.policies);
  if (policies.includes('root'))
    return `token ${old} has the root policy: credwarden never mints a root token (revoke it with revoke-token; generate a root token only when one is needed)`;
  if ((await ctx.ports.vault.ownAccessor(cluster, namespace)) === old)
    return `token ${old} is credwarden's own remediation token: never rotated`;
  if (t.type === 'batch') return `token ${old} is a batch token: it cannot be listed, looked up by accessor or revoked`;
  if (policies.length === 0)
    return `token ${old} has no policies: auth/token/create-orphan would give the new token the policies of credwarden's own token`;
  if (num(t.num_uses) > 0)
    return `token ${old} has a use limit (${num(t.num_uses)} left): proving a new one (lookup-self) would spend its uses`;
  const identity = strs(t.identity_policies);
  if (identity.length > 0)
    return `token ${old} gets identity policies [${identity.join(', ')}] from entity ${String(t.entity_id)}: a token-store token cannot carry them, so the agent would lose access`;
  return null;
}

/** The auth/token/create-orphan body that copies the old token (never empty policies: that would inherit credwarden's). */
function bodyFrom(t: Record<string, unknown>, planId: string): Record<string, unknown> {
  const policies = strs(t.policies);
  const period = num(t.period);
  const ttl = num(t.creation_ttl);
  return {
    policies,
    meta: { ...metaOf(t.meta), [ROTATION_FIELD]: planId },
    display_name: String(t.display_name ?? '').replace(/^token-/, ''),
    renewable: t.renewable !== false,
    num_uses: num(t.num_uses),
    explicit_max_ttl: num(t.explicit_max_ttl),
    ...(period > 0 ? { period } : ttl > 0 ? { ttl } : {}),
    ...(typeof t.type === 'string' && t.type !== '' ? { type: t.type } : {}),
    ...(policies.includes('default') ? {} : { no_default_policy: true }),
  };
}

function copied(t: Record<string, unknown>): string {
  const b = bodyFrom(t, '');
  const keys = Object.keys(metaOf(t.meta)).filter((k) => k !== ROTATION_FIELD);
  return [
    `policies [${strs(b.policies).join(', ')}]${b.no_default_policy ? ' (no default policy)' : ''}`,
    `meta keys [${keys.join(', ')}]`,
    `display_name ${String(b.display_name)}`,
    b.period ? `period ${String(b.period)} s` : `ttl ${String(b.ttl ?? 'default')}${b.ttl ? ' s' : ''}`,
    `explicit_max_ttl ${String(b.explicit_max_ttl)} s`,
    `renewable ${String(b.renewable)}`,
    `num_uses ${String(b.num_uses)}`,
    `type ${String(b.type ?? 'default')}`,
  ].join(', ');
}

/**
 * Revokes a token this rotation made: only one whose meta names this rotation, never the one
 * being rotated (the port also refuses credwarden's own token).
 */
async function retire(ctx: StepContext, accessor: string, why: string): Promise<string> {
  const { cluster, namespace, accessor: old } = idsOf(ctx.plan);
  if (accessor === old) throw new Error(`refusing to revoke ${accessor}: it is the token being rotated`);
  const t = await lookup(ctx, accessor);
  if (!t) return `${accessor} already gone`;
  if (!madeHere(ctx, t))
    throw new Error(
      `refusing to revoke token ${accessor}: its meta does not name rotation ${ctx.plan.id}, so it is not provably credwarden's`,
    );
  await ctx.ports.vault.revokeTokenAccessor(cluster, namespace, accessor);
  return `revoked token ${accessor} (${why})`;
}

/** Tokens that appeared after the create checkpoint and carry this rotation's meta (their value is lost). */
async function leftovers(ctx: StepContext, accessors: readonly string[]): Promise<string[]> {
  const prior = ctx.progress.priorIds;
  if (!prior) return [];
  const seen = new Set(prior);
  const { accessor: old } = idsOf(ctx.plan);
  const out: string[] = [];
  for (const a of accessors.filter((x) => !seen.has(x) && x !== old))
    if (madeHere(ctx, await lookup(ctx, a))) out.push(a);
  return out;
}

/**
 * Proves a token: lookup-self signed with it answers with this accessor and the expected
 * policies. A token whose policies do not allow lookup-self (no `default` policy) cannot be
 * proven, so it is not delivered.
 */
async function works(
  ctx: StepContext,
  accessor: string,
  token: Secret,
  policies: readonly string[],
): Promise<{ ok: boolean; why: string }> {
  const { cluster, namespace } = idsOf(ctx.plan);
  const self = await until(
    () => ctx.ports.vault.lookupSelfWith(cluster, namespace, token),
    ctx.params.verifyTimeoutSeconds * 1000,
    ctx.sleep,
  );
  if (!self)
    return {
      ok: false,
      why: `lookup-self with it was refused (an invalid token, or policies that do not allow lookup-self) within ${ctx.params.verifyTimeoutSeconds} s`,
    };
  if (self.accessor !== accessor) return { ok: false, why: `lookup-self answers as accessor ${String(self.accessor)}` };
  if (!sameSet(strs(self.policies), policies))
    return {
      ok: false,
      why: `it has policies [${strs(self.policies).join(', ')}], not [${policies.join(', ')}]`,
    };
  return { ok: true, why: `lookup-self answers as ${accessor} with policies [${policies.join(', ')}]` };
}

/** The old token's policies, from a live lookup (null: the old token is gone). */
async function oldPolicies(ctx: StepContext): Promise<string[] | null> {
  const t = await lookup(ctx, idsOf(ctx.plan).accessor);
  return t ? strs(t.policies) : null;
}

async function prepare(ctx: StepContext): Promise<StepOutcome> {
  const ids = idsOf(ctx.plan);
  const old = ids.accessor;
  const d = ctx.plan.delivery!;
  const t = await lookup(ctx, old);
  if (!t) return { kind: 'stop', detail: `token ${old} is gone from ${where(ids)} (revoked or expired)` };
  const no = await refusal(ctx, t);
  if (no) return { kind: 'stop', detail: no };
  const kv = await readDelivery(ctx.ports, d);
  const held = heldIn(KIND, d, kv);
  const empty = !kv || (held.credentialId === null && held.secret === null);
  if (!empty && held.credentialId !== old && held.rotation !== ctx.plan.id)
    return {
      kind: 'stop',
      detail: `the delivery secret (version ${kv!.version}) holds ${held.credentialId ? `token accessor ${held.credentialId}` : 'a token with no accessor'}, not the one being rotated (${old}); credwarden will not replace a credential it cannot account for`,
    };
  const kvBefore = ctx.progress.kvBefore ?? { version: kv?.version ?? 0, credentialId: held.credentialId };
  return {
    kind: 'next',
    detail: `token ${old}${t.orphan === true ? '' : ' (a child token; the new one is an orphan)'}; the new token copies ${copied(t)}; delivery at version ${kvBefore.version}`,
    patch: { kvBefore },
  };
}

async function create(ctx: StepContext): Promise<StepOutcome> {
  const ids = idsOf(ctx.plan);
  const { cluster, namespace, accessor: old } = ids;
  const t = await lookup(ctx, old);
  if (!t)
    return { kind: 'stop', detail: `token ${old} is gone from ${where(ids)}: someone revoked it during the rotation` };
  const no = await refusal(ctx, t);
  if (no) return { kind: 'stop', detail: no };
  let accessors = await ctx.ports.vault.listTokenAccessors(cluster, namespace);
  const retired: string[] = [];
  const retiredIds: string[] = [];
  for (const a of await leftovers(ctx, accessors)) {
    retired.push(await retire(ctx, a, 'created by an attempt that died before recording it'));
    retiredIds.push(a);
  }
  const recorded = ctx.progress.newId;
  if (recorded && recorded !== old && !retiredIds.includes(recorded) && (await lookup(ctx, recorded))) {
    retired.push(await retire(ctx, recorded, 'its token was lost before delivery'));
    retiredIds.push(recorded);
  }
  if (retired.length) accessors = await ctx.ports.vault.listTokenAccessors(cluster, namespace);
  await ctx.checkpoint({ priorIds: accessors }, `${accessors.length} token accessor(s) in ${where(ids)} before create`);
  const made = await ctx.ports.vault.createOrphanToken(cluster, namespace, bodyFrom(t, ctx.plan.id));
  return {
    kind: 'next',
    detail: `created orphan token ${made.accessor}${retired.length ? `; ${retired.join('; ')}` : ''}`,
    patch: {
      newId: made.accessor,
      newCreatedAt: ctx.now().toISOString(),
      ...(retiredIds.length ? { orphans: [...ctx.progress.orphans, ...retiredIds] } : {}),
    },
    secret: made.token,
  };
}

const OPS: CredentialOps = {
  kind: KIND,
  noun: 'token',
  retire,
  // Proven against the old token's policies, read live: an old token revoked meanwhile is not
  // replaced (the new one would hand the agent access someone just took away).
  async prove(ctx, id, token) {
    const policies = await oldPolicies(ctx);
    if (!policies)
      return { ok: false, how: `the old token ${idsOf(ctx.plan).accessor} was revoked during the rotation` };
    const r = await works(ctx, id, token, policies);
    return { ok: r.ok, how: r.why };
  },
};

const deliver = (ctx: StepContext): Promise<StepOutcome> => deliverStep(ctx, OPS);

async function verify(ctx: StepContext): Promise<StepOutcome> {
  const newId = ctx.progress.newId!;
  const read = await readDelivered(ctx, OPS);
  if ('stop' in read) return read.stop;
  const { version, secret } = read;
  const policies = await oldPolicies(ctx);
  // Someone revoked the old token after the delivery: putting it back in KV would hand the agent a
  // dead token, and replacing it is not credwarden's call to make. Stopped, nothing undone.
  if (!policies)
    return {
      kind: 'stop',
      detail: `the old token ${idsOf(ctx.plan).accessor} was revoked by someone after the delivery; the new token ${newId} stays in version ${version} (revoke it with revoke-token if the agent is meant to lose access)`,
    };
  const proof = await works(ctx, newId, secret, policies);
  if (!proof.ok) return undoDelivery(ctx, OPS, `the delivered token ${newId} could not be proven: ${proof.why}`);
  return { kind: 'next', detail: `version ${version} holds ${newId}: ${proof.why}`, patch: verifiedPatch(ctx) };
}

async function adopt(ctx: StepContext): Promise<StepOutcome> {
  return graceAdopt(ctx, OPS, idsOf(ctx.plan).accessor, (await lookup(ctx, ctx.progress.newId!)) !== null);
}

async function remove(ctx: StepContext): Promise<StepOutcome> {
  const { cluster, namespace, accessor: old } = idsOf(ctx.plan);
  const newId = ctx.progress.newId!;
  if (!(await lookup(ctx, newId)))
    return {
      kind: 'stop',
      detail: `the new token ${newId} is no longer valid; the old one ${old} is not revoked`,
    };
  if (!(await lookup(ctx, old))) return { kind: 'next', detail: `${old} was already revoked or expired` };
  // The port refuses credwarden's own token here too.
  await ctx.ports.vault.revokeTokenAccessor(cluster, namespace, old);
  if (await lookup(ctx, old)) return { kind: 'stop', detail: `the read-back still finds ${old}` };
  return { kind: 'next', detail: `revoked the old token ${old}` };
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
  const ids = idsOf(ctx.plan);
  const { cluster, namespace, accessor: old } = ids;
  const p = ctx.progress;
  const notes: string[] = [];
  const t = await lookup(ctx, old);
  if (!t)
    throw new Error(
      `the old token ${old} is gone from ${where(ids)} (revoked or expired); there is nothing to roll back to`,
    );
  const kv = await rollbackDelivery(ctx, OPS, old);
  notes.push(...kv.notes);
  if (p.priorIds)
    for (const a of await leftovers(ctx, await ctx.ports.vault.listTokenAccessors(cluster, namespace)))
      if (a !== p.newId) notes.push(await retire(ctx, a, 'rolled back: created by an attempt that died'));
  if (p.newId && p.newId !== old && kv.retireNew) notes.push(await retire(ctx, p.newId, 'rolled back'));
  return notes.join('; ') || 'nothing to undo';
}

export const tokenRotator: Rotator = {
  kind: KIND,
  ops: OPS,
  steps: ['prepare', 'create', 'deliver', 'verify', 'adopt', 'delete'],
  run: (step, ctx) => {
    const fn = STEPS[step];
    if (!fn) throw new Error(`a token rotation has no ${step} step`);
    return fn(ctx);
  },
  credentialIdOf: (plan, newId) => {
    const { cluster, namespace } = idsOf(plan);
    return vaultTokenId(cluster, namespace, newId);
  },
  rollback,
};
