/**
 * root-account-keys: the AWS root account has an active access key.
 *
 * Contract: kind aws-root-access-key, one record per credential-report root key slot; only
 * `status: active` hits (an empty or inactive slot is not a usable key, as Prowler
 * iam_no_root_access_key also reads it). The hit is raised to `critical` whatever the policy says:
 * root keys cannot be scoped by IAM policy or permission boundary. Time-free.
 */
import { z } from 'zod';
import type { RuleType } from '../types.js';

const schema = z.strictObject({});

export type RootAccountKeysParams = z.output<typeof schema>;

export const rootAccountKeys: RuleType<RootAccountKeysParams> = {
  name: 'root-account-keys',
  category: 'hygiene',
  description:
    "Hits an active access key of an AWS account's root user (from the credential report's " +
    '<root_account> row). Root keys carry every permission in the account and no IAM policy or boundary ' +
    'can limit them. CIS AWS Foundations 1.4 (v3) / 1.3 (v5) / 2.3 (v6) and Security Hub IAM.4; the hit ' +
    'is always critical. No parameters.',
  example: `policies:
  - name: root-access-key
    description: Active access keys on the root account
    resource: { kinds: [aws-root-access-key] }
    rules:
      - type: root-account-keys
    severity: critical
    mode: observe
`,
  schema,
  needs: ['status'],
  kinds: ['aws-root-access-key'],
  evaluate(cred) {
    if (cred.kind !== 'aws-root-access-key' || cred.status !== 'active') return [];
    const slot = cred.attributes.reportSlot;
    const lu = cred.lastUsed;
    const used = lu === null ? 'last use unknown' : lu.at === null ? 'never used' : `last used ${lu.at.slice(0, 10)}`;
    const created = cred.createdAt ? `, created ${cred.createdAt.slice(0, 10)}` : '';
    return [
      {
        message: `root account ${cred.source} has an active access key (slot ${String(slot ?? '?')}${created}; ${used})`,
        evidence: [
          { field: 'status', value: 'active' },
          { field: 'attributes.reportSlot', value: slot ?? null },
          { field: 'createdAt', value: cred.createdAt },
          { field: 'lastUsed.at', value: lu?.at ?? null, ...(lu === null ? { note: 'unknown' } : {}) },
        ],
        severity: 'critical',
        confidence: 'confirmed',
        detector: 'root-keys',
      },
    ];
  },
};
