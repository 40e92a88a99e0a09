/**
 * Drill records for the dashboard, API and evidence tests, written as the drill engine writes
 * them: an audit event whose subject is the drill id and whose data is `{ drill: record }` (plus
 * `stage` and `ms` for drill.stage), with the store's effects, so the record in Redis and the audit
 * chain agree. Times are set by the App's clock (a ManualClock), so each event lands when asked.
 */

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { IAMClient, ListUsersCommand } from '@aws-sdk/client-iam';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { expect } from 'vitest';
import { startWorkers, type Workers } from '../../jobs/workers.js';
import type { ManualClock } from '../../src/clock.js';
import type { DrillRecord } from '../../src/drill/store.js';
import type { App } from '../../src/main.js';
import { closeQueues, createQueues, type Queues } from '../../src/queue/runtime.js';
import { closeSettled } from '../../src/queue/settle.js';
import { type TestAppFiles, testApp } from './app.js';
import { awsTestClientConfig } from './moto.js';

const MIN = 60_000;

/** A finished, passed admin-key drill started at `start`; `over` changes any field. */
export function drillRecord(id: string, start: Date, over: Partial<DrillRecord> = {}): DrillRecord {
  const at = (min: number) => new Date(start.getTime() + min * MIN).toISOString();
  const account = '111111111111';
  const keyId = `AKIADRILL${id.toUpperCase().replace(/[^A-Z0-9]/g, '')}`.slice(0, 20);
  const credentialId = `aws/${account}/access-key/${keyId}`;
  return {
    id,
    scenario: 'admin-key',
    trigger: 'schedule',
    by: 'credwarden',
    target: { sourceType: 'aws', source: account },
    startedAt: at(0),
    deadlineAt: at(15),
    finishedAt: at(4),
    status: 'passed',
    stage: 'done',
    reason: null,
    planted: [
      { kind: 'aws-user', id: `credwarden-drill-${id}`, source: account },
      { kind: 'aws-access-key', id: keyId, source: account, credentialId, parent: `credwarden-drill-${id}` },
    ],
    riskAt: at(0.5),
    times: { detectMs: 42_000, alertMs: 65_000, remediateMs: 185_000 },
    detection: { policy: 'aws-admin-key', fingerprint: `fp-${id}`, at: at(1) },
    alert: { sink: 'digest', mode: 'digest', notification: `n-${id}`, at: at(1.5) },
    remediation: {
      planId: `ap-${id}`,
      action: 'deactivate-key',
      decision: 'allow',
      state: 'done',
      outcome: 'done',
      reasons: [],
      at: at(3.5),
    },
    cleanup: { at: at(4), removed: [keyId, `credwarden-drill-${id}`], gone: [], failed: [] },
    scans: [`scan-${id}`],
    ...over,
  };
}

/** The record at start (running, nothing planted yet), as drill.started carries it. */
export function startedRecord(rec: DrillRecord): DrillRecord {
  return {
    ...rec,
    finishedAt: null,
    status: 'running',
    stage: 'plant',
    reason: null,
    planted: [],
    riskAt: null,
    times: {},
    detection: null,
    alert: null,
    remediation: null,
    cleanup: null,
    scans: [],
  };
}

/** Records one drill event for `rec` at the clock's now (or `at`), with the store's effects. */
export async function appendDrill(
  app: App,
  type: 'drill.started' | 'drill.planted' | 'drill.stage' | 'drill.finished' | 'drill.cleaned',
  rec: DrillRecord,
  o: { clock?: ManualClock; at?: Date; extra?: Record<string, unknown> } = {},
) {
  if (o.clock && o.at) o.clock.set(o.at);
  return app.audit.append({
    type,
    actor: 'credwarden',
    subject: rec.id,
    data: { drill: rec, ...o.extra },
    idempotencyKey: `${type}:${rec.id}:${JSON.stringify(o.extra ?? {})}`,
    effects: app.drills.saveEffects(rec),
  });
}

