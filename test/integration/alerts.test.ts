/**
 * Alerting end to end: moto → scans through the queues (workers running) → evaluation → alert
 * plan → per-sink delivery jobs → local receivers that check PagerDuty's event schema, Slack's
 * limits, and Standard Webhooks signatures with their own verifier.
 *
 * Pinned: one page and one resolve (same dedup key) across three scans, and nothing on the quiet
 * scan in between; retries on 500 and 429, none on 400 (the failure stays visible); one digest per
 * owner; a child finding inhibited by its parent; a silence that expires (audited once); privilege
 * drift pages; a hostile tag arrives escaped; no secret value reaches any receiver.
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  DeleteUserPolicyCommand,
  PutRolePolicyCommand,
  PutUserPolicyCommand,
  TagUserCommand,
} from '@aws-sdk/client-iam';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWorkers, type Workers } from '../../jobs/workers.js';
import type { Io } from '../../src/cli/context.js';
import { run } from '../../src/cli/main.js';
import { ManualClock } from '../../src/clock.js';
import type { App } from '../../src/main.js';
import { ids, JobNames } from '../../src/queue/names.js';
import { closeQueues, createQueues, type Queues } from '../../src/queue/runtime.js';
import { sleep } from '../../src/util/concurrency.js';
import { ACCOUNT_A, registry, type SeededEstate, seedEstate } from '../fixtures/aws-estate.js';
import { type TestAppFiles, testApp, useMotoCredentialsEnv, writeTestFiles } from '../support/app.js';
import { doc, seederFor } from '../support/aws-seed.js';
import { useMoto } from '../support/moto.js';
import { type PdReceived, startPagerDutyReceiver } from '../support/receivers/pagerduty.js';
import type { Receiver } from '../support/receivers/server.js';
import { type SlackReceived, startSlackReceiver } from '../support/receivers/slack.js';
import { startWebhookReceiver, type WebhookReceived } from '../support/receivers/webhook.js';
import { useRedis } from '../support/redis.js';

const moto = useMoto();
const r = useRedis('alerts');
const START = Date.now() + 3_600_000;
const clock = new ManualClock(START);
const ROUTING_KEY = randomBytes(16).toString('hex');
const WEBHOOK_SECRET = `whsec_${randomBytes(32).toString('base64')}`;
const HOSTILE = `<!channel> *pwn* <https://evil.example|click>\u0007\u202E ${'x'.repeat(200)}`;
const env = (n: string) => ['$', `{env:${n}}`].join('');

let pd: Receiver<PdReceived>;
let slack: Receiver<SlackReceived>;
let hook: Receiver<WebhookReceived>;
let estate: SeededEstate;
let files: TestAppFiles;
let app: App;
let queues: Queues;
let workers: Workers;

const POLICIES = `
policies:
  - name: agent-admin
    description: Agent credential with admin-equivalent power
    resource: { agents: ["*", unregistered] }
    rules: [{ type: aws-admin }]
    severity: critical
  - name: agent-escalation
    description: Agent credential that can escalate
    resource: { agents: ["*", unregistered] }
    rules: [{ type: aws-privilege-escalation }]
    severity: high
  - name: unregistered
    description: Agent-looking credential nobody registered
    rules: [{ type: unregistered-agent }]
    severity: high
`;

async function until<T>(
  what: string,
  get: () => T | undefined | false | Promise<T | undefined | false>,
  ms = 20_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await get();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

async function scan(id: string): Promise<void> {
  await queues.scan.add(JobNames.startScan, { trigger: 'cli', scanId: id }, { jobId: ids.startScan(id) });
  // The evaluate job writes the evaluation, then plans and queues the alerts: wait for the job itself.
  await until(
    `evaluate job of ${id}`,
    async () => (await (await queues.evaluate.getJob(ids.evaluate(id)))?.isCompleted()) ?? false,
  );
}

/** Wait until every queued delivery has settled. */
async function drained(): Promise<void> {
  await until('deliveries to settle', async () => {
    for (const q of queues.alerts.values()) {
      const c = await q.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
      if (Object.values(c).some((n) => n > 0)) return false;
    }
    return true;
  });
}

