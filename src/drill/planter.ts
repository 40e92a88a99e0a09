/**
 * What the AWS and Vault planters share: the names a drill gives what it plants, made to look like
 * an agent's by the registry's own `unregistered` rules (so discovery sees it the way it would see
 * a real agent's), and the contract between the runner and a planter.
 */
import { CwError, ErrorCodes } from '../errors.js';
import type { Registry } from '../model/agent.js';
import type { DrillScenario, DrillsConfig } from './config.js';
import type { PlantedResource } from './store.js';

/** The tag (AWS) and metadata key (Vault) naming the drill on what it plants. */
export const DRILL_TAG = 'credwarden-drill';
/** The IAM path of every drill user: a drill role can be limited to `user/credwarden-drill/*`. */
export const DRILL_PATH = '/credwarden-drill/';

export interface DrillLook {
  aws: { userName: string; tags: Record<string, string> };
  vault: { name: string; meta: Record<string, string>; displayName: string };
}

export interface PlantContext {
  drillId: string;
  scenario: DrillScenario;
  look: DrillLook;
  /** Record resources about to be created (audited and stored first: no intent, no plant). */
  intent(resources: PlantedResource[]): Promise<void>;
  /** Record the exact ids of what was created (credential ids for alert routing and observation). */
  planted(resources: PlantedResource[]): Promise<void>;
}

export interface Removal {
  removed: string[];
  gone: string[];
  failed: { id: string; error: string }[];
}

export interface Planter {
  plant(ctx: PlantContext): Promise<void>;
  /** self-escalation: the second step, after a first scan saw the credential harmless. */
  escalate?(ctx: PlantContext): Promise<void>;
  remove(drillId: string, planted: readonly PlantedResource[], out: Removal): Promise<void>;
}

/** The planter for a target, over the drill's own credentials (ports.ts builds it). */
export type PlanterFor = (target: 'aws' | 'vault', cfg: DrillsConfig) => Planter;

/** A glob's literal instance: the first `*` filled with `fill`, the others empty (`agent-*` → `agent-<fill>`). */
function instance(glob: string, fill: string): string {
  let first = true;
  return glob
    .replace(/\*+/g, () => {
      const out = first ? fill : '';
      first = false;
      return out;
    })
    .replace(/\?/g, 'x');
}

/**
 * The names a drill's plants get. AWS: the registry's agent tags (a glob value filled in) and a
 * user name from its first name pattern; Vault: its agent metadata keys, display name pattern and
 * policy pattern. A registry with no such rule for the target makes the drill fail before it
 * plants anything: its credential would be invisible to discovery, like a real agent's would be.
 */
export function drillLook(registry: Registry, drillId: string, target: 'aws' | 'vault'): DrillLook {
  const u = registry.unregistered;
  const name = `credwarden-${drillId}`;
  const tags = Object.fromEntries(Object.entries(u.aws.tags).map(([k, v]) => [k, instance(v, 'drill')]));
  const pattern = u.aws.namePatterns[0];
  if (target === 'aws' && Object.keys(tags).length === 0 && !pattern)
    throw new CwError(
      ErrorCodes.CONFIG,
      'the registry names no unregistered.aws tags or namePatterns: a drill user would be invisible to discovery, as a real agent would be',
    );
  const meta = Object.fromEntries(u.vault.meta.map((k) => [k, name]));
  const displayPattern = u.vault.displayNamePatterns[0];
  if (target === 'vault' && Object.keys(meta).length === 0 && !displayPattern && !u.vault.policyPatterns[0])
    throw new CwError(
      ErrorCodes.CONFIG,
      'the registry names no unregistered.vault meta, displayNamePatterns or policyPatterns: a drill credential would be invisible as an agent',
    );
  const policyPattern = u.vault.policyPatterns[0];
  return {
    aws: { userName: (pattern ? instance(pattern, name) : name).slice(0, 64), tags },
    vault: {
      name: policyPattern ? instance(policyPattern, name) : name,
      meta: { ...meta, [DRILL_TAG]: drillId },
      displayName: displayPattern ? instance(displayPattern, name) : name,
    },
  };
}
