/**
 * Remediation's alert transitions (alerts/remediation-notices.ts) through the real delivery path:
 * notices stored and queued as deliver jobs, the workers' deliver processor sending them to the
 * local receivers (PagerDuty's schema, Slack's limits, Standard Webhooks signatures).
 *
 * Pinned: a done action is one PagerDuty Change Event (the change endpoint, its fields) and one
 * line on the owner's route only; a failed one says FAILED; a held one is a Slack line and no
 * PagerDuty; a held batch is one real page (dedup key `batch-held:<scan>:<policy>`, the numbers)
 * however often it is reported; a settled action reported twice is delivered once; a hostile
 * principal name and detail arrive escaped; no routing key or webhook URL reaches another receiver.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWorkers, type Workers } from '../../jobs/workers.js';
import type { App } from '../../src/main.js';
import type { ActionPlan, ActionRecord, ActionResult } from '../../src/model/action.js';
import { queueDeliveries } from '../../src/queue/deliveries.js';
import { closeQueues, createQueues, type Queues } from '../../src/queue/runtime.js';
import { sleep } from '../../src/util/concurrency.js';
import { testApp, writeTestFiles } from '../support/app.js';
import { type PdReceived, startPagerDutyReceiver } from '../support/receivers/pagerduty.js';
import type { Receiver } from '../support/receivers/server.js';
import { type SlackReceived, startSlackReceiver } from '../support/receivers/slack.js';
import { startWebhookReceiver, type WebhookReceived } from '../support/receivers/webhook.js';
import { useRedis } from '../support/redis.js';

const r = useRedis('alerts-remediation');
const ROUTING_KEY = randomBytes(16).toString('hex');
const WEBHOOK_SECRET = `whsec_${randomBytes(32).toString('base64')}`;
const ACCOUNT = '111111111111';
const HOSTILE = `<!channel> *pwn* <https://evil.example|click>\u0007\u202E`;
const env = (n: string) => ['$', `{env:${n}}`].join('');

let pd: Receiver<PdReceived>;
let pay: Receiver<SlackReceived>;
let sec: Receiver<SlackReceived>;
let hook: Receiver<WebhookReceived>;
let app: App;
let queues: Queues;
let workers: Workers;

function plan(n: number, over: Partial<ActionPlan> = {}): ActionPlan {
  const keyId = `AKIAEXAMPLE${String(n).padStart(9, '0')}`;
  const credentialId = `aws/${ACCOUNT}/access-key/${keyId}`;
  return {
    id: `pln_${n}`,
    action: 'deactivate-key',
    params: {},
    policy: 'stale-keys',
    policyMode: 'enforce',
    findingFingerprint: `stale-keys:${credentialId}`,
    severity: 'high',
    agentId: 'invoice-bot',
    owner: { team: 'payments', contact: 'pay@example.com' },
    environment: 'prod',
    tags: {},
    credentialCreatedAt: null,
    target: {
      credentialId,
      kind: 'aws-access-key',
      sourceType: 'aws',
      source: ACCOUNT,
      principal: `arn:aws:iam::${ACCOUNT}:user/svc-invoice-bot`,
      identity: { accessKeyId: keyId, userName: 'svc-invoice-bot' },
    },
    reversible: true,
    evidenceHash: `h${n}`,
    facts: [{ message: 'unused for 120 days', evidence: [], detector: 'unused' }],
    message: `deactivate ${keyId}`,
    scanId: 'rs-1',
    plannedAt: new Date().toISOString(),
    ...over,
  };
}

function settled(p: ActionPlan, outcome: ActionResult['outcome'], detail: string, attempt = 1): ActionRecord {
  const at = new Date().toISOString();
  const state = outcome === 'already-done' ? 'done' : outcome;
  return {
    plan: p,
    decision: { decision: 'allow', reasons: [], decidedAt: at },
    state,
    attempt,
    approvals: [],
    result: { outcome, preState: null, postState: null, detail, at },
    history: [],
    updatedAt: at,
  };
}

async function until(what: string, ok: () => Promise<boolean> | boolean, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** Every queued delivery has settled. */
async function drained(): Promise<void> {
  await until('deliveries to settle', async () => {
    for (const q of queues.alerts.values()) {
      const c = await q.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
      if (Object.values(c).some((n) => n > 0)) return false;
    }
    return true;
  });
}

