/**
 * Policies × credentials → policy hits. Pure: no I/O, time only from `now` (so `--as-of` is just
 * another `now`). A policy applies to a credential when its resource selector matches and every
 * rule type can apply to the kind; it hits when every rule hits (rules AND together). Exceptions
 * are not applied here: suppression is a finding state (see findings/transitions.ts).
 */
import type { Agent, Registry } from '../model/agent.js';
import type { Credential, Grant } from '../model/credential.js';
import { anyGlob, globMatch } from '../registry/glob.js';
import { riskKeyOf } from './collapse.js';
import type { Policy, ResourceSelector } from './model.js';
import { getRuleType } from './rules/index.js';
import type { PreviousScanView } from './runaway.js';
import type { InventoryIndex, RuleContext, RuleHit, RuleServices, RuleType, Severity } from './types.js';

export interface PolicyHit {
  /**
   * The fingerprint of the finding this hit belongs to: one per risk per credential, shared by every
   * policy that checks the same risk (see collapse.ts), so several hits can carry the same one.
   */
  fingerprint: string;
  /** The policy's risk key (collapse.ts): its rule types and the parameters that define the check. */
  riskKey: string;
  policy: Policy;
  credential: Credential;
  /** Every rule's hits; for a one-rule policy, the rule's own (shared, read-only) array. */
  hits: readonly RuleHit[];
  severity: Severity;
}

/** One line for people; built only when a finding is written, not for every hit. */
export const hitMessage = (h: Pick<PolicyHit, 'policy' | 'hits'>): string =>
  `${h.policy.description}: ${h.hits[0]?.message ?? ''}`;

/**
 * Policy + credential: readable, unique, and cheap (hundreds of thousands per evaluation). A finding's
 * fingerprint is this for the first (by name) of the policies checking its risk on the credential.
 */
export function fingerprint(policy: string, credentialId: string): string {
  return `${policy}:${credentialId}`;
}

export function buildInventoryIndex(all: readonly Credential[]): InventoryIndex {
  let byId: Map<string, Credential> | undefined;
  let byPrincipal: Map<string, Credential[]> | undefined;
  const principals = () => {
    if (byPrincipal) return byPrincipal;
    byPrincipal = new Map();
    for (const c of all) {
      const k = `${c.source}\n${c.principal}`;
      const list = byPrincipal.get(k);
      if (list) list.push(c);
      else byPrincipal.set(k, [c]);
    }
    return byPrincipal;
  };
  // Built on first use: most rules never ask.
  return {
    all,
    get byId() {
      byId ??= new Map(all.map((c) => [c.id, c]));
      return byId;
    },
    samePrincipal: (c) => principals().get(`${c.source}\n${c.principal}`) ?? [c],
  };
}

export function selects(sel: ResourceSelector, c: Credential, agent: Agent | undefined): boolean {
  if (sel.kinds && !sel.kinds.includes(c.kind)) return false;
  if (sel.sources && !sel.sources.some((g) => globMatch(g, c.sourceType) || globMatch(g, c.source))) return false;
  if (sel.agents) {
    const ok = sel.agents.some((g) =>
      g === 'unregistered'
        ? c.unregisteredAgent
        : g === 'unattributed'
          ? c.agentId === null
          : c.agentId !== null && globMatch(g, c.agentId),
    );
    if (!ok) return false;
  }
  if (sel.tags && !Object.entries(sel.tags).every(([k, v]) => c.tags[k] !== undefined && globMatch(v, c.tags[k])))
    return false;
  if (sel.environments && !anyGlob(sel.environments, agent?.environment)) return false;
  return true;
}

export interface EvaluateInput {
  credentials: readonly Credential[];
  policies: readonly Policy[];
  registry: Registry;
  now: Date;
  services?: RuleServices;
  /** The previous scan (RuleContext.previous); absent: rules comparing scans never hit. */
  previous?: PreviousScanView;
}

/**
 * Rules that read only a credential's grants and a few stable fields give the same hits for every
 * credential sharing those inputs (two keys of one user; agents sharing managed policies), so their
 * hits are computed once per distinct input. `needs` says what a rule reads.
 */
const MEMO_FIELDS = new Set(['grants', 'principal', 'attributes.groups', 'registry', 'agentId', 'kind', 'source']);

function memoKeyFn(needs: readonly string[]): ((c: Credential) => string) | null {
  if (!needs.includes('grants') || !needs.every((n) => MEMO_FIELDS.has(n))) return null;
  const p = needs.includes('principal');
  const a = needs.includes('agentId');
  const g = needs.includes('attributes.groups');
  const s = needs.includes('source');
  if (!p && !a && !g && !s) return (c) => c.kind;
  return (c) =>
    `${c.kind}\u0000${p ? c.principal : ''}\u0000${a ? c.agentId : ''}\u0000${g ? JSON.stringify(c.attributes.groups ?? null) : ''}\u0000${s ? c.source : ''}`;
}

/** One array per distinct grant list, so identity-keyed caches (here and in the analysers) hit across credentials. */
class GrantInterner {
  private readonly byArray = new WeakMap<readonly Grant[], readonly Grant[]>();
  private readonly byText = new Map<string, readonly Grant[]>();
  intern(grants: readonly Grant[]): readonly Grant[] {
    const known = this.byArray.get(grants);
    if (known) return known;
    const text = JSON.stringify(grants);
    let canon = this.byText.get(text);
    if (!canon) {
      canon = grants;
      this.byText.set(text, canon);
    }
    this.byArray.set(grants, canon);
    return canon;
  }
}

