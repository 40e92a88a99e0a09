/**
 * A remediation scenario against moto: an account with a scanner role and a remediation role, a
 * policy file written for the scenario (mode enforce unless told otherwise), a remediation config,
 * and an App on a ManualClock set `daysAhead` days after the real time (moto stamps keys with the
 * real time; the clock ahead makes them old enough for never-used and minAgeHours).
 *
 * `run()` does what the worker does after a scan, in process: scan, evaluate, plan, and execute
 * every queued action (the enqueue hook records the ids instead of a BullMQ queue). The steps are
 * also there one by one (`scan`, `plan`, `execute`), and `worker()` builds a second App on the
 * same config, Redis prefix and clock: another worker of the same deployment.
 *
 * `drive(app, clock)` gives the same steps over any App (the Vault scenario builds its own).
 * The IAM helpers at the bottom read and change moto directly, as a person at the console would.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GetAccessKeyLastUsedCommand, ListAccessKeysCommand, UpdateAccessKeyCommand } from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { ManualClock } from '../../src/clock.js';
import type { App } from '../../src/main.js';
import type { ActionRecord } from '../../src/model/action.js';
import type { RunSummary } from '../../src/remediation/service.js';
import { type TestAppFiles, testApp, useMotoCredentialsEnv, writeTestFiles } from './app.js';
import { type AccountSeeder, type CreatedKey, createUser, seederFor, type UserSpec } from './aws-seed.js';

export const ACCOUNT = '111111111111';

export interface Drive {
  app: App;
  clock: ManualClock;
  /** Every plan id queued so far, in order (by planScan and by approvals). */
  queued: string[];
  /** Scan (every unit, in process) and evaluate. */
  scan(scanId: string): Promise<void>;
  /** planScan; `ids` are the plan ids this call queued. */
  plan(scanId: string): Promise<{ summary: RunSummary; ids: string[] }>;
  /** Executes each id in turn on `app` (default: this scenario's). */
  execute(ids: readonly string[], app?: App): Promise<ActionRecord[]>;
  run(scanId: string): Promise<{ summary: RunSummary; executed: ActionRecord[] }>;
  /** Audit events from seq `from` (default 1), with their data typed loosely. */
  audit(from?: number): Promise<AuditLine[]>;
  close(): Promise<void>;
}

export interface AuditLine {
  seq: number;
  type: string;
  actor: string;
  subject: string;
  data: Record<string, unknown>;
}

export interface Scenario extends Drive {
  files: TestAppFiles;
  /** Another App (worker) on the same config, Redis prefix and clock; closed with the scenario. */
  worker(): Promise<App>;
}

export const REGISTRY = {
  agents: [
    {
      id: 'bot',
      name: 'Bot',
      owner: { team: 'platform', contact: 'platform@example.com' },
      version: '1.0.0',
      environment: 'prod',
      selectors: { aws: { users: ['agent-*'] } },
    },
  ],
};

export function drive(app: App, clock: ManualClock, onClose: () => Promise<void> = async () => {}): Drive {
  const queued: string[] = [];
  app.remediation.setEnqueue(async (jobs) => {
    queued.push(...jobs.map((j) => j.planId));
  });
  const d: Drive = {
    app,
    clock,
    queued,
    async scan(scanId) {
      await app.orchestrator.runInProcess(scanId, 'test', app.orchestrator.units(), 1);
      await app.findings.evaluateScan(scanId);
    },
    async plan(scanId) {
      const before = queued.length;
      const summary = await app.remediation.planScan(scanId);
      return { summary, ids: queued.slice(before) };
    },
    async execute(ids, on = app) {
      const out: ActionRecord[] = [];
      for (const id of ids) out.push(await on.executor.execute(id));
      return out;
    },
    async run(scanId) {
      await d.scan(scanId);
      const { summary, ids } = await d.plan(scanId);
      return { summary, executed: await d.execute(ids) };
    },
    async audit(from = 1) {
      const events = await app.audit.read(from);
      return events.map((e) => ({
        seq: e.seq,
        type: e.type,
        actor: e.actor,
        subject: e.subject,
        data: e.data as Record<string, unknown>,
      }));
    },
    async close() {
      await onClose();
      await app.close();
    },
  };
  return d;
}

export async function scenario(opts: {
  motoEndpoint: string;
  prefix: string;
  policies: string;
  remediation?: Record<string, unknown>;
  daysAhead?: number;
  accountExtra?: Record<string, unknown>;
  /** More top-level config (e.g. `alerts`). */
  config?: Record<string, unknown>;
  /** The agent registry (default REGISTRY: one agent over every agent-* user). */
  registry?: Record<string, unknown>;
}): Promise<Scenario> {
  useMotoCredentialsEnv();
  const clock = new ManualClock(Date.now() + (opts.daysAhead ?? 10) * 86_400_000);
  const files = writeTestFiles(
    {
      redis: { prefix: opts.prefix },
      aws: {
        endpoint: opts.motoEndpoint,
        region: 'us-east-1',
        accounts: [
          {
            id: ACCOUNT,
            roleArn: `arn:aws:iam::${ACCOUNT}:role/credwarden-reader`,
            remediationRoleArn: `arn:aws:iam::${ACCOUNT}:role/credwarden-remediator`,
            ...opts.accountExtra,
          },
        ],
      },
      policies: ['policies'],
      remediation: { mode: 'enforce', minAgeHours: 1, approvals: { required: [] }, ...opts.remediation },
      ...opts.config,
    },
    opts.registry ?? REGISTRY,
  );
  mkdirSync(join(files.dir, 'policies'));
  writeFileSync(join(files.dir, 'policies', 'p.yaml'), opts.policies);
  const app = await testApp(files, clock);
  const workers: App[] = [];
  const d = drive(app, clock, async () => {
    for (const w of workers) await w.close();
  });
  return {
    ...d,
    files,
    async worker() {
      const w = await testApp(files, clock);
      workers.push(w);
      return w;
    },
  };
}

