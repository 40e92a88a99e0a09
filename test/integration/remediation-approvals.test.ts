/**
 * People's verbs on remediation end to end against moto: approvals (by action and by severity, two
 * distinct approvers, deny for good, expiry), rollback of each reversible action, and the refusals
 * (not reversible; the credential changed since). One CLI run approves through the built binary.
 *
 * Policies pick their users by a `lane` tag, so one estate holds every case.
 */
import {
  AttachUserPolicyCommand,
  DeleteAccessKeyCommand,
  GetUserPolicyCommand,
  ListAttachedUserPoliciesCommand,
  ListUserPoliciesCommand,
  PutUserPolicyCommand,
} from '@aws-sdk/client-iam';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../src/errors.js';
import type { ActionRecord } from '../../src/model/action.js';
import { createPolicy, doc, type UserSpec } from '../support/aws-seed.js';
import { cliError, ensureBuilt, runCli } from '../support/fault-procs.js';
import { useMoto } from '../support/moto.js';
import { useRedis } from '../support/redis.js';
import {
  ACCOUNT,
  codes,
  keyStatuses,
  policyEntry,
  policyFile,
  type Scenario,
  scenario,
  seedUsers,
  setKeyStatus,
  withIam,
} from '../support/remediation-env.js';

const moto = useMoto();
const r = useRedis('rem-people');
let n = 0;
let s: Scenario | undefined;

beforeEach(async () => {
  await s?.close();
  s = undefined;
  await moto.reset();
});

const ADMIN_ARN = `arn:aws:iam::${ACCOUNT}:policy/agent-admin`;
const APPROVALS = {
  approvals: { required: [{ actions: ['quarantine'] }, { severities: ['critical'] }], approvers: 2, expiresHours: 24 },
};

const NEVER = '{ type: never-used, graceDays: 1 }';
const lane = (name: string, rule: string, remediation: string, more: { severity?: string; kind?: string } = {}) =>
  policyEntry({ name, rule, remediation, tags: { lane: name.replace(/-leftover$/, '') }, ...more });
const POLICIES = policyFile(
  lane('plain', NEVER, '[deactivate-key]'),
  lane('crit', NEVER, '[deactivate-key]', { severity: 'critical' }),
  lane('quar', NEVER, '[quarantine]'),
  lane('detach', '{ type: aws-admin }', '[detach-policy]', { severity: 'high' }),
  lane('del', NEVER, '[deactivate-key]'),
  lane('del-leftover', '{ type: inactive-present }', '[{ action: delete-key, afterDays: 1 }]'),
  lane('console', '{ type: aws-console-without-mfa }', '[delete-login-profile]', { kind: 'aws-console-password' }),
);

const user = (name: string, laneTag: string, extra: Partial<UserSpec> = {}): UserSpec => ({
  name,
  keys: ['active'],
  tags: { lane: laneTag },
  ...extra,
});
const make = async (remediation: Record<string, unknown> = {}) => {
  s = await scenario({ motoEndpoint: moto.endpoint, prefix: `${r.prefix}-${++n}`, policies: POLICIES, remediation });
  return s;
};
const byUser = async (sc: Scenario, kind = 'aws-access-key') => {
  const all = await sc.app.remediation.list();
  return (u: string): ActionRecord =>
    all.find((x) => x.plan.target.identity.userName === u && x.plan.target.kind === kind) ??
    expect.fail(`no action for ${u}`);
};
const keyOf = async (u: string) => Object.values(await keyStatuses(moto.endpoint, u));
const inline = (u: string) =>
  withIam(moto.endpoint, async (a) => (await a.iam.send(new ListUserPoliciesCommand({ UserName: u }))).PolicyNames);
const attached = (u: string) =>
  withIam(moto.endpoint, async (a) =>
    ((await a.iam.send(new ListAttachedUserPoliciesCommand({ UserName: u }))).AttachedPolicies ?? []).map(
      (p) => p.PolicyArn,
    ),
  );
const refusal = (p: Promise<unknown>) =>
  p.then(
    () => expect.fail('expected a refusal'),
    (e: { code?: string; message: string }) => ({ code: e.code, message: e.message }),
  );
const ofType = async (sc: Scenario, type: string) => (await sc.audit()).filter((e) => e.type === type);

