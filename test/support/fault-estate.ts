/**
 * The estate the fault harness scans (test/support/fault-harness.ts): agent users with two keys
 * each in moto, spread over accounts reached through AssumeRole, most of them over-privileged, so
 * one evaluation with the default policy packs opens thousands of findings (and the finalize step
 * audits hundreds of credential.added): long enough writes for a kill to land in the middle.
 *
 * Per account, user i (`agent-fault-<i>`) gets one managed policy in turn: admin (`*`), service
 * wildcards (iam:*, s3:*, ec2:*) or an escalation set (iam:PassRole + ec2:RunInstances, …); every
 * fifth also an inline NotAction allow, every seventh an unknown action; even users two active
 * keys, odd users one active and one inactive; every fourth a console password; every third is
 * registered (tag agent-id → a registry agent with a narrow declared scope, so scope excess fires),
 * the rest are unregistered agent-looking users. One role per five users, assumable from
 * 123456789012 with no condition. No vitest here: the script uses it too.
 */
import { createPolicy, createRole, createUser, doc, seederFor } from './aws-seed.js';

export interface FaultEstateOptions {
  /** Account ids (each reached by AssumeRole, as credwarden does); default two. */
  accounts?: string[];
  /** Agent users per account; default 60. */
  usersPerAccount?: number;
}

export interface FaultEstate {
  accounts: string[];
  usersPerAccount: number;
  /** Credentials a complete scan finds (keys, console passwords, roles). */
  credentials: number;
  /** The agents.yaml content the harness writes for every trial. */
  registry: Record<string, unknown>;
  seedMs: number;
}

export const FAULT_ACCOUNTS = ['111111111111', '222222222222'];
const AGENTS = 4;

export function faultRegistry(): Record<string, unknown> {
  return {
    agents: Array.from({ length: AGENTS }, (_, k) => ({
      id: `fault-bot-${k}`,
      name: `Fault bot ${k}`,
      owner: { team: `team-${k}`, contact: `team-${k}@example.com` },
      version: '1.0.0',
      environment: 'prod',
      scopes: { aws: ['s3:GetObject'] },
      selectors: { aws: { tags: { 'agent-id': `fault-bot-${k}` } } },
    })),
    unregistered: { aws: { tags: { agent: 'true' }, namePatterns: ['agent-*'] } },
  };
}

async function pool<T>(items: readonly T[], limit: number, fn: (x: T) => Promise<void>): Promise<void> {
  let next = 0;
  const run = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, run));
}

/** Seeds the estate into a fresh moto (call once per moto server). */
export async function seedFaultEstate(endpoint: string, opts: FaultEstateOptions = {}): Promise<FaultEstate> {
  const accounts = opts.accounts ?? FAULT_ACCOUNTS;
  const n = opts.usersPerAccount ?? 60;
  const t0 = Date.now();
  let credentials = 0;
  for (const account of accounts) {
    const s = await seederFor(endpoint, account);
    const managed = [
      await createPolicy(s, 'fault-admin', doc(['*'])),
      await createPolicy(s, 'fault-wildcards', doc(['iam:*', 's3:*', 'ec2:*'])),
      await createPolicy(
        s,
        'fault-escalation',
        doc(['iam:PassRole', 'ec2:RunInstances', 'iam:CreateAccessKey', 'iam:PutUserPolicy', 's3:GetObject']),
      ),
    ];
    const notAction = JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', NotAction: ['iam:*'], Resource: '*' }],
    });
    const users = Array.from({ length: n }, (_, i) => i);
    await pool(users, 6, async (i) => {
      const registered = i % 3 === 0;
      await createUser(
        s,
        {
          name: `agent-fault-${String(i).padStart(3, '0')}`,
          tags: registered ? { 'agent-id': `fault-bot-${i % AGENTS}` } : { agent: 'true' },
          managed: [managed[i % managed.length]!],
          inline: {
            ...(i % 5 === 0 ? { 'not-action': notAction } : {}),
            ...(i % 7 === 0 ? { unknown: doc(['faultsvc:DoThing', 's3:GetObject']) } : {}),
          },
          keys: i % 2 === 0 ? ['active', 'active'] : ['active', 'inactive'],
          password: i % 4 === 0,
        },
        endpoint,
      );
    });
    credentials += n * 2 + users.filter((i) => i % 4 === 0).length;
    const roles = Array.from({ length: Math.ceil(n / 5) }, (_, j) => j);
    await pool(roles, 6, (j) =>
      createRole(s, { name: `agent-fault-role-${j}`, managed: [managed[j % managed.length]!] }, endpoint),
    );
    credentials += roles.length;
    s.iam.destroy();
  }
  return { accounts, usersPerAccount: n, credentials, registry: faultRegistry(), seedMs: Date.now() - t0 };
}
