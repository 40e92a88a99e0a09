/**
 * vault-data-read-unconstrained: a Vault credential can read every secret of a mount: the rule
 * governing an arbitrary path of the mount grants read (`secret/*`, `secret/data/*`, `kv/*`,
 * `kv/+/*`), or of every mount at once (`*`, `+/*`, `+/data/*`). The KV defaults `secret/` and
 * `kv/` are always probed, and so is every mount a rule names; sys/, auth/, identity/ and
 * cubbyhole/ are not data.
 *
 * Contract: reads the credential's Vault path grants only, through the shared
 * VaultPrivilegeAnalyzer (ctx.services.privilege), so Vault's rule priority applies (a more
 * specific deny under the mount root shadows the glob only there). Time-free. One hit per mount
 * (key `<mount>/`, or `*` for every mount), high, always confirmed.
 */

import { VAULT_GRANT_KINDS } from '../../privilege/rule-support.js';
import { detectorRule } from '../privilege-rules.js';

export const vaultDataReadUnconstrained = detectorRule({
  name: 'vault-data-read-unconstrained',
  description:
    'Read on a whole mount: the rule that governs an arbitrary secret path of the mount grants read ' +
    '("secret/*", "secret/data/*", "kv/*", "kv/+/*"), so no path below the mount root constrains it; or on ' +
    'every mount ("*", "+/*"). The KV mounts secret/ and kv/ and every mount a rule names are checked. High; ' +
    'one hit per mount.',
  example: `policies:
  - name: agent-vault-data-read-unconstrained
    description: Agent Vault credentials that can read every secret of a mount
    resource: { kinds: [vault-token, vault-approle-role, vault-approle-secret-id] }
    rules:
      - type: vault-data-read-unconstrained
    severity: high
    mode: observe
`,
  kinds: VAULT_GRANT_KINDS,
  detect: (p, cred) => p.vault.dataRead(cred),
});
