/**
 * bench:e2e's estate in moto: N agent IAM users spread evenly over A accounts (agent i lives in
 * account i mod A; moto keeps a separate IAM per account, reached by sts:AssumeRole into
 * `arn:aws:iam::<account>:role/...`, as test/support/aws-seed.ts does), each with 2 access keys
 * (moto's per-user limit). Half are tagged agent=true; 10% carry an inline `*`, 10% `s3:*`, 5% IAM
 * self-escalation rights, 25% a narrow policy, the rest none. Three humans (one key each) in the
 * first account must stay out of the inventory. Also the registry (the first 10 agents are
 * registered) and the bench's remediation policies, which ask for actions on the risky agents so
 * the dry-run plans have work.
 */
import { CreateAccessKeyCommand, CreateUserCommand, IAMClient, PutUserPolicyCommand } from '@aws-sdk/client-iam';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { log } from './e2e-procs.js';
import { perSecond, seconds } from './support.js';

export const REGISTERED = 10;
export const HUMANS = ['alice', 'bob', 'carol'];
export const KEYS_PER_AGENT = 2;

/** The A account ids: 12 digits, none of them moto's default account. */
export const accountIds = (a: number): string[] => Array.from({ length: a }, (_, k) => String(210_000_000_001 + k));

export const userName = (i: number): string => `agent-e2e-${String(i).padStart(5, '0')}`;

const doc = (actions: string[]): string =>
  JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: actions, Resource: '*' }] });

/** By i mod 100: the first kind whose `upTo` is above it. */
const POLICY_KINDS: { upTo: number; name: string; document: string | null }[] = [
  { upTo: 10, name: 'admin', document: doc(['*']) },
  { upTo: 20, name: 's3-everything', document: doc(['s3:*']) },
  { upTo: 25, name: 'self-service', document: doc(['iam:CreateAccessKey', 'iam:PutUserPolicy']) },
  { upTo: 50, name: 'read-objects', document: doc(['s3:GetObject', 'dynamodb:Query']) },
  { upTo: 100, name: '', document: null },
];

export interface SeedStats {
  agents: number;
  accounts: number;
  humans: number;
  agentKeys: number;
  humanKeys: number;
  policies: Record<string, number>;
  requests: number;
  concurrency: number;
  ms: number;
}

const base = (endpoint: string) => ({ region: 'us-east-1', endpoint, maxAttempts: 8 });

/** An IAM client acting in `account`, by assuming a role there (moto: any role ARN works). */
async function iamIn(endpoint: string, account: string): Promise<IAMClient> {
  const sts = new STSClient({ ...base(endpoint), credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
  try {
    const out = await sts.send(
      new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${account}:role/seeder`, RoleSessionName: 'bench-e2e-seed' }),
    );
    const c = out.Credentials!;
    return new IAMClient({
      ...base(endpoint),
      credentials: { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken! },
    });
  } finally {
    sts.destroy();
  }
}

async function pool(n: number, limit: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, n) }, async () => {
      while (next < n) await fn(next++);
    }),
  );
}

export async function seedEstate(
  endpoint: string,
  o: { agents: number; accounts: string[]; concurrency: number },
): Promise<SeedStats> {
  const stats: SeedStats = {
    agents: o.agents,
    accounts: o.accounts.length,
    humans: HUMANS.length,
    agentKeys: 0,
    humanKeys: 0,
    policies: {},
    requests: 0,
    concurrency: o.concurrency,
    ms: 0,
  };
  const t0 = performance.now();
  const clients = await Promise.all(o.accounts.map((a) => iamIn(endpoint, a)));
  stats.requests += clients.length;
  const counted = async (request: Promise<unknown>): Promise<void> => {
    await request;
    stats.requests++;
  };
  let done = 0;
  const ticker = setInterval(() => {
    const ms = performance.now() - t0;
    log(
      `seeding: ${done}/${o.agents} agents, ${stats.requests} requests in ${seconds(ms)} s (${perSecond(stats.requests, ms)} req/s)`,
    );
  }, 15_000);
  try {
    await pool(o.agents, o.concurrency, async (i) => {
      const iam = clients[i % clients.length]!;
      const name = userName(i);
      const tags = i % 2 === 0 ? [{ Key: 'agent', Value: 'true' }] : [];
      await counted(iam.send(new CreateUserCommand({ UserName: name, Tags: tags })));
      const kind = POLICY_KINDS.find((k) => i % 100 < k.upTo)!;
      if (kind.document) {
        await counted(
          iam.send(new PutUserPolicyCommand({ UserName: name, PolicyName: kind.name, PolicyDocument: kind.document })),
        );
        stats.policies[kind.name] = (stats.policies[kind.name] ?? 0) + 1;
      }
      for (let k = 0; k < KEYS_PER_AGENT; k++) await counted(iam.send(new CreateAccessKeyCommand({ UserName: name })));
      stats.agentKeys += KEYS_PER_AGENT;
      done++;
    });
    for (const human of HUMANS) {
      await counted(clients[0]!.send(new CreateUserCommand({ UserName: human })));
      await counted(clients[0]!.send(new CreateAccessKeyCommand({ UserName: human })));
      stats.humanKeys++;
    }
  } finally {
    clearInterval(ticker);
    for (const c of clients) c.destroy();
  }
  stats.ms = performance.now() - t0;
  return stats;
}

export function registryYaml(agents: number): string {
  const registered = Array.from({ length: Math.min(REGISTERED, agents) }, (_, i) =>
    [
      `  - id: bench-agent-${i}`,
      `    name: Bench agent ${i}`,
      ...(i % 5 === 4 ? [] : [`    owner: { team: team-${i % 3}, contact: team-${i % 3}@example.com }`]),
      `    version: "1.${i}.0"`,
      `    environment: ${i % 2 === 0 ? 'prod' : 'staging'}`,
      `    scopes: { aws: ["s3:GetObject", "dynamodb:Query"] }`,
      `    selectors: { aws: { users: ["${userName(i)}"] } }`,
    ].join('\n'),
  );
  return [
    '# bench:e2e registry: the first agents are registered; every other agent-* user is unregistered.',
    'agents:',
    ...registered,
    'unregistered:',
    '  aws: { tags: { agent: "true" }, namePatterns: ["agent-*"] }',
    '',
  ].join('\n');
}

/**
 * Loaded beside the default packs: remediation for the risky agents, so planning has work (the
 * default packs ask for actions only on stale keys, and every seeded key is minutes old). In
 * dry-run each plan is recorded and audited as "would do"; nothing acts.
 */
export const REMEDIATION_POLICIES = `# bench:e2e: remediation asked for the seeded risks (dry-run: planned and audited, never run)
policies:
  - name: bench-admin-quarantine
    description: An agent key that can do anything is quarantined
    resource: { kinds: [aws-access-key], agents: ["*", unregistered] }
    rules:
      - type: aws-admin
    severity: critical
    remediation: [quarantine, notify-owner]

  - name: bench-service-wildcard-deactivate
    description: An agent key granted every action of a service is deactivated
    resource: { kinds: [aws-access-key], agents: ["*", unregistered] }
    rules:
      - type: aws-service-wildcard
    severity: medium
    remediation: [deactivate-key]

  - name: bench-escalation-deactivate
    description: An agent key that can escalate its own privileges is deactivated
    resource: { kinds: [aws-access-key], agents: ["*", unregistered] }
    rules:
      - type: aws-privilege-escalation
    severity: high
    remediation: [deactivate-key, notify-owner]
`;
