/**
 * The guardrails (DESIGN flow: plan → **guard** → remediate; remediation.md §2). Pure: no I/O,
 * time only from `state.now`. Every plan gets exactly one decision, with EVERY reason that
 * applies (so a dry-run record also says what would have held or denied it), and the decision
 * follows the precedence deny > dry-run > hold > allow:
 *
 * - deny (per plan): a protect or break-glass tag, a protect.agents / accounts / credentials glob,
 *   a non-empty allow list that does not match, younger than `minAgeHours` (or no known creation
 *   time: the minimum age cannot be shown), no remediation credentials for the target, a rotation
 *   for an agent with no delivery target;
 * - dry-run: `remediation.mode: dry-run` and/or the policy's `mode: observe` (invariant 2);
 * - hold: the kill switch, an open breaker, a closed window or a freeze, cooldown, approval
 *   required (the service makes that `awaiting-approval`), a cap, the rate limit, a credential held
 *   by a rotation in progress (the old or the new one).
 *
 * Caps follow Custodian's max-resources: a policy whose batch (its plans in this call that no
 * per-plan check denied) exceeds a cap runs NOTHING of that batch. The rate limit admits the first
 * `rate.max − recentActions` of the plans that would otherwise be allowed, most severe first, then
 * by plan id; dry-run plans never use it up.
 *
 * Glob matching (util/wildcard.ts) leans to safety: protect and approval globs ignore case (they
 * may match more), allow globs do not (they may not).
 */
import type { ActionPlan, ActionTarget, GuardDecision, GuardReason } from '../model/action.js';
import { severityRank } from '../model/finding.js';
import type { DeliveryTarget } from '../model/rotation.js';
import { type WildcardMatcher, wildcardMatcher } from '../util/wildcard.js';
import type { RemediationConfig } from './config.js';
import { windowVerdict } from './windows.js';

export { windowState } from './windows.js';

export interface GuardState {
  now: Date;
  config: RemediationConfig;
  paused: { by: string; at: string; reason?: string } | null;
  breaker: { trippedAt: string; reason: string } | null;
  /** Actions started (intent recorded) within the rate window, across all workers. */
  recentActions: number;
  /** Credential id → ISO time of credwarden's last action on it (cooldown). */
  lastActionAt: ReadonlyMap<string, string>;
  /** Policy name → credentials it matched in this run (open findings), for percentPerRun. */
  matchedByPolicy: ReadonlyMap<string, number>;
  /** Can credwarden act on this target at all (remediation credentials for its account/cluster)? null = yes, else the reason. */
  credentialsFor(target: ActionTarget, delivery?: DeliveryTarget | null): string | null;
  /** Plan id → why its action is not due yet (delete-key before `afterDays`): held, code not-yet. */
  notYet?: ReadonlyMap<string, string>;
  /** Credential id → the rotation (plan id) holding it now: any other action on it is held. */
  rotating?: ReadonlyMap<string, string>;
}

const HOUR = 3_600_000;

interface Glob {
  pattern: string;
  m: WildcardMatcher;
}
const globs = (patterns: readonly string[], caseInsensitive: boolean): Glob[] =>
  patterns.map((pattern) => ({ pattern, m: wildcardMatcher(pattern, { caseInsensitive }) }));
const firstMatch = (gs: readonly Glob[], v: string | null): string | undefined =>
  v === null ? undefined : gs.find((g) => g.m.test(v))?.pattern;

interface ApprovalRule {
  text: string;
  actions: Glob[] | null;
  policies: Glob[] | null;
  severities: ReadonlySet<string> | null;
  environments: Glob[] | null;
}

