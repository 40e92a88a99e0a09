/**
 * A drill whose process is SIGKILLed after it planted leaves nothing behind for long: its record
 * says what it planted (recorded before planting), `drill cleanup` removes exactly that and ends
 * the drill failed as interrupted, and the next `drill run` does the same before it plants. Real
 * CLI processes (dist/), real moto, real Redis.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/main.js';
import { sleep } from '../../src/util/concurrency.js';
import { testApp, useMotoCredentialsEnv, writeTestFiles } from '../support/app.js';
import { drillUsersIn } from '../support/drills.js';
import { CLI, ROOT, runCli } from '../support/fault-procs.js';
import { useMoto } from '../support/moto.js';
import { useRedis } from '../support/redis.js';

const moto = useMoto({ env: { MOTO_IAM_LOAD_MANAGED_POLICIES: 'true' } });
const r = useRedis('drill-crash');
const ACCOUNT = '444455556666';
const today = new Date().toISOString().slice(0, 10);
const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);

let app: App;
let configPath: string;
const children: ChildProcess[] = [];

const drillUsers = () => drillUsersIn(moto.endpoint, ACCOUNT);

function startDrill(): ChildProcess {
  const p = spawn(
    process.execPath,
    [CLI, '--config', configPath, 'drill', 'run', '--scenario', 'admin-key', '--once'],
    {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH,
        AWS_ACCESS_KEY_ID: 'testing',
        AWS_SECRET_ACCESS_KEY: 'testing',
        AWS_REGION: 'us-east-1',
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        ...(process.env.CW_TEST_REDIS_CLUSTER ? { CW_TEST_REDIS_CLUSTER: process.env.CW_TEST_REDIS_CLUSTER } : {}),
      },
      stdio: ['ignore', 'ignore', 'ignore'],
    },
  );
  children.push(p);
  return p;
}

async function untilPlanted(ms = 60_000): Promise<string> {
  const deadline = Date.now() + ms;
  for (;;) {
    const rec = (await app.drills.list(5)).find((d) => d.status === 'running' && d.planted.some((p) => p.credentialId));
    if (rec) return rec.id;
    if (Date.now() > deadline) throw new Error('the drill never planted');
    await sleep(50);
  }
}

beforeAll(async () => {
  useMotoCredentialsEnv();
  const files = writeTestFiles(
    {
      redis: { prefix: r.prefix },
      // A short lease: the killed drill's lock lapses in seconds.
      worker: { leaseSeconds: 3 },
      aws: {
        endpoint: moto.endpoint,
        region: 'us-east-1',
        maxAttempts: 1,
        accounts: [
          {
            id: ACCOUNT,
            roleArn: `arn:aws:iam::${ACCOUNT}:role/reader`,
            remediationRoleArn: `arn:aws:iam::${ACCOUNT}:role/remediator`,
          },
        ],
      },
      policies: ['policies.yaml'],
      // A freeze holds every action: the drill waits at remediation until it is killed.
      remediation: {
        mode: 'enforce',
        minAgeHours: 0,
        approvals: { required: [] },
        freezes: [{ from: today, to: tomorrow }],
      },
      drills: { aws: { account: ACCOUNT }, deadlineMinutes: 5 },
    },
    { agents: [], unregistered: { aws: { tags: {}, namePatterns: ['agent-*'] } } },
  );
  writeFileSync(
    join(files.dir, 'policies.yaml'),
    `policies:
  - name: drill-crash-admin
    description: admin
    resource: { kinds: [aws-access-key], agents: ["*", unregistered] }
    rules: [{ type: aws-admin }]
    severity: critical
    mode: enforce
    remediation: [deactivate-key]
`,
  );
  configPath = files.configPath;
  app = await testApp(files);
});

afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  await app?.close();
});

describe('a drill killed after planting', () => {
  it('is cleaned up by `drill cleanup`, and by the next drill run', async () => {
    const first = startDrill();
    const id = await untilPlanted();
    first.kill('SIGKILL');
    await new Promise((res) => first.once('exit', res));
    expect((await drillUsers()).length).toBe(1);
    expect((await app.drills.get(id))?.status).toBe('running');
    expect((await app.drills.plantedCredentials()).size).toBeGreaterThan(0);

    // The killed process's lock lapses after its lease (3 s); cleanup waits for nothing else.
    await sleep(3500);
    const out = await runCli(configPath, ['--json', 'drill', 'cleanup'], 60_000);
    expect(out.code, out.stderr).toBe(0);
    const [done] = JSON.parse(out.stdout) as {
      id: string;
      status: string;
      reason: string;
      cleanup: { removed: string[] };
    }[];
    expect(done?.id).toBe(id);
    expect(done?.status).toBe('failed');
    expect(done?.reason).toMatch(/^interrupted/);
    expect(done?.cleanup.removed).toEqual(
      expect.arrayContaining([expect.stringMatching(/^aws user agent-credwarden-drill-/)]),
    );
    expect(await drillUsers()).toEqual([]);
    expect([...(await app.drills.plantedCredentials()).values()]).toContain(id);
    // Nothing left to clean.
    const again = await runCli(configPath, ['--json', 'drill', 'cleanup'], 60_000);
    expect(JSON.parse(again.stdout)).toEqual([]);

    // Killed again; this time the next `drill run` cleans up before it plants its own.
    const second = startDrill();
    const id2 = await untilPlanted();
    second.kill('SIGKILL');
    await new Promise((res) => second.once('exit', res));
    await sleep(3500);
    const third = startDrill();
    const deadline = Date.now() + 60_000;
    while ((await app.drills.get(id2))?.status === 'running') {
      if (Date.now() > deadline) throw new Error('the next drill never recovered the killed one');
      await sleep(100);
    }
    third.kill('SIGKILL');
    await new Promise((res) => third.once('exit', res));
    const rec2 = await app.drills.get(id2);
    expect(rec2?.reason).toMatch(/^interrupted/);
    expect(rec2?.cleanup?.failed).toEqual([]);
    const events = (await app.audit.read(1)).filter((e) => e.subject === id2).map((e) => e.type);
    expect(events).toEqual(
      expect.arrayContaining(['drill.started', 'drill.planted', 'drill.cleaned', 'drill.finished']),
    );
    expect((await app.audit.verify()).ok).toBe(true);
  }, 180_000);
});
