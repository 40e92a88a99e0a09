/**
 * The AWS action types end to end against real moto: credentials from a real scan (AwsIamSource
 * over the scanner's role), plans from each action's own plan(), and an IamWritePort over a
 * separate remediation pool that assumes each account's remediationRoleArn. Asserts the exact
 * IAM state after each step (read back with the seeder's own client) and the exact calls made.
 *
 * moto stores deny policies but never enforces them: quarantine is checked by its document.
 */
import {
  AttachUserPolicyCommand,
  DeleteAccessKeyCommand,
  DeleteUserPolicyCommand,
  GetRolePolicyCommand,
  GetUserPolicyCommand,
  IAMClient,
  ListAccessKeysCommand,
  ListAttachedRolePoliciesCommand,
  ListAttachedUserPoliciesCommand,
  ListUserPoliciesCommand,
  PutUserPolicyCommand,
  UpdateAccessKeyCommand,
} from '@aws-sdk/client-iam';
import { STSClient } from '@aws-sdk/client-sts';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ActionType, RefuseContext } from '../../src/actions/action-type.js';
import { type IamWritePort, iamWritePortFrom } from '../../src/actions/aws-port.js';
import { deactivateKey } from '../../src/actions/deactivate-key.action.js';
import { deleteKey } from '../../src/actions/delete-key.action.js';
import { deleteLoginProfile } from '../../src/actions/delete-login-profile.action.js';
import { detachPolicy } from '../../src/actions/detach-policy.action.js';
import type { ActionPorts, VaultWritePort } from '../../src/actions/ports.js';
import { QUARANTINE_POLICY, quarantine } from '../../src/actions/quarantine.action.js';
import { DAY_MS, ManualClock } from '../../src/clock.js';
import { AwsSchema } from '../../src/config/schema.js';
import { createLogger } from '../../src/logger.js';
import type { ActionPlan, TargetState } from '../../src/model/action.js';
import type { Registry } from '../../src/model/agent.js';
import type { Credential } from '../../src/model/credential.js';
import type { RuleHit } from '../../src/model/finding.js';
import { awsAccessKeyId, awsConsolePasswordId, awsRoleId } from '../../src/model/ids.js';
import { diffCounts } from '../../src/sources/api-calls.js';
import { AwsIamSource } from '../../src/sources/aws/aws-iam.source.js';
import { AwsClientPool } from '../../src/sources/aws/client-pool.js';
import { useMotoCredentialsEnv } from '../support/app.js';
import {
  type AccountSeeder,
  type CreatedKey,
  createPolicy,
  createRole,
  createUser,
  doc,
  seederFor,
} from '../support/aws-seed.js';
import { useMoto } from '../support/moto.js';

const moto = useMoto();
const ACCOUNT = '333344445555';
const PLANNED_AT = '2026-11-27T10:00:00.000Z';
const NOW = new Date('2026-11-27T12:00:00.000Z');
const registry: Registry = {
  agents: [],
  unregistered: {
    aws: { tags: {}, namePatterns: ['agent-*'] },
    vault: { meta: [], displayNamePatterns: [], policyPatterns: [] },
  },
};

let s: AccountSeeder;
let keys: Record<string, CreatedKey[]>;
let creds: Map<string, Credential>;
let port: IamWritePort;
let ports: ActionPorts;
let policyA: string;
let policyB: string;
let policyC: string;

const noVault = new Proxy({} as VaultWritePort, {
  get() {
    throw new Error('an AWS action reached for the Vault port');
  },
});

const keyId = (user: string, i = 0) => keys[user]![i]!.accessKeyId;
const keyCred = (user: string, i = 0) => creds.get(awsAccessKeyId(ACCOUNT, keyId(user, i)))!;

// biome-ignore lint/suspicious/noExplicitAny: each action type has its own parameter type
function planOf(action: ActionType<any>, cred: Credential, params: Record<string, unknown> = {}, hits: RuleHit[] = []) {
  const out = action.plan(cred, action.schema.parse(params), { now: NOW, hits });
  if ('skip' in out) throw new Error(`unexpected skip: ${out.skip}`);
  const plan: ActionPlan = {
    id: `plan-${action.name}-${cred.id}`,
    action: action.name,
    params: action.schema.parse(params) as Record<string, unknown>,
    policy: 'test-policy',
    policyMode: 'enforce',
    findingFingerprint: 'fp-1',
    severity: 'high',
    agentId: cred.agentId,
    owner: null,
    environment: null,
    tags: {},
    credentialCreatedAt: cred.createdAt,
    target: out.target,
    reversible: action.reversible,
    evidenceHash: 'hash-1',
    facts: hits,
    message: 'test',
    scanId: 'scan-1',
    plannedAt: PLANNED_AT,
  };
  return plan;
}

