/**
 * vault-audit-sudo: `sudo` reaches sys/audit* (directly or through a glob), so the credential can
 * turn auditing off.
 *
 * Contract: reads the credential's Vault path grants only, through the shared
 * VaultPrivilegeAnalyzer (ctx.services.privilege), so Vault's rule priority applies (a more
 * specific deny shadows a glob) and equal grant lists are analysed once. Time-free. One hit (key
 * "sys/audit"), severity critical, naming the rules that govern sys/audit*. Confidence is always
 * confirmed: Vault ACLs have no conditions.
 */

import { VAULT_GRANT_KINDS } from '../../privilege/rule-support.js';
import { detectorRule } from '../privilege-rules.js';

export const vaultAuditSudo = detectorRule({
  name: 'vault-audit-sudo',
  description:
    'sudo reaches sys/audit*: the credential can enable and disable audit devices, i.e. switch off the record ' +
    'of its own actions. Critical. Honors Vault rule priority (a more specific deny shadows a broad grant).',
  example: `policies:
  - name: agent-vault-audit-sudo
    description: Agent Vault credentials that can disable auditing
    resource: { kinds: [vault-token, vault-approle-role] }
    rules:
      - type: vault-audit-sudo
    severity: critical
    mode: observe
`,
  kinds: VAULT_GRANT_KINDS,
  detect: (p, cred) => p.vault.auditSudo(cred),
});
