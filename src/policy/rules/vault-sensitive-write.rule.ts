/**
 * vault-sensitive-write: write capabilities reach Vault endpoints that change policies, auth
 * methods, mounts, identities or auth roles.
 *
 * Contract: reads the credential's Vault path grants only, through the shared
 * VaultPrivilegeAnalyzer (ctx.services.privilege), so Vault's rule priority applies (a more
 * specific deny shadows a glob) and equal grant lists are analysed once. Time-free. One hit per
 * sensitive endpoint reached (key = the endpoint pattern), naming the governing rules. Confidence
 * is always confirmed: Vault ACLs have no conditions.
 */

import { VAULT_GRANT_KINDS } from '../../privilege/rule-support.js';
import { detectorRule } from '../privilege-rules.js';

export const vaultSensitiveWrite = detectorRule({
  name: 'vault-sensitive-write',
  description:
    'create/update/patch/delete reaches an endpoint that changes who can do what: sys/policy*, ' +
    'sys/policies/acl* (critical), sys/auth* (with sudo, which Vault requires there), sys/mounts*, identity/entity*, identity/group*, auth/+/role/+ and auth/token/roles/* (high). One hit per endpoint, ' +
    'naming the rules that govern it (Vault priority applies: a more specific deny shadows a glob).',
  example: `policies:
  - name: agent-vault-sensitive-write
    description: Agent Vault credentials that can rewrite policies, auth or mounts
    resource: { kinds: [vault-token, vault-approle-role] }
    rules:
      - type: vault-sensitive-write
    severity: high
    mode: observe
`,
  kinds: VAULT_GRANT_KINDS,
  detect: (p, cred) => p.vault.sensitiveWrite(cred),
});