/** Runs fn and returns its result with the IAM operations it made. */
async function counted<T>(fn: () => Promise<T>): Promise<[T, Record<string, number>]> {
  const before = { ...port.calls, byOperation: { ...port.calls.byOperation } };
  const out = await fn();
  return [out, diffCounts(port.calls, before).byOperation];
}

const refuseCtx = (lastDone: string | null = null): RefuseContext & { asked: string[] } => {
  const asked: string[] = [];
  const lastDoneBy = (action: string) => {
    asked.push(action);
    return lastDone;
  };
  return { now: NOW, asked, lastDoneBy };
};

async function keyStatuses(user: string): Promise<Record<string, string>> {
  const out = await s.iam.send(new ListAccessKeysCommand({ UserName: user }));
  return Object.fromEntries((out.AccessKeyMetadata ?? []).map((k) => [k.AccessKeyId!, k.Status!]));
}

async function attachedArns(kind: 'user' | 'role', name: string): Promise<string[]> {
  const out =
    kind === 'user'
      ? await s.iam.send(new ListAttachedUserPoliciesCommand({ UserName: name }))
      : await s.iam.send(new ListAttachedRolePoliciesCommand({ RoleName: name }));
  return (out.AttachedPolicies ?? []).map((p) => p.PolicyArn!).sort();
}

const decoded = (d: string | undefined) => JSON.parse(decodeURIComponent(d!));

const expectedQuarantine = {
  Version: '2012-10-17',
  Statement: [
    { Sid: 'CredwardenQuarantineDenyAll', Effect: 'Deny', Action: '*', Resource: '*' },
    {
      Sid: 'CredwardenRevokeOlderSessions',
      Effect: 'Deny',
      Action: '*',
      Resource: '*',
      Condition: { DateLessThan: { 'aws:TokenIssueTime': PLANNED_AT } },
    },
  ],
};

beforeAll(async () => {
  useMotoCredentialsEnv();
  s = await seederFor(moto.endpoint, ACCOUNT);
  policyA = await createPolicy(s, 'agent-a-policy', doc(['s3:*']));
  policyB = await createPolicy(s, 'agent-b-policy', doc(['ec2:*']));
  policyC = await createPolicy(s, 'agent-c-policy', doc(['sqs:*']));
  const app = doc(['s3:GetObject']);
  const users: Parameters<typeof createUser>[1][] = [
    { name: 'agent-two-keys', keys: ['active', 'active'] },
    { name: 'agent-wrong-a', keys: ['active'] },
    { name: 'agent-wrong-b', keys: ['active'] },
    { name: 'agent-deact', keys: ['active'] },
    { name: 'agent-changed', keys: ['active'] },
    { name: 'agent-del', keys: ['inactive', 'active'] },
    { name: 'agent-console', password: true, keys: ['active'] },
    { name: 'agent-quar', inline: { app }, keys: ['active'] },
    { name: 'agent-foreign', inline: { [QUARANTINE_POLICY]: doc(['s3:*']) }, keys: ['active'] },
    { name: 'agent-detach', managed: [policyA], keys: ['active'] },
  ];
  keys = {};
  for (const u of users) keys[u.name] = await createUser(s, u, moto.endpoint);
  await createRole(s, { name: 'agent-quar-role', inline: { app } }, moto.endpoint);
  await createRole(s, { name: 'agent-detach-role', managed: [policyB, policyC] }, moto.endpoint);

  const cfg = AwsSchema.parse({
    endpoint: moto.endpoint,
    accounts: [
      {
        id: ACCOUNT,
        roleArn: `arn:aws:iam::${ACCOUNT}:role/credwarden-reader`,
        remediationRoleArn: `arn:aws:iam::${ACCOUNT}:role/credwarden-remediator`,
      },
    ],
  });
  const sdk = { iam: (c: object) => new IAMClient(c), sts: (c: object) => new STSClient(c) };
  const clock = new ManualClock(NOW);
  const scanPool = new AwsClientPool(cfg, sdk, clock, 1);
  const result = await new AwsIamSource(cfg, scanPool).discover(`aws/${ACCOUNT}`, {
    clock,
    log: createLogger({ level: 'silent' }),
    registry,
  });
  expect(result.problems).toEqual([]);
  creds = new Map(result.credentials.map((c) => [c.id, c]));
  const remediationPool = new AwsClientPool(cfg, sdk, clock, 1);
  port = iamWritePortFrom(remediationPool, cfg.accounts!);
  ports = { aws: port, vault: noVault };
  return () => {
    scanPool.destroy();
    remediationPool.destroy();
    s.iam.destroy();
  };
}, 120_000);

