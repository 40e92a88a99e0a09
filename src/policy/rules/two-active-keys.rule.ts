/**
 * two-active-keys: the access key's user has more than one active access key.
 *
 * Contract: cross-credential, through `ctx.inventory.samePrincipal(cred)`. Each active key of such
 * a user hits once (the evaluator visits every key), and every hit lists all the active key ids,
 * so a finding never has to re-derive its sibling from the user (cloud-custodian#5583, #842).
 * Keys are kept to the same `source` too: a principal recorded by bare user name (no ARN) must not
 * pair keys from two accounts. Time-free.
 */
import { z } from 'zod';
import type { Credential } from '../../model/credential.js';
import type { RuleType } from '../types.js';

const schema = z.strictObject({});

export type TwoActiveKeysParams = z.output<typeof schema>;

const keyId = (c: Credential): string => String(c.attributes.accessKeyId ?? c.id);

export const twoActiveKeys: RuleType<TwoActiveKeysParams> = {
  name: 'two-active-keys',
  category: 'hygiene',
  description:
    'Hits each active access key of an IAM user that has two active access keys. Two live keys double ' +
    'what can leak and usually mean a rotation that never finished (the old key was not disabled). ' +
    'CIS AWS Foundations 1.13 (v3) / 1.12 (v5) / 2.12 (v6), "only one active access key per user"; Prowler ' +
    'iam_user_two_active_access_key; no Security Hub control. Evidence lists both key ids.',
  example: `policies:
  - name: agent-user-two-keys
    description: Agent users with two active access keys
    resource: { kinds: [aws-access-key] }
    rules:
      - type: two-active-keys
    severity: medium
    mode: observe
`,
  schema,
  needs: ['status', 'principal', 'inventory'],
  kinds: ['aws-access-key'],
  evaluate(cred, _params, ctx) {
    if (cred.kind !== 'aws-access-key' || cred.status !== 'active') return [];
    const active = ctx.inventory
      .samePrincipal(cred)
      .filter((c) => c.kind === 'aws-access-key' && c.status === 'active' && c.source === cred.source);
    if (!active.some((c) => c.id === cred.id)) active.push(cred); // defensive: the index should include it
    if (active.length < 2) return [];
    const ids = active.map(keyId).sort();
    const user = String(cred.attributes.userName ?? cred.principal);
    return [
      {
        message: `user ${user} has ${ids.length} active access keys (${ids.join(', ')}); one is the limit`,
        evidence: [
          { field: 'attributes.accessKeyId', value: ids },
          { field: 'principal', value: cred.principal },
          { field: 'status', value: 'active', note: `this key: ${keyId(cred)}` },
        ],
        detector: 'two-keys',
      },
    ];
  },
};
