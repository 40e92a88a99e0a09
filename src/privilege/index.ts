/**
 * The privilege analysers as one service bundle. The evaluator creates one per run and puts it in
 * `RuleContext.services.privilege`, so every rule and every credential shares the same catalog and
 * caches; `privilege(ctx)` is how a rule reaches it, creating (and remembering) one if the
 * evaluator did not — a rule tested on its own still works, just without a bundle shared by others.
 */
import type { RuleContext } from '../policy/types.js';
import { AwsPrivilegeAnalyzer } from './aws-analyzer.js';
import { type ActionCatalog, defaultCatalog } from './catalog.js';
import { VaultPrivilegeAnalyzer } from './vault-detectors.js';

export interface PrivilegeServices {
  aws: AwsPrivilegeAnalyzer;
  vault: VaultPrivilegeAnalyzer;
  catalog: ActionCatalog;
}

export function createPrivilegeServices(catalog: ActionCatalog = defaultCatalog()): PrivilegeServices {
  return { aws: new AwsPrivilegeAnalyzer(catalog), vault: new VaultPrivilegeAnalyzer(), catalog };
}

const isServices = (v: unknown): v is PrivilegeServices =>
  !!v &&
  typeof v === 'object' &&
  (v as PrivilegeServices).aws instanceof AwsPrivilegeAnalyzer &&
  (v as PrivilegeServices).vault instanceof VaultPrivilegeAnalyzer;

let fallback: PrivilegeServices | undefined;

export function privilege(ctx: RuleContext): PrivilegeServices {
  const existing = ctx.services.privilege;
  if (isServices(existing)) return existing;
  if (existing !== undefined)
    throw new TypeError('ctx.services.privilege is set but is not a PrivilegeServices bundle');
  fallback ??= createPrivilegeServices();
  ctx.services.privilege = fallback;
  return fallback;
}

export { type AnalyzerStats, AwsPrivilegeAnalyzer } from './aws-analyzer.js';
export { type AwsPermissionSet, confidenceOf, type EffectiveAction, type ResourceAccess } from './aws-effective.js';
export { ActionCatalog, defaultCatalog, type ExpandResult } from './catalog.js';
export { ACTIONS_THAT_RETURN_CREDENTIALS, ESCALATION_METHODS, type EscalationMethod } from './escalation-data.js';
export { type AwsStatementExcess, awsScopeExcess, type VaultGrantExcess, vaultScopeExcess } from './scope.js';
export type { StatementRef } from './statement.js';
export type { Confidence, DetectorName, DetectorResult } from './types.js';
export { VaultPrivilegeAnalyzer } from './vault-detectors.js';
export { covers as vaultPatternCovers, intersection as vaultPatternIntersection } from './vault-glob.js';
