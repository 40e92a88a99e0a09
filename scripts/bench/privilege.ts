/**
 * Privilege-analysis throughput: 100,000 AWS credentials sharing ~200 distinct grant sets (1–6
 * statements each, some with service or action wildcards, conditions, denies and boundaries),
 * each credential with its own copy of its grants as the inventory would load them. Times
 * permissionSet + every AWS detector per credential, cold (catalog load and set builds included)
 * and warm. A measurement; asserts nothing. Run: npx tsx scripts/bench/privilege.ts [credentials]
 */
import type { AwsStatementGrant, Credential, Grant } from '../../src/model/credential.js';
import { createPrivilegeServices } from '../../src/privilege/index.js';

const N = Number(process.argv[2] ?? 100_000);
const SETS = 200;
const ACCOUNT = '123456789012';

let seed = 42;
const rand = (): number => {
  seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
  return seed / 2 ** 31;
};
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;

const ACTIONS = [
  's3:GetObject',
  's3:PutObject',
  's3:Get*',
  's3:*Object',
  's3:*',
  'dynamodb:Query',
  'dynamodb:PutItem',
  'dynamodb:*',
  'sqs:SendMessage',
  'sqs:ReceiveMessage',
  'lambda:InvokeFunction',
  'lambda:UpdateFunctionCode',
  'lambda:CreateFunction',
  'iam:PassRole',
  'iam:Get*',
  'iam:List*',
  'iam:PutUserPolicy',
  'iam:CreateAccessKey',
  'sts:AssumeRole',
  'ec2:Describe*',
  'ec2:RunInstances',
  'logs:*',
  'cloudwatch:PutMetricData',
  'kms:Decrypt',
  'secretsmanager:GetSecretValue',
  'ssm:GetParameter*',
  'bedrock:InvokeModel',
  'bedrock:*',
  'lamda:Invoke',
];
const RESOURCES = [
  '*',
  `arn:aws:s3:::agent-bucket-*/*`,
  `arn:aws:iam::${ACCOUNT}:user/\${aws:username}`,
  'arn:aws:lambda:*:*:function:agent-*',
];
const POLICIES = ['agent-base', 'agent-data', 'ReadOnlyHelpers', 'team-shared', 'legacy-admin'];

function statement(i: number): AwsStatementGrant {
  const r = rand();
  const policy = pick(POLICIES);
  const attachment = pick(['inline', 'managed', 'group-inline', 'group-managed'] as const);
  const g: AwsStatementGrant = {
    type: 'aws-statement',
    effect: r < 0.08 ? 'Deny' : 'Allow',
    provenance: {
      policy,
      attachment,
      ...(attachment.endsWith('managed') ? { policyArn: `arn:aws:iam::${ACCOUNT}:policy/${policy}` } : {}),
      ...(attachment.startsWith('group') ? { via: 'agents' } : {}),
    },
    sid: `S${i}`,
  };
  if (r > 0.97) g.notActions = ['iam:*', 'organizations:*'];
  else if (r > 0.96) g.actions = ['*'];
  else g.actions = Array.from({ length: 1 + Math.floor(rand() * 5) }, () => pick(ACTIONS));
  g.resources = [pick(RESOURCES)];
  if (rand() < 0.15) g.condition = { StringEquals: { 'aws:RequestedRegion': 'eu-west-1' } };
  return g;
}

function grantSet(): AwsStatementGrant[] {
  const out = Array.from({ length: 1 + Math.floor(rand() * 6) }, (_, i) => statement(i));
  if (rand() < 0.1)
    out.push({
      type: 'aws-statement',
      effect: 'Allow',
      actions: ['s3:*', 'dynamodb:*', 'sqs:*', 'logs:*'],
      resources: ['*'],
      provenance: {
        policy: 'agent-boundary',
        policyArn: `arn:aws:iam::${ACCOUNT}:policy/agent-boundary`,
        attachment: 'boundary',
      },
    });
  return out;
}

const sets = Array.from({ length: SETS }, grantSet);
const trust = {
  Statement: [{ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::999999999999:root' }, Action: 'sts:AssumeRole' }],
};

function credential(i: number): Credential {
  const role = i % 5 === 0;
  const name = `agent-${i % 20_000}`;
  return {
    id: `aws/${ACCOUNT}/${role ? 'role' : 'key'}/${i}`,
    kind: role ? 'aws-role' : 'aws-access-key',
    sourceType: 'aws',
    source: ACCOUNT,
    principal: `arn:aws:iam::${ACCOUNT}:${role ? 'role' : 'user'}/${name}`,
    agentId: null,
    owner: null,
    unregisteredAgent: false,
    createdAt: null,
    lastUsed: null,
    expiresAt: null,
    status: 'active',
    // A fresh copy per credential, as records deserialised from the inventory would be.
    grants: JSON.parse(JSON.stringify(sets[i % SETS])) as Grant[],
    tags: {},
    attributes: role ? { roleName: name, trustPolicy: trust } : { userName: name, groups: ['agents'] },
    observedAt: '2026-01-01T00:00:00Z',
  };
}

function run(label: string, creds: readonly Credential[], svc: ReturnType<typeof createPrivilegeServices>): void {
  let results = 0;
  const t0 = performance.now();
  for (const c of creds) results += svc.aws.all(c).length;
  const ms = performance.now() - t0;
  console.log(
    `${label.padEnd(34)} ${(ms / 1000).toFixed(2)} s  ${Math.round(creds.length / (ms / 1000)).toLocaleString('en')} credentials/s  (${results.toLocaleString('en')} detector results)`,
  );
}

const creds = Array.from({ length: N }, (_, i) => credential(i));
const svc = createPrivilegeServices();
console.log(`credentials: ${N.toLocaleString('en')}, distinct grant sets: ${SETS}`);
run('cold (catalog load + set builds)', creds, svc);
console.log(`  permission sets built: ${svc.aws.stats.builds}, cache hits: ${svc.aws.stats.hits.toLocaleString('en')}`);
// Fresh records with the same content: the identity cache misses, the grant-hash cache must hit.
const again = Array.from({ length: N }, (_, i) => credential(i));
run('warm (new records, same grants)', again, svc);
run('warm (same records)', again, svc);
