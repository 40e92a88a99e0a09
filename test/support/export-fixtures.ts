/**
 * Findings for the export format tests (test/unit/export-*.test.ts): one open AWS access-key
 * finding, one suppressed AWS role finding, one resolved Vault token finding, and a merged
 * tombstone that no format may export.
 */
import type { ExportInput, ExportPolicy } from '../../src/export/input.js';
import { presentFinding } from '../../src/findings/present.js';
import type { Finding } from '../../src/model/finding.js';

export const ACCT = '111111111111';
export const USER_ARN = `arn:aws:iam::${ACCT}:user/agents/agent-deploy-1`;
export const ROLE_ARN = `arn:aws:iam::${ACCT}:role/agent-admin`;

export const OPEN_AWS: Finding = {
  fingerprint: `agent-key-unused-30d:aws/${ACCT}/access-key/AKIAFAKEDEPLOY000001`,
  policy: 'agent-key-unused-30d',
  policies: ['agent-key-unused-30d'],
  rules: ['unused-for'],
  credentialId: `aws/${ACCT}/access-key/AKIAFAKEDEPLOY000001`,
  kind: 'aws-access-key',
  agentId: 'deploy-agent',
  owner: { team: 'platform', contact: 'platform-oncall@example.com' },
  severity: 'medium',
  state: 'open',
  message: 'access key unused for 45 days (limit 30)',
  hits: [
    {
      message: 'access key unused for 45 days (limit 30)',
      detector: 'unused',
      confidence: 'confirmed',
      evidence: [{ field: 'lastUsed.at', value: '2026-10-17T00:00:00.000Z', note: 'credential-report' }],
    },
  ],
  controls: { 'nist-800-53': ['AC-2(3)'], 'cis-aws-v5': ['1.11'] },
  principal: USER_ARN,
  principalName: 'agent-deploy-1',
  principalType: 'iam-user',
  source: ACCT,
  account: { id: ACCT, name: 'prod' },
  firstSeen: '2026-11-01T00:00:00.000Z',
  lastSeen: '2026-12-01T00:00:00.000Z',
  resolvedAt: null,
  reopened: 0,
  exceptionId: null,
};

export const SUPPRESSED_AWS: Finding = {
  fingerprint: `agent-admin-equivalent:aws/${ACCT}/role/agent-admin`,
  policy: 'agent-admin-equivalent',
  policies: ['agent-admin-equivalent'],
  rules: ['aws-admin'],
  credentialId: `aws/${ACCT}/role/agent-admin`,
  kind: 'aws-role',
  agentId: null,
  owner: null,
  severity: 'critical',
  state: 'suppressed',
  message: 'can do anything: Allow * on *',
  hits: [
    {
      message: 'can do anything: Allow * on *',
      detector: 'admin',
      confidence: 'potential',
      evidence: [{ statement: { summary: 'Allow * on *', provenance: { policy: 'admin', attachment: 'inline' } } }],
    },
  ],
  controls: { 'owasp-nhi': ['NHI5'] },
  principal: ROLE_ARN,
  principalName: 'agent-admin',
  principalType: 'iam-role',
  source: ACCT,
  account: { id: ACCT, name: null },
  firstSeen: '2026-11-10T00:00:00.000Z',
  lastSeen: '2026-12-01T00:00:00.000Z',
  resolvedAt: null,
  reopened: 0,
  exceptionId: 'exc-break-glass',
};

export const RESOLVED_VAULT: Finding = {
  fingerprint: 'agent-vault-broad-glob:vault/main/root/token/hmac-acc-1',
  policy: 'agent-vault-broad-glob',
  policies: ['agent-vault-broad-glob'],
  rules: ['vault-broad-glob'],
  credentialId: 'vault/main/root/token/hmac-acc-1',
  kind: 'vault-token',
  agentId: 'invoice-bot',
  owner: { team: 'billing', contact: '#billing-oncall' },
  severity: 'high',
  state: 'resolved',
  message: 'granted secret/* [read, list]',
  hits: [{ message: 'granted secret/* [read, list]', detector: 'broad-glob', evidence: [{ field: 'grants[0]' }] }],
  controls: { soc2: ['CC6.3'] },
  principal: 'token-invoice-bot',
  principalName: 'invoice-bot',
  principalType: 'vault-token',
  source: 'main/root',
  account: null,
  firstSeen: '2026-11-05T00:00:00.000Z',
  lastSeen: '2026-11-20T00:00:00.000Z',
  resolvedAt: '2026-11-21T12:00:00.000Z',
  reopened: 1,
  exceptionId: null,
};

export const MERGED: Finding = {
  ...OPEN_AWS,
  fingerprint: `cis-aws-key-unused:aws/${ACCT}/access-key/AKIAFAKEDEPLOY000001`,
  policy: 'cis-aws-key-unused',
  state: 'merged',
  mergedInto: OPEN_AWS.fingerprint,
};

export const POLICIES: ExportPolicy[] = [
  {
    name: 'agent-key-unused-30d',
    description: 'An agent access key unused for 30 days',
    severity: 'medium',
    controls: { 'nist-800-53': ['AC-2(3)'], 'cis-aws-v5': ['1.11'] },
  },
  {
    name: 'agent-admin-equivalent',
    description: 'An agent credential that can do anything',
    severity: 'critical',
    controls: { 'owasp-nhi': ['NHI5'] },
  },
  {
    name: 'agent-vault-broad-glob',
    description: 'A Vault credential granted a mount-wide or global glob',
    severity: 'high',
    controls: { soc2: ['CC6.3'] },
  },
];

export const ALL: Finding[] = [OPEN_AWS, SUPPRESSED_AWS, RESOLVED_VAULT];

export function exportInput(findings: Finding[] = ALL, over: Partial<ExportInput> = {}): ExportInput {
  return {
    findings: findings.filter((f) => f.state !== 'merged').map((f) => presentFinding(f, new Map(), new Map())),
    policies: new Map(POLICIES.map((p) => [p.name, p])),
    product: { name: 'credwarden', vendor: 'credwarden', version: '9.9.9' },
    scores: new Map([[OPEN_AWS.credentialId, 42]]),
    asff: { accountId: null, region: 'us-east-1' },
    generatedAt: new Date('2026-12-01T00:05:00.000Z'),
    ...over,
  };
}

export const msOf = (iso: string): number => Date.parse(iso);