describe('approvals against moto', () => {
  it('holds by action and by severity; the same approver twice is refused and counted once; two people queue it', async () => {
    await seedUsers(moto.endpoint, [user('agent-q', 'quar'), user('agent-c', 'crit'), user('agent-p', 'plain')]);
    const sc = await make(APPROVALS);
    const { executed } = await sc.run('scan-1');
    expect(executed.map((x) => [x.plan.target.identity.userName, x.state])).toEqual([['agent-p', 'done']]);
    const of = await byUser(sc);
    const q = of('agent-q');
    const c = of('agent-c');
    expect([q.state, codes(q), c.state, codes(c)]).toEqual([
      'awaiting-approval',
      ['approval-required'],
      'awaiting-approval',
      ['approval-required'],
    ]);
    expect(q.decision.reasons[0]!.message).toBe('approval required by approvals.required[0] (actions: quarantine)');
    expect(c.decision.reasons[0]!.message).toBe('approval required by approvals.required[1] (severities: critical)');
    expect(await inline('agent-q')).toEqual([]);

    const people = sc.app.people;
    expect((await people.approve(q.plan.id, 'user:alice')).state).toBe('awaiting-approval');
    expect(await refusal(people.approve(q.plan.id, 'user:alice'))).toEqual({
      code: ErrorCodes.GUARDRAIL,
      message: `action ${q.plan.id} is already approved by user:alice: a second approver must be someone else`,
    });
    const once = (await sc.app.remediation.show(q.plan.id))!;
    expect([once.state, once.approvals.map((a) => a.by)]).toEqual(['awaiting-approval', ['user:alice']]);
    expect((await ofType(sc, 'approval.granted')).map((e) => e.actor)).toEqual(['user:alice']);
    expect(sc.queued).not.toContain(q.plan.id);

    const approved = await people.approve(q.plan.id, 'user:bob');
    expect([approved.state, approved.approvals.map((a) => a.by).sort()]).toEqual([
      'queued',
      ['user:alice', 'user:bob'],
    ]);
    expect(sc.queued.filter((id) => id === q.plan.id)).toHaveLength(1);
    expect((await sc.execute([q.plan.id]))[0]!.state).toBe('done');
    expect(await inline('agent-q')).toEqual(['credwarden-quarantine']);

    await people.approve(c.plan.id, 'user:alice');
    await people.approve(c.plan.id, 'user:carol');
    expect((await sc.execute([c.plan.id]))[0]!.state).toBe('done');
    expect(await keyOf('agent-c')).toEqual(['Inactive']);
    expect((await ofType(sc, 'approval.granted')).map((e) => e.actor)).toEqual([
      'user:alice',
      'user:bob',
      'user:alice',
      'user:carol',
    ]);
  });

  it('deny settles an action for good: a new scan does not decide it again, and it cannot be approved after', async () => {
    await seedUsers(moto.endpoint, [user('agent-no', 'crit')]);
    const sc = await make(APPROVALS);
    await sc.run('scan-1');
    const [rec] = await sc.app.remediation.list();
    const denied = await sc.app.people.deny(rec!.plan.id, 'user:dana', 'owner says it is in use');
    expect([denied.state, denied.denial?.by, denied.denial?.reason]).toEqual([
      'denied',
      'user:dana',
      'owner says it is in use',
    ]);
    const planned = (await ofType(sc, 'action.planned')).length;
    const again = await sc.run('scan-2');
    expect([again.summary.byState, again.executed]).toEqual([{ denied: 1 }, []]);
    expect((await ofType(sc, 'action.planned')).length).toBe(planned);
    expect((await ofType(sc, 'approval.denied')).map((e) => [e.actor, e.data.reason])).toEqual([
      ['user:dana', 'owner says it is in use'],
    ]);
    expect(await refusal(sc.app.people.approve(rec!.plan.id, 'user:alice'))).toMatchObject({
      code: ErrorCodes.GUARDRAIL,
      message: `action ${rec!.plan.id} is denied, not awaiting approval`,
    });
    expect(await keyOf('agent-no')).toEqual(['Active']);
  });

  it('an approval request expires expiresHours after it was asked: approve is refused with the expiry', async () => {
    await seedUsers(moto.endpoint, [user('agent-late', 'quar')]);
    const sc = await make(APPROVALS);
    await sc.run('scan-1');
    const [rec] = await sc.app.remediation.list();
    expect(rec!.approvalRequestedAt).toBe(sc.clock.now().toISOString());
    await sc.app.people.approve(rec!.plan.id, 'user:alice');
    sc.clock.advance(24 * 3_600_000 + 1_000);
    const until = new Date(Date.parse(rec!.approvalRequestedAt!) + 24 * 3_600_000).toISOString();
    expect(await refusal(sc.app.people.approve(rec!.plan.id, 'user:bob'))).toEqual({
      code: ErrorCodes.GUARDRAIL,
      message: `action ${rec!.plan.id}: the approval request expired at ${until} (24 h after it was asked); the next scan asks again`,
    });
    const after = (await sc.app.remediation.show(rec!.plan.id))!;
    expect([after.state, after.approvals.length, sc.queued]).toEqual(['awaiting-approval', 1, []]);
    expect(await inline('agent-late')).toEqual([]);
  });
});

