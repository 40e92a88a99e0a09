/**
 * The ASFF export, for Security Hub's BatchImportFindings. Every finding is validated against
 * AWS's own machine-readable model of the API: the Security Hub service model from botocore
 * (test/fixtures/asff-securityhub/model.json, `AwsSecurityFinding` and `BatchImportFindingsRequest`;
 * see its README), with test/support/botocore-shapes.ts: required members, no unknown members,
 * enums, NonEmptyString's pattern, list bounds. The constraints the model does not carry (they are
 * only in its documentation prose and in the Security Hub User Guide, "Required top-level
 * attributes in ASFF") are checked by hand in `asffProblems`. Hand-written expected findings for
 * an open AWS access key, a suppressed role, a resolved Vault token (with and without
 * evidence.asff.accountId), and BatchImportFindings' 100-a-call batching.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EvidenceSchema } from '../../src/evidence/config.js';
import { ASFF_BATCH, type AsffFinding, asffFinding, toAsff } from '../../src/export/asff.js';
import { renderExport } from '../../src/export/index.js';
import type { Finding } from '../../src/model/finding.js';
import { type BotocoreModel, isIsoTimestamp, validateShape } from '../support/botocore-shapes.js';
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

const MODEL = JSON.parse(
  readFileSync(join(import.meta.dirname, '../fixtures/asff-securityhub/model.json'), 'utf8'),
) as BotocoreModel & { source: { package: string }; metadata: { apiVersion: string } };

/** What Security Hub's model refuses in one finding (empty: valid as an `AwsSecurityFinding`). */
const modelProblems = (f: unknown): string[] => validateShape(MODEL, 'AwsSecurityFinding', f);

const TYPE_NAMESPACES = [
  'Software and Configuration Checks',
  'TTPs',
  'Effects',
  'Unusual Behaviors',
  'Sensitive Data Identifications',
];

/**
 * The documented constraints that the model cannot check (modelProblems checks the rest: the
 * model's required members, enums such as Severity.Label, Workflow.Status, RecordState,
 * Compliance.Status and Resources.Partition, and non-empty strings). The model's `required`
 * leaves out Severity and Types, and its strings and lists carry no lengths here: the limits are
 * in its documentation text only ("Length Constraints: … Maximum length of 512"). AwsAccountId
 * and ProductArn have no pattern, the timestamps are plain NonEmptyString, and ProductFields'
 * `aws/` prefix is reserved by the User Guide only.
 */
function asffProblems(f: AsffFinding): string[] {
  const p: string[] = [];
  if (f.Severity === undefined) p.push('Severity missing');
  if (f.Types === undefined) p.push('Types missing');
  if (f.SchemaVersion !== '2018-10-08') p.push('SchemaVersion');
  if (f.Id.length > 512) p.push('Id > 512');
  if (f.GeneratorId.length > 512) p.push('GeneratorId > 512');
  if (!/^\d{12}$/.test(f.AwsAccountId)) p.push('AwsAccountId not 12 digits');
  if (!/^arn:aws(-cn|-us-gov)?:securityhub:[a-z0-9-]+:\d{12}:product\/\d{12}\/default$/.test(f.ProductArn))
    p.push('ProductArn');
  if (f.Title.length > 256) p.push('Title > 256');
  if (f.Description.length > 1024) p.push('Description > 1024');
  for (const d of ['CreatedAt', 'UpdatedAt', 'FirstObservedAt', 'LastObservedAt'] as const)
    if (f[d] !== undefined && !isIsoTimestamp(f[d])) p.push(`${d} not ISO 8601`);
  // Security Hub needs Label or Normalized (the model has both optional).
  if (f.Severity && !f.Severity.Label) p.push('Severity.Label missing');
  if (f.Types.length < 1 || f.Types.length > 50) p.push('Types count');
  for (const t of f.Types) {
    const parts = t.split('/');
    if (parts.length < 1 || parts.length > 3 || !TYPE_NAMESPACES.includes(parts[0]!)) p.push(`Types "${t}"`);
  }
  if (f.Resources.length < 1 || f.Resources.length > 32) p.push('Resources count');
  for (const r of f.Resources) {
    if (r.Type.length > 256) p.push('Resources.Type');
    if (r.Id.length > 512) p.push('Resources.Id');
    // The User Guide lists Partition and Region among a resource's required attributes; the model does not.
    if (!r.Partition) p.push('Resources.Partition');
    if (!r.Region || r.Region.length > 16) p.push('Resources.Region');
  }
  if (f.Compliance) {
    const reqs = f.Compliance.RelatedRequirements;
    if (reqs.length > 32 || reqs.some((r) => r.length > 128)) p.push('Compliance.RelatedRequirements');
  }
  const fields = Object.entries(f.ProductFields);
  if (fields.length > 50 || fields.some(([k, v]) => k.length > 128 || v.length > 2048 || k.startsWith('aws/')))
    p.push('ProductFields');
  return p;
}

