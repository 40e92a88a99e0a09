/**
 * Scoring benchmark: `npm run bench:score -- --credentials N` builds N credentials (access keys,
 * roles, Vault tokens and secret IDs; a few hundred distinct grant sets shared across them, as
 * real estates share policies), evaluates the default packs over them on one core, scores every
 * credential, and prints credentials/second and the peak RSS. A measurement; asserts nothing.
 */
import { resourceUsage } from 'node:process';
import type { Registry } from '../../src/model/agent.js';
import type { Credential, Grant } from '../../src/model/credential.js';
import { PolicyEvaluator } from '../../src/policy/evaluate.js';
import { loadPolicies } from '../../src/policy/load.js';
import type { Finding } from '../../src/policy/model.js';
import { defaultPacksDir } from '../../src/policy/packs.js';
import { scoreCredential } from '../../src/policy/score.js';

const i = process.argv.indexOf('--credentials');
const n = i === -1 ? 100_000 : Number(process.argv[i + 1]);
if (!Number.isInteger(n) || n < 1) {
  console.error('bench: --credentials needs a positive integer');
  process.exit(2);
}

const SERVICES = [
  's3',
  'dynamodb',
  'sqs',
  'sns',
  'lambda',
  'ec2',
  'ecs',
  'glue',
  'kms',
  'logs',
  'iam',
  'sts',
  'secretsmanager',
  'ssm',
];
const VERBS = [
  'Get*',
  'Put*',
  'List*',
  'Describe*',
  '*',
  'CreateFunction',
  'PassRole',
  'RunInstances',
  'GetObject',
  'PutObject',
  'CreateAccessKey',
  'AttachUserPolicy',
];
let seed = 42;
const rand = () => {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return seed / 0x7fffffff;
};
const pick = <T>(a: readonly T[]) => a[Math.floor(rand() * a.length)] as T;

function awsGrantSet(k: number): Grant[] {
  const n = 1 + (k % 6);
  return Array.from({ length: n }, (_, j) => ({
    type: 'aws-statement' as const,
    effect: 'Allow' as const,
    actions: [`${pick(SERVICES)}:${pick(VERBS)}`, `${pick(SERVICES)}:${pick(VERBS)}`],
    resources: [rand() < 0.5 ? '*' : `arn:aws:s3:::bucket-${k}/*`],
    ...(rand() < 0.1 ? { condition: { Bool: { 'aws:SecureTransport': 'true' } } } : {}),
    provenance: { policy: `policy-${k}-${j}`, attachment: j % 3 === 0 ? ('managed' as const) : ('inline' as const) },
  }));
}
function vaultGrantSet(k: number): Grant[] {
  const paths = [
    'secret/data/app/*',
    'sys/policies/acl/*',
    'auth/approle/role/+/secret-id',
    'kv/*',
    '*',
    'sys/audit/*',
    'auth/token/create',
  ];
  return Array.from({ length: 1 + (k % 4) }, (_, j) => ({
    type: 'vault-path' as const,
    path: pick(paths),
    capabilities: rand() < 0.2 ? ['read', 'update', 'sudo'] : ['read', 'list'],
    provenance: { policy: `vp-${k}-${j}`, attachment: 'vault-policy' as const },
  }));
}

const AWS_SETS = Array.from({ length: 200 }, (_, k) => awsGrantSet(k));
const VAULT_SETS = Array.from({ length: 100 }, (_, k) => vaultGrantSet(k));
const now = new Date('2026-11-27T00:00:00Z');
const agents = Array.from({ length: 500 }, (_, k) => ({
  id: `agent-${k}`,
  name: `Agent ${k}`,
  ...(k % 50 === 0 ? {} : { owner: { team: `team-${k % 20}`, contact: `team-${k % 20}@example.com` } }),
  version: '1.0.0',
  environment: k % 3 === 0 ? 'prod' : 'dev',
  scopes: { aws: ['s3:GetObject', 's3:PutObject'], vault: [{ path: 'secret/data/app/*', capabilities: ['read'] }] },
  selectors: { aws: { users: [`svc-${k}`] } },
}));
const registry: Registry = {
  agents,
  unregistered: {
    aws: { tags: { agent: 'true' }, namePatterns: [] },
    vault: { meta: [], displayNamePatterns: [], policyPatterns: [] },
  },
};

