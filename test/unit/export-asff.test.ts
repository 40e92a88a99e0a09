/**
 * The ASFF export, for Security Hub's BatchImportFindings. The constraints below are written
 * from AWS's documentation (Security Hub User Guide, "Required top-level attributes in ASFF" and
 * the AwsSecurityFinding API reference): every required top-level attribute present, the length
 * limits, the enums, the account id and timestamp formats. Hand-written expected findings for an
 * open AWS access key, a suppressed role, a resolved Vault token (with and without
 * evidence.asff.accountId), and BatchImportFindings' 100-a-call batching.
 */
import { describe, expect, it } from 'vitest';
import { EvidenceSchema } from '../../src/evidence/config.js';
import { ASFF_BATCH, type AsffFinding, asffFinding, toAsff } from '../../src/export/asff.js';
import { renderExport } from '../../src/export/index.js';
import {
  ACCT,
  ALL,
  exportInput,
  MERGED,
  OPEN_AWS,
  RESOLVED_VAULT,
  ROLE_ARN,
  SUPPRESSED_AWS,
  USER_ARN,
} from '../support/export-fixtures.js';

const REQUIRED = [
  'AwsAccountId',
  'CreatedAt',
  'Description',
  'GeneratorId',
  'Id',
  'ProductArn',
  'Resources',
  'SchemaVersion',
  'Severity',
  'Title',
  'Types',
  'UpdatedAt',
] as const;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
const TYPE_NAMESPACES = [
  'Software and Configuration Checks',
  'TTPs',
  'Effects',
  'Unusual Behaviors',
  'Sensitive Data Identifications',
];

/** Every documented constraint a finding breaks (empty: Security Hub accepts its shape). */
function asffProblems(f: AsffFinding): string[] {
  const p: string[] = [];
  const rec = f as unknown as Record<string, unknown>;
  for (const k of REQUIRED) if (rec[k] === undefined || rec[k] === '') p.push(`${k} missing`);
  if (f.SchemaVersion !== '2018-10-08') p.push('SchemaVersion');
  if (f.Id.length > 512) p.push('Id > 512');
  if (f.GeneratorId.length > 512) p.push('GeneratorId > 512');
  if (!/^\d{12}$/.test(f.AwsAccountId)) p.push('AwsAccountId not 12 digits');
  if (!/^arn:aws(-cn|-us-gov)?:securityhub:[a-z0-9-]+:\d{12}:product\/\d{12}\/default$/.test(f.ProductArn))
    p.push('ProductArn');
  if (f.Title.length > 256) p.push('Title > 256');
  if (f.Description.length > 1024) p.push('Description > 1024');
  for (const d of ['CreatedAt', 'UpdatedAt', 'FirstObservedAt', 'LastObservedAt'] as const)
    if (f[d] !== undefined && !ISO.test(f[d])) p.push(`${d} not ISO 8601`);
  if (!['INFORMATIONAL', 'LOW', 'MEDIUM', 'HIGH', 'CRITICAL'].includes(f.Severity?.Label)) p.push('Severity.Label');
  if (f.Types.length < 1 || f.Types.length > 50) p.push('Types count');
  for (const t of f.Types) {
    const parts = t.split('/');
    if (parts.length < 1 || parts.length > 3 || !TYPE_NAMESPACES.includes(parts[0]!)) p.push(`Types "${t}"`);
  }
  if (f.Resources.length < 1 || f.Resources.length > 32) p.push('Resources count');
  for (const r of f.Resources) {
    if (!r.Type || r.Type.length > 256) p.push('Resources.Type');
    if (!r.Id || r.Id.length > 512) p.push('Resources.Id');
    if (!['aws', 'aws-cn', 'aws-us-gov'].includes(r.Partition)) p.push('Resources.Partition');
    if (!r.Region || r.Region.length > 16) p.push('Resources.Region');
  }
  if (!['NEW', 'NOTIFIED', 'RESOLVED', 'SUPPRESSED'].includes(f.Workflow.Status)) p.push('Workflow.Status');
  if (!['ACTIVE', 'ARCHIVED'].includes(f.RecordState)) p.push('RecordState');
  if (f.Compliance) {
    if (!['PASSED', 'WARNING', 'FAILED', 'NOT_AVAILABLE'].includes(f.Compliance.Status)) p.push('Compliance.Status');
    const reqs = f.Compliance.RelatedRequirements;
    if (reqs.length > 32 || reqs.some((r) => r.length > 128)) p.push('Compliance.RelatedRequirements');
  }
  const fields = Object.entries(f.ProductFields);
  if (fields.length > 50 || fields.some(([k, v]) => k.length > 128 || v.length > 2048 || k.startsWith('aws/')))
    p.push('ProductFields');
  return p;
}