/** A whole drill as the engine records it: started, planted, each stage, cleaned, finished. */
export async function recordDrill(app: App, clock: ManualClock, rec: DrillRecord): Promise<void> {
  const start = new Date(rec.startedAt);
  await appendDrill(app, 'drill.started', startedRecord(rec), { clock, at: start });
  await appendDrill(
    app,
    'drill.planted',
    { ...startedRecord(rec), planted: rec.planted, riskAt: rec.riskAt },
    {
      clock,
      at: new Date(start.getTime() + 30_000),
    },
  );
  const riskAt = Date.parse(rec.riskAt ?? rec.startedAt);
  for (const [stage, ms] of [
    ['detect', rec.times.detectMs],
    ['alert', rec.times.alertMs],
    ['remediate', rec.times.remediateMs],
  ] as const)
    if (ms !== undefined)
      await appendDrill(
        app,
        'drill.stage',
        { ...rec, status: 'running', finishedAt: null },
        {
          clock,
          at: new Date(riskAt + ms),
          extra: { stage, ms },
        },
      );
  if (rec.cleanup) await appendDrill(app, 'drill.cleaned', rec, { clock, at: new Date(rec.cleanup.at) });
  if (rec.finishedAt) await appendDrill(app, 'drill.finished', rec, { clock, at: new Date(rec.finishedAt) });
}

/**
 * After a drill: every planted credential is still marked as the drill's, the drill's audit events
 * run started → plant-intent → planted → … → cleaned → finished, the stored record is the one
 * returned, and the chain verifies.
 */
export async function expectDrillRecorded(app: App, rec: DrillRecord): Promise<void> {
  const marks = await app.drills.plantedCredentials();
  for (const c of rec.planted.flatMap((p) => (p.credentialId ? [p.credentialId] : [])))
    expect(marks.get(c)).toBe(rec.id);
  const events = (await app.audit.read(1)).filter((e) => e.subject === rec.id).map((e) => e.type);
  expect(events[0]).toBe('drill.started');
  expect(events).toEqual(
    expect.arrayContaining(['drill.plant-intent', 'drill.planted', 'drill.stage', 'drill.cleaned']),
  );
  expect(events.at(-1)).toBe('drill.finished');
  expect(events.indexOf('drill.plant-intent')).toBeLessThan(events.indexOf('drill.planted'));
  expect(events.indexOf('drill.cleaned')).toBeLessThan(events.indexOf('drill.finished'));
  expect(await app.drills.get(rec.id)).toEqual(rec);
  expect((await app.audit.verify()).ok).toBe(true);
}

/** The IAM users on the drill path in `account` of moto at `endpoint`, read as the drill acts: by an assumed role. */
export async function drillUsersIn(endpoint: string, account: string): Promise<string[]> {
  const sts = new STSClient(awsTestClientConfig(endpoint));
  const c = await sts.send(
    new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${account}:role/check`, RoleSessionName: 'check' }),
  );
  const iam = new IAMClient({
    ...awsTestClientConfig(endpoint),
    credentials: {
      accessKeyId: c.Credentials!.AccessKeyId!,
      secretAccessKey: c.Credentials!.SecretAccessKey!,
      sessionToken: c.Credentials!.SessionToken!,
    },
  });
  const out = await iam.send(new ListUsersCommand({ PathPrefix: '/credwarden-drill/' }));
  return (out.Users ?? []).map((u) => u.UserName!);
}

/** A drill test's App with in-process workers (the normal pipeline), and how to stop it all. */
export interface DrillHarness {
  app: App;
  queues: Queues;
  workers: Workers;
  close(): Promise<void>;
}

/** Writes `policiesYaml` beside the config, builds the App and starts its workers. */
export async function startDrillHarness(files: TestAppFiles, policiesYaml: string): Promise<DrillHarness> {
  writeFileSync(join(files.dir, 'policies.yaml'), policiesYaml);
  const app = await testApp(files);
  const queues = createQueues(app);
  const workers = startWorkers(app, queues);
  return {
    app,
    queues,
    workers,
    close: async () => {
      await closeSettled(workers, 5000, app.log);
      await closeQueues(queues);
      await app.close();
    },
  };
}

/** The drill tests' sinks: a PagerDuty page sink and a webhook digest sink (env refs CW_DRILL_PD, CW_DRILL_HOOK). */
export function drillAlerts(pdUrl: string, hookUrl: string): Record<string, unknown> {
  const env = (n: string) => ['$', `{env:${n}}`].join('');
  return {
    sinks: [
      { name: 'pd', type: 'pagerduty', routingKey: env('CW_DRILL_PD'), url: `${pdUrl}/v2/enqueue` },
      { name: 'hook', type: 'webhook', url: `${hookUrl}/credwarden`, secrets: [env('CW_DRILL_HOOK')] },
    ],
    routes: [{ page: ['pd'], digest: ['hook'] }],
    delivery: { attempts: 2, backoffMs: 20 },
  };
}
