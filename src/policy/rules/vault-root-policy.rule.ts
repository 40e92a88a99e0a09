/**
 * vault-root-policy: the credential carries Vault's root policy (a grant on `*` with the `root`
 * capability).
 *
 * Contract: reads the credential's Vault path grants only, through the shared
 * VaultPrivilegeAnalyzer (ctx.services.privilege), so Vault's rule priority applies (a more
 * specific deny shadows a glob) and equal grant lists are analysed once. Time-free. One hit (key
 * "root"), severity critical. Confidence is always confirmed: Vault ACLs have no conditions.
 */

import { VAULT_GRANT_KINDS } from '../../privilege/rule-support.js';
import { detectorRule } from '../privilege-rules.js';

export const vaultRootPolicy = detectorRule({
  name: 'vault-root-policy',
  description: 'The credential carries the root policy: unrestricted access to all of Vault. Always critical.',
  example: `policies:
  - name: agent-vault-root
    description: Agent Vault credentials with the root policy
    resource: { kinds: [vault-token, vault-approle-role] }
    rules:
      - type: vault-root-policy
    severity: critical
    mode: observe
`,
  kinds: VAULT_GRANT_KINDS,
  detect: (p, cred) => p.vault.rootPolicy(cred),
});