describe('approvals through the built CLI', () => {
  // Building dist/ (when src/ is newer) can take longer than a test's timeout.
  beforeAll(() => ensureBuilt(), 180_000);

  it('refuses a second approval by the same name with one clear line and a non-zero exit', async () => {
    await seedUsers(moto.endpoint, [user('agent-cli', 'quar')]);
    const sc = await make(APPROVALS);
    await sc.run('scan-1');
    const [rec] = await sc.app.remediation.list();
    const approve = () => runCli(sc.files.configPath, ['actions', 'approve', rec!.plan.id, '--as', 'alice'], 60_000);
    const first = await approve();
    expect(first.code, cliError(first)).toBe(0);
    expect(first.stdout.trim()).toBe(`action ${rec!.plan.id}: awaiting-approval (1 of 2 approvals)`);
    const second = await approve();
    expect(second.code).not.toBe(0);
    expect(second.stdout).toBe('');
    expect(second.stderr.trim().split('\n')).toEqual([
      `credwarden: CW_ERR_GUARDRAIL: action ${rec!.plan.id} is already approved by user:alice: a second approver must be someone else`,
    ]);
    expect((await sc.app.remediation.show(rec!.plan.id))!.approvals.map((a) => a.by)).toEqual(['user:alice']);
  });
});