/**
 * Evaluates one credential at a time, so callers can stream (score and drop) instead of holding
 * every hit of a large estate in memory.
 */
export class PolicyEvaluator {
  private readonly ctx: RuleContext;
  private readonly interner = new GrantInterner();
  /** Policies that can apply to each credential kind (selector kinds ∩ every rule's kinds). */
  private readonly byKind = new Map<string, CompiledPolicy[]>();
  private readonly all: CompiledPolicy[];

  constructor(input: Omit<EvaluateInput, 'credentials'> & { inventory: readonly Credential[] }) {
    const agents = new Map(input.registry.agents.map((a) => [a.id, a]));
    this.ctx = {
      now: input.now,
      registry: input.registry,
      agent: (id) => (id === null ? undefined : agents.get(id)),
      inventory: buildInventoryIndex(input.inventory),
      services: input.services ?? {},
      ...(input.previous ? { previous: input.previous } : {}),
    };
    this.all = input.policies.map((p) => {
      const rules = p.rules.map((r) => {
        const type = getRuleType(r.type)!;
        return {
          type,
          params: r.params,
          memoKey: memoKeyFn(type.needs),
          memo: new WeakMap<readonly Grant[], Map<string, RuleHit[]>>(),
        };
      });
      const { kinds: _kinds, ...rest } = p.resource;
      return {
        p,
        rules,
        riskKey: riskKeyOf(p),
        shared: false,
        restSelector: Object.keys(rest).length > 0 ? rest : null,
      };
    });
    // A risk key checked by one policy only needs no bookkeeping per credential (the common case).
    const count = new Map<string, number>();
    for (const cp of this.all) count.set(cp.riskKey, (count.get(cp.riskKey) ?? 0) + 1);
    for (const cp of this.all) cp.shared = (count.get(cp.riskKey) ?? 0) > 1;
  }

  private forKind(kind: Credential['kind']): CompiledPolicy[] {
    let list = this.byKind.get(kind);
    if (!list) {
      list = this.all.filter(
        ({ p, rules }) =>
          (!p.resource.kinds || p.resource.kinds.includes(kind)) &&
          rules.every((r) => !r.type.kinds || r.type.kinds.includes(kind)),
      );
      this.byKind.set(kind, list);
    }
    return list;
  }

  private memoized(r: CompiledPolicy['rules'][number], c: Credential): RuleHit[] {
    let byKey = r.memo.get(c.grants);
    if (!byKey) {
      byKey = new Map();
      r.memo.set(c.grants, byKey);
    }
    const k = r.memoKey!(c);
    let h = byKey.get(k);
    if (!h) {
      h = r.type.evaluate(c, r.params, this.ctx);
      byKey.set(k, h);
    }
    return h;
  }

  evaluate(input: Credential): PolicyHit[] {
    const grants = this.interner.intern(input.grants);
    const c = grants === input.grants ? input : { ...input, grants: grants as Grant[] };
    const agent = this.ctx.agent(c.agentId);
    const out: PolicyHit[] = [];
    // Per risk key, the first policy name (by name) that selects this credential, hit or not: the
    // fingerprint's policy part, so crossing one policy's threshold never moves a fingerprint.
    let first: Map<string, string> | undefined;
    for (const { p, rules, riskKey, shared, restSelector } of this.forKind(c.kind)) {
      if (restSelector && !selects(restSelector, c, agent)) continue;
      if (shared) {
        first ??= new Map();
        const known = first.get(riskKey);
        if (known === undefined || p.name < known) first.set(riskKey, p.name);
      }
      let hits: RuleHit[] = [];
      let all = true;
      for (const r of rules) {
        const h = r.memoKey ? this.memoized(r, c) : r.type.evaluate(c, r.params, this.ctx);
        if (h.length === 0) {
          all = false;
          break;
        }
        hits = rules.length === 1 ? h : [...hits, ...h];
      }
      if (!all) continue;
      let severity = p.severity;
      let best = -1;
      for (const h of hits) {
        if (h.severity === undefined) continue;
        const rank = RANK[h.severity];
        if (rank > best) {
          best = rank;
          severity = h.severity;
        }
      }
      out.push({ fingerprint: '', riskKey, policy: p, credential: c, hits, severity });
    }
    for (const h of out) h.fingerprint = fingerprint(first?.get(h.riskKey) ?? h.policy.name, c.id);
    return out;
  }
}

const RANK: Record<Severity, number> = { info: 1, low: 2, medium: 3, high: 4, critical: 5 };

interface CompiledPolicy {
  p: Policy;
  riskKey: string;
  /** Whether another loaded policy has the same risk key. */
  shared: boolean;
  rules: {
    type: RuleType<unknown>;
    params: unknown;
    memoKey: ((c: Credential) => string) | null;
    memo: WeakMap<readonly Grant[], Map<string, RuleHit[]>>;
  }[];
  /** The selector without kinds (kinds are resolved by forKind), or null when nothing else is selected. */
  restSelector: ResourceSelector | null;
}

export function evaluatePolicies(input: EvaluateInput): PolicyHit[] {
  const ev = new PolicyEvaluator({ ...input, inventory: input.credentials });
  return input.credentials.flatMap((c) => ev.evaluate(c));
}
