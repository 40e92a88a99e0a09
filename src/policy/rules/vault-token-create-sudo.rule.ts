/**
 * vault-token-create-sudo: `create`/`update` with `sudo` on auth/token/create*: orphan tokens with
 * arbitrary policies.
 *
 * Contract: reads the credential's Vault path grants only, through the shared
 * VaultPrivilegeAnalyzer (ctx.services.privilege), so Vault's rule priority applies (a more
 * specific deny shadows a glob) and equal grant lists are analysed once. Time-free. One hit (key
 * "auth/token/create"), severity critical. Confidence is always confirmed: Vault ACLs have no
 * conditions.
 */

import { VAULT_GRANT_KINDS } from '../../privilege/rule-support.js';
import { detectorRule } from '../privilege-rules.js';

export const vaultTokenCreateSudo = detectorRule({
  name: 'vault-token-create-sudo',
  description:
    'create or update together with sudo on auth/token/create*: the credential can mint orphan tokens carrying ' +
    'policies it does not hold itself. Critical.',
  example: `policies:
  - name: agent-vault-token-create-sudo
    description: Agent Vault credentials that can mint arbitrary tokens
    resource: { kinds: [vault-token, vault-approle-role] }
    rules:
      - type: vault-token-create-sudo
    severity: critical
    mode: observe
`,
  kinds: VAULT_GRANT_KINDS,
  detect: (p, cred) => p.vault.tokenCreateSudo(cred),
});
