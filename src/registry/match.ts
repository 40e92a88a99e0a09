/**
 * Joins discovered credentials to registry agents. Pure: no I/O.
 *
 * A credential belongs to the first agent (in file order) whose selectors match it; the other
 * candidates are kept in `attributes.agentCandidates` so a conflicting registry is visible. An
 * unmatched credential that looks like an agent's (configured tags, name patterns, Vault meta
 * keys, …) is flagged `unregisteredAgent`. Sources decide which principals to offer: AWS offers
 * only principals that some selector or unregistered rule names, so human users stay out.
 */
import type { Agent, Registry } from '../model/agent.js';
import type { Credential, DiscoveredCredential } from '../model/credential.js';
import { anyGlob, globMatch } from './glob.js';

/** The facts selectors look at. Sources fill what applies. */
export interface MatchSubject {
  sourceType: 'aws' | 'vault';
  /** IAM user or role name, with its ARN. */
  aws?: { userName?: string; roleName?: string; arn: string; tags: Record<string, string> };
  vault?: {
    namespace: string;
    displayName?: string;
    meta?: Record<string, string>;
    /** `<mount>/<role>` for AppRole roles, secret IDs and tokens logged in through AppRole. */
    approleRole?: string;
    policies?: string[];
    entityId?: string;
  };
}

function tagsMatch(want: Record<string, string> | undefined, have: Record<string, string>): boolean {
  const entries = Object.entries(want ?? {});
  return entries.length > 0 && entries.every(([k, v]) => have[k] !== undefined && globMatch(v, have[k]));
}

function matchesAws(agent: Agent, s: NonNullable<MatchSubject['aws']>): boolean {
  const sel = agent.selectors.aws;
  if (!sel) return false;
  if (s.userName !== undefined && (anyGlob(sel.users, s.userName) || anyGlob(sel.users, s.arn))) return true;
  if (s.roleName !== undefined && (anyGlob(sel.roles, s.roleName) || anyGlob(sel.roles, s.arn))) return true;
  return tagsMatch(sel.tags, s.tags);
}

function normNs(ns: string): string {
  const t = ns.replace(/^\/+|\/+$/g, '');
  return t === '' || t === 'root' ? '' : `${t}/`;
}

function matchesVault(agent: Agent, s: NonNullable<MatchSubject['vault']>): boolean {
  const sel = agent.selectors.vault;
  if (!sel) return false;
  if (sel.namespace !== undefined && normNs(sel.namespace) !== normNs(s.namespace)) return false;
  if (anyGlob(sel.displayNames, s.displayName)) return true;
  if (anyGlob(sel.approleRoles, s.approleRole)) return true;
  if (anyGlob(sel.entities, s.entityId)) return true;
  if (sel.policies?.length && (s.policies ?? []).some((p) => anyGlob(sel.policies, p))) return true;
  return tagsMatch(sel.meta, s.meta ?? {});
}

export function matchAgents(registry: Registry, subject: MatchSubject): Agent[] {
  return registry.agents.filter((a) =>
    subject.aws ? matchesAws(a, subject.aws) : subject.vault ? matchesVault(a, subject.vault) : false,
  );
}

export function looksLikeAgent(registry: Registry, subject: MatchSubject): boolean {
  const u = registry.unregistered;
  if (subject.aws) {
    const s = subject.aws;
    const anyTag = Object.entries(u.aws.tags).some(([k, v]) => s.tags[k] !== undefined && globMatch(v, s.tags[k]));
    const name = s.userName ?? s.roleName ?? '';
    return anyTag || anyGlob(u.aws.namePatterns, name);
  }
  if (subject.vault) {
    const s = subject.vault;
    const metaKey = u.vault.meta.some((k) => s.meta?.[k] !== undefined && s.meta[k] !== '');
    const policy = (s.policies ?? []).some((p) => anyGlob(u.vault.policyPatterns, p));
    return metaKey || policy || anyGlob(u.vault.displayNamePatterns, s.displayName);
  }
  return false;
}

/** True when the principal should be inventoried at all (a selector or an unregistered rule names it). */
export function isAgentPrincipal(registry: Registry, subject: MatchSubject): boolean {
  return matchAgents(registry, subject).length > 0 || looksLikeAgent(registry, subject);
}

export function attribute(registry: Registry, cred: DiscoveredCredential, subject: MatchSubject): Credential {
  const agents = matchAgents(registry, subject);
  const agent = agents[0] ?? null;
  const attributes =
    agents.length > 1 ? { ...cred.attributes, agentCandidates: agents.map((a) => a.id) } : cred.attributes;
  return {
    ...cred,
    attributes,
    agentId: agent?.id ?? null,
    owner: agent?.owner ? { ...agent.owner } : null,
    unregisteredAgent: agent === null && looksLikeAgent(registry, subject),
  };
}
