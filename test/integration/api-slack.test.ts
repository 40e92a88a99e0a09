/**
 * Slack interactive approvals end to end (issue 12): the real server (inject, a form body signed
 * here as Slack signs it), real Redis, a real BullMQ worker on `decisions`, a local HTTP receiver
 * standing in for each click's response_url, and real held actions: moto keys never used, a
 * policy whose deactivate-key needs two approvers, scanned and planned into `awaiting-approval`.
 *
 * The cases share one estate and run in order: agent-a is approved by two people (refusals and a
 * replay along the way), agent-d is denied and then clicked again, agent-w is clicked while the
 * worker is stopped.
 */
import type { Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decideProcessor } from '../../jobs/decide.processor.js';
import type { SlackBlock, SlackButton } from '../../src/alerts/sinks/slack.sink.js';
import { signatureHash, slackSignature } from '../../src/api/slack.js';
import type { ActionRecord } from '../../src/model/action.js';
import { type DecidePayload, ids, QueueNames } from '../../src/queue/names.js';
import { bullPrefix } from '../../src/queue/runtime.js';
import { type TestApi, testApi, testTokens } from '../support/api.js';
import { useMoto } from '../support/moto.js';
import { type Received, type Receiver, startReceiver } from '../support/receivers/server.js';
import { type SlackReceived, startSlackReceiver } from '../support/receivers/slack.js';
import { keysOf, testWorker, useRedis } from '../support/redis.js';
import { neverUsedPolicy, type Scenario, scenario, seedUsers } from '../support/remediation-env.js';

const moto = useMoto();
const r = useRedis('api-slack');
const SECRET = 'slack-signing-secret-for-this-test-run';
const env = (name: string) => ['$', `{env:${name}}`].join('');
const USERS = { U0ONCALLA: 'oncall-a', U0ONCALLB: 'oncall-b', U0VIEWER: 'viewer' };

let sc: Scenario;
let api: TestApi;
let answers: Receiver<Received>;
let chat: Receiver<SlackReceived>;
let worker: Worker | null = null;
const plan: Record<string, string> = {};
let clicks = 0;

const startWorker = () => {
  worker = testWorker<DecidePayload>(
    QueueNames.decisions,
    decideProcessor({
      people: sc.app.people,
      responseHosts: () => sc.app.config.api.slack?.responseHosts ?? [],
      approvers: () => sc.app.config.remediation.approvals.approvers,
      log: sc.app.log,
    }),
    sc.app.config.redis.prefix,
    { prefix: bullPrefix(sc.app, QueueNames.decisions) },
  );
};

async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, ms = 10_000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((res) => setTimeout(res, 25));
  }
}

interface Sent {
  body: string;
  ts: string;
  signature: string;
  path: string;
}

/** A click as Slack sends it: a fresh trigger_id and response_url path per click, signed now. */
function clickOf(user: string, action: 'approve' | 'deny', planId: string, o: { ts?: number } = {}): Sent {
  const n = ++clicks;
  const path = `/r/${n}`;
  const payload = {
    type: 'block_actions',
    user: { id: user, username: user.toLowerCase() },
    trigger_id: `trigger-${n}`,
    actions: [{ action_id: `credwarden.${action}`, value: planId, type: 'button', action_ts: `${Date.now()}.${n}` }],
    response_url: `${answers.url}${path}`,
  };
  const body = `payload=${encodeURIComponent(JSON.stringify(payload))}`;
  const ts = String(o.ts ?? Math.floor(Date.now() / 1000));
  return { body, ts, signature: slackSignature(SECRET, ts, body), path };
}

const send = (c: Sent, signature = c.signature) =>
  api.server.inject({
    method: 'POST',
    url: '/slack/interactions',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-slack-request-timestamp': c.ts,
      'x-slack-signature': signature,
    },
    payload: c.body,
  });

const answerAt = (path: string) =>
  until(`an answer at ${path}`, () => {
    const got = answers.requests.find((q) => q.path === path);
    return got ? (got.json as { text: string; response_type: string; replace_original: boolean }) : undefined;
  });
const jobOf = (c: Sent) => api.queues.decisions.getJob(ids.decide(signatureHash(c.signature)));
const decisionJobs = async () => (await api.queues.decisions.getJobCounts()) as Record<string, number>;
const totalJobs = async () => Object.values(await decisionJobs()).reduce((a, b) => a + b, 0);
const show = async (id: string): Promise<ActionRecord> => (await sc.app.remediation.show(id))!;
const ofType = async (type: string) => (await sc.audit()).filter((e) => e.type === type);

