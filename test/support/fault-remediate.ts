/**
 * The fault harness, pointed at remediation (issue 10 "Crash safety"): a batch of deactivate-key
 * actions runs in real worker processes, one of them is SIGKILLed at a random point of the batch
 * (fault-remediate-phase.ts) and restarted, and afterwards fault-remediate-checks.ts checks every
 * plan's end state, the calls moto received, the audit order and `audit verify`.
 *
 * Per trial (beforeTrial): moto is reset and re-seeded, so every trial starts from fresh, Active
 * keys. User i (`agent-rem-<i>`, all claimed by the registry agent `rem-bot`) gets, by i mod 5:
 *   0 one never-used key                      → 1 plan
 *   1 a never-used key, then a used one       → 1 plan; the used key must stay Active
 *   2 a used key, then a never-used one       → 1 plan; the used key must stay Active
 *   3 two never-used keys                     → 2 plans
 *   4 one used key                            → no plan
 * The policy: `never-used` with graceDays 0 on agent access keys, mode enforce, deactivate-key.
 * never-used counts whole days (a 0-day key does not hit) and moto stamps keys with the real time,
 * so every credwarden process runs with its clock CW_FAULT_CLOCK_OFFSET_MS (2 days) ahead
 * (fault-clock.mjs, the same idea as remediation-env.ts's ManualClock). `scan --as-of` would not
 * do: the scan would plan, but the live re-check before acting evaluates at the real time and
 * cancels every action (facts-changed).
 *
 * The workers reach AWS through a recording proxy (aws-recording-proxy.ts) in front of moto: it
 * counts UpdateAccessKey per key, and at each one it reads the audit log (Redis and the file), so
 * the checks can tell the action's intent and re-check were durable before the backend call.
 * One worker by default (A, then A2 after the kill): every action in flight at the kill is A's.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { RedisClient } from '../../src/queue/connection.js';
import type { AwsRecordingProxy } from './aws-recording-proxy.js';
import { createUser, seederFor } from './aws-seed.js';
import {
  auditVerifyCheck,
  readAuditEvents,
  readAuditFile,
  replayCheck,
  scanOutcomeCheck,
  stateCheck,
} from './fault-checks.js';
import type { FaultEstate } from './fault-estate.js';
import type { HarnessOptions, SettleCondition } from './fault-harness.js';
import { ROOT } from './fault-procs.js';
import { remediationChecks, remediationReplayRule } from './fault-remediate-checks.js';
import { remediatePhase } from './fault-remediate-phase.js';
import { testKeyPrefix, testQueueKey } from './redis.js';

export const REM_ACCOUNTS = ['111111111111'];
export const POLICY_NAME = 'fault-agent-key-never-used';
export const CLOCK_OFFSET_MS = 2 * 86_400_000;

export type KeyMode = 'never-used' | 'used';
export interface RemKey {
  account: string;
  user: string;
  accessKeyId: string;
  mode: KeyMode;
  /** The policy hits it: exactly these keys get a plan. */
  matches: boolean;
}

/** The current trial: its estate, its Redis prefix and audit file, and the proxy the workers use. */
export interface RemediateTrial {
  proxy: AwsRecordingProxy;
  motoEndpoint: string;
  keys: RemKey[];
  prefix: string;
  auditFile: string;
  seedMs: number;
}

const LAYOUT: KeyMode[][] = [
  ['never-used'],
  ['never-used', 'used'],
  ['used', 'never-used'],
  ['never-used', 'never-used'],
  ['used'],
];

export const userName = (i: number) => `agent-rem-${String(i).padStart(3, '0')}`;

