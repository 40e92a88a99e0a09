/**
 * aws-unknown-action: a statement names an action pattern that matches nothing in the action
 * catalog (a typo, a retired action, or a service newer than the catalog). Kept as written and
 * flagged, never silently dropped: in a Deny it means the Deny protects nothing.
 *
 * Contract: through the shared AwsPrivilegeAnalyzer (ctx.services.privilege), which evaluates each
 * distinct grant list once. Time-free. Grants only; one hit per pattern and statement (key =
 * <statement>:<pattern>), severity low.
 */

import { AWS_GRANT_KINDS } from '../../privilege/rule-support.js';
import { detectorRule } from '../privilege-rules.js';

export const awsUnknownAction = detectorRule({
  name: 'aws-unknown-action',
  description:
    'A policy statement names an action pattern unknown to the action catalog (typo, retired action, unknown ' +
    'service prefix). One low-severity hit per pattern and statement, with where it came from.',
  example: `policies:
  - name: agent-unknown-actions
    description: Agent policies with actions that match nothing
    resource: { kinds: [aws-access-key, aws-role, vault-aws-role] }
    rules:
      - type: aws-unknown-action
    severity: low
    mode: observe
`,
  kinds: AWS_GRANT_KINDS,
  detect: (p, cred) => p.aws.unknownActions(cred),
});
