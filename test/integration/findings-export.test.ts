/**
 * Findings exports on a real App (real Redis, real BullMQ workers):
 * - `credwarden findings --format ocsf|asff|csv|sarif` (in-process run()) keeps the filters, prints
 *   output that validates against the OCSF and SARIF schemas, parses as CSV, and refuses a bad
 *   --format or --format with --json (exit 2, naming --format);
 * - the scheduled exports: one job scheduler per `evidence.exports` entry, upserted under the
 *   schedule lock; each scheduler's tick, promoted, writes its file atomically or POSTs to the
 *   webhook receiver (Standard Webhooks signatures checked by its own verifier), ASFF in parts of
 *   100; each is audited once as `export.written`, naming the target but never the sink's URL or
 *   secret; an export to a sink that is not a webhook fails for good.
 */
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWorkers, type Workers } from '../../jobs/workers.js';
import type { Io } from '../../src/cli/context.js';
import { run } from '../../src/cli/main.js';
import { ManualClock } from '../../src/clock.js';
import { runExport } from '../../src/export/run.js';
import type { App } from '../../src/main.js';
import type { Finding } from '../../src/model/finding.js';
import { exportSchedulerId } from '../../src/queue/names.js';
import { closeQueues, createQueues, type Queues } from '../../src/queue/runtime.js';
import { exportSchedule, pruneExportSchedules, upsertSchedules } from '../../src/queue/scheduler.js';
import { sleep } from '../../src/util/concurrency.js';
import { parseCsv } from '../../src/util/csv.js';
import { type TestAppFiles, testApp, writeTestFiles } from '../support/app.js';
import { ACCT, MERGED, OPEN_AWS, POLICIES, RESOLVED_VAULT, SUPPRESSED_AWS } from '../support/export-fixtures.js';
import { ocsfSchemaErrors, sarifSchemaErrors } from '../support/export-schemas.js';
import type { Receiver } from '../support/receivers/server.js';
import { startWebhookReceiver, type WebhookReceived } from '../support/receivers/webhook.js';
import { useRedis } from '../support/redis.js';

const r = useRedis('export');
const clock = new ManualClock(Date.parse('2026-12-01T00:05:00.000Z'));
const SECRET = `whsec_${randomBytes(32).toString('base64')}`;
const HUB = '999999999999';
const env = (n: string) => ['$', `{env:${n}}`].join('');
const EXTRA: Finding[] = Array.from({ length: 150 }, (_, i) => ({
  ...OPEN_AWS,
  fingerprint: `agent-key-unused-30d:aws/${ACCT}/access-key/AKIAFAKEEXTRA${String(i).padStart(7, '0')}`,
  credentialId: `aws/${ACCT}/access-key/AKIAFAKEEXTRA${String(i).padStart(7, '0')}`,
}));

const POLICY_YAML = `policies:
${POLICIES.map(
  (p) => `  - name: ${p.name}
    description: ${p.description}
    rules: [{ type: ${p.name === 'agent-key-unused-30d' ? 'unused-for, days: 30' : p.name === 'agent-admin-equivalent' ? 'aws-admin' : 'vault-broad-glob'} }]
    severity: ${p.severity}
    metadata: { controls: ${JSON.stringify(p.controls)} }`,
).join('\n')}
`;

let hook: Receiver<WebhookReceived>;
let files: TestAppFiles;
let app: App;

function capture(): Io & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (s) => stdout.push(s), err: (s) => stderr.push(s), stderrIsTty: false };
}

async function cli(...args: string[]) {
  const io = capture();
  const code = await run(['--config', files.configPath, 'findings', ...args], io);
  return { code, out: io.stdout.join('\n'), err: io.stderr.join('\n') };
}

async function seed(findings: Finding[]): Promise<void> {
  await r.redis.del(`${r.keyPrefix}:findings`);
  for (const f of findings) await r.redis.hset(`${r.keyPrefix}:findings`, f.fingerprint, JSON.stringify(f));
}