/** A policy file: never-used keys (no grace) of agent users, with the given remediation. */
export function neverUsedPolicy(remediation: string, extra = ''): string {
  return `policies:
  - name: agent-key-never-used
    description: An agent key never used
    resource: { kinds: [aws-access-key], agents: ["*"] }
    rules:
      - type: never-used
        graceDays: 1
    severity: medium
    mode: enforce
    remediation: ${remediation}
${extra}`;
}

/** Runs `fn` with an IAM client in ACCOUNT (assumed like the seeder), then closes it. */
export async function withIam<T>(endpoint: string, fn: (a: AccountSeeder) => Promise<T>): Promise<T> {
  const a = await seederFor(endpoint, ACCOUNT);
  try {
    return await fn(a);
  } finally {
    a.iam.destroy();
  }
}

/** Creates the users in ACCOUNT; their keys by user name. */
export function seedUsers(endpoint: string, users: UserSpec[]): Promise<Record<string, CreatedKey[]>> {
  return withIam(endpoint, async (a) => {
    const made: Record<string, CreatedKey[]> = {};
    for (const u of users) made[u.name] = await createUser(a, u, endpoint);
    return made;
  });
}

/** A user's keys as ListAccessKeys reports them: key id → Active | Inactive. */
export function keyStatuses(endpoint: string, user: string): Promise<Record<string, string>> {
  return withIam(endpoint, async (a) => {
    const out = await a.iam.send(new ListAccessKeysCommand({ UserName: user }));
    return Object.fromEntries((out.AccessKeyMetadata ?? []).map((k) => [k.AccessKeyId!, k.Status!]));
  });
}

/** Sets a key's status by hand (a person at the console). */
export function setKeyStatus(endpoint: string, user: string, keyId: string, status: 'Active' | 'Inactive') {
  return withIam(endpoint, (a) =>
    a.iam.send(new UpdateAccessKeyCommand({ UserName: user, AccessKeyId: keyId, Status: status })),
  );
}

/** The codes of a record's decision reasons. */
export const codes = (r: ActionRecord | null | undefined): string[] => r?.decision.reasons.map((x) => x.code) ?? [];

/** `count` users `<prefix>-0…`, one Active key each (plus `extra`). */
export const agentUsers = (prefix: string, count: number, extra: Partial<UserSpec> = {}): UserSpec[] =>
  Array.from({ length: count }, (_, i) => ({ name: `${prefix}-${i}`, keys: ['active'], ...extra }));

/** The status (Active | Inactive | undefined when gone) of the exact key an action record targets. */
export async function keyStatusOf(endpoint: string, rec: ActionRecord): Promise<string | undefined> {
  const { userName, accessKeyId } = rec.plan.target.identity;
  return (await keyStatuses(endpoint, userName!))[accessKeyId!];
}

/** The next `weekday` (0 Sunday … 6 Saturday) at hh:mm UTC, at least `minDays` days from now. */
export function nextUtc(weekday: number, hh: number, mm: number, minDays = 3): Date {
  const d = new Date(Date.now() + minDays * 86_400_000);
  d.setUTCHours(hh, mm, 0, 0);
  while (d.getUTCDay() !== weekday) d.setUTCDate(d.getUTCDate() + 1);
  return d;
}

/** One policy (YAML list item) over agent credentials; `tags` picks the users it selects. */
export function policyEntry(p: {
  name: string;
  rule: string;
  remediation: string;
  severity?: string;
  kind?: string;
  tags?: Record<string, string>;
}): string {
  const tags = p.tags ? `, tags: { ${Object.entries(p.tags).map(([k, v]) => `${k}: ${v}`)} }` : '';
  return `
  - name: ${p.name}
    description: policy ${p.name}
    resource: { kinds: [${p.kind ?? 'aws-access-key'}], agents: ["*"]${tags} }
    rules: [${p.rule}]
    severity: ${p.severity ?? 'medium'}
    mode: enforce
    remediation: ${p.remediation}`;
}
export const policyFile = (...entries: string[]): string => `policies:${entries.join('')}\n`;

/**
 * Signs STS calls with the key until IAM's last-used time for it moves past `after` to the second
 * (the credential report's precision): a use the next scan is sure to see as new.
 */
export async function useKeyAfter(endpoint: string, key: CreatedKey, after: string): Promise<void> {
  const sts = new STSClient({ region: 'us-east-1', endpoint, credentials: key });
  const second = (iso: string) => iso.slice(0, 19);
  try {
    for (let i = 0; i < 100; i++) {
      await sts.send(new GetCallerIdentityCommand({}));
      const out = await withIam(endpoint, (a) =>
        a.iam.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: key.accessKeyId })),
      );
      if (second(out.AccessKeyLastUsed!.LastUsedDate!.toISOString()) !== second(after)) return;
      await new Promise((res) => setTimeout(res, 50));
    }
    throw new Error(`the last use of ${key.accessKeyId} never moved past ${after}`);
  } finally {
    sts.destroy();
  }
}

/** Top-level config for one PagerDuty sink every alert routes to (the key is an env reference). */
export function pagerConfig(): Record<string, unknown> {
  process.env.CW_TEST_PD_KEY = 'a'.repeat(32);
  const routingKey = ['$', '{env:CW_TEST_PD_KEY}'].join('');
  return { alerts: { sinks: [{ name: 'pd', type: 'pagerduty', routingKey }], routes: [{ page: ['pd'] }] } };
}