/** Both: the model's problems and the hand-checked ones. */
const allProblems = (f: AsffFinding): string[] => [...modelProblems(f), ...asffProblems(f)];

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
    for (const f of toAsff(withHub).findings) expect(allProblems(f), f.Id).toEqual([]);
  });

  it("every finding meets Security Hub's model and the documented constraints, long text cut to the limits", () => {
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
    for (const f of findings) expect(allProblems(f), f.Id).toEqual([]);
    const cut = findings[3]!;
    expect(cut.Id).toMatch(/^credwarden\/sha256\/[0-9a-f]{64}$/);
    expect(cut.Title).toHaveLength(256);
    expect(cut.Description).toHaveLength(1024);
    expect(cut.Compliance?.RelatedRequirements).toHaveLength(32);
    expect(cut.ProductArn).toBe('arn:aws-us-gov:securityhub:us-gov-west-1:999999999999:product/999999999999/default');
    // The checkers themselves refuse what AWS refuses: the lengths and the account id by hand, the enum by the model.
    const bad = { ...cut, Title: 't'.repeat(257), AwsAccountId: '123', RecordState: 'GONE' as 'ACTIVE' };
    expect(asffProblems(bad)).toEqual(['AwsAccountId not 12 digits', 'Title > 256']);
    expect(modelProblems(bad)).toEqual(['RecordState: "GONE" not one of ACTIVE, ARCHIVED (shape RecordState)']);
  });

  it("every kind of credential validates against Security Hub's model, also without a known principal", () => {
    // Findings stored by older versions, their credential gone from the inventory, have no principal name.
    const unnamed = { principal: undefined, principalName: undefined, principalType: undefined };
    const more: Finding[] = [
      { ...OPEN_AWS, ...unnamed, fingerprint: 'p:key-unnamed' },
      { ...SUPPRESSED_AWS, ...unnamed, fingerprint: 'p:role-unnamed' },
      { ...OPEN_AWS, kind: 'aws-root-access-key', principal: undefined, fingerprint: 'p:root' },
      { ...OPEN_AWS, kind: 'aws-console-password', fingerprint: 'p:password' },
      { ...OPEN_AWS, kind: 'aws-console-password', ...unnamed, fingerprint: 'p:password-unnamed' },
      { ...RESOLVED_VAULT, ...unnamed, source: undefined, fingerprint: 'p:vault-unnamed' },
    ];
    const inp = exportInput([...ALL, ...more], { asff: { accountId: HUB_ID, region: 'us-east-1' } });
    const { findings } = toAsff(inp);
    expect(findings).toHaveLength(9);
    for (const f of findings) expect(allProblems(f), f.Id).toEqual([]);
    const details = (id: string) => findings.find((f) => f.Id === `credwarden/${id}`)?.Resources[0]?.Details;
    // An unknown name is left out (ASFF strings are NonEmptyString: `.*\S.*`), not sent empty.
    expect(details('p:key-unnamed')).toEqual({
      AwsIamAccessKey: { AccessKeyId: 'AKIAFAKEDEPLOY000001', PrincipalType: 'IAMUser', AccountId: ACCT },
    });
    expect(details('p:role-unnamed')).toEqual({ AwsIamRole: {} });
    expect(details('p:password-unnamed')).toEqual({ AwsIamUser: {} });
    expect(details('p:password')).toEqual({ AwsIamUser: { UserName: 'agent-deploy-1' } });
    expect(details('p:root')).toEqual({ AwsIamAccessKey: { PrincipalName: 'root', AccountId: ACCT } });
  });

  it('the vendored model: botocore 1.44.8, Security Hub API 2018-10-26, the IAM and Other resource details', () => {
    expect(MODEL.source.package).toBe('botocore==1.44.8');
    expect(MODEL.metadata.apiVersion).toBe('2018-10-26');
    const details = MODEL.shapes.ResourceDetails;
    expect(details?.type === 'structure' && Object.keys(details.members)).toEqual([
      'AwsIamAccessKey',
      'AwsIamUser',
      'AwsIamRole',
      'Other',
    ]);
    expect(MODEL.shapes.BatchImportFindingsRequestFindingList).toMatchObject({ type: 'list', min: 1, max: 100 });
  });

  it('the model validator catches what Security Hub refuses', () => {
    const [key, role] = toAsff(exportInput(ALL, { asff: { accountId: HUB_ID, region: 'us-east-1' } })).findings as [
      AsffFinding,
      AsffFinding,
    ];
    expect(modelProblems(key)).toEqual([]);
    // A missing required member, and a blank one.
    const { Title: _, ...untitled } = key;
    expect(modelProblems(untitled)).toEqual(['Title: missing required member (shape AwsSecurityFinding)']);
    expect(modelProblems({ ...key, Description: ' ' })).toEqual([
      'Description: " " does not match pattern .*\\S.* (shape NonEmptyString)',
    ]);
    // Unknown members: a misspelt one, and a resource detail that is not the resource's.
    expect(
      modelProblems({
        ...key,
        Severity: { ...key.Severity, Score: 7 },
        Resources: [{ ...key.Resources[0]!, Details: { AwsIamUser: { Username: 'agent-deploy-1' } } }],
      }),
    ).toEqual([
      'Severity.Score: unknown member of Severity',
      'Resources[0].Details.AwsIamUser.Username: unknown member of AwsIamUserDetails',
    ]);
    // A string over its max (the longest string the model bounds: a role's trust policy).
    const trust = { AwsIamRole: { RoleName: 'agent-admin', AssumeRolePolicyDocument: '{'.repeat(131073) } };
    expect(modelProblems({ ...role, Resources: [{ ...role.Resources[0]!, Details: trust }] })).toEqual([
      'Resources[0].Details.AwsIamRole.AssumeRolePolicyDocument: length 131073 > max 131072',
    ]);
    // Bad enum values.
    expect(modelProblems({ ...key, Workflow: { Status: 'OPEN' }, Severity: { Label: 'SEVERE' } })).toEqual([
      'Severity.Label: "SEVERE" not one of INFORMATIONAL, LOW, MEDIUM, HIGH, CRITICAL (shape SeverityLabel)',
      'Workflow.Status: "OPEN" not one of NEW, NOTIFIED, RESOLVED, SUPPRESSED (shape WorkflowStatus)',
    ]);
    // Lists over their max and under their min: BatchImportFindings' 1–100 findings.
    expect(validateShape(MODEL, 'BatchImportFindingsRequest', { Findings: Array(101).fill(key) })).toEqual([
      'Findings: items 101 > max 100',
    ]);
    expect(validateShape(MODEL, 'BatchImportFindingsRequest', { Findings: [] })).toEqual(['Findings: items 0 < min 1']);
    expect(validateShape(MODEL, 'BatchImportFindingsRequest', {})).toEqual([
      'Findings: missing required member (shape BatchImportFindingsRequest)',
    ]);
    // Bad timestamps. The model types ASFF's timestamps as NonEmptyString, so asffProblems checks
    // them (with the validator's own rule); the validator's `timestamp` shapes refuse the same.
    const stamp: BotocoreModel = { shapes: { T: { type: 'timestamp', timestampFormat: 'iso8601' } } };
    for (const t of ['2026-11-01T00:00:00Z', '2026-11-01T00:00:00.000+01:00'])
      expect(validateShape(stamp, 'T', t), t).toEqual([]);
    for (const t of ['2026-11-01 00:00:00Z', '2026-11-01T00:00:00', '2026-13-01T00:00:00Z', 'yesterday'])
      expect(validateShape(stamp, 'T', t), t).toEqual([
        `(root): ${JSON.stringify(t)} is not an RFC 3339 timestamp (shape T)`,
      ]);
    expect(validateShape(stamp, 'T', 1793487600)).toEqual([
      '(root): expected an ISO 8601 string (shape T), got number',
    ]);
    expect(asffProblems({ ...key, CreatedAt: '2026-13-01T00:00:00Z', LastObservedAt: 'yesterday' })).toEqual([
      'CreatedAt not ISO 8601',
      'LastObservedAt not ISO 8601',
    ]);
    expect(modelProblems({ ...key, UpdatedAt: '' })).toEqual([
      'UpdatedAt: "" does not match pattern .*\\S.* (shape NonEmptyString)',
    ]);
    // Wrong types.
    expect(modelProblems({ ...key, Resources: key.Resources[0], ProductFields: { n: 1 } })).toEqual([
      'Resources: expected an array (shape ResourceList), got object',
      'ProductFields["n"]: expected a string (shape NonEmptyString), got number',
    ]);
  });

  it('webhook parts hold at most 100 findings: BatchImportFindings takes 100 a call', () => {
    const many = Array.from({ length: 250 }, (_, i) => ({ ...OPEN_AWS, fingerprint: `p:${i}` }));
    const parts = renderExport('asff', exportInput(many)).parts();
    expect(ASFF_BATCH).toBe(100);
    // Each part is a BatchImportFindings request as the model has it: 1–100 findings, each valid.
    for (const p of parts) expect(validateShape(MODEL, 'BatchImportFindingsRequest', p.payload)).toEqual([]);
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
