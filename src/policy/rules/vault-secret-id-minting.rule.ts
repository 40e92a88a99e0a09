/**
 * vault-secret-id-minting: `create`/`update` reaches an AppRole secret-id endpoint: the credential
 * can mint new AppRole credentials.
 *
 * Contract: reads the credential's Vault path grants only, through the shared
 * VaultPrivilegeAnalyzer (ctx.services.privilege), so Vault's rule priority applies (a more
 * specific deny shadows a glob) and equal grant lists are analysed once. Time-free. One hit per
 * endpoint (secret-id, custom-secret-id; key = the endpoint pattern). Confidence is always
 * confirmed: Vault ACLs have no conditions.
 */

import { VAULT_GRANT_KINDS } from '../../privilege/rule-support.js';
import { detectorRule } from '../privilege-rules.js';

export const vaultSecretIdMinting = detectorRule({
  name: 'vault-secret-id-minting',
  description:
    'create or update reaches auth/<mount>/role/<role>/secret-id or custom-secret-id (directly or through a glob ' +
    'such as auth/*): the credential can mint new AppRole credentials. High; one hit per endpoint.',
  example: `policies:
  - name: agent-vault-secret-id-minting
    description: Agent Vault credentials that can mint AppRole secret IDs
    resource: { kinds: [vault-token, vault-approle-role] }
    rules:
      - type: vault-secret-id-minting
    severity: high
    mode: observe
`,
  kinds: VAULT_GRANT_KINDS,
  detect: (p, cred) => p.vault.secretIdMinting(cred),
});
