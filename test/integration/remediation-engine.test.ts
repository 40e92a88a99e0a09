/**
 * The remediation engine end to end against moto: scan → evaluate → plan → guard → execute, with
 * the real SDK, the real audit log and real Redis. The Cloud Custodian regressions
 * (../shared/reference/remediation.md §1.1) are each a test here: a user with two keys where only
 * one matches loses only that key (#842, #5583); a key used today is never touched (#6732); a
 * user matched with no key is not acted on and sends nothing (#5583 "false alarm"). Then the
 * live re-check that cancels an action whose facts changed, dry-run, and the audit order.
 */
import { ListAccessKeysCommand } from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { beforeEach, describe, expect, it } from 'vitest';
import { createUser, seederFor } from '../support/aws-seed.js';
import { useMoto } from '../support/moto.js';
import { useRedis } from '../support/redis.js';
import { ACCOUNT, neverUsedPolicy, type Scenario, scenario } from '../support/remediation-env.js';

const moto = useMoto();
const r = useRedis('rem-engine');
let n = 0;
let s: Scenario | undefined;

beforeEach(async () => {
  await s?.close();
  s = undefined;
  await moto.reset();
});

async function keys(user: string) {
  const a = await seederFor(moto.endpoint, ACCOUNT);
  const out = await a.iam.send(new ListAccessKeysCommand({ UserName: user }));
  a.iam.destroy();
  return Object.fromEntries((out.AccessKeyMetadata ?? []).map((k) => [k.AccessKeyId!, k.Status!]));
}

async function seed(users: Parameters<typeof createUser>[1][]) {
  const a = await seederFor(moto.endpoint, ACCOUNT);
  const made: Record<string, { accessKeyId: string; secretAccessKey: string }[]> = {};
  for (const u of users) made[u.name] = await createUser(a, u, moto.endpoint);
  a.iam.destroy();
  return made;
}

const make = async (policies: string, remediation: Record<string, unknown> = {}) => {
  s = await scenario({ motoEndpoint: moto.endpoint, prefix: `${r.prefix}-${++n}`, policies, remediation });
  return s;
};

async function auditTypes(sc: Scenario) {
  const events = await sc.app.audit.read(1);
  return events.map((e) => ({ type: e.type, subject: e.subject, data: e.data as Record<string, unknown> }));
}