function compileApprovals(config: RemediationConfig): ApprovalRule[] {
  const listed = (v: readonly string[] | undefined): v is readonly string[] => v !== undefined && v.length > 0;
  return config.approvals.required.map((r, i) => {
    const parts: string[] = [];
    for (const k of ['actions', 'policies', 'severities', 'environments'] as const) {
      const v = r[k];
      if (listed(v)) parts.push(`${k}: ${v.join(', ')}`);
    }
    return {
      text: `approvals.required[${i}] (${parts.join('; ')})`,
      actions: listed(r.actions) ? globs(r.actions, true) : null,
      policies: listed(r.policies) ? globs(r.policies, true) : null,
      severities: listed(r.severities) ? new Set(r.severities) : null,
      environments: listed(r.environments) ? globs(r.environments, true) : null,
    };
  });
}

/** A rule matches when ALL its listed fields match; any matching rule requires approval. */
function matchApproval(rules: readonly ApprovalRule[], plan: ActionPlan): string | null {
  for (const r of rules) {
    if (r.actions && firstMatch(r.actions, plan.action) === undefined) continue;
    if (r.policies && firstMatch(r.policies, plan.policy) === undefined) continue;
    if (r.severities && !r.severities.has(plan.severity)) continue;
    if (r.environments && firstMatch(r.environments, plan.environment) === undefined) continue;
    return r.text;
  }
  return null;
}

/** The approval rule that matches the plan, described, or null when none does. */
export function approvalRequired(plan: ActionPlan, config: RemediationConfig): string | null {
  return matchApproval(compileApprovals(config), plan);
}

interface Work {
  plan: ActionPlan;
  reasons: GuardReason[];
  deny: boolean;
  dryRun: boolean;
  hold: boolean;
}

/** Everything derived from config and state once per call, never per plan. */
function compile(state: GuardState) {
  const c = state.config;
  const tagRules = (tags: Record<string, string>) =>
    Object.entries(tags).map(([key, value]) => ({ key, value, m: wildcardMatcher(value, { caseInsensitive: true }) }));
  return {
    protectTags: tagRules(c.protect.tags),
    breakGlassTags: tagRules(c.protect.breakGlassTags),
    protectAgents: globs(c.protect.agents, true),
    protectAccounts: globs(c.protect.accounts, true),
    protectCredentials: globs(c.protect.credentials, true),
    allowAgents: globs(c.allow.agents, false),
    allowAccounts: globs(c.allow.accounts, false),
    allowCredentials: globs(c.allow.credentials, false),
    approvals: compileApprovals(c),
    window: windowVerdict(c, state.now),
    nowMs: state.now.getTime(),
  };
}
type Compiled = ReturnType<typeof compile>;

