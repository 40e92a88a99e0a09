/**
 * Four-eyes through the HTTP API against moto: distinct approvers (the same subject twice, and the
 * same person through the CLI and the API, count once), the requester barred (a policy's
 * enforcedBy), an expired approval, approval that does not skip the live re-check, denial final,
 * and a rollback of an action that needed approval: asked by one subject, run only when others
 * approve it. Every decision is audited with the subject and the source.
 */

import { ListUserPoliciesCommand } from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ActionRecord } from '../../src/model/action.js';
import { type TestApi, type TestTokens, testApi, testTokens } from '../support/api.js';
import { useMoto } from '../support/moto.js';
import { useRedis } from '../support/redis.js';
import { policyEntry, policyFile, type Scenario, scenario, seedUsers, withIam } from '../support/remediation-env.js';

const moto = useMoto();
const r = useRedis('api-approvals');
let tokens: TestTokens;
let n = 0;
let s: Scenario | undefined;
let api: TestApi | undefined;

beforeAll(async () => {
  tokens = await testTokens();
}, 30_000);
beforeEach(async () => {
  await api?.close();
  await s?.close();
  api = undefined;
  s = undefined;
  await moto.reset();
});
afterAll(async () => {
  await api?.close();
  await s?.close();
});

const APPROVALS = {
  approvals: { required: [{ actions: ['quarantine'] }, { severities: ['critical'] }], approvers: 2, expiresHours: 24 },
};
const NEVER = '{ type: never-used, graceDays: 1 }';
const lane = (name: string, remediation: string, more: { severity?: string } = {}) =>
  policyEntry({ name, rule: NEVER, remediation, tags: { lane: name }, ...more });

async function start(policies: string): Promise<{ sc: Scenario; api: TestApi }> {
  s = await scenario({
    motoEndpoint: moto.endpoint,
    prefix: `${r.prefix}-${++n}`,
    policies,
    remediation: APPROVALS,
    config: { api: { tokens: tokens.config } },
  });
  api = await testApi(s.app, tokens);
  // The API's queues bind remediation to the real remediate queue; this scenario records instead.
  const sc = s;
  sc.app.remediation.setEnqueue(async (jobs) => {
    sc.queued.push(...jobs.map((j) => j.planId));
  });
  return { sc, api };
}

const held = async (sc: Scenario, user: string): Promise<ActionRecord> => {
  const all = await sc.app.remediation.list();
  return all.find((x) => x.plan.target.identity.userName === user) ?? expect.fail(`no action for ${user}`);
};
const events = async (sc: Scenario, type: string) => (await sc.audit()).filter((e) => e.type === type);
const post = (path: string, opts: Parameters<TestApi['call']>[2]) => api!.call('POST', path, opts);