const day = 86_400_000;
const creds: Credential[] = Array.from({ length: n }, (_, k) => {
  const kind =
    k % 10 < 5 ? 'aws-access-key' : k % 10 < 7 ? 'aws-role' : k % 10 < 9 ? 'vault-token' : 'vault-approle-secret-id';
  const aws = kind.startsWith('aws');
  const agentId = k % 7 === 0 ? null : `agent-${k % 500}`;
  const created = new Date(now.getTime() - (k % 400) * day).toISOString();
  const used = k % 5 === 0 ? null : new Date(now.getTime() - (k % 120) * day).toISOString();
  return {
    id: aws
      ? `aws/1111111111${String(k % 100).padStart(2, '0')}/${kind === 'aws-role' ? 'role' : 'access-key'}/ID${k}`
      : `vault/main/root/${kind === 'vault-token' ? 'token' : 'approle/approle/r/secret-id'}/acc${k}`,
    kind,
    sourceType: aws ? 'aws' : 'vault',
    source: aws ? `1111111111${String(k % 100).padStart(2, '0')}` : 'main/root',
    principal: aws ? `arn:aws:iam::111111111111:user/svc-${Math.floor(k / 2)}` : `token-${k}`,
    agentId,
    owner: agentId ? { team: 't', contact: 'c' } : null,
    unregisteredAgent: agentId === null && k % 2 === 0,
    createdAt: created,
    lastUsed: aws ? { at: used, source: 'credential-report', asOf: now.toISOString() } : null,
    expiresAt: aws ? null : k % 3 === 0 ? null : new Date(now.getTime() + (k % 30) * day).toISOString(),
    status: k % 11 === 0 ? 'inactive' : 'active',
    grants: aws ? (AWS_SETS[k % 200] as Grant[]) : (VAULT_SETS[k % 100] as Grant[]),
    tags: {},
    attributes: kind === 'vault-token' ? { periodSeconds: k % 4 === 0 ? 86_400 : 0 } : {},
    observedAt: now.toISOString(),
  } as Credential;
});

const set = await loadPolicies([defaultPacksDir()]);
const services = {};
const rssBefore = process.memoryUsage().rss;
const t0 = performance.now();
// Streaming, as a worker would: evaluate one credential, score it, keep only the score.
const evaluator = new PolicyEvaluator({ inventory: creds, policies: set.policies, registry, now, services });
let findings = 0;
let scored = 0;
let riskSum = 0;
for (const c of creds) {
  const hits = evaluator.evaluate(c);
  if (hits.length === 0) continue;
  findings += hits.length;
  const fs = hits.map(
    (h) =>
      ({
        fingerprint: h.fingerprint,
        policy: h.policy.name,
        severity: h.severity,
        state: 'open',
        hits: h.hits,
        agentId: c.agentId,
      }) as unknown as Finding,
  );
  riskSum += scoreCredential(c.id, fs, c).score;
  scored++;
}
const ms = performance.now() - t0;
console.log(
  `credentials:           ${n} (${AWS_SETS.length} AWS and ${VAULT_SETS.length} Vault distinct grant sets; ${agents.length} agents)`,
);
console.log(
  `policies:              ${set.policies.length} (default packs: ${[...new Set(set.policies.map((p) => p.pack))].join(', ')})`,
);
console.log(
  `findings:              ${findings} on ${scored} credentials (mean risk ${(riskSum / Math.max(1, scored)).toFixed(1)})`,
);
console.log(`evaluate + score:      ${(ms / 1000).toFixed(2)} s on one core`);
console.log(`credentials/second:    ${Math.round(n / (ms / 1000))}`);
console.log(
  `peak RSS:              ${Math.round(resourceUsage().maxRSS / 1024)} MB (RSS before evaluation ${Math.round(rssBefore / 1048576)} MB)`,
);