describe('exact targeting (Cloud Custodian remove-keys #842, #5583, #6732)', () => {
  it('deactivates only the targeted key of a user with two keys', async () => {
    const [k1, k2] = [keyId('agent-two-keys', 0), keyId('agent-two-keys', 1)];
    const plan = planOf(deactivateKey, keyCred('agent-two-keys', 0));
    expect(plan.target.identity).toEqual({
      account: ACCOUNT,
      userName: 'agent-two-keys',
      userId: keyCred('agent-two-keys', 0).attributes.userId,
      accessKeyId: k1,
    });
    const pre = await deactivateKey.inspect(plan, ports);
    expect(deactivateKey.refuse(plan, pre, refuseCtx())).toBeNull();
    await deactivateKey.execute(plan, ports, pre);
    expect(await keyStatuses('agent-two-keys')).toEqual({ [k1]: 'Inactive', [k2]: 'Active' });
  });

  it('finds no key under the wrong user and changes nothing', async () => {
    const a = keyCred('agent-wrong-a');
    // The record names agent-wrong-b as the owner of agent-wrong-a's key.
    const wrong: Credential = { ...a, attributes: { ...a.attributes, userName: 'agent-wrong-b' } };
    const plan = planOf(deactivateKey, wrong);
    const [state, calls] = await counted(() => deactivateKey.inspect(plan, ports));
    expect(state).toEqual({ exists: false, facts: {} });
    expect(calls).toEqual({ 'iam:ListAccessKeys': 1 });
    expect(deactivateKey.isDone(plan, state)).toBe(false);
    expect(deactivateKey.refuse(plan, state, refuseCtx())).toMatch(
      new RegExp(`access key ${keyId('agent-wrong-a')} is not among the keys of user agent-wrong-b`),
    );
    expect(await keyStatuses('agent-wrong-a')).toEqual({ [keyId('agent-wrong-a')]: 'Active' });
    expect(await keyStatuses('agent-wrong-b')).toEqual({ [keyId('agent-wrong-b')]: 'Active' });
  });
});