describe('four-eyes through the API', () => {
  it('two distinct subjects queue a held action; the same subject twice, or via the CLI, counts once', async () => {
    await seedUsers(moto.endpoint, [{ name: 'agent-q', keys: ['active'], tags: { lane: 'quar' } }]);
    const { sc } = await start(policyFile(lane('quar', '[quarantine]')));
    await sc.run('scan-1');
    const rec = await held(sc, 'agent-q');
    expect(rec.state).toBe('awaiting-approval');
    const url = `/api/v1/actions/${rec.plan.id}/approve`;

    expect((await post(url, { as: 'viewer', body: {} })).statusCode).toBe(403);
    const first = await post(url, { as: 'oncall-a', body: { reason: 'owner confirmed unused' } });
    expect([first.statusCode, first.json().state, first.json().approvals.map((a: { by: string }) => a.by)]).toEqual([
      200,
      'awaiting-approval',
      ['user:oncall-a'],
    ]);
    const twice = await post(url, { as: 'oncall-a', body: {} });
    expect([twice.statusCode, twice.json().error.code]).toEqual([409, 'CW_ERR_GUARDRAIL']);
    expect(twice.json().error.message).toContain('already approved by user:oncall-a');
    // The same person through the CLI is the same approver.
    await expect(sc.app.people.approve(rec.plan.id, 'user:oncall-a')).rejects.toThrow(/already approved/);
    expect(sc.queued).toEqual([]);

    const second = await post(url, { as: 'admin-b', body: {} });
    expect([second.statusCode, second.json().state]).toEqual([200, 'queued']);
    expect(sc.queued).toEqual([rec.plan.id]);
    const granted = await events(sc, 'approval.granted');
    expect(granted.map((e) => [e.actor, e.data.source, e.data.reason ?? null])).toEqual([
      ['user:oncall-a', 'api', 'owner confirmed unused'],
      ['user:admin-b', 'api', null],
    ]);
    expect((await sc.execute([rec.plan.id]))[0]!.state).toBe('done');
  });

  it('the subject a policy names as enforcedBy may not approve its actions', async () => {
    await seedUsers(moto.endpoint, [{ name: 'agent-e', keys: ['active'], tags: { lane: 'quar' } }]);
    const policies = policyFile(lane('quar', '[quarantine]')).replace(
      'mode: enforce',
      'mode: enforce\n    enforcedBy: admin-a',
    );
    const { sc } = await start(policies);
    await sc.run('scan-1');
    const rec = await held(sc, 'agent-e');
    expect(rec.plan.requestedBy).toBe('user:admin-a');
    const res = await post(`/api/v1/actions/${rec.plan.id}/approve`, { as: 'admin-a', body: {} });
    expect([res.statusCode, res.json().error.message]).toEqual([
      409,
      `action ${rec.plan.id} is the request of user:admin-a (policy quar enforcedBy): whoever asked for an action may not approve it`,
    ]);
    expect((await held(sc, 'agent-e')).approvals).toEqual([]);
    await post(`/api/v1/actions/${rec.plan.id}/approve`, { as: 'oncall-a', body: {} });
    expect((await post(`/api/v1/actions/${rec.plan.id}/approve`, { as: 'oncall-b', body: {} })).json().state).toBe(
      'queued',
    );
  });

  it('an expired approval request is refused; approval does not skip the live re-check', async () => {
    const made = await seedUsers(moto.endpoint, [
      { name: 'agent-late', keys: ['active'], tags: { lane: 'crit' } },
      { name: 'agent-wakes', keys: ['active'], tags: { lane: 'crit' } },
    ]);
    const { sc } = await start(policyFile(lane('crit', '[deactivate-key]', { severity: 'critical' })));
    await sc.run('scan-1');
    const late = await held(sc, 'agent-late');
    const wakes = await held(sc, 'agent-wakes');
    await post(`/api/v1/actions/${wakes.plan.id}/approve`, { as: 'oncall-a', body: {} });
    expect((await post(`/api/v1/actions/${wakes.plan.id}/approve`, { as: 'oncall-b', body: {} })).json().state).toBe(
      'queued',
    );
    // The agent uses its key after approval and before the action runs: the re-check cancels it.
    const sts = new STSClient({ region: 'us-east-1', endpoint: moto.endpoint, credentials: made['agent-wakes']![0]! });
    await sts.send(new GetCallerIdentityCommand({}));
    sts.destroy();
    const [ran] = await sc.execute([wakes.plan.id]);
    expect(ran!.state).toBe('cancelled');
    expect(ran!.result?.detail).toMatch(/^facts-changed: policy crit no longer hits/);
    const shown = await api!.call('GET', `/api/v1/actions/${wakes.plan.id}`, { as: 'viewer' });
    expect([shown.json().state, shown.json().result.detail]).toEqual(['cancelled', ran!.result!.detail]);

    sc.clock.advance(24 * 3_600_000 + 1000);
    const lapsed = await post(`/api/v1/actions/${late.plan.id}/approve`, { as: 'oncall-a', body: {} });
    expect([lapsed.statusCode, lapsed.json().error.message]).toEqual([
      409,
      expect.stringMatching(
        /the approval request expired at .* \(24 h after it was asked\); the next scan asks again$/,
      ),
    ]);
  });

  it('a denial needs a reason and is final', async () => {
    await seedUsers(moto.endpoint, [{ name: 'agent-no', keys: ['active'], tags: { lane: 'quar' } }]);
    const { sc } = await start(policyFile(lane('quar', '[quarantine]')));
    await sc.run('scan-1');
    const rec = await held(sc, 'agent-no');
    const noReason = await post(`/api/v1/actions/${rec.plan.id}/deny`, { as: 'oncall-a', body: {} });
    expect([noReason.statusCode, noReason.json().error.field]).toEqual([400, 'body.reason']);
    const denied = await post(`/api/v1/actions/${rec.plan.id}/deny`, {
      as: 'oncall-a',
      body: { reason: 'still in use by the billing agent' },
    });
    expect([denied.statusCode, denied.json().state, denied.json().denial.by]).toEqual([200, 'denied', 'user:oncall-a']);
    const after = await post(`/api/v1/actions/${rec.plan.id}/approve`, { as: 'oncall-b', body: {} });
    expect([after.statusCode, after.json().error.message]).toEqual([
      409,
      `action ${rec.plan.id} is denied, not awaiting approval`,
    ]);
    expect((await events(sc, 'approval.denied')).map((e) => [e.actor, e.data.source, e.data.reason])).toEqual([
      ['user:oncall-a', 'api', 'still in use by the billing agent'],
    ]);
    expect((await sc.run('scan-2')).executed).toEqual([]);
  });

  it('a rollback of an approved action is a request: the requester may not approve it, two others run it', async () => {
    await seedUsers(moto.endpoint, [{ name: 'agent-rb', keys: ['active'], tags: { lane: 'quar' } }]);
    const { sc } = await start(policyFile(lane('quar', '[quarantine]')));
    await sc.run('scan-1');
    const rec = await held(sc, 'agent-rb');
    await sc.app.people.approve(rec.plan.id, 'user:oncall-a');
    await sc.app.people.approve(rec.plan.id, 'user:oncall-b');
    expect((await sc.execute([rec.plan.id]))[0]!.state).toBe('done');
    const inline = () =>
      withIam(
        moto.endpoint,
        async (a) => (await a.iam.send(new ListUserPoliciesCommand({ UserName: 'agent-rb' }))).PolicyNames,
      );
    expect(await inline()).toEqual(['credwarden-quarantine']);

    const url = (v: string) => `/api/v1/actions/${rec.plan.id}/${v}`;
    expect((await post(url('rollback'), { as: 'oncall-a', body: {} })).statusCode).toBe(403);
    const asked = await post(url('rollback'), { as: 'admin-a', body: { reason: 'false positive' } });
    expect([asked.statusCode, asked.json().state, asked.json().rollbackRequest?.by]).toEqual([
      202,
      'done',
      'user:admin-a',
    ]);
    const again = await post(url('rollback'), { as: 'admin-b', body: {} });
    expect([again.statusCode, again.json().error.message]).toEqual([
      409,
      expect.stringContaining('user:admin-a asked for its rollback at'),
    ]);
    const self = await post(url('approve'), { as: 'admin-a', body: {} });
    expect([self.statusCode, self.json().error.message]).toEqual([
      409,
      `action ${rec.plan.id}: user:admin-a asked for this rollback and may not approve it`,
    ]);
    const one = await post(url('approve'), { as: 'oncall-a', body: {} });
    expect([one.json().state, one.json().rollbackApprovals.map((a: { by: string }) => a.by)]).toEqual([
      'done',
      ['user:oncall-a'],
    ]);
    expect(await inline()).toEqual(['credwarden-quarantine']);
    const two = await post(url('approve'), { as: 'oncall-b', body: {} });
    expect([two.statusCode, two.json().state]).toEqual([200, 'rolled-back']);
    expect(await inline()).toEqual([]);
    const rolled = await events(sc, 'action.rolled-back');
    expect(rolled.map((e) => [e.actor, e.data.approvedBy])).toEqual([
      ['user:admin-a', ['user:oncall-a', 'user:oncall-b']],
    ]);
    expect((await events(sc, 'action.rollback-requested')).map((e) => [e.actor, e.data.source])).toEqual([
      ['user:admin-a', 'api'],
    ]);
  });

  it('a denied rollback request is final', async () => {
    await seedUsers(moto.endpoint, [{ name: 'agent-rd', keys: ['active'], tags: { lane: 'quar' } }]);
    const { sc } = await start(policyFile(lane('quar', '[quarantine]')));
    await sc.run('scan-1');
    const rec = await held(sc, 'agent-rd');
    await sc.app.people.approve(rec.plan.id, 'user:oncall-a');
    await sc.app.people.approve(rec.plan.id, 'user:oncall-b');
    await sc.execute([rec.plan.id]);
    await post(`/api/v1/actions/${rec.plan.id}/rollback`, { as: 'admin-a', body: {} });
    const denied = await post(`/api/v1/actions/${rec.plan.id}/deny`, { as: 'oncall-a', body: { reason: 'keep it' } });
    expect([denied.statusCode, denied.json().rollbackRequest.denial.by]).toEqual([200, 'user:oncall-a']);
    const again = await post(`/api/v1/actions/${rec.plan.id}/rollback`, { as: 'admin-b', body: {} });
    expect([again.statusCode, again.json().error.message]).toEqual([
      409,
      `action ${rec.plan.id}: its rollback was denied by user:oncall-a (keep it); a denial is final`,
    ]);
    expect((await post(`/api/v1/actions/${rec.plan.id}/approve`, { as: 'oncall-b', body: {} })).statusCode).toBe(409);
  });

  it('an action whose class needs no approval rolls back at once', async () => {
    await seedUsers(moto.endpoint, [{ name: 'agent-plain', keys: ['active'], tags: { lane: 'plain' } }]);
    const { sc } = await start(policyFile(lane('plain', '[deactivate-key]')));
    const { executed } = await sc.run('scan-1');
    expect(executed.map((x) => x.state)).toEqual(['done']);
    const res = await post(`/api/v1/actions/${executed[0]!.plan.id}/rollback`, { as: 'admin-a', body: {} });
    expect([res.statusCode, res.json().state, res.json().rollback.by]).toEqual([200, 'rolled-back', 'user:admin-a']);
  });
});
