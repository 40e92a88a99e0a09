/**
 * GET /metrics' content against real Redis: scans, inventory, findings and actions seeded through
 * the real services and stores, BullMQ queues with real jobs, the audit latency histogram that two
 * separate audit writers add to, the 10 s cache, and a scrape whose Redis read fails.
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { actionNames } from '../../src/actions/index.js';
import { ApiMetrics } from '../../src/api/metrics.js';
import { AppendLatencyRecorder, AUDIT_APPEND_BUCKETS, appendLatencyKey } from '../../src/audit/append-latency.js';
import { JsonlMirror, RedisAuditLog } from '../../src/audit/index.js';
import { systemClock } from '../../src/clock.js';
import type { App } from '../../src/main.js';
import type { ActionPlan, ActionState } from '../../src/model/action.js';
import type { RedisClient } from '../../src/queue/connection.js';
import { JobNames } from '../../src/queue/names.js';
import { closeQueues, createQueues, type Queues } from '../../src/queue/runtime.js';
import type { ScanUnit, UnitResult } from '../../src/sources/source.js';
import { type TestAppFiles, testApp, writeTestFiles } from '../support/app.js';
import { ACCOUNT, accessKey, vaultToken } from '../support/credentials.js';
import { type Exposition, parseExposition, samplesOf, sampleValue } from '../support/prom-text.js';
import { openTestRedis, useRedis } from '../support/redis.js';

const r = useRedis('api-metrics');
const OLD = '2020-01-01T00:00:00.000Z';
const AWS: ScanUnit = { sourceType: 'aws', key: `aws/${ACCOUNT}`, label: ACCOUNT };
const VAULT: ScanUnit = { sourceType: 'vault', key: 'vault/main/root', label: 'main' };
const POLICIES = `policies:
  - name: key-old
    description: keys older than a day
    resource: { kinds: [aws-access-key] }
    rules: [{ type: age-since-created, days: 1 }]
    severity: critical
  - name: token-old
    description: tokens older than a day
    resource: { kinds: [vault-token] }
    rules: [{ type: age-since-created, days: 1 }]
    severity: high
`;

const render = async (m: ApiMetrics): Promise<Exposition> => parseExposition((await m.render()).body);

function unit(u: ScanUnit, creds: UnitResult['credentials'], problems: UnitResult['problems'] = []): UnitResult {
  const at = new Date().toISOString();
  return {
    unit: u,
    credentials: creds,
    completePrefixes: problems.length ? [] : [`${u.key}/`],
    problems,
    apiCalls: { total: 0, attempts: 0, byOperation: {} },
    startedAt: at,
    finishedAt: at,
  };
}

function plan(id: string, action: string, credentialId: string): ActionPlan {
  return {
    id,
    action,
    params: {},
    policy: 'key-old',
    policyMode: 'enforce',
    findingFingerprint: `fp-${id}`,
    severity: 'critical',
    agentId: null,
    owner: null,
    environment: null,
    tags: {},
    credentialCreatedAt: OLD,
    target: { credentialId, kind: 'aws-access-key', sourceType: 'aws', source: ACCOUNT, principal: 'p', identity: {} },
    reversible: true,
    evidenceHash: id,
    facts: [],
    message: 'test',
    scanId: 's-complete',
    plannedAt: new Date().toISOString(),
  };
}

async function seedAction(app: App, p: ActionPlan, state: ActionState): Promise<void> {
  const at = new Date().toISOString();
  const decision = { decision: 'hold' as const, reasons: [], decidedAt: at };
  await app.audit.append({
    type: 'action.planned',
    actor: 'test',
    subject: p.id,
    data: { state },
    effects: app.remediation.store.createEffects(p, decision, state, at, 'seeded'),
  });
}

describe('ApiMetrics', () => {
  let files: TestAppFiles;
  let app: App;
  let queues: Queues;
  let t = 0;
  const now = () => t;
  let lastFinished = 0;

  beforeAll(async () => {
    process.env.CW_T_METRICS_HOOK = `whsec_${randomBytes(32).toString('base64')}`;
    files = writeTestFiles(
      {
        redis: { prefix: r.prefix },
        policies: ['policies.yaml'],
        alerts: {
          sinks: [
            {
              name: 'hook',
              type: 'webhook',
              url: 'http://127.0.0.1:9/x',
              secrets: [['$', '{env:CW_T_METRICS_HOOK}'].join('')],
            },
          ],
        },
      },
      { agents: [] },
    );
    writeFileSync(join(files.dir, 'policies.yaml'), POLICIES);
    app = await testApp(files);
    queues = createQueues(app);
    const keys = ['AKIAMETRICS000000001', 'AKIAMETRICS000000002'].map((k) => accessKey(k, { createdAt: OLD }));
    await app.scans.start('s-complete', 'test', [AWS, VAULT]);
    await app.scans.recordUnit('s-complete', unit(AWS, keys));
    await app.scans.recordUnit('s-complete', unit(VAULT, [vaultToken({ createdAt: OLD })]));
    await app.scans.finalize('s-complete');
    await app.findings.evaluateScan('s-complete');
    await app.scans.start('s-partial', 'test', [AWS]);
    await app.scans.recordUnit('s-partial', unit(AWS, [], [{ scope: AWS.key, code: 'AccessDenied', message: 'no' }]));
    await app.scans.finalize('s-partial');
    await app.scans.start('s-running', 'test', [AWS]);
    const finished = await Promise.all(['s-complete', 's-partial'].map((id) => app.scans.summary(id)));
    lastFinished = Math.max(...finished.map((s) => Date.parse(s!.finishedAt!))) / 1000;
    await seedAction(app, plan('p1', 'deactivate-key', keys[0]!.id), 'held');
    await seedAction(app, plan('p2', 'deactivate-key', keys[1]!.id), 'held');
    await seedAction(app, plan('p3', 'notify-owner', keys[0]!.id), 'done');
    await queues.evaluate.add(JobNames.evaluate, { scanId: 'q-1' });
    await queues.evaluate.add(JobNames.evaluate, { scanId: 'q-2' });
    await queues.discover.add(JobNames.discover, { scanId: 'q-3', unitKey: AWS.key }, { delay: 3_600_000 });
  });

  afterAll(async () => {
    await closeQueues(queues);
    await app.close();
  });

  it('exports the stored state with exact values, zeros for absent states', async () => {
    const e = await render(new ApiMetrics({ app, queues, now }));
    expect(e.types.get('credwarden_scans')).toBe('gauge');
    expect(samplesOf(e, 'credwarden_scans').map((s) => [s.labels.outcome, s.value])).toEqual([
      ['running', 1],
      ['complete', 1],
      ['partial', 1],
    ]);
    expect(sampleValue(e, 'credwarden_last_scan_timestamp_seconds')).toBeCloseTo(lastFinished, 3);

    const creds = samplesOf(e, 'credwarden_credentials').map((s) => [s.labels.kind, s.labels.source, s.value]);
    expect(creds.sort()).toEqual([
      ['aws-access-key', ACCOUNT, 2],
      ['vault-token', 'main/root', 1],
    ]);

    expect(sampleValue(e, 'credwarden_findings_open', { severity: 'critical' })).toBe(2);
    expect(sampleValue(e, 'credwarden_findings_open', { severity: 'high' })).toBe(1);
    for (const severity of ['medium', 'low', 'info']) {
      expect(sampleValue(e, 'credwarden_findings_open', { severity })).toBe(0);
    }

    const actions = samplesOf(e, 'credwarden_actions');
    expect(actions).toHaveLength(12 * actionNames().length);
    expect(sampleValue(e, 'credwarden_actions', { state: 'held', action: 'deactivate-key' })).toBe(2);
    expect(sampleValue(e, 'credwarden_actions', { state: 'done', action: 'notify-owner' })).toBe(1);
    expect(sampleValue(e, 'credwarden_actions', { state: 'running', action: 'deactivate-key' })).toBe(0);
    expect(sampleValue(e, 'credwarden_actions', { state: 'rolled-back', action: 'rotate-key' })).toBe(0);
    expect(actions.reduce((n, s) => n + s.value, 0)).toBe(3);

    const jobs = samplesOf(e, 'credwarden_queue_jobs');
    expect(new Set(jobs.map((s) => s.labels.queue))).toEqual(
      new Set(['scan', 'discover', 'inventory', 'evaluate', 'remediate', 'decisions', 'alert-hook']),
    );
    expect(jobs).toHaveLength(7 * 5);
    expect(sampleValue(e, 'credwarden_queue_jobs', { queue: 'evaluate', state: 'waiting' })).toBe(2);
    expect(sampleValue(e, 'credwarden_queue_jobs', { queue: 'discover', state: 'delayed' })).toBe(1);
    expect(sampleValue(e, 'credwarden_queue_jobs', { queue: 'alert-hook', state: 'failed' })).toBe(0);
    expect(sampleValue(e, 'credwarden_remediation_paused')).toBe(0);
    expect(sampleValue(e, 'credwarden_metrics_scrape_errors_total')).toBe(0);
    // Node's default metrics, on this registry, with the prefix.
    expect(sampleValue(e, 'credwarden_process_cpu_user_seconds_total')).toBeGreaterThan(0);
  });

  it('reads Redis once per 10 s however often it is scraped', async () => {
    let reads = 0;
    const findings = new Proxy(app.findings, {
      get(target, key, receiver) {
        if (key === 'all') {
          return () => {
            reads++;
            return target.all();
          };
        }
        return Reflect.get(target, key, receiver);
      },
    });
    const m = new ApiMetrics({ app: { ...app, findings }, queues, now });
    await Promise.all([m.render(), m.render()]);
    expect(sampleValue(await render(m), 'credwarden_remediation_paused')).toBe(0);
    expect(reads).toBe(1);
    await app.remediation.controls.pause('user:test', 'metrics test');
    try {
      t += 9_999;
      expect(sampleValue(await render(m), 'credwarden_remediation_paused')).toBe(0);
      expect(reads).toBe(1);
      t += 1;
      expect(sampleValue(await render(m), 'credwarden_remediation_paused')).toBe(1);
      expect(reads).toBe(2);
    } finally {
      await app.remediation.controls.resume('user:test');
    }
  });

  it('a scrape that cannot read Redis counts an error and serves the last values', async () => {
    // A second App on the same Redis data whose connection is then lost.
    const other = await testApp(files);
    const m = new ApiMetrics({ app: other, queues, now });
    expect(sampleValue(await render(m), 'credwarden_findings_open', { severity: 'critical' })).toBe(2);
    other.redis.disconnect();
    try {
      t += 10_000;
      const e = await render(m);
      expect(sampleValue(e, 'credwarden_metrics_scrape_errors_total')).toBe(1);
      expect(sampleValue(e, 'credwarden_findings_open', { severity: 'critical' })).toBe(2);
      expect(sampleValue(e, 'credwarden_queue_jobs', { queue: 'evaluate', state: 'waiting' })).toBe(2);
      // Within the cache period the failed read is not retried.
      expect(sampleValue(await render(m), 'credwarden_metrics_scrape_errors_total')).toBe(1);
      t += 10_000;
      expect(sampleValue(await render(m), 'credwarden_metrics_scrape_errors_total')).toBe(2);
      // A fresh one whose very first read fails still answers.
      const first = await render(new ApiMetrics({ app: other, queues, now }));
      expect(sampleValue(first, 'credwarden_metrics_scrape_errors_total')).toBe(1);
      expect(sampleValue(first, 'credwarden_remediation_paused')).toBe(0);
    } finally {
      await other.close();
    }
  });
});

describe('credwarden_audit_append_seconds', () => {
  const r2 = useRedis('api-metrics-audit');
  const conns: RedisClient[] = [];

  afterAll(() => {
    for (const c of conns) c.disconnect();
  });

  /** One audit writer as a separate process has it: its own connection, recorder and audit log. */
  async function writer(prefix: string, path: string) {
    const redis = openTestRedis();
    conns.push(redis);
    const recorder = new AppendLatencyRecorder(redis, { prefix }).start();
    const audit = new RedisAuditLog(redis, {
      prefix,
      clock: systemClock,
      onAppend: recorder.observe,
      mirror: new JsonlMirror(redis, { prefix, path }),
    });
    return { recorder, audit };
  }

  it('aggregates every process into one cumulative histogram, one observation per call', async () => {
    const files = writeTestFiles({ redis: { prefix: r2.prefix } }, { agents: [] });
    const app = await testApp(files);
    const queues = createQueues(app);
    try {
      const path = app.config.audit.file;
      const a = await writer(r2.keyPrefix, path);
      const b = await writer(r2.keyPrefix, path);
      const ev = (n: number) => ({ type: 'test.metrics', actor: 'test', subject: `e${n}`, data: {} });
      // a: 5 appends and one appendMany of 3 (6 calls); b: 4 records (4 calls): 10 calls, 12 events.
      await Promise.all([
        ...[1, 2, 3, 4, 5].map((n) => a.audit.append(ev(n))),
        a.audit.appendMany([ev(6), ev(7), ev(8)]),
      ]);
      await Promise.all([9, 10, 11, 12].map((n) => b.audit.record(ev(n))));
      expect((await app.audit.head()).seq).toBe(12);
      await Promise.all([a.recorder.close(), b.recorder.close()]);
      expect(await app.redis.hget(appendLatencyKey(r2.keyPrefix), 'count')).toBe('10');

      const e = await render(new ApiMetrics({ app, queues }));
      expect(e.types.get('credwarden_audit_append_seconds')).toBe('histogram');
      const buckets = samplesOf(e, 'credwarden_audit_append_seconds_bucket');
      expect(buckets.map((s) => s.labels.le)).toEqual([...AUDIT_APPEND_BUCKETS.map(String), '+Inf']);
      for (let i = 1; i < buckets.length; i++) expect(buckets[i]!.value).toBeGreaterThanOrEqual(buckets[i - 1]!.value);
      expect(buckets.at(-1)!.value).toBe(10);
      expect(sampleValue(e, 'credwarden_audit_append_seconds_count')).toBe(10);
      expect(sampleValue(e, 'credwarden_audit_append_seconds_sum')).toBeGreaterThan(0);
    } finally {
      await closeQueues(queues);
      await app.close();
    }
  });

  it('a flush that cannot reach Redis keeps its counts for the next one', async () => {
    // Not connected yet, and no offline queue: every command fails at once, as with Redis down.
    const redis = openTestRedis({ lazyConnect: true, enableOfflineQueue: false });
    conns.push(redis);
    const errors: unknown[] = [];
    const prefix = `${r2.prefix}-offline`;
    const recorder = new AppendLatencyRecorder(redis, { prefix, onError: (err) => errors.push(err) });
    for (const s of [0.002, 0.02, 20]) recorder.observe(s);
    await recorder.flush();
    expect(errors).toHaveLength(1);
    // The failed command set a lazy client connecting: wait until it is ready (or start it).
    if (redis.status === 'wait') await redis.connect();
    else if (redis.status !== 'ready') await new Promise((res) => redis.once('ready', res));
    await recorder.close();
    const { sum, ...counts } = await redis.hgetall(appendLatencyKey(prefix));
    expect(counts).toEqual({ 'b:0.0025': '1', 'b:0.025': '1', 'b:+Inf': '1', count: '3' });
    expect(Number(sum)).toBeCloseTo(20.022, 9);
  });
});
