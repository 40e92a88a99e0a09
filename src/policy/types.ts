/**
 * The rule-type extension point. A rule type is one file (`rules/<name>.rule.ts`) exporting a
 * RuleType and registered with one line in `rules/index.ts`, under the kebab-case name used in
 * policy YAML. A rule type describes itself (schema, docs with a YAML example, the data it needs)
 * and evaluates one credential at a time, purely: no I/O, time only from `ctx.now`.
 *
 * A rule returns zero or more hits. A hit is the evidence for a finding: what was seen (fields and
 * values, policy statements with their provenance), how sure the rule is, and which scoring
 * detector it feeds. A policy whose rules all hit a credential yields one finding for it.
 */
import type { z } from 'zod';
import type { Agent, Registry } from '../model/agent.js';
import type { Credential, CredentialKind } from '../model/credential.js';
import type { RuleHit } from '../model/finding.js';
import type { PreviousScanView } from './runaway.js';

// The finding's nouns live in model/ (DESIGN: the nouns); re-exported for the rule plugins.
export { type Evidence, type RuleHit, SEVERITIES, type Severity, severityRank } from '../model/finding.js';

export type RuleCategory = 'staleness' | 'privilege' | 'scope' | 'hygiene' | 'runaway';

/** Cross-credential facts some rules need (hygiene: shared credentials, two active keys). */
export interface InventoryIndex {
  all: readonly Credential[];
  byId: ReadonlyMap<string, Credential>;
  /** Credentials of the same principal (same user ARN / token display name), this one included. */
  samePrincipal(cred: Credential): readonly Credential[];
}

export interface RuleContext {
  /** Evaluation time: now, or --as-of. */
  now: Date;
  registry: Registry;
  agent(id: string | null): Agent | undefined;
  inventory: InventoryIndex;
  /** Shared analysers (privilege expansion caches); see src/privilege. */
  services: RuleServices;
  /**
   * The previous scan, for rules that compare two scans (agent-grant-surge): per group (agent, or
   * principal without one; policy/runaway.ts), its granted actions then. Absent when there is no
   * previous scan to compare with (a what-if preview with no scan, a policy test without
   * `previous:`): such rules never hit.
   */
  previous?: PreviousScanView;
}

/** Filled in by the evaluator; rule types reach analysers only through this. */
export interface RuleServices {
  [name: string]: unknown;
}

export interface RuleType<P = unknown> {
  /** kebab-case, as used in YAML `type:`. */
  readonly name: string;
  readonly category: RuleCategory;
  /** One paragraph for the README and `policy validate --list`. */
  readonly description: string;
  /** A complete YAML policy snippet using this rule (the meta-test loads it). */
  readonly example: string;
  /** Parameters (everything in the rule entry except `type`). Strict: unknown keys are errors. */
  readonly schema: z.ZodType<P>;
  /** The credential data it reads, e.g. ["lastUsed", "createdAt"], ["grants"], ["registry"]. */
  readonly needs: readonly string[];
  /** Kinds it can apply to; undefined = all. A policy selecting other kinds is rejected at load. */
  readonly kinds?: readonly CredentialKind[];
  evaluate(cred: Credential, params: P, ctx: RuleContext): RuleHit[];
}

export const DAY_MS = 86_400_000;
export const daysBetween = (from: Date | string, to: Date): number =>
  (to.getTime() - new Date(from).getTime()) / DAY_MS;