const input = exportInput();
const [open, suppressed, resolved] = input.findings as [
  (typeof input.findings)[0],
  (typeof input.findings)[0],
  (typeof input.findings)[0],
];
const HUB_ID = '999999999999';
const PRODUCT_ARN = `arn:aws:securityhub:us-east-1:${ACCT}:product/${ACCT}/default`;

describe('ASFF', () => {
  it('an open AWS access key: the user ARN as the resource, NEW, ACTIVE, FAILED with its controls', () => {
    expect(asffFinding(open, input)).toEqual({
      SchemaVersion: '2018-10-08',
      Id: `credwarden/${OPEN_AWS.fingerprint}`,
      ProductArn: PRODUCT_ARN,
      GeneratorId: 'credwarden/agent-key-unused-30d',
      AwsAccountId: ACCT,
      Types: ['Software and Configuration Checks/AWS Security Best Practices/agent-key-unused-30d'],
      CreatedAt: '2026-11-01T00:00:00.000Z',
      UpdatedAt: '2026-12-01T00:00:00.000Z',
      FirstObservedAt: '2026-11-01T00:00:00.000Z',
      LastObservedAt: '2026-12-01T00:00:00.000Z',
      Severity: { Label: 'MEDIUM', Original: 'medium' },
      Title: 'An agent access key unused for 30 days',
      Description: 'access key unused for 45 days (limit 30)',
      ProductName: 'credwarden',
      CompanyName: 'credwarden',
      Resources: [
        {
          Type: 'AwsIamAccessKey',
          Id: USER_ARN,
          Partition: 'aws',
          Region: 'us-east-1',
          Details: {
            AwsIamAccessKey: {
              AccessKeyId: 'AKIAFAKEDEPLOY000001',
              PrincipalName: 'agent-deploy-1',
              PrincipalType: 'IAMUser',
              AccountId: ACCT,
            },
          },
        },
      ],
      Workflow: { Status: 'NEW' },
      RecordState: 'ACTIVE',
      Compliance: { Status: 'FAILED', RelatedRequirements: ['cis-aws-v5 1.11', 'nist-800-53 AC-2(3)'] },
      ProductFields: {
        'credwarden/fingerprint': OPEN_AWS.fingerprint,
        'credwarden/credentialId': OPEN_AWS.credentialId,
        'credwarden/kind': 'aws-access-key',
        'credwarden/state': 'open',
        'credwarden/policies': 'agent-key-unused-30d',
        'credwarden/agent': 'deploy-agent',
        'credwarden/owner': 'platform <platform-oncall@example.com>',
        'credwarden/score': '42',
      },
    });
  });

  it('a suppressed role: AwsIamRole with the role ARN, SUPPRESSED, still ACTIVE and FAILED', () => {
    expect(asffFinding(suppressed, input)).toMatchObject({
      Id: `credwarden/${SUPPRESSED_AWS.fingerprint}`,
      Severity: { Label: 'CRITICAL' },
      Resources: [
        { Type: 'AwsIamRole', Id: ROLE_ARN, Partition: 'aws', Details: { AwsIamRole: { RoleName: 'agent-admin' } } },
      ],
      Workflow: { Status: 'SUPPRESSED' },
      RecordState: 'ACTIVE',
      Compliance: { Status: 'FAILED', RelatedRequirements: ['owasp-nhi NHI5'] },
      ProductFields: { 'credwarden/exception': 'exc-break-glass', 'credwarden/state': 'suppressed' },
    });
  });

  it('Vault findings need evidence.asff.accountId: left out and counted without it', () => {
    expect(asffFinding(resolved, input)).toBeNull();
    expect(toAsff(input).skipped).toEqual({ vaultWithoutAccountId: 1 });
    expect(renderExport('asff', input)).toMatchObject({ count: 2, skipped: { vaultWithoutAccountId: 1 } });
  });

  it('with evidence.asff.accountId a resolved Vault finding is Other, RESOLVED, ARCHIVED, PASSED', () => {
    const hub = '999999999999';
    const withHub = exportInput(ALL, { asff: { accountId: hub, region: 'eu-west-1' } });
    expect(asffFinding(withHub.findings[2]!, withHub)).toEqual({
      SchemaVersion: '2018-10-08',
      Id: `credwarden/${RESOLVED_VAULT.fingerprint}`,
      ProductArn: `arn:aws:securityhub:eu-west-1:${hub}:product/${hub}/default`,
      GeneratorId: 'credwarden/agent-vault-broad-glob',
      AwsAccountId: hub,
      Types: ['Software and Configuration Checks/AWS Security Best Practices/agent-vault-broad-glob'],
      CreatedAt: '2026-11-05T00:00:00.000Z',
      UpdatedAt: '2026-11-21T12:00:00.000Z',
      FirstObservedAt: '2026-11-05T00:00:00.000Z',
      LastObservedAt: '2026-11-20T00:00:00.000Z',
      Severity: { Label: 'HIGH', Original: 'high' },
      Title: 'A Vault credential granted a mount-wide or global glob',
      Description: 'granted secret/* [read, list]',
      ProductName: 'credwarden',
      CompanyName: 'credwarden',
      Resources: [
        {
          Type: 'Other',
          Id: 'vault/main/root/token/hmac-acc-1',
          Partition: 'aws',
          Region: 'eu-west-1',
          Details: {
            Other: {
              credentialId: 'vault/main/root/token/hmac-acc-1',
              kind: 'vault-token',
              source: 'main/root',
              principal: 'token-invoice-bot',
            },
          },
        },
      ],
      Workflow: { Status: 'RESOLVED' },
      RecordState: 'ARCHIVED',
      Compliance: { Status: 'PASSED', RelatedRequirements: ['soc2 CC6.3'] },
      ProductFields: {
        'credwarden/fingerprint': RESOLVED_VAULT.fingerprint,
        'credwarden/credentialId': RESOLVED_VAULT.credentialId,
        'credwarden/kind': 'vault-token',
        'credwarden/state': 'resolved',
        'credwarden/policies': 'agent-vault-broad-glob',
        'credwarden/agent': 'invoice-bot',
        'credwarden/owner': 'billing <#billing-oncall>',
      },
    });
    // The hub account is the ProductArn's also for AWS findings of member accounts.
    expect(asffFinding(withHub.findings[0]!, withHub)).toMatchObject({
      AwsAccountId: ACCT,
      ProductArn: `arn:aws:securityhub:eu-west-1:${hub}:product/${hub}/default`,
    });
    expect(toAsff(withHub).skipped).toEqual({ vaultWithoutAccountId: 0 });
  });

  it('every finding meets the documented constraints, long text cut to the limits', () => {
    const long = {
      ...OPEN_AWS,
      fingerprint: `p:${'x'.repeat(600)}`,
      message: 'm'.repeat(3000),
      controls: Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`std-${i}`, [`${'c'.repeat(200)}`]])),
    };
    const inp = exportInput([...ALL, long, MERGED], {
      asff: { accountId: '999999999999', region: 'us-gov-west-1' },
      policies: new Map([
        [
          'agent-key-unused-30d',
          { ...exportInput().policies.get('agent-key-unused-30d')!, description: 'd'.repeat(400) },
        ],
      ]),
    });
    const { findings } = toAsff(inp);
    expect(findings).toHaveLength(4);
    for (const f of findings) expect(asffProblems(f), f.Id).toEqual([]);
    const cut = findings[3]!;
    expect(cut.Id).toMatch(/^credwarden\/sha256\/[0-9a-f]{64}$/);
    expect(cut.Title).toHaveLength(256);
    expect(cut.Description).toHaveLength(1024);
    expect(cut.Compliance?.RelatedRequirements).toHaveLength(32);
    expect(cut.ProductArn).toBe('arn:aws-us-gov:securityhub:us-gov-west-1:999999999999:product/999999999999/default');
    // The checker itself refuses what AWS refuses.
    expect(
      asffProblems({ ...cut, Title: 't'.repeat(257), AwsAccountId: '123', RecordState: 'GONE' as 'ACTIVE' }),
    ).toEqual(['AwsAccountId not 12 digits', 'Title > 256', 'RecordState']);
  });

  it('webhook parts hold at most 100 findings: BatchImportFindings takes 100 a call', () => {
    const many = Array.from({ length: 250 }, (_, i) => ({ ...OPEN_AWS, fingerprint: `p:${i}` }));
    const parts = renderExport('asff', exportInput(many)).parts();
    expect(ASFF_BATCH).toBe(100);
    expect(parts.map((p) => [p.count, (p.payload.Findings as unknown[]).length])).toEqual([
      [100, 100],
      [100, 100],
      [50, 50],
    ]);
    // The whole export (CLI, file) is the JSON list `aws securityhub batch-import-findings --findings` takes.
    expect(JSON.parse(renderExport('asff', exportInput()).text)).toHaveLength(2);
  });

  it('evidence.asff: a 12-digit account id and a region name, both optional', () => {
    expect(EvidenceSchema.parse({ asff: { accountId: HUB_ID, region: 'us-gov-west-1' } }).asff).toEqual({
      accountId: HUB_ID,
      region: 'us-gov-west-1',
    });
    expect(EvidenceSchema.parse({}).asff).toBeUndefined();
    const bad = EvidenceSchema.safeParse({ asff: { accountId: '12345', region: 'mars' } });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues.map((i) => [i.path.join('.'), i.message])).toEqual([
      ['asff.accountId', 'must be a 12-digit AWS account id'],
      ['asff.region', 'must be an AWS region name (e.g. us-east-1)'],
    ]);
  });
});
