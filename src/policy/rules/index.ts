/**
 * The rule-type registry: one registration line per rule type. An unknown name is an error that
 * lists the valid ones.
 */
import type { RuleType } from '../types.js';
import { ageSinceCreated } from './age-since-created.rule.js';
import { agentGrantSurge } from './agent-grant-surge.rule.js';
import { agentWithoutOwner } from './agent-without-owner.rule.js';
import { awsAdmin } from './aws-admin.rule.js';
import { awsAdminHeldByBoundary } from './aws-admin-held-by-boundary.rule.js';
import { awsConsoleWithoutMfa } from './aws-console-without-mfa.rule.js';
import { awsCredentialExposure } from './aws-credential-exposure.rule.js';
import { awsDataReadUnconstrained } from './aws-data-read-unconstrained.rule.js';
import { awsNotActionAllow } from './aws-not-action-allow.rule.js';
import { awsPrivilegeEscalation } from './aws-privilege-escalation.rule.js';
import { awsResourceExposure } from './aws-resource-exposure.rule.js';
import { awsRoleConfusedDeputy } from './aws-role-confused-deputy.rule.js';
import { awsRoleTrust } from './aws-role-trust.rule.js';
import { awsServiceWildcard } from './aws-service-wildcard.rule.js';
import { awsUnknownAction } from './aws-unknown-action.rule.js';
import { awsUserDirectPolicy } from './aws-user-direct-policy.rule.js';
import { credentialBurst } from './credential-burst.rule.js';
import { expiresWithin } from './expires-within.rule.js';
import { humanUse } from './human-use.rule.js';
import { inactivePresent } from './inactive-present.rule.js';
import { neverExpires } from './never-expires.rule.js';
import { neverUsed } from './never-used.rule.js';
import { rootAccountKeys } from './root-account-keys.rule.js';
import { rotationOverdue } from './rotation-overdue.rule.js';
import { scopeExcess } from './scope-excess.rule.js';
import { sharedCredential } from './shared-credential.rule.js';
import { twoActiveKeys } from './two-active-keys.rule.js';
import { unregisteredAgent } from './unregistered-agent.rule.js';
import { unusedFor } from './unused-for.rule.js';
import { vaultAuditSudo } from './vault-audit-sudo.rule.js';
import { vaultBroadGlob } from './vault-broad-glob.rule.js';
import { vaultDataReadUnconstrained } from './vault-data-read-unconstrained.rule.js';
import { vaultRootPolicy } from './vault-root-policy.rule.js';
import { vaultSecretIdMinting } from './vault-secret-id-minting.rule.js';
import { vaultSensitiveWrite } from './vault-sensitive-write.rule.js';
import { vaultSudo } from './vault-sudo.rule.js';
import { vaultTokenCreateSudo } from './vault-token-create-sudo.rule.js';

const registry = new Map<string, RuleType<unknown>>();

export function registerRule<P>(rule: RuleType<P>): void {
  if (registry.has(rule.name)) throw new Error(`rule type "${rule.name}" is registered twice`);
  registry.set(rule.name, rule as RuleType<unknown>);
}

export function ruleTypes(): RuleType<unknown>[] {
  return [...registry.values()].sort((a, b) => a.name.localeCompare(b.name));
}

export function getRuleType(name: string): RuleType<unknown> | undefined {
  return registry.get(name);
}

// ---- registrations (one line each) ----
registerRule(ageSinceCreated);
registerRule(unusedFor);
registerRule(neverUsed);
registerRule(rotationOverdue);
registerRule(expiresWithin);
registerRule(neverExpires);
registerRule(inactivePresent);
registerRule(twoActiveKeys);
registerRule(unregisteredAgent);
registerRule(agentWithoutOwner);
registerRule(sharedCredential);
registerRule(humanUse);
registerRule(rootAccountKeys);
registerRule(awsUserDirectPolicy);
registerRule(awsConsoleWithoutMfa);
registerRule(awsAdmin);
registerRule(awsPrivilegeEscalation);
registerRule(awsCredentialExposure);
registerRule(awsResourceExposure);
registerRule(awsServiceWildcard);
registerRule(awsNotActionAllow);
registerRule(awsRoleTrust);
registerRule(awsUnknownAction);
registerRule(awsDataReadUnconstrained);
registerRule(awsAdminHeldByBoundary);
registerRule(awsRoleConfusedDeputy);
registerRule(vaultRootPolicy);
registerRule(vaultSudo);
registerRule(vaultBroadGlob);
registerRule(vaultSensitiveWrite);
registerRule(vaultTokenCreateSudo);
registerRule(vaultSecretIdMinting);
registerRule(vaultAuditSudo);
registerRule(vaultDataReadUnconstrained);
registerRule(scopeExcess);
registerRule(credentialBurst);
registerRule(agentGrantSurge);
