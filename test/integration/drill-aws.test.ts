/**
 * AWS drills end to end against real moto, through the real queues and workers: the drill plants
 * in the drill account only, the normal pipeline detects, alerts (a digest with the drill label,
 * never a page) and remediates under the real guardrails, and the drill always removes what it
 * planted. Failure modes: a guardrail that stops remediation (dry-run, min-age) fails the drill
 * with its reason, and still cleans up.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DrillRunner } from '../../src/drill/runner.js';
import type { DrillRecord } from '../../src/drill/store.js';
import type { App } from '../../src/main.js';
import { drillSchedulerId, JobNames } from '../../src/queue/names.js';
import { keyPrefix } from '../../src/queue/prefix.js';
import { drillSchedule, pruneDrillSchedules, upsertSchedules } from '../../src/queue/scheduler.js';
import { useMotoCredentialsEnv, writeTestFiles } from '../support/app.js';
import {
  type DrillHarness,
  drillAlerts,
  drillUsersIn,
  expectDrillRecorded,
  startDrillHarness,
} from '../support/drills.js';
import { useMoto } from '../support/moto.js';
import { type PdReceived, startPagerDutyReceiver } from '../support/receivers/pagerduty.js';
import type { Receiver } from '../support/receivers/server.js';
import { startWebhookReceiver, type WebhookReceived } from '../support/receivers/webhook.js';
import { useRedis } from '../support/redis.js';

// Real IAM has AWS managed policies; moto loads them only when asked.
const moto = useMoto({ env: { MOTO_IAM_LOAD_MANAGED_POLICIES: 'true' } });
const r = useRedis('drill-aws');
const DRILL_ACCOUNT = '777788889999';
const OTHER_ACCOUNT = '111122223333';
const WEBHOOK_SECRET = `whsec_${randomBytes(32).toString('base64')}`;
const _env = (n: string) => ['$', `{env:${n}}`].join('');

let pd: Receiver<PdReceived>;
let hook: Receiver<WebhookReceived>;

const POLICIES = `policies:
  - name: drill-test-admin
    description: admin on an agent key
    resource: { kinds: [aws-access-key], agents: ["*", unregistered] }
    rules: [{ type: aws-admin }]
    severity: critical
    mode: enforce
    remediation: [deactivate-key]
  - name: drill-test-privesc
    description: an agent key that can escalate
    resource: { kinds: [aws-access-key], agents: ["*", unregistered] }
    rules: [{ type: aws-privilege-escalation }]
    severity: high
    mode: enforce
    remediation: [deactivate-key]
`;

type Harness = DrillHarness;

async function harness(remediation: Record<string, unknown>, drills: Record<string, unknown> | null): Promise<Harness> {
  process.env.CW_DRILL_PD = randomBytes(16).toString('hex');
  process.env.CW_DRILL_HOOK = WEBHOOK_SECRET;
  const files = writeTestFiles(
    {
      redis: { prefix: `${r.prefix}-${randomBytes(3).toString('hex')}` },
      aws: {
        endpoint: moto.endpoint,
        region: 'us-east-1',
        maxAttempts: 1,
        accounts: [DRILL_ACCOUNT, OTHER_ACCOUNT].map((id) => ({
          id,
          roleArn: `arn:aws:iam::${id}:role/credwarden-reader`,
          remediationRoleArn: `arn:aws:iam::${id}:role/credwarden-remediator`,
        })),
      },
      policies: ['policies.yaml'],
      remediation: { cooldownHours: 0, ...remediation },
      alerts: drillAlerts(pd.url, hook.url),
      ...(drills ? { drills } : {}),
    },
    { agents: [], unregistered: { aws: { tags: {}, namePatterns: ['agent-*'] } } },
  );
  return startDrillHarness(files, POLICIES);
}

const drills = { aws: { account: DRILL_ACCOUNT }, deadlineMinutes: 1.5 };

const drillUsers = (account: string) => drillUsersIn(moto.endpoint, account);

beforeAll(async () => {
  useMotoCredentialsEnv();
  [pd, hook] = await Promise.all([startPagerDutyReceiver(), startWebhookReceiver({ secrets: [WEBHOOK_SECRET] })]);
});

afterAll(async () => {
  await Promise.all([pd?.close(), hook?.close()]);
});

async function run(h: Harness, scenario: DrillRecord['scenario']): Promise<DrillRecord> {
  return new DrillRunner(h.app, h.app.drillPlanters).run({
    scenario,
    trigger: 'cli',
    by: 'user:drill-test',
    queues: h.queues,
    pollMs: 100,
    blockGraceMs: 1000,
  });
}

describe('AWS drills through the real pipeline', () => {
  it('admin-key: detected, alerted as a drill digest (never a page), remediated, cleaned up', async () => {
    const h = await harness({ mode: 'enforce', minAgeHours: 0, approvals: { required: [] } }, drills);
    try {
      const pdBefore = pd.requests.length;
      const hookBefore = hook.requests.length;
      const rec = await run(h, 'admin-key');
      expect(rec.reason).toBeNull();
      expect(rec.status).toBe('passed');
      expect(rec.stage).toBe('done');
      expect(rec.target).toEqual({ sourceType: 'aws', source: DRILL_ACCOUNT });
      expect(rec.times.detectMs).toBeGreaterThanOrEqual(0);
      expect(rec.times.alertMs).toBeGreaterThanOrEqual(rec.times.detectMs!);
      expect(rec.times.remediateMs).toBeGreaterThanOrEqual(0);
      expect(rec.remediation).toMatchObject({ action: 'deactivate-key', outcome: 'done' });
      const key = rec.planted.find((p) => p.kind === 'aws-access-key' && p.id !== '*')!;
      expect(key.credentialId).toBe(`aws/${DRILL_ACCOUNT}/access-key/${key.id}`);
      expect(rec.detection?.fingerprint).toContain(key.credentialId);
      // The alert: a digest on the webhook, labelled; PagerDuty heard nothing although the route pages.
      expect(rec.alert).toMatchObject({ sink: 'hook', mode: 'digest' });
      expect(pd.requests.length).toBe(pdBefore);
      const items = hook.requests
        .slice(hookBefore)
        .flatMap((q) => (q.json as { items?: Record<string, unknown>[] }).items ?? []);
      const drillItems = items.filter((i) => i.credentialId === key.credentialId);
      expect(drillItems.length).toBeGreaterThan(0);
      for (const i of drillItems) {
        expect(i.drill).toBe(rec.id);
        expect(String(i.title)).toMatch(/^\[drill\] /);
      }
      // Cleanup: the user and its key are gone, and nothing of the other account was touched.
      expect(rec.cleanup?.failed).toEqual([]);
      expect(rec.cleanup?.removed).toEqual(
        expect.arrayContaining([
          `aws access key ${key.id}`,
          expect.stringMatching(/^aws user agent-credwarden-drill-/),
        ]),
      );
      expect(await drillUsers(DRILL_ACCOUNT)).toEqual([]);
      await expectDrillRecorded(h.app, rec);
    } finally {
      await h.close();
    }
  }, 120_000);

  it('admin-key where approval is required: passes at the approval request, measures time to approval', async () => {
    const h = await harness({ mode: 'enforce', minAgeHours: 0 }, drills);
    try {
      const rec = await run(h, 'admin-key');
      expect(rec.status).toBe('passed');
      expect(rec.times.approvalMs).toBeGreaterThanOrEqual(0);
      expect(rec.times.remediateMs).toBeUndefined();
      expect(rec.remediation).toMatchObject({ state: 'awaiting-approval', action: 'deactivate-key' });
      expect(await drillUsers(DRILL_ACCOUNT)).toEqual([]);
    } finally {
      await h.close();
    }
  }, 120_000);

  it('self-escalation: a harmless first scan, then the escalation is detected between scans', async () => {
    const h = await harness({ mode: 'enforce', minAgeHours: 0, approvals: { required: [] } }, drills);
    try {
      const rec = await run(h, 'self-escalation');
      expect(rec.reason).toBeNull();
      expect(rec.status).toBe('passed');
      expect(rec.scans.length).toBeGreaterThanOrEqual(3); // first, escalated, after cleanup
      expect(rec.detection?.policy).toBe('drill-test-privesc');
      expect(rec.cleanup?.removed).toEqual(
        expect.arrayContaining([expect.stringMatching(/inline policy credwarden-drill-escalate/)]),
      );
      expect(await drillUsers(DRILL_ACCOUNT)).toEqual([]);
    } finally {
      await h.close();
    }
  }, 120_000);

  it('fails without bypassing a guardrail: dry-run and min-age each name the guardrail, and still clean up', async () => {
    const dry = await harness({ mode: 'dry-run', minAgeHours: 0, approvals: { required: [] } }, drills);
    try {
      const rec = await run(dry, 'admin-key');
      expect(rec.status).toBe('failed');
      expect(rec.stage).toBe('remediate');
      expect(rec.reason).toMatch(/dry-run/);
      expect(rec.reason).toMatch(/never bypasses a guardrail/);
      expect(rec.cleanup?.failed).toEqual([]);
      expect(await drillUsers(DRILL_ACCOUNT)).toEqual([]);
    } finally {
      await dry.close();
    }
    const young = await harness({ mode: 'enforce', approvals: { required: [] } }, drills);
    try {
      const rec = await run(young, 'admin-key');
      expect(rec.status).toBe('failed');
      expect(rec.reason).toMatch(/min-age/);
      expect(await drillUsers(DRILL_ACCOUNT)).toEqual([]);
    } finally {
      await young.close();
    }
  }, 180_000);

  it('fails at its deadline with the stage it reached and why, when a hold outlasts it', async () => {
    const today = new Date().toISOString().slice(0, 10);
    const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
    const h = await harness(
      {
        mode: 'enforce',
        minAgeHours: 0,
        approvals: { required: [] },
        freezes: [{ from: today, to: tomorrow, reason: 'drill freeze' }],
      },
      { ...drills, deadlineMinutes: 0.1 },
    );
    try {
      const rec = await run(h, 'admin-key');
      expect(rec.status).toBe('failed');
      expect(rec.stage).toBe('remediate');
      expect(rec.reason).toMatch(/did not complete within its deadline \(0\.1 min\) at stage remediate/);
      expect(rec.reason).toMatch(/deactivate-key is held: .*drill freeze/);
      expect(rec.times.detectMs).toBeGreaterThanOrEqual(0);
      expect(rec.times.alertMs).toBeGreaterThanOrEqual(0);
      expect(rec.cleanup?.failed).toEqual([]);
      expect(await drillUsers(DRILL_ACCOUNT)).toEqual([]);
    } finally {
      await h.close();
    }
  }, 60_000);

  it('a scheduled drill: the worker runs the drill job from its job scheduler, recorded as trigger schedule', async () => {
    const h = await harness({ mode: 'enforce', minAgeHours: 0, approvals: { required: [] } }, drills);
    try {
      const [state] = await upsertSchedules(h.app.redis, keyPrefix(h.app.config.redis), [
        drillSchedule(h.queues.drill, { scenario: 'admin-key', cron: '0 3 * * 1' }),
      ]);
      expect(state).toMatchObject({ upserted: true, pattern: '0 3 * * 1' });
      const schedulers = await h.queues.drill.getJobSchedulers();
      expect(schedulers.map((x) => x.key)).toEqual([drillSchedulerId('admin-key')]);
      // One tick, now: the same job the scheduler adds.
      const job = await h.queues.drill.add(JobNames.drill, { scenario: 'admin-key' }, { attempts: 1 });
      const deadline = Date.now() + 90_000;
      while (!(await job.isCompleted()) && !(await job.isFailed())) {
        if (Date.now() > deadline) throw new Error('the drill job did not finish');
        await new Promise((res) => setTimeout(res, 200));
      }
      const rec = (await h.app.drills.list(1))[0]!;
      expect(rec.trigger).toBe('schedule');
      expect(rec.status, String(rec.reason)).toBe('passed');
      expect((await h.queues.drill.getJob(job.id!))?.returnvalue).toMatchObject({ id: rec.id, status: 'passed' });
      const events = (await h.app.audit.read(1)).filter((e) => e.subject === rec.id);
      expect(events[0]?.actor).toBe('credwarden');
      expect(await pruneDrillSchedules(h.queues.drill, [])).toEqual([drillSchedulerId('admin-key')]);
      expect(await drillUsers(DRILL_ACCOUNT)).toEqual([]);
    } finally {
      await h.close();
    }
  }, 120_000);

  it('refuses to run without a drills section, naming the key, before planting anything', async () => {
    const h = await harness({}, null);
    try {
      await expect(run(h, 'admin-key')).rejects.toThrow(/drills: not configured/);
      const vaultOnly = { ...h.app, config: { ...h.app.config, drills: { ...drills, aws: undefined } } } as App;
      await expect(
        new DrillRunner(vaultOnly, h.app.drillPlanters).run({
          scenario: 'admin-key',
          trigger: 'cli',
          by: 'x',
          queues: h.queues,
        }),
      ).rejects.toThrow(/drills\.aws: not configured/);
      expect(await drillUsers(DRILL_ACCOUNT)).toEqual([]);
      expect(await h.app.drills.list()).toEqual([]);
    } finally {
      await h.close();
    }
  }, 60_000);
});
