/**
 * Reads of secrets and data with no resource constraint (detector "data-read"; Cloudsplaining's
 * DataExfiltration, reference §1.2, and Prowler's iam_policy_no_kms_decryption_actions).
 *
 * A curated list, not "every Read action": the catalog's access levels cannot tell a secret from a
 * description (secretsmanager:DescribeSecret is Read too), and kms:Decrypt, the key to every
 * SecureString parameter and SSE-KMS object, is "Write" in it. Each entry names the resource type
 * whose every instance a grant must cover to count as unconstrained, so a type-wide ARN
 * (`arn:aws:secretsmanager:*:*:secret:*`, `arn:aws:s3:::*\/*`) counts like `*`, while one that pins a
 * region, an account, a bucket or a name prefix is scoped. Left out on purpose:
 * secretsmanager:BatchGetSecretValue (wildcard-only; it needs GetSecretValue on each secret anyway),
 * ecr:BatchGetImage (agents pull images everywhere; not data), ec2:GetPasswordData and the like
 * (credential exposure already reports them).
 */
import type { Severity } from '../model/finding.js';
import type { AwsPermissionSet, EffectiveAction } from './aws-effective.js';
import type { ActionCatalog } from './catalog.js';
import { statementEvidence } from './statement.js';
import { type Confidence, capList, type DetectorResult } from './types.js';

export type DataCategory = 'secrets' | 'data';
export const DATA_CATEGORIES: readonly DataCategory[] = ['secrets', 'data'];

export interface SensitiveRead {
  action: string;
  category: DataCategory;
  /** The iam-data resource type (key in resourceTypes/<service>.json) a grant must cover entirely. */
  resourceType: string;
  why: string;
}

export const SENSITIVE_READS: readonly SensitiveRead[] = [
  {
    action: 'secretsmanager:GetSecretValue',
    category: 'secrets',
    resourceType: 'secret',
    why: 'secret values (Cloudsplaining)',
  },
  {
    action: 'ssm:GetParameter',
    category: 'secrets',
    resourceType: 'parameter',
    why: 'parameter values, SecureString included (Cloudsplaining)',
  },
  {
    action: 'ssm:GetParameters',
    category: 'secrets',
    resourceType: 'parameter',
    why: 'parameter values (Cloudsplaining)',
  },
  {
    action: 'ssm:GetParametersByPath',
    category: 'secrets',
    resourceType: 'parameter',
    why: 'parameter values under a path (Cloudsplaining)',
  },
  { action: 'ssm:GetParameterHistory', category: 'secrets', resourceType: 'parameter', why: 'past parameter values' },
  {
    action: 'kms:Decrypt',
    category: 'secrets',
    resourceType: 'key',
    why: 'decrypts anything encrypted under any key (Prowler iam_policy_no_kms_decryption_actions)',
  },
  {
    action: 'acm:ExportCertificate',
    category: 'secrets',
    resourceType: 'certificate',
    why: 'private keys of private certificates',
  },
  { action: 'glue:GetConnection', category: 'secrets', resourceType: 'connection', why: 'connection passwords' },
  { action: 'glue:GetConnections', category: 'secrets', resourceType: 'connection', why: 'connection passwords' },
  { action: 's3:GetObject', category: 'data', resourceType: 'object', why: 'object contents (Cloudsplaining)' },
  { action: 's3:GetObjectVersion', category: 'data', resourceType: 'object', why: 'object contents, old versions too' },
  { action: 'dynamodb:GetItem', category: 'data', resourceType: 'table', why: 'table items' },
  { action: 'dynamodb:BatchGetItem', category: 'data', resourceType: 'table', why: 'table items' },
  { action: 'dynamodb:Query', category: 'data', resourceType: 'table', why: 'table items' },
  { action: 'dynamodb:Scan', category: 'data', resourceType: 'table', why: 'whole tables' },
  { action: 'dynamodb:PartiQLSelect', category: 'data', resourceType: 'table', why: 'table items' },
  { action: 'sqs:ReceiveMessage', category: 'data', resourceType: 'queue', why: 'message bodies' },
  { action: 'kinesis:GetRecords', category: 'data', resourceType: 'stream', why: 'stream records' },
  { action: 'logs:GetLogEvents', category: 'data', resourceType: 'log-stream', why: 'log contents' },
  { action: 'logs:FilterLogEvents', category: 'data', resourceType: 'log-group', why: 'log contents' },
  { action: 'athena:GetQueryResults', category: 'data', resourceType: 'workgroup', why: 'query results' },
  { action: 'ebs:GetSnapshotBlock', category: 'data', resourceType: 'snapshot', why: 'disk snapshot contents' },
  { action: 'codecommit:GitPull', category: 'data', resourceType: 'repository', why: 'source code' },
];

