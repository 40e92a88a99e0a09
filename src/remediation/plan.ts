/**
 * The planner (DESIGN flow: evaluate → **plan** → guard → remediate). Pure, no I/O: open findings
 * whose policies ask for remediation become ActionPlans, one per (finding, action), each aimed at
 * the exact credential the finding is about (invariant 3). Deciding whether a plan may run is
 * guard.ts; acting is the service.
 *
 * Contract:
 * - Only findings in state `open` are planned. A finding's policies are walked primary first
 *   (`finding.policy`, then the rest of `finding.policies` in order), and each policy's
 *   `remediation` entries in order. The FIRST policy asking for an action on the finding's
 *   credential wins: a collapsed finding whose two policies both ask for `deactivate-key` yields
 *   one plan, attributed to the primary policy (the later ask is the same act, not a second one).
 * - Anything that cannot be planned is returned in `skipped` with a reason that starts with a
 *   stable code (`unknown-policy:`, `unknown-action:`, `credential-missing:`,
 *   `kind-mismatch:`, `action-skipped:`, `target-mismatch:`, `plan-error:`), never dropped.
 * - Ids are deterministic (model/action.ts): the policy, the action, the exact credential id and
 *   the hash of the evidence. The same facts give the same id scan after scan; new facts give a
 *   new plan.
 */
import crypto from 'node:crypto';
import type { ActionType } from '../actions/action-type.js';
import { getActionType } from '../actions/index.js';
import type { ActionPlan } from '../model/action.js';
import type { Agent, Registry } from '../model/agent.js';
import type { Credential } from '../model/credential.js';
import type { Evidence, Finding, RuleHit } from '../model/finding.js';
import type { Policy } from '../policy/model.js';

export interface PlanInput {
  scanId: string;
  now: Date;
  /** Only state `open` ones are planned. */
  findings: readonly Finding[];
  /** By name. */
  policies: ReadonlyMap<string, Policy>;
  /** The current inventory, by credential id. */
  credentials: ReadonlyMap<string, Credential>;
  /** Agent → environment. */
  registry: Registry;
  /** The action lookup; the registry's `getActionType` unless a test injects its own. */
  actionType?: (name: string) => ActionType | undefined;
}

export interface SkippedPlan {
  findingFingerprint: string;
  credentialId: string;
  policy: string;
  action: string;
  /** `<code>: <sentence for people>`; the codes are listed in the header. */
  reason: string;
}

/**
 * Evidence fields whose VALUE changes from scan to scan while the risk stays the same, so they
 * are left out of the evidence hash (the field name stays in: that the rule looked at it is part
 * of the fact). Without this every scan would mint a new plan id for an unchanged finding, and a
 * plan held for approval or cooldown would be replaced by a "new" one each run:
 * - `lastUsed.asOf`: when the source's last-used data was current (the credential report's
 *   generation time, the lookup time): it moves every scan even when the key is still unused;
 * - `expiresAt`: a renewable Vault token's TTL end moves out on every renewal;
 * - `attributes.ttlSeconds`: the remaining TTL, lower on every read.
 * `lastUsed.at` is NOT volatile: a key used since the finding is a new fact and must make a new plan.
 */
export const VOLATILE_EVIDENCE_FIELDS: ReadonlySet<string> = new Set([
  'lastUsed.asOf',
  'expiresAt',
  'attributes.ttlSeconds',
]);

/** One-shot `crypto.hash` (Node ≥ 20.12) is markedly cheaper per call than a Hash object. */
const oneShot = (crypto as { hash?: (alg: string, data: string) => string }).hash;
const sha256 = (s: string): string =>
  oneShot ? oneShot('sha256', s) : crypto.createHash('sha256').update(s).digest('hex');

/** JSON with object keys sorted and undefined members left out: equal data, equal text. */
function canonical(v: unknown): string {
  if (v === undefined) return 'null';
  if (v === null || typeof v !== 'object') {
    if (typeof v === 'bigint') return JSON.stringify(v.toString());
    return JSON.stringify(v) ?? 'null';
  }
  const withJson = v as { toJSON?: () => unknown };
  if (typeof withJson.toJSON === 'function') return canonical(withJson.toJSON());
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  const o = v as Record<string, unknown>;
  let out = '';
  for (const k of Object.keys(o).sort()) {
    if (o[k] === undefined) continue;
    out += `${out === '' ? '' : ','}${JSON.stringify(k)}:${canonical(o[k])}`;
  }
  return `{${out}}`;
}

/** One evidence's canonical text: its kept members in sorted key order (field, statement, value). */
function evidenceText(e: Evidence): string {
  let out = '';
  if (e.field !== undefined) out = `"field":${JSON.stringify(e.field)}`;
  if (e.statement !== undefined) out += `${out === '' ? '' : ','}"statement":${JSON.stringify(e.statement.summary)}`;
  if (e.value !== undefined && !(e.field !== undefined && VOLATILE_EVIDENCE_FIELDS.has(e.field)))
    out += `${out === '' ? '' : ','}"value":${canonical(e.value)}`;
  return `{${out}}`;
}