describe('rollback against moto', () => {
  it('rolls back each reversible action to its recorded pre-state, audited as action.rolled-back', async () => {
    await withIam(moto.endpoint, (a) => createPolicy(a, 'agent-admin', doc(['*'])));
    await seedUsers(moto.endpoint, [
      user('agent-rb-key', 'plain'),
      user('agent-rb-quar', 'quar'),
      user('agent-rb-adm', 'detach', { keys: ['used'], managed: [ADMIN_ARN] }),
    ]);
    const sc = await make();
    const { executed } = await sc.run('scan-1');
    expect(executed.map((x) => [x.plan.action, x.state]).sort()).toEqual([
      ['deactivate-key', 'done'],
      ['detach-policy', 'done'],
      ['quarantine', 'done'],
    ]);
    expect([await keyOf('agent-rb-key'), await inline('agent-rb-quar'), await attached('agent-rb-adm')]).toEqual([
      ['Inactive'],
      ['credwarden-quarantine'],
      [],
    ]);
    const of = await byUser(sc);
    for (const u of ['agent-rb-key', 'agent-rb-quar', 'agent-rb-adm']) {
      const back = await sc.app.people.rollback(of(u).plan.id, 'user:erin');
      expect([back.state, back.rollback?.by, back.rollback?.detail]).toEqual([
        'rolled-back',
        'user:erin',
        expect.stringMatching(/^restored \{/),
      ]);
    }
    expect([await keyOf('agent-rb-key'), await inline('agent-rb-quar'), await attached('agent-rb-adm')]).toEqual([
      ['Active'],
      [],
      [ADMIN_ARN],
    ]);
    const events = await ofType(sc, 'action.rolled-back');
    expect(events.map((e) => [e.actor, e.data.action])).toEqual([
      ['user:erin', 'deactivate-key'],
      ['user:erin', 'quarantine'],
      ['user:erin', 'detach-policy'],
    ]);
    expect(events[0]!.data.preState).toMatchObject({ exists: true, facts: { status: 'Active' } });
    // Once rolled back it is settled: a second rollback is refused, and the next scan does not redo it.
    expect(await refusal(sc.app.people.rollback(of('agent-rb-key').plan.id, 'user:erin'))).toMatchObject({
      code: ErrorCodes.GUARDRAIL,
      message: expect.stringContaining('is rolled-back; only a done action can be rolled back'),
    });
    expect((await sc.run('scan-2')).executed).toEqual([]);
    expect(await keyOf('agent-rb-key')).toEqual(['Active']);
  });

  it('refuses to roll back what is not reversible: delete-key and delete-login-profile', async () => {
    await seedUsers(moto.endpoint, [
      user('agent-gone', 'del'),
      user('agent-console', 'console', { keys: [], password: true }),
    ]);
    const sc = await make();
    const first = await sc.run('scan-1');
    expect(first.executed.map((x) => [x.plan.action, x.state]).sort()).toEqual([
      ['deactivate-key', 'done'],
      ['delete-login-profile', 'done'],
    ]);
    // The Inactive key is deleted on a later run, afterDays (1) after credwarden deactivated it.
    sc.clock.advance(2 * 86_400_000);
    const second = await sc.run('scan-2');
    expect(second.executed.map((x) => [x.plan.action, x.state])).toEqual([['delete-key', 'done']]);
    expect(await keyOf('agent-gone')).toEqual([]);
    for (const rec of [second.executed[0]!, first.executed.find((x) => x.plan.action === 'delete-login-profile')!]) {
      const why = await refusal(sc.app.people.rollback(rec.plan.id, 'user:erin'));
      expect(why.code).toBe(ErrorCodes.GUARDRAIL);
      expect(why.message).toMatch(new RegExp(`^action ${rec.plan.id} \\(${rec.plan.action}\\) is not reversible: `));
      expect((await sc.app.remediation.show(rec.plan.id))!.state).toBe('done');
    }
    expect(await ofType(sc, 'action.rolled-back')).toEqual([]);
  });

  it('a credential changed since the action: refused when the rollback would clobber it, and when someone else already put it back', async () => {
    await withIam(moto.endpoint, (a) => createPolicy(a, 'agent-admin', doc(['*'])));
    await seedUsers(moto.endpoint, [
      user('agent-deleted', 'plain'),
      user('agent-reenabled', 'plain'),
      user('agent-edited', 'quar'),
      user('agent-reattached', 'detach', { keys: ['used'], managed: [ADMIN_ARN] }),
    ]);
    const sc = await make();
    expect((await sc.run('scan-1')).executed.map((x) => x.state)).toEqual(Array(4).fill('done'));
    const of = await byUser(sc);
    const handEdited = doc(['s3:GetObject'], '*', 'Deny');
    await withIam(moto.endpoint, async (a) => {
      const k = of('agent-deleted').plan.target.identity.accessKeyId!;
      await a.iam.send(new DeleteAccessKeyCommand({ UserName: 'agent-deleted', AccessKeyId: k }));
      const edit = { UserName: 'agent-edited', PolicyName: 'credwarden-quarantine', PolicyDocument: handEdited };
      await a.iam.send(new PutUserPolicyCommand(edit));
      await a.iam.send(new AttachUserPolicyCommand({ UserName: 'agent-reattached', PolicyArn: ADMIN_ARN }));
    });
    const reenabled = of('agent-reenabled').plan.target.identity.accessKeyId!;
    await setKeyStatus(moto.endpoint, 'agent-reenabled', reenabled, 'Active');

    // Refused: the key went away; the quarantine policy is not the one credwarden put.
    const gone = await refusal(sc.app.people.rollback(of('agent-deleted').plan.id, 'user:erin'));
    expect(gone.code).toBe(ErrorCodes.GUARDRAIL);
    expect(gone.message).toMatch(
      /changed since the action \(access key \w+ is not among the keys of user agent-deleted .*went away/,
    );
    const edited = await refusal(sc.app.people.rollback(of('agent-edited').plan.id, 'user:erin'));
    expect(edited.code).toBe(ErrorCodes.GUARDRAIL);
    expect(edited.message).toContain(
      'the credwarden-quarantine policy on user agent-edited was changed after credwarden put it',
    );
    const kept = await withIam(moto.endpoint, (a) =>
      a.iam.send(new GetUserPolicyCommand({ UserName: 'agent-edited', PolicyName: 'credwarden-quarantine' })),
    );
    expect(JSON.parse(decodeURIComponent(kept.PolicyDocument!))).toEqual(JSON.parse(handEdited));
    for (const u of ['agent-deleted', 'agent-edited'])
      expect((await sc.app.remediation.show(of(u).plan.id))!.state).toBe('done');

    // Someone else already put it back (key Active again, policy re-attached): refused, so no
    // person is audited for a rollback they did not do, and nothing is written to the backend.
    const calls = { ...sc.app.remediation.d.ports.aws.calls.byOperation };
    for (const u of ['agent-reenabled', 'agent-reattached']) {
      const back = await refusal(sc.app.people.rollback(of(u).plan.id, 'user:erin'));
      expect(back.code).toBe(ErrorCodes.GUARDRAIL);
      expect(back.message).toMatch(/is already back in its pre-state .*changed by someone else; nothing to roll back/);
      expect((await sc.app.remediation.show(of(u).plan.id))!.state).toBe('done');
    }
    const writes = Object.entries(sc.app.remediation.d.ports.aws.calls.byOperation).filter(
      ([op, count]) => /^iam:(Update|Attach|Detach|Delete|Put)/.test(op) && count !== calls[op],
    );
    expect(writes).toEqual([]);
    expect([await keyOf('agent-reenabled'), await attached('agent-reattached')]).toEqual([['Active'], [ADMIN_ARN]]);
    expect(await ofType(sc, 'action.rolled-back')).toEqual([]);
    expect(await ofType(sc, 'action.rollback-intent')).toEqual([]);
  });
});
