/**
 * Every remediation guardrail observed end to end against moto (real SDK, real Redis, real audit
 * log): scan → evaluate → plan → guard → execute. Each test asserts the record's state, the
 * decision's reason codes, the audit events, and the keys as IAM's ListAccessKeys reports them.
 *
 * The breaker needs actions that FAIL (not cancelled): moto's IAM authorization is switched on
 * (POST /moto-api/reset-auth) after the remediation role has assumed its session, and that role
 * may list keys but not update them, so UpdateAccessKey is denied: a remediation role missing a
 * permission, the failure a breaker is for. The cap's page is read where alerting queues it for
 * delivery (a PagerDuty sink configured; the delivery queue bound to a list, as the remediate queue is).
 */
import { DeleteAccessKeyCommand } from '@aws-sdk/client-iam';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import type { Notification } from '../../src/alerts/types.js';
import { createRole, doc, type UserSpec } from '../support/aws-seed.js';
import { useMoto } from '../support/moto.js';
import { useRedis } from '../support/redis.js';
import {
  type AuditLine,
  agentUsers,
  codes,
  keyStatuses,
  keyStatusOf,
  neverUsedPolicy,
  nextUtc,
  pagerConfig,
  policyEntry,
  policyFile,
  type Scenario,
  scenario,
  seedUsers,
  setKeyStatus,
  useKeyAfter,
  withIam,
} from '../support/remediation-env.js';

const NEVER = '{ type: never-used, graceDays: 1 }';

const moto = useMoto();
const r = useRedis('rem-guard');
let n = 0;
let s: Scenario | undefined;

beforeEach(async () => {
  await s?.close();
  s = undefined;
  await moto.reset();
});
afterAll(() => s?.close());

const make = async (policies: string, remediation: Record<string, unknown> = {}, accountExtra = {}, config = {}) => {
  const prefix = `${r.prefix}-${++n}`;
  s = await scenario({ motoEndpoint: moto.endpoint, prefix, policies, remediation, accountExtra, config });
  return s;
};
const users = agentUsers;
const status = async (user: string) => Object.values(await keyStatuses(moto.endpoint, user));
const statusOf = async (sc: Scenario, id: string) => keyStatusOf(moto.endpoint, (await sc.app.remediation.show(id))!);
const ofType = (events: AuditLine[], type: string) => events.filter((e) => e.type === type);

