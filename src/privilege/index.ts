/**
 * The privilege analysers as one service bundle. The evaluator creates one per run and hands it to
 * the rules (policy/privilege-rules.ts), so every rule and every credential shares the same catalog
 * and caches. Nothing here knows about rules or policies.
 */
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

export { type AnalyzerStats, AwsPrivilegeAnalyzer } from './aws-analyzer.js';
export { type AwsPermissionSet, confidenceOf, type EffectiveAction, type ResourceAccess } from './aws-effective.js';
export { ActionCatalog, defaultCatalog, type ExpandResult } from './catalog.js';
export { ACTIONS_THAT_RETURN_CREDENTIALS, ESCALATION_METHODS, type EscalationMethod } from './escalation-data.js';
export { type AwsStatementExcess, awsScopeExcess, type VaultGrantExcess, vaultScopeExcess } from './scope.js';
export type { StatementRef } from './statement.js';
export type { Confidence, DetectorName, DetectorResult } from './types.js';
export { VaultPrivilegeAnalyzer } from './vault-detectors.js';
export { covers as vaultPatternCovers, intersection as vaultPatternIntersection } from './vault-glob.js';
