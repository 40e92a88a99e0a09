/**
 * vault-broad-glob: a path rule spans every mount or all of sys/ with a non-deny capability.
 *
 * Contract: reads the credential's Vault path grants only, through the shared
 * VaultPrivilegeAnalyzer (ctx.services.privilege), so Vault's rule priority applies (a more
 * specific deny shadows a glob) and equal grant lists are analysed once. Time-free. One hit per
 * offending rule (key = the pattern). Confidence is always confirmed: Vault ACLs have no
 * conditions.
 */

import { VAULT_GRANT_KINDS } from '../../privilege/rule-support.js';
import { detectorRule } from '../privilege-rules.js';

export const vaultBroadGlob = detectorRule({
  name: 'vault-broad-glob',
  description:
    'A path rule spans every mount ("*", "+/*", "s*", "+/data/*") or all of sys/ ("sys/*") with any capability ' +
    'but deny. Critical for mount-spanning globs with write or sudo, high otherwise. One hit per rule.',
  example: `policies:
  - name: agent-vault-broad-glob
    description: Agent Vault credentials with globs across mounts or sys/
    resource: { kinds: [vault-token, vault-approle-role] }
    rules:
      - type: vault-broad-glob
    severity: high
    mode: observe
`,
  kinds: VAULT_GRANT_KINDS,
  detect: (p, cred) => p.vault.broadGlob(cred),
});
