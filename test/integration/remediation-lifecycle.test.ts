/**
 * Remediation across runs, against moto: what happens to a plan over days, not within one run.
 * - deactivate-key then delete-key (afterDays): the first pass deactivates, delete-key waits
 *   (held not-yet, decided again each run), and a run afterDays later deletes exactly that key;
 *   a key someone else deactivated is never deleted.
 * - an expired approval request is asked again by the next scan, from scratch.
 * - a decision that does not change is audited once, however many scans see it.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { useMoto } from '../support/moto.js';
import { useRedis } from '../support/redis.js';
import {
  agentUsers,
  codes,
  keyStatuses,
  neverUsedPolicy,
  policyEntry,
  policyFile,
  type Scenario,
  scenario,
  seedUsers,
  setKeyStatus,
} from '../support/remediation-env.js';

const moto = useMoto();
const r = useRedis('rem-life');
const DAY = 86_400_000;
let n = 0;
let s: Scenario | undefined;

beforeEach(async () => {
  await s?.close();
  s = undefined;
  await moto.reset();
});

const make = async (policies: string, remediation: Record<string, unknown> = {}) => {
  s = await scenario({ motoEndpoint: moto.endpoint, prefix: `${r.prefix}-${++n}`, policies, remediation });
  return s;
};

describe('remediation across runs', () => {
  it('deactivate-key, then delete-key afterDays later, on exactly that key; never a key someone else deactivated', async () => {
    const made = await seedUsers(moto.endpoint, [
      { name: 'agent-old', keys: ['active', 'used'] },
      { name: 'agent-other', keys: ['active'] },
    ]);
    const [old, kept] = made['agent-old']!;
    const other = made['agent-other']![0]!;
    // Someone else deactivates agent-other's key before credwarden sees it.
    await setKeyStatus(moto.endpoint, 'agent-other', other.accessKeyId, 'Inactive');
    // The baseline pack's pair: unused keys are deactivated; inactive keys are deleted afterDays
    // after credwarden deactivated them.
    const sc = await make(
      policyFile(
        policyEntry({
          name: 'agent-key-never-used',
          rule: '{ type: never-used, graceDays: 1 }',
          remediation: '[deactivate-key]',
        }),
        policyEntry({
          name: 'agent-key-inactive-present',
          rule: '{ type: inactive-present }',
          remediation: '[{ action: delete-key, afterDays: 7 }]',
        }),
      ),
      { cooldownHours: 0 },
    );

    const first = await sc.run('scan-1');
    const byAction = (action: string, key: string) =>
      sc.app.remediation
        .list()
        .then((l) => l.find((x) => x.plan.action === action && x.plan.target.identity.accessKeyId === key));
    expect((await byAction('deactivate-key', old!.accessKeyId))!.state).toBe('done');
    // agent-other's key was deactivated by someone else: no deactivate-key (never-used counts only
    // active keys), and delete-key waits for a deactivation by credwarden that never comes.
    expect(await byAction('deactivate-key', other.accessKeyId)).toBeUndefined();
    const otherFirst = await byAction('delete-key', other.accessKeyId);
    expect([otherFirst!.state, codes(otherFirst)]).toEqual(['held', ['not-yet']]);
    expect(otherFirst!.decision.reasons[0]!.message).toMatch(/has not deactivated access key/);
    expect(first.executed.map((x) => x.plan.action)).toEqual(['deactivate-key']);

    // The next run sees agent-old's key Inactive: delete-key is planned and waits 7 days.
    sc.clock.advance(3 * DAY);
    await sc.run('scan-2');
    const waiting = await byAction('delete-key', old!.accessKeyId);
    expect([waiting!.state, codes(waiting)]).toEqual(['held', ['not-yet']]);
    expect(waiting!.decision.reasons[0]!.message).toMatch(/delete-key waits 7 days, until /);
    expect(Object.keys(await keyStatuses(moto.endpoint, 'agent-old'))).toContain(old!.accessKeyId);

    sc.clock.advance(5 * DAY);
    const late = await sc.run('scan-3');
    expect(late.executed.map((x) => [x.plan.action, x.plan.target.identity.accessKeyId, x.state])).toEqual([
      ['delete-key', old!.accessKeyId, 'done'],
    ]);
    expect(await keyStatuses(moto.endpoint, 'agent-old')).toEqual({ [kept!.accessKeyId]: 'Active' });
    expect(await keyStatuses(moto.endpoint, 'agent-other')).toEqual({ [other.accessKeyId]: 'Inactive' });
    const otherDelete = await byAction('delete-key', other.accessKeyId);
    expect([otherDelete!.state, codes(otherDelete)]).toEqual(['held', ['not-yet']]);
  });

  it('an expired approval request is asked again by the next scan, and earlier approvals do not carry over', async () => {
    await seedUsers(moto.endpoint, agentUsers('agent-appr', 1, { keys: ['active'] }));
    const sc = await make(neverUsedPolicy('[deactivate-key]'), {
      approvals: { required: [{ actions: ['deactivate-key'] }], approvers: 2, expiresHours: 24 },
    });
    await sc.run('scan-1');
    const [rec] = await sc.app.remediation.list();
    expect(rec!.state).toBe('awaiting-approval');
    await sc.app.people.approve(rec!.plan.id, 'user:alice');
    sc.clock.advance(25 * 3_600_000);
    await expect(sc.app.people.approve(rec!.plan.id, 'user:bob')).rejects.toThrow(/expired/);
    await sc.run('scan-2');
    const again = (await sc.app.remediation.show(rec!.plan.id))!;
    expect([again.state, again.approvals]).toEqual(['awaiting-approval', []]);
    expect(Date.parse(again.approvalRequestedAt!)).toBe(sc.clock.now().getTime());
    await sc.app.people.approve(rec!.plan.id, 'user:bob');
    expect((await sc.app.remediation.show(rec!.plan.id))!.state).toBe('awaiting-approval');
    await sc.app.people.approve(rec!.plan.id, 'user:carol');
    expect((await sc.app.remediation.show(rec!.plan.id))!.state).toBe('queued');
  });

  it('a decision that does not change is audited once, however many scans see it', async () => {
    await seedUsers(moto.endpoint, agentUsers('agent-quiet', 3, { keys: ['active'] }));
    const sc = await make(neverUsedPolicy('[deactivate-key]'), { mode: 'dry-run' });
    for (let i = 1; i <= 4; i++) {
      await sc.run(`scan-${i}`);
      sc.clock.advance(3_600_000);
    }
    const planned = (await sc.audit()).filter((e) => e.type === 'action.planned');
    expect(planned).toHaveLength(3);
    expect(new Set(planned.map((e) => e.data.scanId))).toEqual(new Set(['scan-1']));
    expect((await sc.app.remediation.list()).map((x) => x.state)).toEqual(['dry-run', 'dry-run', 'dry-run']);
  });
});
