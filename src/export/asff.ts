/**
 * ASFF (AWS Security Finding Format, SchemaVersion 2018-10-08), ready for Security Hub's
 * BatchImportFindings (at most 100 findings a call: ASFF_BATCH). The required top-level
 * attributes and their limits follow AWS's "Required top-level attributes in ASFF" (Security Hub
 * User Guide): SchemaVersion, Id (≤ 512), ProductArn, GeneratorId (≤ 512), AwsAccountId (12
 * digits), Types (`namespace/category/classifier`), CreatedAt, UpdatedAt, Severity.Label, Title
 * (≤ 256), Description (≤ 1024), Resources (1–32; Type, Id ≤ 512, Partition, Region); and the
 * optional ones used here: Workflow.Status, RecordState, Compliance (Status, RelatedRequirements:
 * ≤ 32 of ≤ 128 characters), ProductFields (≤ 50; keys ≤ 128, values ≤ 2048), FirstObservedAt,
 * LastObservedAt, ProductName, CompanyName.
 *
 * Mapping:
 * - Id `credwarden/<fingerprint>` (a fingerprint too long is hashed), GeneratorId
 *   `credwarden/<policy>`, Types `Software and Configuration Checks/AWS Security Best Practices/<policy>`;
 * - ProductArn `arn:<partition>:securityhub:<region>:<account>:product/<account>/default`, the
 *   account being `evidence.asff.accountId` (the Security Hub account) or else the finding's own;
 * - the resource is the credential's ARN: the IAM user's for an access key (a key has no ARN of
 *   its own; its id is in Details.AwsIamAccessKey.AccessKeyId) or console password, the role's for
 *   a role, `arn:aws:iam::<account>:root` for a root key; a Vault credential is Type `Other`, Id
 *   its credential id, and its AwsAccountId is `evidence.asff.accountId`: without one, Vault
 *   findings are left out and counted (skipped.vaultWithoutAccountId);
 * - Workflow NEW / SUPPRESSED / RESOLVED; RecordState ARCHIVED once resolved, else ACTIVE;
 *   Compliance FAILED while the risk stands, PASSED once resolved, with `<standard> <control>`
 *   as RelatedRequirements.
 */
import { createHash } from 'node:crypto';
import type { PresentedFinding } from '../findings/present.js';
import type { Severity } from '../model/finding.js';
import { awsAccountOf, controlPairs, cut, type ExportInput, isAws, partitionOf, titleOf, updatedAt } from './input.js';

export const ASFF_SCHEMA_VERSION = '2018-10-08';
export const ASFF_BATCH = 100;
export const ASFF_LIMITS = {
  id: 512,
  generatorId: 512,
  title: 256,
  description: 1024,
  resources: 32,
  resourceId: 512,
  resourceType: 256,
  region: 16,
  relatedRequirements: 32,
  relatedRequirement: 128,
  productFields: 50,
  productFieldKey: 128,
  productFieldValue: 2048,
  otherDetailValue: 1024,
} as const;

const LABEL: Record<Severity, string> = {
  info: 'INFORMATIONAL',
  low: 'LOW',
  medium: 'MEDIUM',
  high: 'HIGH',
  critical: 'CRITICAL',
};

export interface AsffResource {
  Type: 'AwsIamAccessKey' | 'AwsIamUser' | 'AwsIamRole' | 'Other';
  Id: string;
  Partition: 'aws' | 'aws-cn' | 'aws-us-gov';
  Region: string;
  Details?: Record<string, Record<string, string>>;
}

export interface AsffFinding {
  SchemaVersion: typeof ASFF_SCHEMA_VERSION;
  Id: string;
  ProductArn: string;
  GeneratorId: string;
  AwsAccountId: string;
  Types: string[];
  CreatedAt: string;
  UpdatedAt: string;
  FirstObservedAt: string;
  LastObservedAt: string;
  Severity: { Label: string; Original: string };
  Title: string;
  Description: string;
  ProductName: string;
  CompanyName: string;
  Resources: AsffResource[];
  Workflow: { Status: 'NEW' | 'SUPPRESSED' | 'RESOLVED' };
  RecordState: 'ACTIVE' | 'ARCHIVED';
  Compliance?: { Status: 'PASSED' | 'FAILED'; RelatedRequirements: string[] };
  ProductFields: Record<string, string>;
}

export interface AsffExport {
  findings: AsffFinding[];
  skipped: { vaultWithoutAccountId: number };
}

/** An identifier within `max`: as it is, or `credwarden/sha256/<hex>` of it. */
function fitId(id: string, max: number): string {
  return id.length <= max ? id : `credwarden/sha256/${createHash('sha256').update(id).digest('hex')}`;
}

const lastSegment = (id: string): string => id.split('/').at(-1) ?? id;

/** The principal's name as a Details member, left out when unknown: ASFF strings are NonEmptyString (`.*\S.*`). */
const named = (key: string, name: string): Record<string, string> => (/\S/.test(name) ? { [key]: name } : {});

