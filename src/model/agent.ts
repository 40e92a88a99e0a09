import type { Owner } from './credential.js';
import type { DeliveryTarget } from './rotation.js';

/** A registry entry from agents.yaml. */
export interface Agent {
  id: string;
  name: string;
  /** Absent when nobody owns the agent: a hygiene finding of its own. */
  owner?: Owner;
  version: string;
  environment: string;
  scopes: { aws: string[]; vault: VaultScope[] };
  selectors: AgentSelectors;
  /** Where rotated credentials go (agents.yaml `delivery`); a rotation without one never starts. */
  delivery?: DeliveryTarget;
}

export interface VaultScope {
  path: string;
  capabilities: string[];
}

export interface AgentSelectors {
  aws?: {
    users?: string[];
    roles?: string[];
    tags?: Record<string, string>;
  };
  vault?: {
    displayNames?: string[];
    meta?: Record<string, string>;
    approleRoles?: string[];
    policies?: string[];
    entities?: string[];
    namespace?: string;
  };
}

/** What makes an unmatched credential "agent-looking". */
export interface UnregisteredRules {
  aws: { tags: Record<string, string>; namePatterns: string[] };
  vault: { meta: string[]; displayNamePatterns: string[]; policyPatterns: string[] };
}

export interface Registry {
  agents: Agent[];
  unregistered: UnregisteredRules;
}
