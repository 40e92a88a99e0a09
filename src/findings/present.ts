/**
 * A finding as the CLI's `--json`, `findings show` and the exports (export/*) present it: every
 * field of the stored record, with the fields that findings stored by older versions lack
 * (policies, controls per policy, principal, account) filled from the record itself and the
 * current inventory. Pure.
 */
import type { Credential } from '../model/credential.js';
import type { Finding } from '../model/finding.js';
import { type AccountNames, principalInfo } from '../model/principal.js';

export function presentFinding(f: Finding, inventory: ReadonlyMap<string, Credential>, names: AccountNames) {
  const c = inventory.get(f.credentialId);
  const p = f.principal !== undefined ? null : c ? principalInfo(c, names) : null;
  return {
    ...f,
    policies: f.policies ?? [f.policy],
    controlsByPolicy: f.controlsByPolicy ?? { [f.policy]: f.controls },
    principal: f.principal ?? p?.principal ?? null,
    principalName: f.principalName ?? p?.principalName ?? null,
    principalType: f.principalType ?? p?.principalType ?? null,
    source: f.source ?? p?.source ?? c?.source ?? null,
    account: f.account !== undefined ? f.account : (p?.account ?? null),
  };
}

export type PresentedFinding = ReturnType<typeof presentFinding>;