function resourceOf(f: PresentedFinding, region: string): AsffResource {
  const arn = f.principal?.startsWith('arn:') ? f.principal : null;
  const partition = partitionOf(arn, region);
  const base = { Partition: partition, Region: region };
  const account = awsAccountOf(f) ?? '';
  const name = f.principalName ?? '';
  switch (f.kind) {
    case 'aws-access-key':
      return {
        Type: 'AwsIamAccessKey',
        Id: fitId(arn ?? f.credentialId, ASFF_LIMITS.resourceId),
        ...base,
        Details: {
          AwsIamAccessKey: {
            AccessKeyId: lastSegment(f.credentialId),
            ...named('PrincipalName', name),
            PrincipalType: 'IAMUser',
            AccountId: account,
          },
        },
      };
    case 'aws-root-access-key':
      return {
        Type: 'AwsIamAccessKey',
        Id: arn ?? `arn:${partition}:iam::${account}:root`,
        ...base,
        Details: { AwsIamAccessKey: { PrincipalName: 'root', AccountId: account } },
      };
    case 'aws-console-password':
      return {
        Type: 'AwsIamUser',
        Id: fitId(arn ?? f.credentialId, ASFF_LIMITS.resourceId),
        ...base,
        Details: { AwsIamUser: named('UserName', name) },
      };
    case 'aws-role':
      return {
        Type: 'AwsIamRole',
        Id: fitId(arn ?? f.credentialId, ASFF_LIMITS.resourceId),
        ...base,
        Details: { AwsIamRole: named('RoleName', name) },
      };
    default: {
      const other: Record<string, string> = { credentialId: f.credentialId, kind: f.kind };
      if (f.source) other.source = f.source;
      if (f.principal) other.principal = f.principal;
      for (const k of Object.keys(other)) other[k] = cut(other[k]!, ASFF_LIMITS.otherDetailValue);
      return { Type: 'Other', Id: fitId(f.credentialId, ASFF_LIMITS.resourceId), ...base, Details: { Other: other } };
    }
  }
}

function productFields(f: PresentedFinding, input: ExportInput): Record<string, string> {
  const score = input.scores.get(f.credentialId);
  const fields: Record<string, string | null> = {
    'credwarden/fingerprint': f.fingerprint,
    'credwarden/credentialId': f.credentialId,
    'credwarden/kind': f.kind,
    'credwarden/state': f.state,
    'credwarden/policies': f.policies.join(','),
    'credwarden/agent': f.agentId,
    'credwarden/owner': f.owner ? `${f.owner.team} <${f.owner.contact}>` : null,
    'credwarden/score': score !== undefined ? String(score) : null,
    'credwarden/exception': f.exceptionId,
  };
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(fields)) if (v) out[k] = cut(v, ASFF_LIMITS.productFieldValue);
  return out;
}

export function asffFinding(f: PresentedFinding, input: ExportInput): AsffFinding | null {
  const region = input.asff.region;
  const own = awsAccountOf(f);
  const accountId = isAws(f) ? own : input.asff.accountId;
  if (!accountId) return null;
  const hub = input.asff.accountId ?? accountId;
  // Security Hub's partition is its region's (a resource's is its ARN's).
  const partition = partitionOf(null, region);
  const requirements = controlPairs(f)
    .map(([std, id]) => cut(`${std} ${id}`, ASFF_LIMITS.relatedRequirement))
    .slice(0, ASFF_LIMITS.relatedRequirements);
  const resolved = f.state === 'resolved';
  return {
    SchemaVersion: ASFF_SCHEMA_VERSION,
    Id: fitId(`credwarden/${f.fingerprint}`, ASFF_LIMITS.id),
    ProductArn: `arn:${partition}:securityhub:${region}:${hub}:product/${hub}/default`,
    GeneratorId: fitId(`credwarden/${f.policy}`, ASFF_LIMITS.generatorId),
    AwsAccountId: accountId,
    Types: [`Software and Configuration Checks/AWS Security Best Practices/${f.policy}`],
    CreatedAt: f.firstSeen,
    UpdatedAt: updatedAt(f),
    FirstObservedAt: f.firstSeen,
    LastObservedAt: f.lastSeen,
    Severity: { Label: LABEL[f.severity], Original: f.severity },
    Title: cut(titleOf(f, input.policies), ASFF_LIMITS.title),
    Description: cut(f.message || titleOf(f, input.policies), ASFF_LIMITS.description),
    ProductName: input.product.name,
    CompanyName: input.product.vendor,
    Resources: [resourceOf(f, region)],
    Workflow: { Status: resolved ? 'RESOLVED' : f.state === 'suppressed' ? 'SUPPRESSED' : 'NEW' },
    RecordState: resolved ? 'ARCHIVED' : 'ACTIVE',
    ...(requirements.length
      ? { Compliance: { Status: resolved ? 'PASSED' : 'FAILED', RelatedRequirements: requirements } }
      : {}),
    ProductFields: productFields(f, input),
  };
}

export function toAsff(input: ExportInput): AsffExport {
  const findings: AsffFinding[] = [];
  let vault = 0;
  for (const f of input.findings) {
    const a = asffFinding(f, input);
    if (a) findings.push(a);
    else if (!isAws(f)) vault++;
  }
  return { findings, skipped: { vaultWithoutAccountId: vault } };
}
