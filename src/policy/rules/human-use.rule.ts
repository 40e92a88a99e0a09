/**
 * human-use: an agent's IAM user has a console password.
 *
 * Contract: kind aws-console-password, attributed to an agent (`agentId`) or flagged as an
 * unregistered agent. Agents call APIs; they do not sign in to the console, so a password on an
 * agent user means a person can act as the agent (and did, when `lastUsed.at` is set). The
 * evidence always carries passwordLastUsed (`lastUsed.at`, null = never, whole `lastUsed` null =
 * unknown) and `attributes.mfaActive`. A console password of a user no agent claims is a human's,
 * not this rule's business. Time-free: the last sign-in is reported, not thresholded.
 */
import { z } from 'zod';
import type { RuleType } from '../types.js';

const schema = z.strictObject({});

export type HumanUseParams = z.output<typeof schema>;

export const humanUse: RuleType<HumanUseParams> = {
  name: 'human-use',
  category: 'hygiene',
  description:
    "Hits a console password on an agent's IAM user (registered, or flagged as an unregistered agent): " +
    "agents do not sign in to the AWS console, so a password means a person can act with the agent's " +
    'permissions outside its code path. The evidence gives the last console sign-in (password_last_used) ' +
    'and whether MFA is active (without it this also fails CIS 1.10 (v3) / 1.9 (v5) and Security Hub IAM.5). ' +
    'Unused passwords are covered by CIS 1.12 (v3) / Security Hub IAM.22 via `unused-for`. No parameters.',
  example: `policies:
  - name: agent-console-login
    description: Console passwords on agent users
    resource: { kinds: [aws-console-password] }
    rules:
      - type: human-use
    severity: high
    mode: observe
`,
  schema,
  needs: ['agentId', 'lastUsed', 'attributes.mfaActive'],
  kinds: ['aws-console-password'],
  evaluate(cred) {
    if (cred.kind !== 'aws-console-password') return [];
    if (cred.agentId === null && !cred.unregisteredAgent) return [];
    const lu = cred.lastUsed;
    const used =
      lu === null
        ? 'last sign-in unknown'
        : lu.at === null
          ? 'never signed in'
          : `last signed in ${lu.at.slice(0, 10)}`;
    const mfa = cred.attributes.mfaActive === true;
    const who = cred.agentId ? `agent ${cred.agentId}` : 'unregistered agent';
    const user = String(cred.attributes.userName ?? cred.principal);
    return [
      {
        message: `${who} user ${user} has a console password (${used}; MFA ${mfa ? 'active' : 'not active'})`,
        evidence: [
          {
            field: 'lastUsed.at',
            value: lu?.at ?? null,
            note: lu === null ? 'passwordLastUsed unknown' : 'passwordLastUsed',
          },
          { field: 'attributes.mfaActive', value: cred.attributes.mfaActive ?? null },
          { field: cred.agentId ? 'agentId' : 'unregisteredAgent', value: cred.agentId ?? true },
        ],
        detector: 'human-use',
      },
    ];
  },
};
