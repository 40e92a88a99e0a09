/**
 * rotation-overdue: a long-lived secret has not been replaced for more than N whole days.
 *
 * Contract: for these kinds `createdAt` IS the last rotation: a rotated access key or secret ID is
 * a new credential with a new createdAt, and a console password's createdAt is the credential
 * report's password_last_changed. Only usable secrets are judged (status active or unknown), as
 * Security Hub IAM.3 and Prowler judge only active keys: an inactive key is `inactive-present`'s
 * business. A null createdAt (e.g. an empty root key slot) never hits. Whole days, compared with
 * `>` as Prowler does, so a threshold of N first hits on day N+1.
 */
import { z } from 'zod';
import type { Credential, CredentialKind } from '../../model/credential.js';
import { daysBetween, type RuleType } from '../types.js';

const schema = z.strictObject({
  /** CIS 1.14 (v3) / 1.13 (v5) / Security Hub IAM.3 maxAccessKeyAge: 90 days. */
  days: z.number().int().nonnegative().default(90),
});

export type RotationOverdueParams = z.output<typeof schema>;

const KINDS = [
  'aws-access-key',
  'aws-console-password',
  'vault-approle-secret-id',
  'aws-root-access-key',
] as const satisfies readonly CredentialKind[];

/** What was (not) rotated and what createdAt means for it, in words for the message. */
function subject(cred: Credential): { what: string; verb: string; since: string } {
  const a = cred.attributes;
  switch (cred.kind) {
    case 'aws-console-password':
      return { what: 'console password', verb: 'changed', since: 'password last changed' };
    case 'aws-root-access-key':
      return { what: `root access key (slot ${String(a.reportSlot ?? '?')})`, verb: 'rotated', since: 'last rotated' };
    case 'vault-approle-secret-id':
      return { what: `secret ID ${String(a.secretIdAccessor ?? cred.id)}`, verb: 'rotated', since: 'issued' };
    default:
      return { what: `access key ${String(a.accessKeyId ?? cred.id)}`, verb: 'rotated', since: 'created' };
  }
}

export const rotationOverdue: RuleType<RotationOverdueParams> = {
  name: 'rotation-overdue',
  category: 'staleness',
  description:
    'Hits a usable (active or unknown status) long-lived secret that has not been rotated for more than ' +
    '`days` whole days: an access key or root access key since creation (its last rotation), a console ' +
    'password since password_last_changed, an AppRole secret ID since it was issued. Default 90 days: ' +
    'CIS AWS Foundations 1.14 (v3) / 1.13 (v5) / 2.13 (v6) and Security Hub IAM.3 (maxAccessKeyAge 90), ' +
    'here a policy parameter rather than a fixed number.',
  example: `policies:
  - name: agent-key-rotation
    description: Agent access keys and secret IDs not rotated for 90 days
    resource: { kinds: [aws-access-key, vault-approle-secret-id] }
    rules:
      - type: rotation-overdue
        days: 90
    severity: medium
    mode: observe
`,
  schema,
  needs: ['createdAt', 'status'],
  kinds: KINDS,
  evaluate(cred, params, ctx) {
    if (cred.status === 'inactive' || cred.status === 'expired') return [];
    if (cred.createdAt === null) return [];
    const age = Math.floor(daysBetween(cred.createdAt, ctx.now));
    if (!(age > params.days)) return [];
    const s = subject(cred);
    return [
      {
        message: `${s.what} not ${s.verb} for ${age} days (${s.since} ${cred.createdAt.slice(0, 10)}; threshold ${params.days})`,
        evidence: [
          { field: 'createdAt', value: cred.createdAt, note: s.since },
          { field: 'status', value: cred.status },
        ],
        detector: 'rotation',
      },
    ];
  },
};