beforeAll(async () => {
  process.env.CW_T_SLACK_SECRET = SECRET;
  [answers, chat] = await Promise.all([
    startReceiver<Received>({ inspect: (b) => b, natural: () => ({ status: 200, body: 'ok' }), bodyFor: () => 'x' }),
    startSlackReceiver(),
  ]);
  process.env.CW_T_SLACK_CHAT = `${chat.url}/services/T/B/x`;
  const tokens = await testTokens();
  await seedUsers(
    moto.endpoint,
    ['agent-a', 'agent-d', 'agent-w'].map((name) => ({ name, keys: ['active'] })),
  );
  sc = await scenario({
    motoEndpoint: moto.endpoint,
    prefix: r.prefix,
    policies: neverUsedPolicy('[deactivate-key]'),
    remediation: { approvals: { required: [{ actions: ['deactivate-key'] }], approvers: 2, expiresHours: 24 } },
    config: {
      api: {
        tokens: tokens.config,
        slack: { signingSecret: env('CW_T_SLACK_SECRET'), users: USERS, responseHosts: ['127.0.0.1'] },
      },
      alerts: {
        sinks: [{ name: 'chat', type: 'slack', webhookUrl: env('CW_T_SLACK_CHAT') }],
        routes: [{ digest: ['chat'] }],
      },
    },
  });
  // The API's queues bind remediation and its notices to BullMQ (as `credwarden serve` does).
  api = await testApi(sc.app, tokens);
  await sc.scan('scan-1');
  await sc.app.remediation.planScan('scan-1');
  for (const rec of await sc.app.remediation.list()) plan[rec.plan.target.identity.userName!] = rec.plan.id;
  startWorker();
}, 120_000);

afterAll(async () => {
  await worker?.close();
  await api?.close();
  await sc?.close();
  await answers?.close();
  await chat?.close();
});