const SEVERITY: Record<DataCategory, Record<Confidence, Severity>> = {
  secrets: { confirmed: 'high', potential: 'medium', conditional: 'medium' },
  data: { confirmed: 'medium', potential: 'low', conditional: 'low' },
};

const WORDS: Record<Confidence, string> = {
  confirmed: 'on every resource, unconditionally',
  potential: 'on specific resources only',
  conditional: 'only under a Condition',
};

/** An ARN of the resource type with every variable filled by a value no real pattern names. */
function arbitraryArn(format: string): string {
  return format.replace(/\$\{([^}]+)\}/g, (_, v: string) => (v === 'Partition' ? 'aws' : `cw-any-${v.toLowerCase()}`));
}

interface Item {
  entry: SensitiveRead;
  ea: EffectiveAction;
  confidence: Confidence;
  /** The type-wide ARN that made a scoped grant unconstrained, when that is what it was. */
  typeWide?: string;
}

function classify(set: AwsPermissionSet, catalog: ActionCatalog, entry: SensitiveRead): Item | undefined {
  const ea = set.get(entry.action);
  if (!ea || ea.boundaryBlocked) return undefined;
  if (ea.confidence !== 'potential') return { entry, ea, confidence: ea.confidence };
  const format = catalog.resourceArnFormat(entry.action, entry.resourceType);
  if (!format) return { entry, ea, confidence: 'potential' };
  const arn = arbitraryArn(format);
  const access = set.allowsOn(entry.action, arn);
  return access?.confidence === 'confirmed'
    ? { entry, ea, confidence: 'confirmed', typeWide: arn }
    : { entry, ea, confidence: 'potential' };
}

/** One result per (category, confidence tier), key `<category>:<tier>`; actions listed with their statements. */
export function detectDataRead(set: AwsPermissionSet, catalog: ActionCatalog): DetectorResult[] {
  return set.memo('data-read', () => {
    const groups = new Map<string, Item[]>();
    for (const entry of SENSITIVE_READS) {
      const item = classify(set, catalog, entry);
      if (!item) continue;
      const k = `${entry.category}:${item.confidence}`;
      groups.set(k, [...(groups.get(k) ?? []), item]);
    }
    const out: DetectorResult[] = [];
    for (const category of DATA_CATEGORIES)
      for (const confidence of ['confirmed', 'potential', 'conditional'] as const) {
        const items = groups.get(`${category}:${confidence}`);
        if (!items) continue;
        const actions = items.map((i) => i.entry.action).sort();
        const { shown, more } = capList(actions, 12);
        out.push({
          detector: 'data-read',
          severity: SEVERITY[category][confidence],
          confidence,
          key: `${category}:${confidence}`,
          message: `can read ${category === 'secrets' ? 'secrets' : 'data'} ${WORDS[confidence]}: ${shown.join(', ')}${more ? ` (+${more} more)` : ''}`,
          actions,
          evidence: items.flatMap((i) =>
            i.ea.sources.map((ref) =>
              statementEvidence(
                ref,
                `grants ${i.entry.action}: ${i.entry.why}${i.typeWide ? ` (a resource pattern here matches every ${i.entry.resourceType}, e.g. ${i.typeWide})` : ''}`,
              ),
            ),
          ),
        });
      }
    return out;
  });
}