describe('remediation guardrails end to end against moto', () => {
  it('caps: 11 actions over perPolicyPerRun 10 run NOTHING (every plan held cap-exceeded); a batch of 10 all runs', async () => {
    const made = await seedUsers(moto.endpoint, users('agent-cap', 11));
    const caps = { caps: { perPolicyPerRun: 10, percentPerRun: 100 } };
    const sc = await make(neverUsedPolicy('[deactivate-key]'), caps, {}, pagerConfig());
    const queuedNotes: Notification[] = [];
    sc.app.alerts.remediationNotices.setEnqueue(async (notes) => queuedNotes.push(...notes));
    const first = await sc.run('scan-1');
    expect([first.summary.plans, first.summary.queued, first.executed]).toEqual([11, [], []]);
    const held = await sc.app.remediation.list();
    expect(held).toHaveLength(11);
    for (const rec of held) {
      expect([rec.state, rec.decision.decision]).toEqual(['held', 'hold']);
      expect(rec.decision.reasons).toEqual([
        { guard: 'caps', code: 'cap-exceeded', message: 'agent-key-never-used: 11 actions > cap 10 per run' },
      ]);
    }
    const events = await sc.audit();
    expect(ofType(events, 'action.planned').map((e) => e.data.state)).toEqual(Array(11).fill('held'));
    expect(events.filter((e) => e.type === 'action.intent' || e.type === 'action.result')).toEqual([]);
    for (let i = 0; i < 11; i++) expect(await status(`agent-cap-${i}`)).toEqual(['Active']);
    // One page for the held batch, saying why.
    const why =
      'agent-key-never-used: 11 plans not run (deactivate-key): agent-key-never-used: 11 actions > cap 10 per run';
    const pages = queuedNotes.filter((x) => x.mode === 'page');
    expect(pages.map((x) => [x.sink, x.items.map((i) => i.title)])).toEqual([
      ['pd', [`remediation batch held for policy ${why}`]],
    ]);

    // One key is deleted by hand: the next run's batch is 10, at the cap, and all of it runs.
    const gone = made['agent-cap-10']![0]!;
    await withIam(moto.endpoint, (a) =>
      a.iam.send(new DeleteAccessKeyCommand({ UserName: gone.user, AccessKeyId: gone.accessKeyId })),
    );
    const second = await sc.run('scan-2');
    expect(second.summary.plans).toBe(10);
    expect(second.executed.map((e) => [e.state, e.result?.outcome])).toEqual(Array(10).fill(['done', 'done']));
    for (let i = 0; i < 10; i++) expect(await status(`agent-cap-${i}`)).toEqual(['Inactive']);
    expect(queuedNotes.filter((x) => x.mode === 'page')).toHaveLength(1); // a batch that runs pages nobody
  });

  it('windows: closed in the window’s own time zone → held window-closed (planning and execution); open → runs', async () => {
    await seedUsers(moto.endpoint, users('agent-win', 1));
    // 17:30 UTC is hour 17 in UTC (inside 9-17) but 18:30/19:30 in Berlin: only the tz makes it closed.
    const sc = await make(neverUsedPolicy('[deactivate-key]'), {
      windows: [{ cron: '* 9-17 * * 1-5', tz: 'Europe/Berlin' }],
    });
    sc.clock.set(nextUtc(1, 17, 30));
    const first = await sc.run('scan-1');
    expect(first.summary.queued).toEqual([]);
    const [rec] = await sc.app.remediation.list();
    expect([rec!.state, codes(rec)]).toEqual(['held', ['window-closed']]);
    expect(rec!.decision.reasons[0]!.message).toContain('outside every change window ("* 9-17 * * 1-5" Europe/Berlin)');

    // Tuesday 08:30 UTC is 09:30/10:30 in Berlin: open. Planned and queued, but before it runs the
    // clock passes 17:59 Berlin: the executor reads the window again and holds it.
    const tuesday = nextUtc(2, 8, 30);
    sc.clock.set(tuesday);
    await sc.scan('scan-2');
    const { ids } = await sc.plan('scan-2');
    expect(ids).toEqual([rec!.plan.id]);
    sc.clock.set(tuesday.getTime() + 9 * 3_600_000);
    const [late] = await sc.execute(ids);
    expect([late!.state, late!.result?.outcome]).toEqual(['held', 'held']);
    expect(late!.result?.detail).toMatch(/outside every change window/);
    expect(await status('agent-win-0')).toEqual(['Active']);

    sc.clock.set(tuesday.getTime() + 24 * 3_600_000);
    const third = await sc.run('scan-3');
    expect(third.executed.map((e) => e.state)).toEqual(['done']);
    expect(await status('agent-win-0')).toEqual(['Inactive']);
  });

  it('a freeze covering today holds the action with code freeze, even inside an open window', async () => {
    await seedUsers(moto.endpoint, users('agent-frz', 1));
    const at = nextUtc(3, 10, 0);
    const today = at.toISOString().slice(0, 10);
    const sc = await make(neverUsedPolicy('[deactivate-key]'), {
      windows: [{ cron: '* * * * *', tz: 'UTC' }],
      freezes: [{ from: today, to: today, tz: 'UTC', reason: 'year-end freeze' }],
    });
    sc.clock.set(at);
    const { executed } = await sc.run('scan-1');
    expect(executed).toEqual([]);
    const [rec] = await sc.app.remediation.list();
    expect([rec!.state, codes(rec)]).toEqual(['held', ['freeze']]);
    expect(rec!.decision.reasons[0]!.message).toBe(
      `change freeze ${today}..${today} (UTC, today is ${today}): year-end freeze`,
    );
    expect(await status('agent-frz-0')).toEqual(['Active']);
    sc.clock.set(at.getTime() + 86_400_000);
    expect((await sc.run('scan-2')).executed.map((e) => e.state)).toEqual(['done']);
  });

  it('protect and break-glass tags deny the action (any case of the value); the untagged key is acted on', async () => {
    const user = (name: string, tags: Record<string, string> = {}): UserSpec => ({ name, keys: ['active'], tags });
    await seedUsers(moto.endpoint, [
      user('agent-prot', { 'credwarden-protect': 'true' }),
      user('agent-prot-upper', { 'credwarden-protect': 'TRUE' }),
      user('agent-glass', { 'break-glass': 'true' }),
      user('agent-free'),
    ]);
    const sc = await make(neverUsedPolicy('[deactivate-key]'));
    const { executed } = await sc.run('scan-1');
    expect(executed.map((e) => [e.plan.target.identity.userName, e.state])).toEqual([['agent-free', 'done']]);
    const byUser = new Map((await sc.app.remediation.list()).map((x) => [x.plan.target.identity.userName, x]));
    expect(codes(byUser.get('agent-prot'))).toEqual(['protected-tag']);
    expect(codes(byUser.get('agent-prot-upper'))).toEqual(['protected-tag']);
    expect(codes(byUser.get('agent-glass'))).toEqual(['break-glass']);
    for (const u of ['agent-prot', 'agent-prot-upper', 'agent-glass']) {
      expect([byUser.get(u)!.state, byUser.get(u)!.decision.decision]).toEqual(['denied', 'deny']);
      expect(await status(u)).toEqual(['Active']);
    }
    expect(await status('agent-free')).toEqual(['Inactive']);
    const intents = ofType(await sc.audit(), 'action.intent');
    expect(intents.map((e) => e.subject)).toEqual([byUser.get('agent-free')!.plan.target.credentialId]);
  });

  it('minimum age: a key younger than minAgeHours is denied min-age; once older, the next run acts', async () => {
    await seedUsers(moto.endpoint, users('agent-young', 1));
    // The clock is 10 days (240 h) after the key's creation.
    const sc = await make(neverUsedPolicy('[deactivate-key]'), { minAgeHours: 300 });
    expect((await sc.run('scan-1')).executed).toEqual([]);
    const [rec] = await sc.app.remediation.list();
    expect([rec!.state, codes(rec)]).toEqual(['denied', ['min-age']]);
    expect(rec!.decision.reasons[0]!.message).toMatch(/\(24\d\.\d h ago\), younger than minAgeHours 300$/);
    expect(await status('agent-young-0')).toEqual(['Active']);
    sc.clock.advance(3 * 86_400_000);
    const { executed } = await sc.run('scan-2');
    expect(executed.map((e) => [e.plan.id, e.state])).toEqual([[rec!.plan.id, 'done']]);
    expect(await status('agent-young-0')).toEqual(['Inactive']);
    const planned = ofType(await sc.audit(), 'action.planned').map((e) => e.data.decision);
    expect(planned).toEqual(['deny', 'allow']);
  });

  it('cooldown: a new plan on a credential acted on within cooldownHours is held cooldown; after it, it runs', async () => {
    const [key] = (await seedUsers(moto.endpoint, [{ name: 'agent-cool', keys: ['used'] }]))['agent-cool']!;
    const rule = '{ type: unused-for, days: 5 }';
    const policy = policyFile(policyEntry({ name: 'agent-key-idle', rule, remediation: '[deactivate-key]' }));
    const sc = await make(policy, { cooldownHours: 48 });
    const first = await sc.run('scan-1');
    expect(first.executed.map((e) => e.state)).toEqual(['done']);
    const actedAt = sc.clock.now().toISOString();
    // The owner turns the key back on and uses it: a new fact (lastUsed.at, to the second in the
    // credential report), so a new plan.
    await setKeyStatus(moto.endpoint, 'agent-cool', key!.accessKeyId, 'Active');
    const facts = first.executed[0]!.plan.facts.flatMap((h) => h.evidence);
    await useKeyAfter(moto.endpoint, key!, String(facts.find((e) => e.field === 'lastUsed.at')!.value));
    sc.clock.advance(3_600_000);
    const rerun = await sc.run('scan-2');
    expect([rerun.summary.plans, rerun.executed]).toEqual([1, []]);
    const fresh = (await sc.app.remediation.list()).find((x) => x.plan.id !== first.executed[0]!.plan.id)!;
    expect([fresh.state, codes(fresh)]).toEqual(['held', ['cooldown']]);
    expect(fresh.decision.reasons[0]!.message).toContain(
      `credwarden acted on ${fresh.plan.target.credentialId} at ${actedAt}; cooldown 48 h ends`,
    );
    expect(await status('agent-cool')).toEqual(['Active']);

    sc.clock.advance(48 * 3_600_000);
    const third = await sc.run('scan-3');
    expect(third.executed.map((e) => [e.plan.id, e.state])).toEqual([[fresh.plan.id, 'done']]);
    expect(await status('agent-cool')).toEqual(['Inactive']);
  });

  it('cooldown at execution: a second action queued for the same credential in one run is held before acting', async () => {
    await seedUsers(moto.endpoint, users('agent-two-acts', 1));
    const sc = await make(neverUsedPolicy('[deactivate-key, notify-owner]'), { cooldownHours: 24 });
    const { summary, executed } = await sc.run('scan-1');
    expect(summary.queued).toHaveLength(2);
    expect(executed.map((e) => [e.plan.action, e.state, e.result?.outcome])).toEqual([
      ['deactivate-key', 'done', 'done'],
      ['notify-owner', 'held', 'held'],
    ]);
    expect(executed[1]!.result?.detail).toMatch(
      /^credwarden acted on aws\/111111111111\/access-key\/\w+ at .*; cooldown until /,
    );
    const results = ofType(await sc.audit(), 'action.result').map((e) => e.data.outcome);
    expect(results).toEqual(['done', 'held']);
  });

  it('breaker: failures past errorRate over minActions trip it once; later actions held breaker-open; a reset lets them run', async () => {
    // Under moto's IAM authorization: the scanner may do anything; the remediator may only list keys.
    const roles = { 'credwarden-reader': ['*'], 'credwarden-remediator': ['iam:ListAccessKeys'] };
    await withIam(moto.endpoint, async (a) => {
      for (const [name, actions] of Object.entries(roles))
        await createRole(a, { name, inline: { only: doc(actions) } }, moto.endpoint);
    });
    await seedUsers(moto.endpoint, users('agent-brk', 6));
    const sc = await make(neverUsedPolicy('[deactivate-key]'), { breaker: { errorRate: 0.5, minActions: 4 } });
    await sc.scan('scan-1');
    const { ids } = await sc.plan('scan-1');
    expect(ids).toHaveLength(6);
    // A healthy first action (IAM authorization still off; the remediation session is assumed now).
    expect((await sc.execute([ids[0]!]))[0]!.state).toBe('done');
    const auth = (v: string) => fetch(`${moto.endpoint}/moto-api/reset-auth`, { method: 'POST', body: v });
    await auth('0');
    let trippedAfter3: number;
    let rest: Awaited<ReturnType<Scenario['execute']>>;
    try {
      const failed = await sc.execute(ids.slice(1, 3));
      trippedAfter3 = ofType(await sc.audit(), 'breaker.tripped').length;
      rest = [...failed, ...(await sc.execute(ids.slice(3)))];
    } finally {
      await auth('inf');
    }
    expect(trippedAfter3).toBe(0); // 2 of 3 failed, but fewer than minActions outcomes
    expect(rest.map((x) => x.state)).toEqual(['failed', 'failed', 'failed', 'held', 'held']);
    expect(rest[0]!.result?.detail).toMatch(/was denied: the remediation role needs iam:UpdateAccessKey/);
    expect(rest[3]!.result?.detail).toMatch(/^the circuit breaker tripped at .*: 3 of the last 4 actions failed/);
    const tripped = ofType(await sc.audit(), 'breaker.tripped');
    expect(tripped).toHaveLength(1);
    expect(tripped[0]!.data).toMatchObject({ errors: 3, outcomes: 4, errorRate: 0.5 });
    for (const id of ids.slice(1)) expect(await statusOf(sc, id)).toBe('Active');

    // Planning sees the open breaker too; the failed ones are settled and are not tried again.
    const second = await sc.run('scan-2');
    expect(second.executed).toEqual([]);
    for (const id of ids.slice(4)) expect(codes(await sc.app.remediation.show(id))).toEqual(['breaker-open']);

    expect(await sc.app.remediation.controls.resetBreaker('user:x')).toBe(true);
    const reset = ofType(await sc.audit(), 'breaker.reset');
    expect(reset.map((e) => [e.actor, e.subject])).toEqual([['user:x', 'remediation']]);
    const third = (await sc.run('scan-3')).executed;
    const doneNow = ids.slice(4).map((id) => `${id} done`);
    expect(third.map((x) => `${x.plan.id} ${x.state}`).sort()).toEqual(doneNow.sort());
    for (const id of ids.slice(4)) expect(await statusOf(sc, id)).toBe('Inactive');
    expect(ofType(await sc.audit(), 'breaker.tripped')).toHaveLength(1);
  });

  it('a remediation role in another account is refused at config load, naming the key', async () => {
    const role = 'arn:aws:iam::222222222222:role/credwarden-remediator';
    await expect(make(neverUsedPolicy('[quarantine]'), {}, { remediationRoleArn: role })).rejects.toThrow(
      /aws\.accounts\[0\]\.remediationRoleArn: must be a role in this same account/,
    );
  });

  it('kill switch: a pause between actions holds the rest of the batch on every worker; a pause mid-action stops it', async () => {
    await seedUsers(moto.endpoint, users('agent-ks', 4));
    const sc = await make(neverUsedPolicy('[deactivate-key]'));
    await sc.scan('scan-1');
    const { ids } = await sc.plan('scan-1');
    expect(ids).toHaveLength(4);
    const controls = sc.app.remediation.controls;
    expect((await sc.execute(ids.slice(0, 1)))[0]!.state).toBe('done');
    // Paused through this worker; another worker (its own App and connections) sees it within 1 s.
    const other = await sc.worker();
    const t0 = performance.now();
    const paused = await controls.pause('user:oncall', 'incident 42');
    while (!(await other.remediation.controls.stopped()) && performance.now() - t0 < 5_000);
    expect(performance.now() - t0).toBeLessThan(1_000);
    const rest = await sc.execute(ids.slice(1), other);
    for (const rec of rest) {
      expect([rec.state, rec.result?.outcome]).toEqual(['held', 'held']);
      expect(rec.result?.detail).toBe(`remediation is paused by user:oncall since ${paused.at}: incident 42`);
      expect(await statusOf(sc, rec.plan.id)).toBe('Active');
    }
    const events = await sc.audit();
    expect(ofType(events, 'remediation.paused').map((e) => e.actor)).toEqual(['user:oncall']);
    expect(ofType(events, 'action.checked').map((e) => e.data.planId)).toEqual([ids[0]]);

    // Resume; the next run queues the held ones again. This time the pause lands while the first of
    // them is in flight: its intent is durable and it has passed the first check (it holds its rate
    // slot), and it is re-checking live. Only the check just before the backend call can stop it.
    expect(await controls.resume('user:oncall')).toBe(true);
    await sc.scan('scan-2');
    const again = (await sc.plan('scan-2')).ids;
    expect([...again].sort()).toEqual(ids.slice(1).sort());
    const target = again[0]!;
    const { redis } = sc.app.remediation.d;
    const pauseOnceStarted = async () => {
      const deadline = Date.now() + 10_000;
      while ((await redis.zscore(sc.app.remediation.store.keys.starts(), target)) === null)
        if (Date.now() > deadline) throw new Error(`${target} never started`);
      await controls.pause('user:oncall', 'mid-flight');
    };
    const [rec] = await Promise.all([sc.app.executor.execute(target), pauseOnceStarted()]);
    expect([rec.state, rec.result?.outcome]).toEqual(['held', 'held']);
    expect(rec.result?.detail).toMatch(/paused by user:oncall since .*: mid-flight$/);
    expect(await statusOf(sc, target)).toBe('Active');
    const order = (await sc.audit())
      .filter((e) => (e.data.planId === target && e.type !== 'action.checked') || e.type === 'remediation.paused')
      .map((e) => e.type)
      .slice(-3);
    expect(order).toEqual(['action.intent', 'remediation.paused', 'action.result']);
  });

  it('rate: max 2 across two workers on one prefix: exactly 2 actions start, the rest are held rate-limited', async () => {
    const lane = (name: string, severity: string) =>
      policyEntry({ name, rule: NEVER, remediation: '[deactivate-key]', severity, tags: { lane: name } });
    await seedUsers(moto.endpoint, users('agent-rate-a', 2, { tags: { lane: 'first' } }));
    const sc = await make(policyFile(lane('first', 'medium'), lane('second', 'critical')), {
      rate: { max: 2, perHours: 1 },
    });
    await sc.scan('scan-1');
    const early = (await sc.plan('scan-1')).ids;
    expect(early).toHaveLength(2);
    // Before those run, three more keys appear (more severe): the next run queues two of them, so
    // four actions are queued against a rate of two.
    await seedUsers(moto.endpoint, users('agent-rate-b', 3, { tags: { lane: 'second' } }));
    await sc.scan('scan-2');
    // planScan enqueues every queued record of its run again (idempotent job ids): two are new.
    const late = (await sc.plan('scan-2')).ids.filter((id) => !early.includes(id));
    expect(late).toHaveLength(2);
    const waiting = (await sc.app.remediation.list({ state: 'held' }))!;
    expect(waiting.map((x) => [x.plan.policy, codes(x)])).toEqual([['second', ['rate-limited']]]);
    expect(waiting[0]!.decision.reasons[0]!.message).toBe(
      'rate limit 2 actions per 1 h: 0 started in the window, 2 left for 5 ready plans',
    );

    const b = await sc.worker();
    const queued = [...early, ...late];
    const recs = await Promise.all(queued.map((id, i) => (i % 2 ? b : sc.app).executor.execute(id)));
    expect(recs.filter((x) => x.state === 'done')).toHaveLength(2);
    const limited = recs.filter((x) => x.state === 'held');
    expect(limited).toHaveLength(2);
    for (const x of limited) expect(x.result?.detail).toBe('2 actions started in the last 1 h (rate max 2)');
    const inactive = await Promise.all(queued.map((id) => statusOf(sc, id)));
    expect(inactive.filter((st) => st === 'Inactive')).toHaveLength(2);
    expect(await b.remediation.controls.recentStarts()).toBe(2);
    expect(ofType(await sc.audit(), 'action.checked')).toHaveLength(2);

    // The next run in the same hour holds all three that are left, rate-limited.
    const third = await sc.run('scan-3');
    expect([third.summary.queued, third.summary.byState]).toEqual([[], { held: 3 }]);
    sc.clock.advance(3_660_000);
    const fourth = await sc.run('scan-4');
    expect(fourth.executed.map((x) => x.state)).toEqual(['done', 'done']);
  });
});
