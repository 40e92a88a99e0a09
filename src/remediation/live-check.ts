/**
 * The live re-check before an action (DESIGN invariant 3): the credential is read again from its
 * source, by its exact id, and the action goes ahead only if
 * - the source says it is present (absent → cancel; unknown, e.g. denied or sealed → fail
 *   closed: do not act);
 * - it is the same credential detection saw: the exact id, and the immutable principal ids
 *   (IAM UserId / RoleId, so a user deleted and re-created under the same name is not "the same");
 * - the facts still hold: the plan's policy, evaluated now on the fresh record (with the rest of
 *   the inventory as it is), still hits it. A key used since planning no longer hits `unused-for`;
 *   a grant removed since no longer hits `aws-admin`. Either cancels the action.
 */
import type { Logger } from '../logger.js';
import type { ActionPlan } from '../model/action.js';
import type { Registry } from '../model/agent.js';
import type { Credential } from '../model/credential.js';
import { PolicyEvaluator } from '../policy/evaluate.js';
import type { Policy } from '../policy/model.js';
import type { RuleServices } from '../policy/types.js';
import type { RecheckResult, Source } from '../sources/source.js';

export type LiveCheck =
  | { ok: true; fresh: Credential; checkedAt: string; hits: number }
  | { ok: false; outcome: 'cancelled' | 'failed'; code: string; reason: string };

export interface LiveCheckDeps {
  sources: readonly Source[];
  registry: Registry;
  log: Logger;
  services: RuleServices;
  clock: { now(): Date };
}

/** The attributes that name one principal for good: a re-created user or role gets new ones. */
const IMMUTABLE_IDS = ['userId', 'roleId', 'accessKeyId', 'accessor', 'secretIdAccessor', 'leaseId'] as const;

export function identityChange(plan: ActionPlan, fresh: Credential): string | null {
  if (fresh.id !== plan.target.credentialId) return `the source returned ${fresh.id}, not ${plan.target.credentialId}`;
  if (fresh.kind !== plan.target.kind) return `the credential is now a ${fresh.kind}, not a ${plan.target.kind}`;
  for (const k of IMMUTABLE_IDS) {
    const was = plan.target.identity[k];
    const now = fresh.attributes[k];
    if (was !== undefined && now !== undefined && now !== null && String(now) !== was)
      return `${k} changed from ${was} to ${String(now)}: the principal was re-created since detection`;
  }
  if (fresh.principal !== plan.target.principal)
    return `the principal changed from ${plan.target.principal} to ${fresh.principal}`;
  return null;
}

export async function liveCheck(
  plan: ActionPlan,
  policy: Policy | undefined,
  inventory: readonly Credential[],
  d: LiveCheckDeps,
): Promise<LiveCheck> {
  const source = d.sources.find((s) => s.owns(plan.target.credentialId));
  if (!source)
    return {
      ok: false,
      outcome: 'failed',
      code: 'no-source',
      reason: `no configured source owns ${plan.target.credentialId}`,
    };
  if (!policy)
    return {
      ok: false,
      outcome: 'cancelled',
      code: 'policy-gone',
      reason: `policy ${plan.policy} is no longer loaded: nothing asks for this action now`,
    };
  const r: RecheckResult = await source.recheck(plan.target.credentialId, {
    clock: d.clock,
    log: d.log,
    registry: d.registry,
  });
  if (r.state === 'absent') return { ok: false, outcome: 'cancelled', code: 'credential-gone', reason: r.reason };
  if (r.state === 'unknown')
    return {
      ok: false,
      outcome: 'failed',
      code: `recheck-${r.code}`,
      reason: `could not re-check ${plan.target.credentialId} live, so nothing was done: ${r.reason}`,
    };
  const fresh = r.credential;
  const changed = identityChange(plan, fresh);
  if (changed) return { ok: false, outcome: 'cancelled', code: 'identity-changed', reason: changed };
  const others = inventory.filter((c) => c.id !== fresh.id);
  const evaluator = new PolicyEvaluator({
    policies: [policy],
    registry: d.registry,
    now: d.clock.now(),
    services: d.services,
    inventory: [...others, fresh],
  });
  const hits = evaluator.evaluate(fresh);
  if (hits.length === 0)
    return {
      ok: false,
      outcome: 'cancelled',
      code: 'facts-changed',
      reason: `policy ${plan.policy} no longer hits ${fresh.id} when re-checked live (${describeChange(plan, fresh)}): nothing was done`,
    };
  return { ok: true, fresh, checkedAt: r.checkedAt, hits: hits.length };
}

function describeChange(plan: ActionPlan, fresh: Credential): string {
  const parts: string[] = [];
  const usedAt = fresh.lastUsed?.at ?? null;
  const planned = plan.facts.flatMap((h) => h.evidence).find((e) => e.field === 'lastUsed.at');
  if (planned && planned.value !== usedAt)
    parts.push(`last used ${usedAt ?? 'never'}, was ${String(planned.value ?? 'never')}`);
  if (fresh.status !== 'active') parts.push(`status ${fresh.status}`);
  return parts.length ? parts.join('; ') : 'the facts it matched are gone';
}