describe('each action: inspect → execute → inspect → verify, then already done', () => {
  // biome-ignore lint/suspicious/noExplicitAny: each action type has its own parameter type
  async function run(action: ActionType<any>, plan: ActionPlan, ctx = refuseCtx()) {
    const [pre, c1] = await counted(() => action.inspect(plan, ports));
    expect(action.isDone(plan, pre)).toBe(false);
    expect(action.refuse(plan, pre, ctx)).toBeNull();
    const [, c2] = await counted(() => action.execute(plan, ports, pre));
    const [post, c3] = await counted(() => action.inspect(plan, ports));
    expect(action.verify(plan, post)).toBe(true);
    expect(action.isDone(plan, post)).toBe(true);
    const [again, c4] = await counted(() => action.inspect(plan, ports));
    expect(action.isDone(plan, again)).toBe(true); // a retried job stops here: no second write
    return { pre, post, calls: [c1, c2, c3, c4] };
  }

  it('deactivate-key', async () => {
    const plan = planOf(deactivateKey, keyCred('agent-deact'));
    const { pre, post, calls } = await run(deactivateKey, plan);
    expect(pre.facts.status).toBe('Active');
    expect(post.facts.status).toBe('Inactive');
    expect(calls).toEqual([
      { 'iam:ListAccessKeys': 1 },
      { 'iam:UpdateAccessKey': 1 },
      { 'iam:ListAccessKeys': 1 },
      { 'iam:ListAccessKeys': 1 },
    ]);
  });

  it('delete-key (credwarden deactivated it 8 days ago)', async () => {
    const [inactive, active] = [keyId('agent-del', 0), keyId('agent-del', 1)];
    const plan = planOf(deleteKey, keyCred('agent-del', 0), { afterDays: 7 });
    const ctx = refuseCtx(new Date(NOW.getTime() - 8 * DAY_MS).toISOString());
    const { calls } = await run(deleteKey, plan, ctx);
    expect(ctx.asked).toEqual(['deactivate-key']);
    expect(calls).toEqual([
      { 'iam:ListAccessKeys': 1 },
      { 'iam:DeleteAccessKey': 1 },
      { 'iam:ListAccessKeys': 1 },
      { 'iam:ListAccessKeys': 1 },
    ]);
    expect(await keyStatuses('agent-del')).toEqual({ [active]: 'Active' });
    expect(inactive).not.toBe(active);
  });

  it('delete-login-profile', async () => {
    const cred = creds.get(awsConsolePasswordId(ACCOUNT, 'agent-console'))!;
    expect(cred.kind).toBe('aws-console-password');
    const { calls } = await run(deleteLoginProfile, planOf(deleteLoginProfile, cred));
    expect(calls).toEqual([
      { 'iam:GetLoginProfile': 1 },
      { 'iam:DeleteLoginProfile': 1 },
      { 'iam:GetLoginProfile': 1 },
      { 'iam:GetLoginProfile': 1 },
    ]);
    // The user's key is untouched.
    expect(await keyStatuses('agent-console')).toEqual({ [keyId('agent-console')]: 'Active' });
  });

  it('quarantine of a role', async () => {
    const plan = planOf(quarantine, creds.get(awsRoleId(ACCOUNT, 'agent-quar-role'))!);
    const { calls } = await run(quarantine, plan);
    expect(calls).toEqual([
      { 'iam:GetRolePolicy': 1, 'iam:ListAttachedRolePolicies': 1 },
      { 'iam:PutRolePolicy': 1 },
      { 'iam:GetRolePolicy': 1 },
      { 'iam:GetRolePolicy': 1 },
    ]);
    const got = await s.iam.send(
      new GetRolePolicyCommand({ RoleName: 'agent-quar-role', PolicyName: QUARANTINE_POLICY }),
    );
    expect(decoded(got.PolicyDocument)).toEqual(expectedQuarantine);
  });

  it('detach-policy (the one managed policy the evidence names)', async () => {
    const cred = keyCred('agent-detach');
    const hits: RuleHit[] = [
      {
        message: 's3:* on *',
        detector: 'admin',
        evidence: cred.grants.map((g) => ({ statement: { summary: 'grant', provenance: g.provenance } })),
      },
    ];
    const plan = planOf(detachPolicy, cred, {}, hits);
    expect(plan.target.identity.policyArn).toBe(policyA);
    const { calls } = await run(detachPolicy, plan);
    expect(calls).toEqual([
      { 'iam:ListAttachedUserPolicies': 1 },
      { 'iam:DetachUserPolicy': 1 },
      { 'iam:ListAttachedUserPolicies': 1 },
      { 'iam:ListAttachedUserPolicies': 1 },
    ]);
    expect(await attachedArns('user', 'agent-detach')).toEqual([]);
  });
});