/** Seeds `users` agent users per account (the layout above) into a moto that was just reset. */
export async function seedRemediationEstate(
  endpoint: string,
  users: number,
  accounts = REM_ACCOUNTS,
): Promise<RemKey[]> {
  const keys: RemKey[] = [];
  for (const account of accounts) {
    const s = await seederFor(endpoint, account);
    const ids = Array.from({ length: users }, (_, i) => i);
    let next = 0;
    const work = async () => {
      while (next < ids.length) {
        const i = ids[next++]!;
        const modes = LAYOUT[i % LAYOUT.length]!;
        const made = await createUser(
          s,
          { name: userName(i), keys: modes.map((m) => (m === 'used' ? 'used' : 'active')) },
          endpoint,
        );
        for (const [j, k] of made.entries()) {
          const mode = modes[j]!;
          keys.push({ account, user: userName(i), accessKeyId: k.accessKeyId, mode, matches: mode === 'never-used' });
        }
      }
    };
    await Promise.all(Array.from({ length: 6 }, work));
    s.iam.destroy();
  }
  return keys;
}

export function remediationRegistry(): Record<string, unknown> {
  return {
    agents: [
      {
        id: 'rem-bot',
        name: 'Remediation fault bot',
        owner: { team: 'platform', contact: 'platform@example.com' },
        version: '1.0.0',
        environment: 'prod',
        selectors: { aws: { users: ['agent-rem-*'] } },
      },
    ],
  };
}

export const POLICY_YAML = `policies:
  - name: ${POLICY_NAME}
    description: Agent access keys never used (fault trials; the workers' clock is two days ahead)
    resource: { kinds: [aws-access-key], agents: ["*"] }
    rules:
      - type: never-used
        graceDays: 0
    severity: medium
    mode: enforce
    remediation: [deactivate-key]
`;

/** Every guardrail open wide: nothing holds or trips, so every plan of this estate must end done. */
export const REMEDIATION_CONFIG = {
  mode: 'enforce',
  minAgeHours: 0,
  approvals: { required: [] },
  caps: { perPolicyPerRun: 1000, percentPerRun: 100 },
  rate: { max: 10_000 },
  cooldownHours: 0,
  breaker: { errorRate: 1, minActions: 100_000 },
};

const FINAL = new Set(['done', 'failed', 'cancelled', 'held', 'denied', 'dry-run', 'awaiting-approval', 'rolled-back']);

/** Settled: the run was planned, every plan of it has a record in a final state, the remediate queue is idle. */
export const remediationSettled: SettleCondition = {
  name: 'remediation-settled',
  async pending(redis: RedisClient, prefix: string, scanId: string) {
    const raw = await redis.get(`${testKeyPrefix(prefix)}:rem:run:${scanId}`);
    if (!raw) return { pending: `no remediation run stored for scan ${scanId} yet` };
    const run = JSON.parse(raw) as { plans: { id: string }[] };
    const states = await Promise.all(run.plans.map((p) => redis.hget(`${testKeyPrefix(prefix)}:act:${p.id}`, 'state')));
    const open = run.plans.filter((_, i) => !FINAL.has(states[i] ?? 'missing'));
    const q = testQueueKey(prefix, 'remediate');
    const [wait, active, delayed] = await Promise.all([
      redis.llen(`${q}:wait`),
      redis.llen(`${q}:active`),
      redis.zcard(`${q}:delayed`),
    ]);
    if (open.length === 0 && wait + active + delayed === 0) return { pending: null };
    const failed = await redis.zrange(`${q}:failed`, 0, -1);
    const pending = `${open.length}/${run.plans.length} plans not final (${[...new Set(open.map((_, i) => states[i]))].join(', ')}); remediate queue: ${wait} waiting, ${active} active, ${delayed} delayed`;
    if (failed.length && open.length) return { pending, stuck: `remediate jobs failed for good: ${failed.join(', ')}` };
    return { pending };
  },
};

/**
 * At every UpdateAccessKey, before it reaches moto: what the audit log holds for that key then
 * (Redis stream and file), noted on the call for the emulator check.
 */