const counts = () => [pd.requests.length, pay.requests.length, sec.requests.length, hook.requests.length];
type Change = {
  routing_key: string;
  payload: { summary: string; source: string; custom_details: Record<string, string> };
  links?: { href: string }[];
};

describe('remediation alert transitions', () => {
  beforeAll(async () => {
    [pd, pay, sec, hook] = await Promise.all([
      startPagerDutyReceiver(),
      startSlackReceiver(),
      startSlackReceiver(),
      startWebhookReceiver({ secrets: [WEBHOOK_SECRET] }),
    ]);
    Object.assign(process.env, {
      CW_TR_PD: ROUTING_KEY,
      CW_TR_PAY: `${pay.url}/services/T/B/paypath`,
      CW_TR_SEC: `${sec.url}/services/T/B/secpath`,
      CW_TR_HOOK: WEBHOOK_SECRET,
    });
    const files = writeTestFiles(
      {
        redis: { prefix: r.prefix },
        alerts: {
          sinks: [
            { name: 'pd', type: 'pagerduty', routingKey: env('CW_TR_PD'), url: `${pd.url}/v2/enqueue` },
            { name: 'pay', type: 'slack', webhookUrl: env('CW_TR_PAY') },
            { name: 'sec', type: 'slack', webhookUrl: env('CW_TR_SEC') },
            { name: 'hook', type: 'webhook', url: `${hook.url}/credwarden`, secrets: [env('CW_TR_HOOK')] },
          ],
          routes: [
            { match: { teams: ['payments'] }, page: ['pd'], digest: ['pay'] },
            { page: ['pd'], digest: ['sec', 'hook'] },
          ],
          delivery: { attempts: 3, backoffMs: 20 },
          runbookUrl: 'https://runbooks.example.com/credwarden/{policy}',
        },
      },
      { agents: [] },
    );
    app = await testApp(files);
    queues = createQueues(app);
    // What queue/runtime.ts does: bind the notices to the sinks' delivery queues.
    app.alerts.remediationNotices.setEnqueue((n) => queueDeliveries(queues.alerts, n, app.config.alerts.delivery));
    workers = startWorkers(app, queues);
  });
  afterAll(async () => {
    await workers?.close(5000);
    if (queues) await closeQueues(queues);
    await app?.close();
    await Promise.all([pd?.close(), pay?.close(), sec?.close(), hook?.close()]);
  });

  it('a done action: one Change Event and one line on the owner route; reported twice, delivered once', async () => {
    const rec = settled(plan(1), 'done', 'key set Inactive; read back Inactive');
    const notices = app.alerts.remediationNotices;
    await notices.actionSettled(rec);
    await drained();
    await notices.actionSettled(rec);
    await drained();
    expect(counts()).toEqual([1, 1, 0, 0]);
    const ev = pd.requests[0]!;
    expect(ev).toMatchObject({ path: '/v2/change/enqueue', status: 202, valid: true });
    const body = ev.json as Change;
    expect(body.routing_key).toBe(ROUTING_KEY);
    expect(body.payload.source).toBe('credwarden');
    expect(body.payload.summary).toContain('IAM user svc-invoice-bot');
    expect(body.payload.summary).toContain(`deactivate-key done on ${rec.plan.target.credentialId}`);
    expect(body.payload.custom_details).toMatchObject({
      plan: 'pln_1',
      action: 'deactivate-key',
      attempt: '1',
      credential: rec.plan.target.credentialId,
      principal: rec.plan.target.principal,
      outcome: 'done',
      detail: 'key set Inactive; read back Inactive',
      owner: 'payments (pay@example.com)',
    });
    expect(body.links).toEqual([{ href: 'https://runbooks.example.com/credwarden/stale-keys', text: 'Runbook' }]);
    const line = pay.requests[0]!;
    expect(line.valid).toBe(true);
    expect(line.rawBody).toContain('DONE');
    expect(line.rawBody).toContain('remediation update for payments');
    // Delivered once, audited once per notice by the deliver path.
    const sent = (await app.audit.read(1)).filter((e) => e.type === 'alert.sent');
    expect(sent.map((e) => `${e.data.sink} ${e.data.mode}`).sort()).toEqual(['pay digest', 'pd change']);
  });

  it('a done action resolves the page its finding opened, once, on the sinks that paged; a failed one does not', async () => {
    const key = `${r.keyPrefix}:alerts:paged`;
    const fixed = plan(7);
    const failed = plan(8);
    await app.redis.hset(key, fixed.findingFingerprint, JSON.stringify(['pd']), failed.findingFingerprint, '["pd"]');
    const before = pd.requests.length;
    const notices = app.alerts.remediationNotices;
    await notices.actionSettled(settled(failed, 'failed', 'AccessDenied'));
    await notices.actionSettled(settled(fixed, 'done', 'key set Inactive; read back Inactive'));
    await drained();
    // A retry of the same settled action (a crash after the send) sends nothing more.
    await notices.actionSettled(settled(fixed, 'done', 'key set Inactive; read back Inactive'));
    await drained();
    const got = pd.requests.slice(before);
    const resolves = got.filter((e) => (e.json as { event_action?: string }).event_action === 'resolve');
    expect(resolves).toHaveLength(1);
    expect(resolves[0]).toMatchObject({ path: '/v2/enqueue', valid: true });
    expect(resolves[0]!.json).toEqual({
      routing_key: ROUTING_KEY,
      event_action: 'resolve',
      dedup_key: fixed.findingFingerprint,
    });
    expect(got.filter((e) => e.path === '/v2/change/enqueue')).toHaveLength(2);
    // The page is forgotten once resolved; the failed action's finding still has its page.
    expect(await app.redis.hget(key, fixed.findingFingerprint)).toBeNull();
    expect(await app.redis.hget(key, failed.findingFingerprint)).toBe('["pd"]');
  });

  it('a failed action: the Change Event says it failed; a later attempt is its own notice', async () => {
    const before = counts();
    await app.alerts.remediationNotices.actionSettled(settled(plan(2), 'failed', 'AccessDenied: iam:UpdateAccessKey'));
    await drained();
    expect(counts()).toEqual([before[0]! + 1, before[1]! + 1, before[2], before[3]]);
    const body = pd.requests.at(-1)!.json as Change;
    expect(pd.requests.at(-1)!.valid).toBe(true);
    expect(body.payload.summary).toMatch(/deactivate-key FAILED on .*: AccessDenied: iam:UpdateAccessKey/);
    expect(body.payload.custom_details).toMatchObject({
      outcome: 'failed',
      detail: 'AccessDenied: iam:UpdateAccessKey',
    });
    expect(pay.requests.at(-1)!.rawBody).toContain('FAILED');

    await app.alerts.remediationNotices.actionSettled(settled(plan(2), 'done', 'key set Inactive', 2));
    await drained();
    expect(counts()).toEqual([before[0]! + 2, before[1]! + 2, before[2], before[3]]);
    expect((pd.requests.at(-1)!.json as Change).payload.custom_details).toMatchObject({
      attempt: '2',
      outcome: 'done',
    });
  });

  it('an action held at execution: a Slack line, no PagerDuty', async () => {
    const before = counts();
    await app.alerts.remediationNotices.actionSettled(settled(plan(3), 'held', 'remediation is paused'));
    await drained();
    expect(counts()).toEqual([before[0], before[1]! + 1, before[2], before[3]]);
    expect(pay.requests.at(-1)!.rawBody).toContain('HELD');
    expect(pay.requests.at(-1)!.rawBody).toContain('remediation is paused');
  });

  it('a held batch: one real page with the dedup key and the numbers, once, plus the digest lines', async () => {
    const before = counts();
    const plans = [plan(10), plan(11), plan(12, { owner: null, agentId: null, severity: 'critical' })];
    const reason = 'cap exceeded: 3 actions (max 2 per run)';
    await app.alerts.remediationNotices.batchHeld('rs-1', 'stale-keys', plans, reason);
    await app.alerts.remediationNotices.batchHeld('rs-1', 'stale-keys', plans, reason);
    await drained();
    // One page (both routes page pd: one notice), and a line on each route's digest sinks.
    expect(counts()).toEqual([before[0]! + 1, before[1]! + 1, before[2]! + 1, before[3]! + 1]);
    const page = pd.requests.at(-1)!;
    expect(page).toMatchObject({ path: '/v2/enqueue', status: 202, valid: true });
    const ev = page.json as {
      event_action: string;
      dedup_key: string;
      payload: { summary: string; severity: string; custom_details: { remediation: Record<string, unknown> } };
    };
    expect(ev.event_action).toBe('trigger');
    expect(ev.dedup_key).toBe('batch-held:rs-1:stale-keys');
    expect(ev.payload.severity).toBe('critical');
    expect(ev.payload.summary).toContain('policy stale-keys: 3 plans not run');
    expect(ev.payload.summary).toContain(reason);
    expect(ev.payload.custom_details.remediation).toMatchObject({ outcome: 'batch-held', plans: 3, detail: reason });
    expect(pay.requests.at(-1)!.rawBody).toContain('BATCH HELD');
    // The webhook: signed as usual, the notice's JSON body.
    const h = hook.requests.at(-1)!;
    expect(h.verified).toBe(true);
    expect(h.json).toMatchObject({
      type: 'credwarden.alert',
      mode: 'digest',
      items: [{ transition: 'batch-held', remediation: { plans: 3, outcome: 'batch-held' } }],
    });
  });

  it('a hostile principal name and detail arrive escaped; no secret reaches another receiver', async () => {
    const before = counts();
    const hostile = plan(20, {
      owner: null,
      // IAM names cannot hold these characters, but a principal is untrusted text wherever it came from.
      target: { ...plan(20).target, principal: `arn:aws:iam::${ACCOUNT}:user/<!here>*pwn*\u202E` },
    });
    await app.alerts.remediationNotices.actionSettled(settled(hostile, 'cancelled', `facts changed: ${HOSTILE}`));
    await drained();
    expect(counts()).toEqual([before[0]! + 1, before[1], before[2]! + 1, before[3]! + 1]);
    const slackText = sec.requests.at(-1)!.rawBody;
    expect(sec.requests.at(-1)!.valid).toBe(true);
    expect(slackText).toContain('CANCELLED');
    expect(slackText).not.toContain('<!channel>');
    expect(slackText).not.toContain('<https://evil.example|click>');
    expect(slackText).not.toContain('<!here>');
    // The name is shown, inert: entity-escaped inside a code span (no formatting applies there).
    expect(slackText).toContain('IAM user `&lt;!here&gt;*pwn*`');
    const pdText = pd.requests.at(-1)!.rawBody;
    for (const t of [slackText, pdText, hook.requests.at(-1)!.rawBody]) {
      expect(t.includes('\u0007') || t.includes('\u202E') || t.includes('\\u0007') || t.includes('\\u202e')).toBe(
        false,
      );
    }
    const others = [...pay.requests, ...sec.requests, ...hook.requests].map((q) => q.rawBody).join('\n');
    expect(others).not.toContain(ROUTING_KEY);
    const all = [...pd.requests.map((q) => q.rawBody), others].join('\n');
    expect(all).not.toContain(WEBHOOK_SECRET);
    expect(all).not.toContain('paypath');
    expect(all).not.toContain('secpath');
  });
});