describe('POST /slack/interactions', () => {
  it('starts from three actions awaiting approval', async () => {
    expect(Object.keys(plan).sort()).toEqual(['agent-a', 'agent-d', 'agent-w']);
    for (const id of Object.values(plan)) expect((await show(id)).state).toBe('awaiting-approval');
  });

  it('the Slack message of a held action carries Approve and Deny with its plan id', async () => {
    const jobs = await api.queues.alerts.get('chat')!.getJobs(['waiting', 'delayed', 'prioritized']);
    expect(jobs).toHaveLength(3);
    for (const j of jobs) expect((await sc.app.alerts.deliver(j.data.notificationId, 1, 1)).ok).toBe(true);
    expect(chat.requests.map((q) => q.errors)).toEqual([[], [], []]);
    const buttons = chat.requests.map((q) => {
      const blocks = (q.json as { blocks: SlackBlock[] }).blocks;
      const actions = blocks.filter((b) => b.type === 'actions') as { elements: SlackButton[] }[];
      expect(actions).toHaveLength(1);
      return actions[0]!.elements.map((e) => [e.action_id, e.style, e.value, Boolean(e.confirm)]);
    });
    const values = buttons.map((b) => b[0]![2]).sort();
    expect(values).toEqual(Object.values(plan).sort());
    for (const b of buttons)
      expect(b).toEqual([
        ['credwarden.approve', 'primary', b[0]![2], false],
        ['credwarden.deny', 'danger', b[0]![2], true],
      ]);
  });

  it('refuses a bad signature (401) and queues nothing', async () => {
    const c = clickOf('U0ONCALLA', 'approve', plan['agent-a']!);
    const res = await send(c, slackSignature(`${SECRET}-wrong`, c.ts, c.body));
    expect([res.statusCode, res.json().error]).toEqual([
      401,
      { code: 'CW_ERR_UNAUTHENTICATED', message: 'invalid signature' },
    ]);
    const tampered = await send({ ...c, body: c.body.replace('approve', 'deny') });
    expect(tampered.statusCode).toBe(401);
    expect(await totalJobs()).toBe(0);
    expect(await keysOf(r.redis, `${r.keyPrefix}:slack:seen:*`)).toEqual([]);
  });

  it('refuses a stale timestamp (401), signed correctly or not', async () => {
    const old = clickOf('U0ONCALLA', 'approve', plan['agent-a']!, { ts: Math.floor(Date.now() / 1000) - 301 });
    const res = await send(old);
    expect([res.statusCode, res.json().error.message]).toEqual([401, 'stale timestamp']);
    expect(await totalJobs()).toBe(0);
  });

  it('an unmapped user and a viewer are answered, and nothing is decided or queued', async () => {
    const nobody = clickOf('U0NOBODY', 'approve', plan['agent-a']!);
    const res = await send(nobody);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ response_type: 'ephemeral', text: expect.stringContaining('not mapped') });
    expect((await answerAt(nobody.path)).text).toContain('Your Slack user is not mapped to a credwarden subject');
    const viewer = clickOf('U0VIEWER', 'approve', plan['agent-a']!);
    expect((await send(viewer)).json().text).toContain('do not grant actions:decide');
    expect((await answerAt(viewer.path)).text).toContain("viewer's roles (viewer) do not grant actions:decide");
    expect(await totalJobs()).toBe(0);
    expect((await show(plan['agent-a']!)).approvals).toEqual([]);
    expect(await ofType('approval.granted')).toEqual([]);
  });

  let first: Sent;
  it('a mapped on-call click is queued, answered at once, approved as user:<subject> with source slack', async () => {
    first = clickOf('U0ONCALLA', 'approve', plan['agent-a']!);
    const t0 = Date.now();
    const res = await send(first);
    expect(Date.now() - t0).toBeLessThan(1000);
    expect([res.statusCode, res.json().response_type]).toEqual([200, 'ephemeral']);
    const answer = await answerAt(first.path);
    expect(answer).toEqual({
      response_type: 'ephemeral',
      replace_original: false,
      text: `Approved by oncall-a: action ${plan['agent-a']} is awaiting-approval (1 of 2 approvals).`,
    });
    const granted = await ofType('approval.granted');
    expect(granted.map((e) => [e.actor, e.data.source, e.data.planId])).toEqual([
      ['user:oncall-a', 'slack', plan['agent-a']],
    ]);
    // The job keeps the answer, not the response_url (a capability for 30 minutes).
    const job = await jobOf(first);
    expect([await job!.getState(), job!.data.responseUrl, job!.data.subject]).toEqual(['completed', '', 'oncall-a']);
  });

  it('a replay of that exact request is acknowledged and does nothing: no second job, no second decision', async () => {
    const before = await totalJobs();
    const res = await send(first);
    expect([res.statusCode, res.json().text]).toEqual([200, expect.stringContaining('already received')]);
    expect(await totalJobs()).toBe(before);
    expect((await show(plan['agent-a']!)).approvals).toHaveLength(1);
  });

  it('the same user again is refused at response_url and counted once', async () => {
    const again = clickOf('U0ONCALLA', 'approve', plan['agent-a']!);
    expect((await send(again)).statusCode).toBe(200);
    expect((await answerAt(again.path)).text).toBe(
      `Not recorded: action ${plan['agent-a']} is already approved by user:oncall-a: a second approver must be someone else`,
    );
    expect(await (await jobOf(again))!.getState()).toBe('completed');
    expect((await show(plan['agent-a']!)).approvals.map((a) => a.by)).toEqual(['user:oncall-a']);
    expect(await ofType('approval.granted')).toHaveLength(1);
  });

  it('a second mapped person queues the action', async () => {
    const second = clickOf('U0ONCALLB', 'approve', plan['agent-a']!);
    await send(second);
    expect((await answerAt(second.path)).text).toBe(
      `Approved by oncall-b: action ${plan['agent-a']} is queued (2 of 2 approvals).`,
    );
    const rec = await show(plan['agent-a']!);
    expect([rec.state, rec.approvals.map((a) => a.by).sort()]).toEqual(['queued', ['user:oncall-a', 'user:oncall-b']]);
    expect(await api.queues.remediate.getJob(ids.remediate(rec.plan.id, `a${rec.attempt}`))).toBeDefined();
    expect((await ofType('approval.granted')).map((e) => [e.actor, e.data.source])).toEqual([
      ['user:oncall-a', 'slack'],
      ['user:oncall-b', 'slack'],
    ]);
  });

  it('Deny denies for good; a click on the denied action afterwards decides nothing', async () => {
    const deny = clickOf('U0ONCALLB', 'deny', plan['agent-d']!);
    await send(deny);
    expect((await answerAt(deny.path)).text).toBe(`Denied by oncall-b: action ${plan['agent-d']} is denied.`);
    const denied = await ofType('approval.denied');
    expect(denied.map((e) => [e.actor, e.data.source, e.data.reason])).toEqual([
      ['user:oncall-b', 'slack', 'denied from Slack'],
    ]);
    const jobs = await totalJobs();
    const late = clickOf('U0ONCALLA', 'approve', plan['agent-d']!);
    const res = await send(late);
    expect(res.json().text).toBe(`Action ${plan['agent-d']} is already denied; nothing was decided.`);
    expect((await answerAt(late.path)).text).toContain('is already denied');
    expect(await totalJobs()).toBe(jobs);
    expect((await show(plan['agent-d']!)).approvals).toEqual([]);
    expect(await ofType('approval.granted')).toHaveLength(2);
  });

  it('answers well under 3 s with the worker stopped: the decision is queued, made when a worker runs', async () => {
    await worker!.close();
    worker = null;
    const c = clickOf('U0ONCALLB', 'approve', plan['agent-w']!);
    const t0 = Date.now();
    const res = await send(c);
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(res.statusCode).toBe(200);
    const job = await jobOf(c);
    expect([await job!.getState(), job!.data.planId, job!.data.decision, job!.data.source]).toEqual([
      'waiting',
      plan['agent-w'],
      'approve',
      'slack',
    ]);
    await new Promise((res) => setTimeout(res, 200));
    expect((await show(plan['agent-w']!)).approvals).toEqual([]);
    startWorker();
    expect((await answerAt(c.path)).text).toContain(`Approved by oncall-b: action ${plan['agent-w']}`);
    expect((await show(plan['agent-w']!)).approvals.map((a) => a.by)).toEqual(['user:oncall-b']);
  });
});