function durabilityHook(t: RemediateTrial, redis: RedisClient) {
  return async (c: { action: string; params: Record<string, string>; notes: Record<string, unknown> }) => {
    if (c.action !== 'UpdateAccessKey') return;
    const key = t.keys.find((k) => k.accessKeyId === c.params.AccessKeyId);
    const subject = key ? `aws/${key.account}/access-key/${key.accessKeyId}` : `?/${c.params.AccessKeyId}`;
    const mine = (e: { type: string; subject: string }) => e.subject === subject;
    const inRedis = (await readAuditEvents(redis, t.prefix)).filter(mine).map((e) => e.type);
    const inFile = readAuditFile(t.auditFile, { live: true })
      .filter(mine)
      .map((e) => e.type);
    c.notes.auditInRedis = inRedis;
    c.notes.auditInFile = inFile;
  };
}

export interface RemediationSetup {
  trial: RemediateTrial;
  options: Pick<
    HarnessOptions,
    | 'endpoint'
    | 'estate'
    | 'config'
    | 'child'
    | 'phases'
    | 'checks'
    | 'replayRules'
    | 'beforeTrial'
    | 'settle'
    | 'workers'
  >;
  close(): void;
}

/**
 * Harness options for remediation trials. `resetMoto` empties moto before each trial's seeding;
 * `redis` is the connection the durability hook reads the audit stream with.
 */
export function remediationSetup(o: {
  proxy: AwsRecordingProxy;
  motoEndpoint: string;
  resetMoto: () => Promise<void>;
  redis: RedisClient;
  users: number;
  accounts?: string[];
  workers?: number;
}): RemediationSetup {
  const accounts = o.accounts ?? REM_ACCOUNTS;
  const dir = join(ROOT, '.cw', 'fault');
  mkdirSync(dir, { recursive: true });
  const policyDir = mkdtempSync(join(dir, 'remediate-policy-'));
  const policyFile = join(policyDir, 'policy.yaml');
  writeFileSync(policyFile, POLICY_YAML);
  const trial: RemediateTrial = {
    proxy: o.proxy,
    motoEndpoint: o.motoEndpoint,
    keys: [],
    prefix: '',
    auditFile: '',
    seedMs: 0,
  };
  const estate: FaultEstate = {
    accounts,
    usersPerAccount: o.users,
    credentials: 0,
    registry: remediationRegistry(),
    seedMs: 0,
  };
  return {
    trial,
    options: {
      endpoint: o.proxy.address,
      estate,
      workers: o.workers ?? 1,
      config: {
        aws: {
          endpoint: o.proxy.address,
          accounts: accounts.map((id) => ({
            id,
            roleArn: `arn:aws:iam::${id}:role/credwarden-reader`,
            remediationRoleArn: `arn:aws:iam::${id}:role/credwarden-remediator`,
          })),
        },
        policies: [policyFile],
        remediation: REMEDIATION_CONFIG,
      },
      child: {
        nodeArgs: ['--import', pathToFileURL(join(ROOT, 'test', 'support', 'fault-clock.mjs')).href],
        env: { CW_FAULT_CLOCK_OFFSET_MS: String(CLOCK_OFFSET_MS) },
      },
      phases: [remediatePhase(trial)],
      checks: [auditVerifyCheck, replayCheck, stateCheck, scanOutcomeCheck, ...remediationChecks(trial)],
      replayRules: [remediationReplayRule],
      settle: remediationSettled,
      beforeTrial: async ({ prefix, auditFile }) => {
        o.proxy.reset();
        await o.resetMoto();
        const t0 = Date.now();
        trial.keys = await seedRemediationEstate(o.motoEndpoint, o.users, accounts);
        trial.seedMs = Date.now() - t0;
        trial.prefix = prefix;
        trial.auditFile = auditFile;
        estate.credentials = trial.keys.length;
        o.proxy.beforeForward = durabilityHook(trial, o.redis);
      },
    },
    close: () => rmSync(policyDir, { recursive: true, force: true }),
  };
}