const validPd = () => pd.requests.filter((q) => q.status === 202);

describe('alerts', () => {
  beforeAll(async () => {
    useMotoCredentialsEnv();
    estate = await seedEstate(moto.endpoint);
    [pd, slack, hook] = await Promise.all([
      startPagerDutyReceiver(),
      startSlackReceiver(),
      startWebhookReceiver({ secrets: [WEBHOOK_SECRET] }),
    ]);
    Object.assign(process.env, {
      CW_T_PD: ROUTING_KEY,
      CW_T_SLACK: `${slack.url}/services/T000/B000/secretpath`,
      CW_T_HOOK: WEBHOOK_SECRET,
    });
    const a = await seederFor(moto.endpoint, ACCOUNT_A);
    await a.iam.send(
      new PutUserPolicyCommand({ UserName: 'svc-invoice-bot', PolicyName: 'oops-admin', PolicyDocument: doc(['*']) }),
    );
    await a.iam.send(new TagUserCommand({ UserName: 'agent-scraper', Tags: [{ Key: 'note', Value: HOSTILE }] }));
    a.iam.destroy();
    files = writeTestFiles(
      {
        redis: { prefix: r.prefix },
        aws: { endpoint: moto.endpoint, accounts: [{ id: ACCOUNT_A, roleArn: `arn:aws:iam::${ACCOUNT_A}:role/r` }] },
        policies: ['policies.yaml'],
        alerts: {
          sinks: [
            { name: 'pd', type: 'pagerduty', routingKey: env('CW_T_PD'), url: `${pd.url}/v2/enqueue` },
            { name: 'slack', type: 'slack', webhookUrl: env('CW_T_SLACK') },
            { name: 'hook', type: 'webhook', url: `${hook.url}/credwarden`, secrets: [env('CW_T_HOOK')] },
          ],
          delivery: { attempts: 4, backoffMs: 20 },
          runbookUrl: 'https://runbooks.example.com/credwarden/{policy}',
          silences: [
            {
              id: 'runner-maintenance',
              matchers: { agents: ['runner'] },
              owner: 'platform@example.com',
              reason: 'role migration',
              expires: new Date(START + 2 * 86_400_000).toISOString(),
            },
          ],
        },
      },
      registry,
    );
    writeFileSync(join(files.dir, 'policies.yaml'), POLICIES);
    app = await testApp(files, clock);
    queues = createQueues(app);
    workers = startWorkers(app, queues);
  });
  afterAll(async () => {
    await workers?.close(5000);
    if (queues) await closeQueues(queues);
    await app?.close();
    await Promise.all([pd?.close(), slack?.close(), hook?.close()]);
  });

  it('scan 1: one page after retrying 500 and 429; digests per owner; the child inhibited; a 400 not retried', async () => {
    pd.respondWith([500, 429]);
    hook.respondWith([400]);
    await scan('a-1');
    await drained();
    const fp = `agent-admin:aws/${ACCOUNT_A}/access-key/${estate.keys['svc-invoice-bot']![0]!.accessKeyId}`;
    // 2 failed attempts then the accepted trigger; schema-valid; dedup key = the fingerprint.
    expect(pd.requests.map((q) => q.status)).toEqual([500, 429, 202]);
    expect(pd.requests.every((q) => q.valid)).toBe(true);
    expect(validPd()).toHaveLength(1);
    expect(validPd()[0]!.json).toMatchObject({
      event_action: 'trigger',
      dedup_key: fp,
      payload: { severity: 'critical', component: 'agent-admin', group: 'invoice-bot' },
      links: [{ href: 'https://runbooks.example.com/credwarden/agent-admin' }],
    });

    // Digests: one per owner team per sink (finance-eng for invoice-bot's inactive key; unowned for the unregistered).
    expect(slack.requests).toHaveLength(2);
    expect(slack.requests.every((q) => q.valid)).toBe(true);
    const hookOk = hook.requests.filter((q) => q.status < 300);
    expect(hook.requests.map((q) => q.status).sort()).toEqual([204, 400]);
    expect(hook.requests.every((q) => q.verified)).toBe(true);
    expect(hookOk).toHaveLength(1);

    // The 400 was not retried, and it stays visible.
    const io = capture();
    expect(await run(['--config', files.configPath, 'alerts', 'list', '--failed', '--json'], io)).toBe(0);
    // Newest first: the PagerDuty attempts that were retried, and the webhook's final 400 after one attempt.
    const failed = JSON.parse(io.stdout.join('')) as {
      sink: string;
      status: number;
      attempt: number;
      final: boolean;
    }[];
    expect(
      failed.map((d) => `${d.sink} ${d.status} attempt ${d.attempt} ${d.final ? 'final' : 'retried'}`).sort(),
    ).toEqual(['hook 400 attempt 1 final', 'pd 429 attempt 2 retried', 'pd 500 attempt 1 retried']);
    const audit = await app.audit.read(1);
    expect(audit.filter((e) => e.type === 'alert.failed')).toHaveLength(1);
    expect(
      audit
        .filter((e) => e.type === 'alert.sent')
        .map((e) => e.data.sink)
        .sort(),
    ).toEqual(['hook', 'pd', 'slack', 'slack']);

    // Inhibition: agent-escalation on the same keys is muted by the open admin finding.
    expect(audit.filter((e) => e.type === 'alert.inhibited').length).toBeGreaterThanOrEqual(1);
    const allText = [...slack.requests, ...hookOk].map((q) => q.rawBody).join('\n');
    expect(allText).not.toContain('agent-escalation');

    // The hostile tag arrives escaped in Slack: no live mention, no link markup, no control characters.
    const slackText = slack.requests.map((q) => q.rawBody).join('\n');
    expect(slackText).not.toContain('<!channel>');
    expect(slackText).not.toContain('<https://evil.example|click>');
    expect(slackText.includes('\u0007') || slackText.includes('\u202E')).toBe(false);
  });

  it('scan 2: nothing changed, so nothing is sent', async () => {
    const before = [pd.requests.length, slack.requests.length, hook.requests.length];
    clock.advance(3_600_000);
    await scan('a-2');
    // Observable, not a sleep: the plan for the scan is stored and holds no notification, and no
    // delivery job is left on any sink's queue, so nothing can still be on its way.
    expect(await app.alerts.plannedNotifications('a-2')).toEqual([]);
    await drained();
    expect([pd.requests.length, slack.requests.length, hook.requests.length]).toEqual(before);
  });

  it('scan 3: the fix resolves the page with the same dedup key', async () => {
    const a = await seederFor(moto.endpoint, ACCOUNT_A);
    await a.iam.send(new DeleteUserPolicyCommand({ UserName: 'svc-invoice-bot', PolicyName: 'oops-admin' }));
    a.iam.destroy();
    clock.advance(3_600_000);
    await scan('a-3');
    await drained();
    const events = validPd().map((q) => q.json as { event_action: string; dedup_key: string });
    expect(events.map((e) => e.event_action)).toEqual(['trigger', 'resolve']);
    expect(events[1]!.dedup_key).toBe(events[0]!.dedup_key);
  });

  it('privilege drift pages; a silence mutes, then expires (audited once)', async () => {
    const a = await seederFor(moto.endpoint, ACCOUNT_A);
    await a.iam.send(
      new PutRolePolicyCommand({
        RoleName: 'agent-runner-role',
        PolicyName: 'widen',
        PolicyDocument: doc(['iam:PutRolePolicy']),
      }),
    );
    a.iam.destroy();
    clock.advance(3_600_000);
    await scan('a-4');
    await drained();
    // The runner agent is silenced: nothing about it is sent, and each mute is audited.
    const silenced = (await app.audit.read(1)).filter((e) => e.type === 'alert.silenced');
    expect(silenced.length).toBeGreaterThanOrEqual(1);
    expect(validPd().some((q) => JSON.stringify(q.json).includes('agent-runner-role'))).toBe(false);

    // Past the silence: its expiry is audited once.
    clock.set(START + 3 * 86_400_000);
    await scan('a-5');
    await scan('a-6');
    const expired = (await app.audit.read(1)).filter((e) => e.type === 'silence.expired');
    expect(expired).toEqual([expect.objectContaining({ subject: 'runner-maintenance' })]);
  });

  it('privilege drift on an agent credential pages', async () => {
    const a = await seederFor(moto.endpoint, ACCOUNT_A);
    await a.iam.send(
      new PutUserPolicyCommand({
        UserName: 'svc-invoice-bot',
        PolicyName: 'self-service',
        PolicyDocument: doc(['iam:CreateAccessKey']),
      }),
    );
    a.iam.destroy();
    clock.advance(3_600_000);
    await scan('a-7');
    await drained();
    const drift = validPd()
      .map((q) => q.json as { dedup_key: string; payload?: { summary: string } })
      .filter((e) => e.dedup_key.startsWith('privilege-drift:'));
    expect(drift.map((e) => e.dedup_key).sort()).toEqual(
      estate.keys['svc-invoice-bot']!.map((k) => `privilege-drift:aws/${ACCOUNT_A}/access-key/${k.accessKeyId}`).sort(),
    );
    expect(drift[0]!.payload!.summary).toMatch(/gained escalation-capable permissions: iam:CreateAccessKey/);

    // Taking the permission away again resolves those pages, with the same dedup keys.
    const a2 = await seederFor(moto.endpoint, ACCOUNT_A);
    await a2.iam.send(new DeleteUserPolicyCommand({ UserName: 'svc-invoice-bot', PolicyName: 'self-service' }));
    a2.iam.destroy();
    clock.advance(3_600_000);
    await scan('a-8');
    await drained();
    const resolves = validPd()
      .map((q) => q.json as { event_action: string; dedup_key: string })
      .filter((e) => e.dedup_key.startsWith('privilege-drift:') && e.event_action === 'resolve');
    expect(resolves.map((e) => e.dedup_key).sort()).toEqual(drift.map((e) => e.dedup_key).sort());
  });

  it('no secret value reaches any receiver; alerts test works', async () => {
    const all = [...pd.requests, ...slack.requests, ...hook.requests].map((q) => q.rawBody).join('\n');
    // The PagerDuty routing key travels only to PagerDuty (it is the address, in the event body).
    expect([...slack.requests, ...hook.requests].map((q) => q.rawBody).join('\n')).not.toContain(ROUTING_KEY);
    for (const k of Object.values(estate.keys).flat()) expect(all).not.toContain(k.secretAccessKey);
    expect(all).not.toContain(WEBHOOK_SECRET);
    expect(all).not.toContain('secretpath');
    const io = capture();
    expect(await run(['--config', files.configPath, 'alerts', 'test', '--sink', 'hook'], io)).toBe(0);
    expect(io.stdout[0]).toMatch(/^hook: delivered \(204\)/);
    expect(hook.requests.at(-1)).toMatchObject({ verified: true });
    const bad = capture();
    expect(await run(['--config', files.configPath, 'alerts', 'test', '--sink', 'nope'], bad)).toBe(2);
    expect(bad.stderr[0]).toMatch(/--sink nope: no such sink \(configured: pd, slack, hook\)/);
  });
});

function capture(): Io & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (s) => stdout.push(s), err: (s) => stderr.push(s), stderrIsTty: false };
}