describe('rollback and changedSince', () => {
  // biome-ignore lint/suspicious/noExplicitAny: each action type has its own parameter type
  async function act(action: ActionType<any>, plan: ActionPlan): Promise<{ pre: TargetState; post: TargetState }> {
    const pre = await action.inspect(plan, ports);
    expect(action.refuse(plan, pre, refuseCtx())).toBeNull();
    await action.execute(plan, ports, pre);
    const post = await action.inspect(plan, ports);
    expect(action.verify(plan, post)).toBe(true);
    return { pre, post };
  }

  // biome-ignore lint/suspicious/noExplicitAny: each action type has its own parameter type
  async function rollBack(action: ActionType<any>, plan: ActionPlan, pre: TargetState, post: TargetState) {
    const current = await action.inspect(plan, ports);
    expect(action.changedSince!(plan, post, current)).toBeNull();
    const [, calls] = await counted(() => action.rollback!(plan, ports, pre, current));
    const after = await action.inspect(plan, ports);
    expect(action.isRolledBack!(plan, pre, after)).toBe(true);
    return calls;
  }

  it('deactivate-key: back to Active; refused once someone re-activated or deleted the key', async () => {
    const k = keyId('agent-two-keys', 1);
    const plan = planOf(deactivateKey, keyCred('agent-two-keys', 1));
    const { pre, post } = await act(deactivateKey, plan);
    expect(await rollBack(deactivateKey, plan, pre, post)).toEqual({ 'iam:UpdateAccessKey': 1 });
    expect((await keyStatuses('agent-two-keys'))[k]).toBe('Active');

    const second = await act(deactivateKey, plan);
    await s.iam.send(new UpdateAccessKeyCommand({ UserName: 'agent-two-keys', AccessKeyId: k, Status: 'Active' }));
    const reactivated = await deactivateKey.inspect(plan, ports);
    expect(deactivateKey.changedSince!(plan, second.post, reactivated)).toMatch(/is Active now: someone changed it/);
    expect(deactivateKey.isRolledBack!(plan, second.pre, reactivated)).toBe(true);

    const c = keyCred('agent-changed');
    const third = await act(deactivateKey, planOf(deactivateKey, c));
    await s.iam.send(new DeleteAccessKeyCommand({ UserName: 'agent-changed', AccessKeyId: keyId('agent-changed') }));
    const gone = await deactivateKey.inspect(planOf(deactivateKey, c), ports);
    expect(gone.exists).toBe(false);
    expect(deactivateKey.changedSince!(planOf(deactivateKey, c), third.post, gone)).toMatch(/went away/);
  });

  it('quarantine: deletes exactly its policy, the user keeps its own; refused once the policy was removed or changed', async () => {
    const plan = planOf(quarantine, keyCred('agent-quar'));
    expect(plan.target.identity).toEqual({
      account: ACCOUNT,
      userName: 'agent-quar',
      userId: keyCred('agent-quar').attributes.userId,
    });
    const { pre, post } = await act(quarantine, plan);
    expect(pre.facts).toEqual({ policyDocument: null });
    const listed = await s.iam.send(new ListUserPoliciesCommand({ UserName: 'agent-quar' }));
    expect(listed.PolicyNames?.sort()).toEqual(['app', QUARANTINE_POLICY]);
    expect(await rollBack(quarantine, plan, pre, post)).toEqual({ 'iam:DeleteUserPolicy': 1 });
    const restored = await s.iam.send(new ListUserPoliciesCommand({ UserName: 'agent-quar' }));
    expect(restored.PolicyNames).toEqual(['app']);

    const again = await act(quarantine, plan);
    await s.iam.send(new DeleteUserPolicyCommand({ UserName: 'agent-quar', PolicyName: QUARANTINE_POLICY }));
    const removed = await quarantine.inspect(plan, ports);
    expect(quarantine.changedSince!(plan, again.post, removed)).toMatch(/was removed after credwarden put it/);

    await act(quarantine, plan);
    await s.iam.send(
      new PutUserPolicyCommand({ UserName: 'agent-quar', PolicyName: QUARANTINE_POLICY, PolicyDocument: doc(['*']) }),
    );
    const changed = await quarantine.inspect(plan, ports);
    expect(quarantine.changedSince!(plan, again.post, changed)).toMatch(/was changed after credwarden put it/);
    await expect(quarantine.rollback!(plan, ports, again.pre, changed)).rejects.toMatchObject({
      code: 'CW_ERR_GUARDRAIL',
    });
    const kept = await s.iam.send(new GetUserPolicyCommand({ UserName: 'agent-quar', PolicyName: QUARANTINE_POLICY }));
    expect(decoded(kept.PolicyDocument)).toEqual(JSON.parse(doc(['*'])));
  });

  it('detach-policy: re-attaches only that policy; refused once someone re-attached it', async () => {
    const cred = creds.get(awsRoleId(ACCOUNT, 'agent-detach-role'))!;
    const plan = planOf(detachPolicy, cred, { policyArn: policyB });
    const { pre, post } = await act(detachPolicy, plan);
    expect(pre.facts).toEqual({ attached: true });
    expect(await attachedArns('role', 'agent-detach-role')).toEqual([policyC]);
    expect(await rollBack(detachPolicy, plan, pre, post)).toEqual({ 'iam:AttachRolePolicy': 1 });
    expect(await attachedArns('role', 'agent-detach-role')).toEqual([policyB, policyC].sort());

    const userPlan = planOf(detachPolicy, keyCred('agent-detach'), { policyArn: policyA });
    const detached = await detachPolicy.inspect(userPlan, ports);
    expect(detached.facts).toEqual({ attached: false }); // detached by the earlier test
    await s.iam.send(new AttachUserPolicyCommand({ UserName: 'agent-detach', PolicyArn: policyA }));
    const reattached = await detachPolicy.inspect(userPlan, ports);
    expect(detachPolicy.changedSince!(userPlan, detached, reattached)).toMatch(
      /was attached to user agent-detach again/,
    );
  });
});

