/**
 * The registry joined to the inventory, as GET /api/v1/agents joins them (agents.route.ts: open
 * findings by severity per agent from the findings view, credentials per agent from the inventory
 * view, the explained score from FindingsService.agentScore), plus what the agents page compares:
 *
 * - declared: the registry's `scopes` (AWS action patterns, Vault `path: capabilities`);
 * - granted: what the agent's credentials' grants allow (model/credential.ts grantedActions:
 *   AWS Allow actions, Vault path:capability; boundaries left out);
 * - beyond declared: the excess the scope detector reported (open findings whose hits come from
 *   detector "scope", their `excess` evidence), so the page says what the detector says;
 * - used: the credentials' last-used data (time, and the AWS service when the source reports one;
 *   the model keeps the last use only, not every service ever accessed).
 */
import type { ApiDeps } from '../../api/route.js';
import type { Agent } from '../../model/agent.js';
import { type Credential, grantedActions } from '../../model/credential.js';
import { type Finding, SEVERITIES, type Severity } from '../../model/finding.js';
import type { AgentScore } from '../../policy/score.js';
import { actionPatternRegExp } from '../../privilege/iam-glob.js';

export interface UseSeen {
  credentialId: string;
  at: string;
  service: string | null;
  source: string;
  /** The service is not covered by any declared AWS pattern (null: no service reported). */
  undeclared: boolean | null;
}

export interface AgentView {
  agent: Agent;
  credentials: Credential[];
  open: Record<Severity, number>;
  openTotal: number;
  score: AgentScore | null;
  declared: string[];
  granted: string[];
  beyond: string[];
  used: UseSeen[];
}

export const zeroBySeverity = (): Record<Severity, number> =>
  Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>;

/** Whether an AWS service name is covered by some declared action pattern's service part. */
export function serviceDeclared(service: string, patterns: readonly string[]): boolean {
  return patterns.some((p) => actionPatternRegExp(p.split(':')[0] ?? p).test(service));
}

function declaredOf(a: Agent): string[] {
  return [
    ...(a.scopes?.aws ?? []).map((p) => `aws ${p}`),
    ...(a.scopes?.vault ?? []).map((v) => `vault ${v.path}: ${v.capabilities.join(', ')}`),
  ];
}

function beyondOf(findings: readonly Finding[]): string[] {
  const out = new Set<string>();
  for (const f of findings) {
    if (f.state !== 'open') continue;
    for (const h of f.hits) {
      if (h.detector !== 'scope') continue;
      const excess = h.evidence.find((e) => e.field === 'excess')?.value;
      if (Array.isArray(excess)) for (const x of excess) out.add(String(x));
    }
  }
  return [...out].sort();
}

function usedOf(creds: readonly Credential[], patterns: readonly string[]): UseSeen[] {
  const out: UseSeen[] = [];
  for (const c of creds) {
    const lu = c.lastUsed;
    if (!lu?.at) continue;
    const service = lu.service ?? null;
    out.push({
      credentialId: c.id,
      at: lu.at,
      service,
      source: lu.source,
      undeclared: service === null ? null : !serviceDeclared(service, patterns),
    });
  }
  return out.sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : 0));
}

/** Every registry agent (registry order) with its posture. */
export async function agentViews(deps: ApiDeps): Promise<AgentView[]> {
  const { app, views } = deps;
  const [findings, inventory] = await Promise.all([views.findings(), views.inventory()]);
  const creds = new Map<string, Credential[]>();
  for (const c of inventory.sorted) {
    if (!c.agentId) continue;
    const list = creds.get(c.agentId);
    if (list) list.push(c);
    else creds.set(c.agentId, [c]);
  }
  const byAgent = new Map<string, Finding[]>();
  for (const f of findings.sorted) {
    if (!f.agentId) continue;
    const list = byAgent.get(f.agentId);
    if (list) list.push(f);
    else byAgent.set(f.agentId, [f]);
  }
  const agents = app.registry.agents;
  const scores = await Promise.all(agents.map((a) => app.findings.agentScore(a.id)));
  return agents.map((agent, i) => {
    const mine = creds.get(agent.id) ?? [];
    const fs = byAgent.get(agent.id) ?? [];
    const open = zeroBySeverity();
    for (const f of fs) if (f.state === 'open') open[f.severity]++;
    return {
      agent,
      credentials: mine,
      open,
      openTotal: Object.values(open).reduce((n, v) => n + v, 0),
      score: scores[i] ?? null,
      declared: declaredOf(agent),
      granted: [...new Set(mine.flatMap((c) => grantedActions(c.grants)))].sort(),
      beyond: beyondOf(fs),
      used: usedOf(mine, agent.scopes?.aws ?? []),
    };
  });
}

/** The riskiest agents: scored above zero, highest first (then by id), at most `n`. */
export function riskiest(all: readonly AgentView[], n = 10): AgentView[] {
  return all
    .filter((a) => (a.score?.score ?? 0) > 0)
    .sort((a, b) => (b.score?.score ?? 0) - (a.score?.score ?? 0) || (a.agent.id < b.agent.id ? -1 : 1))
    .slice(0, n);
}

/** Credentials that look like an agent's but no registry entry claims, by id. */
export async function unregisteredCredentials(deps: ApiDeps): Promise<Credential[]> {
  return (await deps.views.inventory()).sorted.filter((c) => c.unregisteredAgent);
}
