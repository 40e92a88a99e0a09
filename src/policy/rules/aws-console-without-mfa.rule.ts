/**
 * aws-console-without-mfa: a console password on an agent's IAM user with no MFA device (the
 * credential report's mfa_active, captured as `attributes.mfaActive`; CIS AWS v3 1.10 / v5 1.9,
 * Security Hub IAM.5, Prowler iam_user_mfa_enabled_console_access). human-use already reports the
 * password itself; this is the control that a password, if it stays, is a second factor away from
 * use. `mfaActive` missing or null (the report had no such column) is unknown, not "off": no hit.
 *
 * Contract: kind aws-console-password. Time-free. At most one hit (no key), with mfaActive and the
 * last sign-in as evidence.
 */
import { z } from 'zod';
import type { RuleType } from '../types.js';

const schema = z.strictObject({});

export const awsConsoleWithoutMfa: RuleType<z.infer<typeof schema>> = {
  name: 'aws-console-without-mfa',
  category: 'hygiene',
  description:
    "A console password on an agent's IAM user whose credential report says mfa_active false (CIS v3 1.10 / " +
    'v5 1.9, Security Hub IAM.5, Prowler iam_user_mfa_enabled_console_access). Unknown MFA state (no such ' +
    'column in the report) is not reported. No parameters.',
  example: `policies:
  - name: agent-console-without-mfa
    description: Console passwords on agent users without MFA
    resource: { kinds: [aws-console-password] }
    rules:
      - type: aws-console-without-mfa
    severity: high
    mode: observe
`,
  schema,
  needs: ['attributes.mfaActive', 'lastUsed'],
  kinds: ['aws-console-password'],
  evaluate(cred) {
    if (cred.kind !== 'aws-console-password' || cred.attributes.mfaActive !== false) return [];
    const user = String(cred.attributes.userName ?? cred.principal);
    const at = cred.lastUsed?.at;
    const used =
      cred.lastUsed === null ? 'last sign-in unknown' : at ? `last signed in ${at.slice(0, 10)}` : 'never signed in';
    return [
      {
        message: `user ${user} has a console password without MFA (${used})`,
        evidence: [
          { field: 'attributes.mfaActive', value: false, note: 'credential report mfa_active' },
          { field: 'lastUsed.at', value: at ?? null, note: 'passwordLastUsed' },
        ],
        detector: 'console-no-mfa',
      },
    ];
  },
};