const byText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * sha256 (hex) of the canonical form of the hits: each hit's `detector` and `key`, and each
 * evidence's `field`, `value` (volatile fields' values left out) and `statement.summary`. Messages
 * and notes are prose (they carry the volatile numbers too) and stay out. Hits and the evidence
 * within a hit are sorted, so their order does not matter.
 */
export function evidenceHash(hits: readonly RuleHit[]): string {
  const texts = hits.map((h) => {
    const evidence = h.evidence.map(evidenceText);
    if (evidence.length > 1) evidence.sort(byText);
    return `{"detector":${JSON.stringify(h.detector)},"evidence":[${evidence.join(',')}],"key":${JSON.stringify(h.key ?? null)}}`;
  });
  if (texts.length > 1) texts.sort(byText);
  return sha256(`[${texts.join(',')}]`);
}

/** `ap-` + 32 hex of sha256 over the four parts joined with NUL (no part can contain it). */
export function planId(policy: string, action: string, credentialId: string, evidenceHash: string): string {
  return `ap-${sha256([policy, action, credentialId, evidenceHash].join('\u0000')).slice(0, 32)}`;
}

export function planActions(input: PlanInput): { plans: ActionPlan[]; skipped: SkippedPlan[] } {
  const lookup = input.actionType ?? getActionType;
  const plannedAt = input.now.toISOString();
  const agents = new Map<string, Agent>();
  for (const a of input.registry.agents) if (!agents.has(a.id)) agents.set(a.id, a);
  const plans: ActionPlan[] = [];
  const skipped: SkippedPlan[] = [];

  for (const f of input.findings) {
    if (f.state !== 'open') continue;
    const skip = (policy: string, action: string, reason: string) =>
      skipped.push({ findingFingerprint: f.fingerprint, credentialId: f.credentialId, policy, action, reason });
    const names = [f.policy, ...(f.policies ?? []).filter((p) => p !== f.policy)];
    const seen = new Set<string>();
    let hash: string | undefined;

    for (const name of names) {
      const policy = input.policies.get(name);
      if (!policy) {
        skip(name, '*', `unknown-policy: policy "${name}" is not loaded, so its remediation cannot be read`);
        continue;
      }
      for (const entry of policy.remediation) {
        const action = entry.action;
        if (seen.has(action)) continue; // an earlier (primary-first) policy already asked for it
        seen.add(action);
        const type = lookup(action);
        if (!type) {
          skip(name, action, `unknown-action: no action type named "${action}" is registered`);
          continue;
        }
        const cred = input.credentials.get(f.credentialId);
        if (!cred) {
          skip(name, action, `credential-missing: ${f.credentialId} is not in the current inventory`);
          continue;
        }
        if (type.kinds.length > 0 && !type.kinds.includes(cred.kind)) {
          skip(name, action, `kind-mismatch: ${action} acts on ${type.kinds.join(', ')}, not on ${cred.kind}`);
          continue;
        }
        let outcome: ReturnType<ActionType['plan']>;
        try {
          outcome = type.plan(cred, entry.params, { now: input.now, hits: f.hits });
        } catch (err) {
          skip(name, action, `plan-error: ${action} could not plan ${cred.id}: ${(err as Error).message}`);
          continue;
        }
        if ('skip' in outcome) {
          skip(name, action, `action-skipped: ${outcome.skip}`);
          continue;
        }
        // Invariant 3: the target is the exact credential detection recorded, never a neighbour.
        if (outcome.target.credentialId !== cred.id) {
          skip(name, action, `target-mismatch: ${action} aimed at ${outcome.target.credentialId}, not ${cred.id}`);
          continue;
        }
        hash ??= evidenceHash(f.hits);
        plans.push({
          id: planId(name, action, cred.id, hash),
          action,
          params: { ...entry.params },
          policy: name,
          policyMode: policy.mode,
          ...(policy.enforcedBy ? { requestedBy: `user:${policy.enforcedBy}` } : {}),
          findingFingerprint: f.fingerprint,
          severity: f.severity,
          agentId: f.agentId,
          owner: f.owner,
          environment: (f.agentId !== null ? agents.get(f.agentId)?.environment : undefined) ?? null,
          tags: cred.tags,
          credentialCreatedAt: cred.createdAt,
          target: outcome.target,
          reversible: type.reversible,
          evidenceHash: hash,
          facts: f.hits,
          message: f.message,
          scanId: input.scanId,
          plannedAt,
          // A rotation needs somewhere to put the new credential; none is denied by the guard.
          ...(type.rotation
            ? { delivery: (f.agentId !== null ? agents.get(f.agentId)?.delivery : undefined) ?? null }
            : {}),
        });
      }
    }
  }
  return { plans, skipped };
}