describe('delete-key refusals', () => {
  it('refuses an Active key, a key credwarden never deactivated, and one deactivated too recently', async () => {
    const user = 'agent-two-keys';
    const active = planOf(deleteKey, keyCred(user, 1), { afterDays: 7 });
    const st = await deleteKey.inspect(active, ports);
    expect(st.facts.status).toBe('Active');
    expect(deleteKey.refuse(active, st, refuseCtx(NOW.toISOString()))).toMatch(/is Active: delete-key deletes only/);

    const inactive = planOf(deleteKey, keyCred(user, 0), { afterDays: 7 });
    const st0 = await deleteKey.inspect(inactive, ports);
    expect(st0.facts.status).toBe('Inactive');
    expect(deleteKey.isDone(inactive, st0)).toBe(false);
    const never = refuseCtx(null);
    expect(deleteKey.refuse(inactive, st0, never)).toMatch(/credwarden never deactivated it/);
    expect(never.asked).toEqual(['deactivate-key']);
    const oneDay = refuseCtx(new Date(NOW.getTime() - DAY_MS).toISOString());
    expect(deleteKey.refuse(inactive, st0, oneDay)).toMatch(/deactivated by credwarden 1 days ago .*waits 7 days/);
    const sevenDaysLess1s = refuseCtx(new Date(NOW.getTime() - 7 * DAY_MS + 1000).toISOString());
    expect(deleteKey.refuse(inactive, st0, sevenDaysLess1s)).toMatch(/waits 7 days/);
    expect(deleteKey.refuse(inactive, st0, refuseCtx(new Date(NOW.getTime() - 7 * DAY_MS).toISOString()))).toBeNull();
    // Nothing was deleted by refusing.
    expect(Object.keys(await keyStatuses(user)).sort()).toEqual([keyId(user, 0), keyId(user, 1)].sort());
  });
});

describe('quarantine document', () => {
  it('writes exactly its document, and a retry of the same plan is already done', async () => {
    const cred = creds.get(awsRoleId(ACCOUNT, 'agent-quar-role'))!;
    const plan = planOf(quarantine, cred); // quarantined by the earlier test, same plannedAt
    const [state, calls] = await counted(() => quarantine.inspect(plan, ports));
    expect(calls).toEqual({ 'iam:GetRolePolicy': 1 });
    expect(quarantine.isDone(plan, state)).toBe(true);
    await quarantine.execute(plan, ports, state); // an idempotent write, were it repeated
    const got = await s.iam.send(
      new GetRolePolicyCommand({ RoleName: 'agent-quar-role', PolicyName: QUARANTINE_POLICY }),
    );
    expect(decoded(got.PolicyDocument)).toEqual(expectedQuarantine);
    // Another plan (another time) finds a different document and does not overwrite it.
    const later = { ...plan, id: 'plan-later', plannedAt: '2026-11-28T00:00:00.000Z' };
    expect(quarantine.isDone(later, state)).toBe(false);
    expect(quarantine.refuse(later, state, refuseCtx())).toMatch(/different document/);
  });

  it('refuses a foreign inline policy of the same name and leaves it as it was', async () => {
    const plan = planOf(quarantine, keyCred('agent-foreign'));
    const [state, calls] = await counted(() => quarantine.inspect(plan, ports));
    expect(calls).toEqual({ 'iam:GetUserPolicy': 1 });
    expect(JSON.parse(state.facts.policyDocument as string)).toEqual(JSON.parse(doc(['s3:*'])));
    expect(quarantine.isDone(plan, state)).toBe(false);
    expect(quarantine.refuse(plan, state, refuseCtx())).toMatch(
      /user agent-foreign already has an inline policy named credwarden-quarantine with a different document/,
    );
    const got = await s.iam.send(
      new GetUserPolicyCommand({ UserName: 'agent-foreign', PolicyName: QUARANTINE_POLICY }),
    );
    expect(decoded(got.PolicyDocument)).toEqual(JSON.parse(doc(['s3:*'])));
  });
});

describe('call accounting', () => {
  it('counts every operation and attempt the port made', () => {
    expect(port.calls.total).toBe(Object.values(port.calls.byOperation).reduce((a, b) => a + b, 0));
    expect(port.calls.attempts).toBe(port.calls.total); // moto never throttles: one attempt each
    expect(Object.keys(port.calls.byOperation).every((op) => op.startsWith('iam:'))).toBe(true);
  });
});
