/**
 * The credwarden.yaml of one bench:e2e pipeline run: a fresh Redis prefix (hash-tagged in a
 * cluster), every moto account reached through its reader role, IAM through the counting proxy,
 * the default packs plus the bench's remediation policies, remediation in dry-run with the
 * minimum age at 0 (every seeded key is minutes old; its deny would hide the dry-run decisions) and
 * a remediation role per account (without one every plan is denied `no-credentials`).
 */
import { join } from 'node:path';

export interface ConfigInput {
  root: string;
  dir: string;
  prefix: string;
  redisUrl: string;
  cluster: boolean;
  awsEndpoint: string;
  accounts: string[];
  awsConcurrency: number | undefined;
  timeoutS: number;
  registryFile: string;
  policiesFile: string;
}

export function configYaml(c: ConfigInput): string {
  return [
    `redis: { url: "${c.redisUrl}", prefix: ${c.prefix}${c.cluster ? ', cluster: true' : ''} }`,
    'aws:',
    `  endpoint: ${c.awsEndpoint}`,
    '  region: us-east-1',
    '  accounts:',
    ...c.accounts.map(
      (id, k) =>
        `    - { id: "${id}", name: bench-${k}, roleArn: "arn:aws:iam::${id}:role/credwarden-reader", remediationRoleArn: "arn:aws:iam::${id}:role/credwarden-remediator" }`,
    ),
    // moto cannot paginate GetAccountAuthorizationDetails: one response holds every user of an account.
    '  requestTimeoutMs: 300000',
    ...(c.awsConcurrency ? [`  maxConcurrency: ${c.awsConcurrency}`] : []),
    `registry: ${JSON.stringify(c.registryFile)}`,
    `policies: [${JSON.stringify(join(c.root, 'policies'))}, ${JSON.stringify(c.policiesFile)}]`,
    `audit: { file: ${JSON.stringify(join(c.dir, `${c.prefix}.audit.jsonl`))} }`,
    `scan: { timeoutSeconds: ${c.timeoutS} }`,
    'remediation: { mode: dry-run, minAgeHours: 0 }',
    '',
  ].join('\n');
}