function denyReasons(p: ActionPlan, k: Compiled, state: GuardState, out: GuardReason[]): void {
  const c = state.config;
  const id = p.target.credentialId;
  for (const t of k.breakGlassTags) {
    const v = p.tags[t.key];
    if (v !== undefined && t.m.test(v))
      out.push({ guard: 'protect', code: 'break-glass', message: `break-glass tag ${t.key}=${v} on ${id}` });
  }
  for (const t of k.protectTags) {
    const v = p.tags[t.key];
    if (v !== undefined && t.m.test(v))
      out.push({ guard: 'protect', code: 'protected-tag', message: `tag ${t.key}=${v} protects ${id}` });
  }
  const protect = (gs: Glob[], v: string | null, code: string, what: string, list: string) => {
    const hit = firstMatch(gs, v);
    if (hit !== undefined)
      out.push({ guard: 'protect', code, message: `${what} ${v} matches remediation.protect.${list} "${hit}"` });
  };
  protect(k.protectAgents, p.agentId, 'protected-agent', 'agent', 'agents');
  protect(k.protectAccounts, p.target.source, 'protected-account', 'account', 'accounts');
  protect(k.protectCredentials, id, 'protected-credential', 'credential', 'credentials');
  const allow = (gs: Glob[], v: string | null, what: string, list: string) => {
    if (gs.length > 0 && firstMatch(gs, v) === undefined)
      out.push({
        guard: 'allow',
        code: 'not-allowed',
        message: `${what} ${v ?? '(none)'} is not in remediation.allow.${list} (${gs.map((g) => g.pattern).join(', ')})`,
      });
  };
  allow(k.allowAgents, p.agentId, 'agent', 'agents');
  allow(k.allowAccounts, p.target.source, 'account', 'accounts');
  allow(k.allowCredentials, id, 'credential', 'credentials');
  if (c.minAgeHours > 0) {
    const created = p.credentialCreatedAt === null ? Number.NaN : Date.parse(p.credentialCreatedAt);
    if (Number.isNaN(created)) {
      out.push({
        guard: 'min-age',
        code: 'age-unknown',
        message: `${id} has no known creation time, so it cannot be shown to be older than ${c.minAgeHours} h`,
      });
    } else if (k.nowMs - created < c.minAgeHours * HOUR) {
      const age = ((k.nowMs - created) / HOUR).toFixed(1);
      out.push({
        guard: 'min-age',
        code: 'min-age',
        message: `${id} was created ${p.credentialCreatedAt} (${age} h ago), younger than minAgeHours ${c.minAgeHours}`,
      });
    }
  }
  const noCreds = state.credentialsFor(p.target, p.delivery);
  if (noCreds !== null) out.push({ guard: 'credentials', code: 'no-credentials', message: noCreds });
  if (p.delivery === null)
    out.push({
      guard: 'delivery',
      code: 'no-delivery',
      message: `${p.agentId === null ? `${p.target.credentialId} belongs to no registered agent` : `agent ${p.agentId} has no delivery target in the registry`}: a rotation never creates a credential nobody can read`,
    });
}

function holdReasons(p: ActionPlan, k: Compiled, state: GuardState, out: GuardReason[]): void {
  const c = state.config;
  if (state.paused) {
    const why = state.paused.reason ? `: ${state.paused.reason}` : '';
    out.push({
      guard: 'kill-switch',
      code: 'paused',
      message: `remediation paused by ${state.paused.by} at ${state.paused.at}${why}`,
    });
  }
  if (state.breaker)
    out.push({
      guard: 'breaker',
      code: 'breaker-open',
      message: `circuit breaker tripped at ${state.breaker.trippedAt}: ${state.breaker.reason}`,
    });
  if (!k.window.open && k.window.code && k.window.reason)
    out.push({ guard: 'window', code: k.window.code, message: k.window.reason });
  const last = state.lastActionAt.get(p.target.credentialId);
  if (last !== undefined && c.cooldownHours > 0) {
    const at = Date.parse(last);
    const ends = at + c.cooldownHours * HOUR;
    // An unreadable time fails closed: the cooldown cannot be shown to be over.
    if (Number.isNaN(at) || k.nowMs < ends)
      out.push({
        guard: 'cooldown',
        code: 'cooldown',
        message: Number.isNaN(at)
          ? `last action on ${p.target.credentialId} at an unreadable time (${last}); cooldown ${c.cooldownHours} h`
          : `credwarden acted on ${p.target.credentialId} at ${last}; cooldown ${c.cooldownHours} h ends ${new Date(ends).toISOString()}`,
      });
  }
  const holder = state.rotating?.get(p.target.credentialId);
  if (holder !== undefined && holder !== p.id)
    out.push({
      guard: 'rotation',
      code: 'rotation-in-progress',
      message: `${p.target.credentialId} is part of rotation ${holder} in progress; nothing else acts on it until that ends`,
    });
  const wait = state.notYet?.get(p.id);
  if (wait !== undefined) out.push({ guard: 'schedule', code: 'not-yet', message: wait });
  const rule = matchApproval(k.approvals, p);
  if (rule !== null)
    out.push({ guard: 'approval', code: 'approval-required', message: `approval required by ${rule}` });
}

