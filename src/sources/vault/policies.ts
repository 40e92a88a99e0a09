/**
 * ACL policies of one namespace: listed, read and parsed (HCL or JSON) once per scan, then attached
 * as grants, with provenance, to every token, AppRole role and secret ID that carries them. The
 * `root` policy has no rules; it is represented as a grant on `*` with the `root` capability so
 * scoring sees it for what it is. A policy that cannot be read or parsed is named in
 * `grantErrors`, never silently dropped; so is one whose text is over INPUT_LIMITS.vaultPolicyChars.
 */
import { INPUT_LIMITS } from '../../limits.js';
import type { VaultPathGrant } from '../../model/credential.js';
import { type AclRule, parseAclPolicy } from './acl-policy.js';
import type { VaultApi } from './api.js';

export interface PolicySet {
  rules: Map<string, AclRule[]>;
  errors: Map<string, string>;
}

/** One policy read: its rules, why it cannot be analysed, or null when Vault has no such policy (a nil read). */
export type PolicyRead = { rules: AclRule[] } | { error: string } | null;

/** Reads and parses `sys/policies/acl/<name>` in `ns`, within INPUT_LIMITS.vaultPolicyChars. */
export async function readPolicy(api: VaultApi, ns: string, name: string): Promise<PolicyRead> {
  const out = await api.read(
    'vault:read-policy',
    ns,
    `sys/policies/acl/${encodeURIComponent(name)}`,
    `read on sys/policies/acl/${name}`,
  );
  if (out === null) return null;
  const text = out.data?.policy;
  if (typeof text !== 'string') return { error: 'policy text missing' };
  if (text.length > INPUT_LIMITS.vaultPolicyChars) {
    return {
      error: `policy text is ${text.length} characters, over the limit of ${INPUT_LIMITS.vaultPolicyChars}; not analysed`,
    };
  }
  try {
    return { rules: parseAclPolicy(text) };
  } catch (err) {
    return { error: (err as Error).message };
  }
}

function addRead(set: PolicySet, name: string, r: PolicyRead): void {
  if (r === null) return;
  if ('rules' in r) set.rules.set(name, r.rules);
  else set.errors.set(name, r.error);
}

/** Every policy of the namespace (a scan): listed, then read one by one. */
export async function loadPolicies(api: VaultApi, ns: string): Promise<PolicySet> {
  const set: PolicySet = { rules: new Map(), errors: new Map() };
  const names = await api.list('vault:list-policies', ns, 'sys/policies/acl', 'list on sys/policies/acl');
  for (const name of names) {
    if (name === 'root') continue;
    // A listed policy that reads as nil went missing in between: its text is missing.
    addRead(set, name, (await readPolicy(api, ns, name)) ?? { error: 'policy text missing' });
  }
  return set;
}

/**
 * Only the named policies (a recheck of one credential), each read once. A policy Vault does not
 * have stays out of the set, so grantsFor() says "policy not found", as a scan would (a scan's
 * list would not have named it).
 */
export async function loadNamedPolicies(api: VaultApi, ns: string, names: readonly string[]): Promise<PolicySet> {
  const set: PolicySet = { rules: new Map(), errors: new Map() };
  for (const name of new Set(names)) {
    if (name === 'root') continue;
    addRead(set, name, await readPolicy(api, ns, name));
  }
  return set;
}

export interface GrantsResult {
  grants: VaultPathGrant[];
  errors: string[];
}

export function grantsFor(
  set: PolicySet,
  policies: readonly string[],
  identityPolicies: readonly string[] = [],
): GrantsResult {
  const grants: VaultPathGrant[] = [];
  const errors: string[] = [];
  const add = (name: string, attachment: 'vault-policy' | 'vault-identity-policy') => {
    if (name === 'root') {
      grants.push({
        type: 'vault-path',
        path: '*',
        capabilities: ['root'],
        provenance: { policy: 'root', attachment },
      });
      return;
    }
    const rules = set.rules.get(name);
    if (!rules) {
      errors.push(`${name}: ${set.errors.get(name) ?? 'policy not found'}`);
      return;
    }
    for (const r of rules)
      grants.push({
        type: 'vault-path',
        path: r.path,
        capabilities: [...r.capabilities],
        provenance: { policy: name, attachment },
      });
  };
  for (const p of policies) add(p, 'vault-policy');
  for (const p of identityPolicies) add(p, 'vault-identity-policy');
  return { grants, errors };
}