async function until<T>(what: string, get: () => Promise<T | undefined | false>, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await get();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

async function auditOf(type: string): Promise<{ subject: string; data: Record<string, unknown> }[]> {
  const entries = await r.redis.xrange(`${r.keyPrefix}:audit:events`, '-', '+');
  return entries.map(([, f]) => JSON.parse(f[1]!)).filter((e) => e.type === type);
}

beforeAll(async () => {
  hook = await startWebhookReceiver({ secrets: [SECRET] });
  process.env.CW_T_EXPORT_HOOK = SECRET;
  process.env.CW_T_EXPORT_PD = randomBytes(16).toString('hex');
  files = writeTestFiles(
    {
      redis: { prefix: r.prefix },
      aws: { accounts: [{ id: ACCT, name: 'prod' }] },
      policies: ['policies.yaml'],
      alerts: {
        sinks: [
          { name: 'hook', type: 'webhook', url: `${hook.url}/exports`, secrets: [env('CW_T_EXPORT_HOOK')] },
          { name: 'pd', type: 'pagerduty', routingKey: env('CW_T_EXPORT_PD'), url: `${hook.url}/pd` },
        ],
      },
      evidence: {
        exports: [
          { name: 'hub-file', format: 'asff', schedule: '*/5 * * * *', file: 'exports/asff.json' },
          { name: 'siem', format: 'ocsf', schedule: '0 * * * *', sink: 'hook' },
          { name: 'hub-hook', format: 'asff', schedule: '30 * * * *', sink: 'hook' },
          { name: 'wrong-sink', format: 'csv', schedule: '0 0 * * *', sink: 'pd' },
        ],
        asff: { accountId: HUB, region: 'eu-west-1' },
      },
    },
    { agents: [] },
  );
  writeFileSync(join(files.dir, 'policies.yaml'), POLICY_YAML);
  app = await testApp(files, clock);
  await seed([OPEN_AWS, SUPPRESSED_AWS, RESOLVED_VAULT, MERGED]);
  await r.redis.hset(
    `${r.keyPrefix}:scores:credentials`,
    OPEN_AWS.credentialId,
    JSON.stringify({
      credentialId: OPEN_AWS.credentialId,
      agentId: 'deploy-agent',
      score: 42,
      vector: {},
      factors: [],
      top: [],
    }),
  );
});
afterAll(async () => {
  await app?.close();
  await hook?.close();
});

describe('credwarden findings --format', () => {
  it('ocsf: every finding but merged, each event valid against the OCSF 1.5.0 schema; exit 1 with open findings', async () => {
    const { code, out } = await cli('--state', 'all', '--format', 'ocsf');
    expect(code).toBe(1);
    const events = JSON.parse(out) as { class_uid: number; finding_info: { uid: string }; unmapped: unknown }[];
    expect(events.filter((e) => e.class_uid === 2004).map((e) => e.finding_info.uid)).toEqual([
      SUPPRESSED_AWS.fingerprint, // critical first, as the table sorts
      RESOLVED_VAULT.fingerprint,
      OPEN_AWS.fingerprint,
    ]);
    expect(events.filter((e) => e.class_uid === 2003)).toHaveLength(4);
    for (const e of events) expect(ocsfSchemaErrors(e)).toEqual([]);
    expect(events.at(-1)).toMatchObject({
      unmapped: { credwarden: { score: 42 } },
      metadata: { product: { version: expect.stringMatching(/^\d+\.\d+\.\d+/) } },
    });
  });

  it('asff: the filters hold (open by default); with evidence.asff.accountId Vault findings are in', async () => {
    const open = await cli('--format', 'asff');
    expect(open.code).toBe(1);
    expect((JSON.parse(open.out) as { Id: string }[]).map((f) => f.Id)).toEqual([`credwarden/${OPEN_AWS.fingerprint}`]);
    const all = await cli('--state', 'all', '--format', 'asff');
    const list = JSON.parse(all.out) as { AwsAccountId: string; ProductArn: string; Resources: { Type: string }[] }[];
    expect(list.map((f) => [f.AwsAccountId, f.Resources[0]!.Type])).toEqual([
      [ACCT, 'AwsIamRole'],
      [HUB, 'Other'],
      [ACCT, 'AwsIamAccessKey'],
    ]);
    expect(new Set(list.map((f) => f.ProductArn))).toEqual(
      new Set([`arn:aws:securityhub:eu-west-1:${HUB}:product/${HUB}/default`]),
    );
    expect(all.err).toBe('');
  });

  it('csv: the table as RFC 4180 text; sarif: a valid SARIF 2.1.0 log', async () => {
    const csv = await cli('--state', 'resolved', '--format', 'csv');
    expect(csv.code).toBe(0);
    const rows = parseCsv(csv.out);
    expect(rows).toHaveLength(2);
    expect(rows[1]![0]).toBe(RESOLVED_VAULT.fingerprint);
    const sarif = await cli('--state', 'all', '--severity', 'critical', '--format', 'sarif');
    expect(sarif.code).toBe(0); // the one critical finding is suppressed, not open
    const log = JSON.parse(sarif.out);
    expect(sarifSchemaErrors(log)).toEqual([]);
    expect(log.runs[0].results.map((x: { ruleId: string }) => x.ruleId)).toEqual(['agent-admin-equivalent']);
    expect(log.runs[0].tool.driver.rules.map((x: { id: string }) => x.id)).toEqual(POLICIES.map((p) => p.name).sort());
  });

  it('a bad --format, or --format with --json, is a usage error naming --format (exit 2)', async () => {
    const bad = await cli('--format', 'xml');
    expect(bad).toMatchObject({ code: 2, out: '' });
    expect(bad.err).toContain('--format must be one of ocsf, asff, csv, sarif, got "xml"');
    const both = await run(['--config', files.configPath, '--json', 'findings', '--format', 'ocsf'], capture());
    expect(both).toBe(2);
    const io = capture();
    await run(['--config', files.configPath, '--json', 'findings', '--format', 'csv'], io);
    expect(io.stderr.join('\n')).toContain('--format and --json cannot be used together');
  });
});

describe('scheduled exports', () => {
  let queues: Queues;
  let workers: Workers;

  beforeAll(async () => {
    await seed([OPEN_AWS, SUPPRESSED_AWS, RESOLVED_VAULT, MERGED, ...EXTRA]);
    queues = createQueues(app);
    workers = startWorkers(app, queues);
  });
  afterAll(async () => {
    await workers?.close(5000);
    if (queues) await closeQueues(queues);
  });

  it('one job scheduler per export, upserted under the schedule lock; a dropped export is pruned', async () => {
    await queues.export.upsertJobScheduler(exportSchedulerId('gone'), { pattern: '0 0 1 1 *', tz: 'UTC' });
    const exports = app.config.evidence.exports;
    const states = await upsertSchedules(
      app.redis,
      app.config.redis.prefix,
      exports.map((e) => exportSchedule(queues.export, e)),
    );
    expect(states.map((s) => [s.upserted, s.pattern])).toEqual(exports.map((e) => [true, e.schedule]));
    expect(
      await pruneExportSchedules(
        queues.export,
        exports.map((e) => e.name),
      ),
    ).toEqual([exportSchedulerId('gone')]);
    const ids = (await queues.export.getJobSchedulers()).map((s) => s.key).sort();
    expect(ids).toEqual(exports.map((e) => exportSchedulerId(e.name)).sort());
  });

  it('each tick writes its file or posts to its webhook, audited once; a non-webhook sink fails for good', async () => {
    const delayed = await until('the schedulers’ next jobs', async () => {
      const d = await queues.export.getDelayed();
      return d.length === 4 && d;
    });
    for (const j of delayed) await j.promote();
    const ids = delayed.map((j) => j.id!);
    const states = await until('every export job to settle', async () => {
      const s = await Promise.all(ids.map(async (id) => [id, await (await queues.export.getJob(id))?.getState()]));
      return s.every(([, st]) => st === 'completed' || st === 'failed') && Object.fromEntries(s);
    });
    const byName = (n: string) => ids.find((id) => id.includes(exportSchedulerId(n)))!;
    expect([byName('hub-file'), byName('siem'), byName('hub-hook')].map((id) => states[id])).toEqual([
      'completed',
      'completed',
      'completed',
    ]);
    const wrong = await queues.export.getJob(byName('wrong-sink'));
    expect(states[byName('wrong-sink')]).toBe('failed');
    expect(wrong?.attemptsMade).toBe(1); // not retried: a config error cannot heal itself
    expect(wrong?.failedReason).toContain('sink "pd" is a pagerduty sink, not a webhook');

    // The file: the whole ASFF list (153 findings: merged left out), no temporary file left behind.
    const dir = join(files.dir, 'exports');
    expect(readdirSync(dir)).toEqual(['asff.json']);
    expect(JSON.parse(readFileSync(join(dir, 'asff.json'), 'utf8'))).toHaveLength(153);

    // The webhook: every request verified by the receiver's own Standard Webhooks verifier.
    expect(hook.requests.every((q) => q.verified)).toBe(true);
    const bodies = hook.requests.map((q) => q.json as Record<string, unknown>);
    const ocsf = bodies.filter((b) => b.export === 'siem');
    expect(ocsf.map((b) => [b.type, b.format, b.part, b.parts])).toEqual([['credwarden.export', 'ocsf', 1, 1]]);
    const events = ocsf[0]!.events as { class_uid: number }[];
    expect(events).toHaveLength(153 + 151 * 2 + 1 + 1);
    for (const e of events.slice(0, 10)) expect(ocsfSchemaErrors(e)).toEqual([]);
    const asff = bodies.filter((b) => b.export === 'hub-hook').sort((a, b) => Number(a.part) - Number(b.part));
    expect(asff.map((b) => [b.part, b.parts, b.count, (b.Findings as unknown[]).length])).toEqual([
      [1, 2, 100, 100],
      [2, 2, 53, 53],
    ]);
    const tick = byName('hub-hook').split(':').at(-1);
    expect(
      hook.requests
        .filter((q) => (q.json as { export: string }).export === 'hub-hook')
        .map((q) => q.headers['webhook-id'])
        .sort(),
    ).toEqual([`cwexport_hub-hook_${tick}_1`, `cwexport_hub-hook_${tick}_2`]);

    // Audited once each, with the target but never the sink's URL or secret.
    const written = await auditOf('export.written');
    expect(written.map((e) => [e.subject, e.data.format, e.data.count, e.data.parts, e.data.target]).sort()).toEqual([
      ['export/hub-file', 'asff', 153, 1, { file: join(dir, 'asff.json') }],
      ['export/hub-hook', 'asff', 153, 2, { sink: 'hook' }],
      ['export/siem', 'ocsf', events.length, 1, { sink: 'hook' }],
    ]);
    const text = JSON.stringify(written);
    expect(text).not.toContain(SECRET.slice(6));
    expect(text).not.toContain(hook.url);

    // The same tick again (a retry after a crash) re-sends the same webhook ids and audits nothing new.
    const siemId = hook.requests.find((q) => (q.json as { export: string }).export === 'siem')?.headers['webhook-id'];
    expect(siemId).toBe(`cwexport_siem_${byName('siem').split(':').at(-1)}_1`);
    await runExport(app, 'siem', Number(byName('siem').split(':').at(-1)));
    expect(hook.requests.at(-1)?.headers['webhook-id']).toBe(siemId);
    expect(await auditOf('export.written')).toHaveLength(3);
  });

  it('a webhook 4xx fails the export for good; a 5xx is retryable', async () => {
    hook.respondWith([400]);
    await expect(runExport(app, 'siem', 1)).rejects.toMatchObject({
      retryable: false,
      message: expect.stringContaining('HTTP 400'),
    });
    hook.respondWith([503]);
    await expect(runExport(app, 'siem', 2)).rejects.toMatchObject({ retryable: true });
    expect(await runExport(app, 'no-such-export', 3)).toBeNull();
  });
});