function applyCaps(works: readonly Work[], state: GuardState): void {
  const caps = state.config.caps;
  const byPolicy = new Map<string, Work[]>();
  for (const w of works) {
    const list = byPolicy.get(w.plan.policy);
    if (list) list.push(w);
    else byPolicy.set(w.plan.policy, [w]);
  }
  for (const [policy, list] of byPolicy) {
    // The blast radius is the credentials a batch would touch: two actions on one credential
    // (deactivate-key and notify-owner) count once, so the percentage is of matched credentials.
    const touched = new Set<string>();
    for (const w of list) if (!w.deny) touched.add(w.plan.target.credentialId);
    const count = touched.size;
    const reasons: GuardReason[] = [];
    if (count > caps.perPolicyPerRun)
      reasons.push({
        guard: 'caps',
        code: 'cap-exceeded',
        message: `${policy}: ${count} actions > cap ${caps.perPolicyPerRun} per run`,
      });
    const matched = state.matchedByPolicy.get(policy) ?? 0;
    if (matched >= caps.percentMinMatched && (100 * count) / matched > caps.percentPerRun) {
      const pct = Math.round((1000 * count) / matched) / 10;
      reasons.push({
        guard: 'caps',
        code: 'cap-exceeded',
        message: `${policy}: ${count} actions on ${matched} matched credentials = ${pct}% > cap ${caps.percentPerRun}% per run`,
      });
    }
    if (reasons.length === 0) continue;
    for (const w of list) {
      w.reasons.push(...reasons);
      w.hold = true;
    }
  }
}

function applyRate(works: readonly Work[], state: GuardState): void {
  const { max, perHours } = state.config.rate;
  const remaining = Math.max(0, max - state.recentActions);
  const candidates = works.filter((w) => !w.deny && !w.dryRun && !w.hold);
  if (candidates.length <= remaining) return;
  candidates.sort((a, b) => {
    const s = severityRank(b.plan.severity) - severityRank(a.plan.severity);
    return s !== 0 ? s : a.plan.id < b.plan.id ? -1 : a.plan.id > b.plan.id ? 1 : 0;
  });
  const message =
    `rate limit ${max} actions per ${perHours} h: ${state.recentActions} started in the window, ` +
    `${remaining} left for ${candidates.length} ready plans`;
  for (let i = remaining; i < candidates.length; i++) {
    const w = candidates[i]!;
    w.reasons.push({ guard: 'rate', code: 'rate-limited', message });
    w.hold = true;
  }
}

/** One decision per plan (by plan id; a repeated id is decided once, by its first occurrence). */
export function guardPlans(plans: readonly ActionPlan[], state: GuardState): Map<string, GuardDecision> {
  const k = compile(state);
  const decidedAt = state.now.toISOString();
  const seen = new Set<string>();
  const works: Work[] = [];
  for (const plan of plans) {
    if (seen.has(plan.id)) continue;
    seen.add(plan.id);
    const reasons: GuardReason[] = [];
    denyReasons(plan, k, state, reasons);
    const deny = reasons.length > 0;
    const before = reasons.length;
    if (state.config.mode === 'dry-run')
      reasons.push({ guard: 'mode', code: 'global-dry-run', message: 'remediation.mode is dry-run' });
    if (plan.policyMode === 'observe')
      reasons.push({ guard: 'mode', code: 'policy-observe', message: `policy ${plan.policy} is in mode observe` });
    const dryRun = reasons.length > before;
    const beforeHold = reasons.length;
    holdReasons(plan, k, state, reasons);
    works.push({ plan, reasons, deny, dryRun, hold: reasons.length > beforeHold });
  }
  applyCaps(works, state);
  applyRate(works, state);
  const out = new Map<string, GuardDecision>();
  for (const w of works) {
    const decision = w.deny ? 'deny' : w.dryRun ? 'dry-run' : w.hold ? 'hold' : 'allow';
    out.set(w.plan.id, { decision, reasons: w.reasons, decidedAt });
  }
  return out;
}
