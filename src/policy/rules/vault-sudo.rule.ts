/**
 * vault-sudo: a path rule grants `sudo`, the capability for root-protected endpoints; critical when
 * it covers all of sys/.
 *
 * Contract: reads the credential's Vault path grants only, through the shared
 * VaultPrivilegeAnalyzer (ctx.services.privilege), so Vault's rule priority applies (a more
 * specific deny shadows a glob) and equal grant lists are analysed once. Time-free. One hit per
 * path rule with sudo (key = the pattern). Confidence is always confirmed: Vault ACLs have no
 * conditions.
 */

import { VAULT_GRANT_KINDS } from '../../privilege/rule-support.js';
import { detectorRule } from '../privilege-rules.js';

export const vaultSudo = detectorRule({
  name: 'vault-sudo',
  description:
    'A path rule grants sudo (access to root-protected endpoints). One hit per rule; critical when the rule ' +
    'covers all of sys/ (e.g. "*" or "sys/*"), high otherwise. The root policy counts.',
  example: `policies:
  - name: agent-vault-sudo
    description: Agent Vault credentials with sudo anywhere
    resource: { kinds: [vault-token, vault-approle-role] }
    rules:
      - type: vault-sudo
    severity: high
    mode: observe
`,
  kinds: VAULT_GRANT_KINDS,
  detect: (p, cred) => p.vault.sudo(cred),
});