describe('remediation engine against moto', () => {
  it('a user with two keys where only one matches loses only that key (Custodian #842, #5583)', async () => {
    const made = await seed([{ name: 'agent-two', keys: ['used', 'active'] }]);
    const [used, unused] = made['agent-two']!;
    const sc = await make(neverUsedPolicy('[deactivate-key]'));
    const { summary, executed } = await sc.run('scan-1');
    expect(summary.plans).toBe(1);
    expect(executed.map((e) => [e.plan.target.identity.accessKeyId, e.state, e.result?.outcome])).toEqual([
      [unused!.accessKeyId, 'done', 'done'],
    ]);
    expect(await keys('agent-two')).toEqual({ [used!.accessKeyId]: 'Active', [unused!.accessKeyId]: 'Inactive' });
  });

  it('a key used today is never touched, and a user with no matching key gets no action and no notice (#6732, #5583)', async () => {
    await seed([
      { name: 'agent-busy', keys: ['used'] },
      { name: 'agent-keyless', keys: [] },
    ]);
    const sc = await make(neverUsedPolicy('[deactivate-key, notify-owner]'));
    const { summary, executed } = await sc.run('scan-1');
    expect(summary.plans).toBe(0);
    expect(executed).toEqual([]);
    expect(sc.queued).toEqual([]);
    expect(Object.values(await keys('agent-busy'))).toEqual(['Active']);
    expect((await auditTypes(sc)).filter((e) => e.type.startsWith('action.'))).toEqual([]);
  });

  it('re-checks live: a key used after planning is not deactivated, and the action says why', async () => {
    const made = await seed([{ name: 'agent-late', keys: ['active'] }]);
    const key = made['agent-late']![0]!;
    const sc = await make(neverUsedPolicy('[deactivate-key]'));
    await sc.app.orchestrator.runInProcess('scan-1', 'test', sc.app.orchestrator.units(), 1);
    await sc.app.findings.evaluateScan('scan-1');
    const { queued } = await sc.app.remediation.planScan('scan-1');
    expect(queued).toHaveLength(1);
    // The agent wakes up and uses its key between planning and acting.
    const sts = new STSClient({ region: 'us-east-1', endpoint: moto.endpoint, credentials: key });
    await sts.send(new GetCallerIdentityCommand({}));
    sts.destroy();
    const rec = await sc.app.executor.execute(queued[0]!);
    expect(rec.state).toBe('cancelled');
    expect(rec.result?.detail).toMatch(/^facts-changed: policy agent-key-never-used no longer hits/);
    expect(Object.values(await keys('agent-late'))).toEqual(['Active']);
    const types = (await auditTypes(sc)).filter((e) => e.type.startsWith('action.')).map((e) => e.type);
    expect(types).toEqual(['action.planned', 'action.intent', 'action.result']);
  });

  it('dry-run records what it would do and touches nothing', async () => {
    await seed([{ name: 'agent-dry', keys: ['active'] }]);
    const sc = await make(neverUsedPolicy('[deactivate-key]'), { mode: 'dry-run' });
    const { summary, executed } = await sc.run('scan-1');
    expect(summary.byDecision).toEqual({ 'dry-run': 1 });
    expect(executed).toEqual([]);
    expect(Object.values(await keys('agent-dry'))).toEqual(['Active']);
    const [rec] = await sc.app.remediation.list();
    expect(rec!.state).toBe('dry-run');
    expect(rec!.decision.reasons.map((x) => x.code)).toContain('global-dry-run');
  });

  it('writes intent before acting and the result after, with the pre-state; a replay acts on nothing twice', async () => {
    const made = await seed([{ name: 'agent-order', keys: ['active'] }]);
    const sc = await make(neverUsedPolicy('[deactivate-key]'));
    const { executed } = await sc.run('scan-1');
    const id = executed[0]!.plan.id;
    const acts = (await auditTypes(sc)).filter((e) => e.type.startsWith('action.'));
    expect(acts.map((e) => e.type)).toEqual(['action.planned', 'action.intent', 'action.checked', 'action.result']);
    expect(acts[2]!.data.preState).toEqual({ exists: true, facts: expect.objectContaining({ status: 'Active' }) });
    const calls = { ...sc.app.remediation.d.ports.aws.calls.byOperation };
    // A replayed job and a replayed plan change nothing.
    expect((await sc.app.executor.execute(id)).state).toBe('done');
    const again = await sc.app.remediation.planScan('scan-1');
    expect(again.queued).toEqual([]);
    expect(sc.app.remediation.d.ports.aws.calls.byOperation).toEqual(calls);
    expect(Object.values(await keys('agent-order'))).toEqual(['Inactive']);
    expect(made['agent-order']).toHaveLength(1);
  });

  it('two runners of one plan at once (a lapsed job lock): one acts, the other is turned away to retry', async () => {
    await seed([{ name: 'agent-race', keys: ['active'] }]);
    const sc = await make(neverUsedPolicy('[deactivate-key]'));
    await sc.app.orchestrator.runInProcess('scan-1', 'test', sc.app.orchestrator.units(), 1);
    await sc.app.findings.evaluateScan('scan-1');
    const { queued } = await sc.app.remediation.planScan('scan-1');
    const id = queued[0]!;
    const [a, b] = await Promise.allSettled([sc.app.executor.execute(id), sc.app.executor.execute(id)]);
    const won = [a, b].filter((x) => x.status === 'fulfilled');
    const lost = [a, b].filter((x): x is PromiseRejectedResult => x.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    expect(lost[0]!.reason).toMatchObject({ retryable: true });
    expect(sc.app.remediation.d.ports.aws.calls.byOperation['iam:UpdateAccessKey']).toBe(1);
    // The retry finds the record settled and does nothing.
    expect((await sc.app.executor.execute(id)).state).toBe('done');
    expect(sc.app.remediation.d.ports.aws.calls.byOperation['iam:UpdateAccessKey']).toBe(1);
  });
});
