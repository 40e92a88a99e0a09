/**
 * AwsIamSource.recheck against moto: every credential a scan finds rechecks `present` with the
 * record the scan gave (built by the same code), changes made after the scan show up, deleted
 * credentials are `absent`, ids outside the source throw INPUT, and each kind costs exactly the
 * calls recheck.ts lists.
 */
import {
  DeleteAccessKeyCommand,
  DeleteLoginProfileCommand,
  DeleteRoleCommand,
  DeleteUserCommand,
  DeleteUserPolicyCommand,
  PutUserPolicyCommand,
  RemoveUserFromGroupCommand,
  UpdateAccessKeyCommand,
} from '@aws-sdk/client-iam';
import { beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import type { App } from '../../src/main.js';
import { type AwsStatementGrant, type Credential, grantSignatures } from '../../src/model/credential.js';
import { AWS_SCANNER_PERMISSIONS } from '../../src/sources/aws/aws-iam.source.js';
import { AWS_RECHECK_PERMISSIONS } from '../../src/sources/aws/recheck.js';
import type { RecheckResult, Source } from '../../src/sources/source.js';
import { ACCOUNT_A, ACCOUNT_B, registry, type SeededEstate, seedEstate } from '../fixtures/aws-estate.js';
import { testApp, useMotoCredentialsEnv, writeTestFiles } from '../support/app.js';
import { type AccountSeeder, createUser, doc, seederFor } from '../support/aws-seed.js';
import { useMoto } from '../support/moto.js';
import { useRedis } from '../support/redis.js';

const moto = useMoto();
const r = useRedis('aws-recheck');
const CHECKED_AT = '2026-12-01T12:00:00.000Z';

const config = (withAccounts = true) => ({
  redis: { prefix: r.prefix },
  aws: {
    endpoint: moto.endpoint,
    region: 'us-east-1',
    ...(withAccounts
      ? {
          accounts: [
            { id: ACCOUNT_A, roleArn: `arn:aws:iam::${ACCOUNT_A}:role/credwarden-reader`, externalId: 'cw-ext-1' },
            { id: ACCOUNT_B, roleArn: `arn:aws:iam::${ACCOUNT_B}:role/credwarden-reader` },
          ],
        }
      : {}),
  },
});

type Present = Extract<RecheckResult, { state: 'present' }>;

/** A record minus what a recheck legitimately says differently: when, from which API, the report slot. */
function comparable(c: Credential): unknown {
  const { observedAt: _o, lastUsed, attributes, ...rest } = structuredClone(c);
  const { reportSlot: _s, ...attrs } = attributes;
  const { source: _src, asOf: _asOf, ...used } = lastUsed ?? { source: '', asOf: '' };
  return { ...rest, attributes: attrs, lastUsed: lastUsed ? used : null };
}

describe('AwsIamSource.recheck against moto', () => {
  let app: App;
  let aws: Source;
  let estate: SeededEstate;
  let scanned: Credential[];
  let a: AccountSeeder;
  const ctx = () => ({ clock: new ManualClock(CHECKED_AT), log: app.log, registry: app.registry });
  const recheck = (id: string) => aws.recheck(id, ctx());
  const present = async (id: string): Promise<Credential> => {
    const res = await recheck(id);
    expect(res, id).toMatchObject({ state: 'present', checkedAt: CHECKED_AT });
    return (res as Present).credential;
  };
  const scannedById = (id: string) => scanned.find((c) => c.id === id)!;
  const keyId = (user: string, i = 0) =>
    `aws/${user === 'svc-etl-bot' ? ACCOUNT_B : ACCOUNT_A}/access-key/${estate.keys[user]![i]!.accessKeyId}`;

  beforeAll(async () => {
    useMotoCredentialsEnv();
    estate = await seedEstate(moto.endpoint);
    a = await seederFor(moto.endpoint, ACCOUNT_A);
    app = await testApp(writeTestFiles(config(), registry));
    aws = app.sources.find((s) => s.type === 'aws')!;
    scanned = [];
    for (const unit of aws.units()) {
      const res = await aws.discover(unit.key, { clock: app.clock, log: app.log, registry: app.registry });
      expect(res.problems).toEqual([]);
      scanned.push(...res.credentials);
    }
    return async () => {
      a.iam.destroy();
      await app.close();
    };
  });

  it('rechecks every scanned credential as present, with the record the scan built', async () => {
    expect(scanned).toHaveLength(8);
    const usedKey = keyId('svc-invoice-bot', 0);
    const ops = new Set<string>();
    for (const s of scanned) {
      const res = await recheck(s.id);
      expect(res.state, s.id).toBe('present');
      for (const op of Object.keys(res.apiCalls.byOperation)) ops.add(op);
      const got = (res as Present).credential;
      const want = comparable(s) as { lastUsed: unknown };
      const have = comparable(got) as { lastUsed: unknown };
      if (s.id === usedKey) {
        // moto quirk: its credential report keeps the last use to the second and says
        // "not_supported" for service and region; GetAccessKeyLastUsed has milliseconds and both.
        expect(s.lastUsed).toMatchObject({ source: 'credential-report', service: null, region: null });
        expect(got.lastUsed).toMatchObject({ source: 'GetAccessKeyLastUsed', service: 'sts', region: 'us-east-1' });
        expect(got.lastUsed!.at!.slice(0, 19)).toBe(s.lastUsed!.at!.slice(0, 19));
        have.lastUsed = want.lastUsed;
      }
      expect(have, s.id).toEqual(want);
      const source = { 'aws-access-key': 'GetAccessKeyLastUsed', 'aws-role': 'RoleLastUsed' }[got.kind as string];
      expect(got.lastUsed?.source).toBe(source ?? 'GetUser');
      expect(got.lastUsed?.asOf).toBe(CHECKED_AT);
      expect(got.attributes.reportSlot).toBeUndefined();
    }
    // Not vacuous: the invoice bot's key carries all four kinds of user grant, the runner a boundary.
    const inv = await present(usedKey);
    expect(
      (inv.grants as AwsStatementGrant[]).map((g) => `${g.provenance.attachment}:${g.provenance.via ?? ''}`).sort(),
    ).toEqual(['group-inline:agents-readers', 'group-managed:agents-readers', 'inline:', 'managed:']);
    expect(inv).toMatchObject({ agentId: 'invoice-bot', owner: { team: 'finance-eng' }, unregisteredAgent: false });
    const runner = await present(`aws/${ACCOUNT_A}/role/agent-runner-role`);
    expect(runner.attributes.maxSessionDurationSeconds).toBe(7200);
    expect(runner.grants.map((g) => g.provenance.attachment).sort()).toEqual(['boundary', 'inline', 'managed']);
    const pw = await present(`aws/${ACCOUNT_A}/console-password/svc-reporter`);
    expect(pw).toMatchObject({ agentId: null, unregisteredAgent: true, status: 'active' });
    expect(pw.attributes.mfaActive).toBe(false);
    // Every operation recheck made is a documented permission, and every recheck permission was used.
    const documented = new Set<string>([...AWS_SCANNER_PERMISSIONS, ...AWS_RECHECK_PERMISSIONS]);
    expect([...ops].filter((op) => !documented.has(op))).toEqual([]);
    expect(AWS_RECHECK_PERMISSIONS.filter((p) => !ops.has(p))).toEqual([]);
  });

  it('makes exactly the listed calls per kind', async () => {
    const calls = async (id: string) => {
      const res = await recheck(id);
      expect(res.apiCalls.attempts).toBe(res.apiCalls.total);
      return { state: res.state, total: res.apiCalls.total, ops: res.apiCalls.byOperation };
    };
    const userCalls = { 'iam:ListUserPolicies': 1, 'iam:ListAttachedUserPolicies': 1, 'iam:ListGroupsForUser': 1 };
    // 1 inline policy, 1 managed, 1 group with 1 inline and 1 managed.
    expect(await calls(keyId('svc-invoice-bot', 0))).toEqual({
      state: 'present',
      total: 15,
      ops: {
        'sts:GetCallerIdentity': 1,
        'iam:GetAccessKeyLastUsed': 1,
        'iam:ListAccessKeys': 1,
        'iam:GetUser': 1,
        ...userCalls,
        'iam:GetUserPolicy': 1,
        'iam:ListGroupPolicies': 1,
        'iam:GetGroupPolicy': 1,
        'iam:ListAttachedGroupPolicies': 1,
        'iam:GetPolicy': 2,
        'iam:GetPolicyVersion': 2,
      },
    });
    // Account B, 1 inline policy, nothing else.
    expect(await calls(keyId('svc-etl-bot'))).toEqual({
      state: 'present',
      total: 8,
      ops: {
        'sts:GetCallerIdentity': 1,
        'iam:GetAccessKeyLastUsed': 1,
        'iam:ListAccessKeys': 1,
        'iam:GetUser': 1,
        ...userCalls,
        'iam:GetUserPolicy': 1,
      },
    });
    expect(await calls(`aws/${ACCOUNT_A}/console-password/svc-reporter`)).toEqual({
      state: 'present',
      total: 7,
      ops: {
        'sts:GetCallerIdentity': 1,
        'iam:GetUser': 1,
        'iam:GetLoginProfile': 1,
        'iam:ListMFADevices': 1,
        ...userCalls,
      },
    });
    // 1 inline, 1 managed and a boundary.
    expect(await calls(`aws/${ACCOUNT_A}/role/agent-runner-role`)).toEqual({
      state: 'present',
      total: 9,
      ops: {
        'sts:GetCallerIdentity': 1,
        'iam:GetRole': 1,
        'iam:ListRolePolicies': 1,
        'iam:GetRolePolicy': 1,
        'iam:ListAttachedRolePolicies': 1,
        'iam:GetPolicy': 2,
        'iam:GetPolicyVersion': 2,
      },
    });
    expect(await calls(`aws/${ACCOUNT_A}/role/agent-idle-role`)).toEqual({
      state: 'present',
      total: 4,
      ops: {
        'sts:GetCallerIdentity': 1,
        'iam:GetRole': 1,
        'iam:ListRolePolicies': 1,
        'iam:ListAttachedRolePolicies': 1,
      },
    });
    expect(await calls(`aws/${ACCOUNT_A}/root-access-key/1`)).toEqual({
      state: 'unknown',
      total: 1,
      ops: { 'sts:GetCallerIdentity': 1 },
    });
  });

  it('says unknown/unsupported for a root access key', async () => {
    const res = await recheck(`aws/${ACCOUNT_A}/root-access-key/2`);
    expect(res).toMatchObject({ state: 'unknown', code: 'unsupported', checkedAt: CHECKED_AT });
    expect((res as { reason: string }).reason).toMatch(/credential report.*root/);
  });

  it('shows a PutUserPolicy made after the scan in the rechecked grants', async () => {
    const id = keyId('svc-invoice-bot', 0);
    await a.iam.send(
      new PutUserPolicyCommand({
        UserName: 'svc-invoice-bot',
        PolicyName: 'escalated',
        PolicyDocument: doc(['iam:CreateAccessKey']),
      }),
    );
    const got = await present(id);
    const before = grantSignatures(scannedById(id).grants);
    const after = grantSignatures(got.grants);
    expect(after.filter((g) => !before.includes(g))).toEqual(['Allow iam:CreateAccessKey on * (inline escalated)']);
    expect(before.filter((g) => !after.includes(g))).toEqual([]);
    await a.iam.send(new DeleteUserPolicyCommand({ UserName: 'svc-invoice-bot', PolicyName: 'escalated' }));
  });

  it('follows an access key to inactive, then to absent once deleted', async () => {
    const key = estate.keys['agent-scraper']![0]!;
    const id = keyId('agent-scraper');
    expect(scannedById(id).status).toBe('active');
    // moto answers GetAccessKeyLastUsed for a key of another account: ListAccessKeys in the id's account decides.
    const elsewhere = await recheck(`aws/${ACCOUNT_B}/access-key/${key.accessKeyId}`);
    expect(elsewhere).toMatchObject({ state: 'absent', reason: expect.stringContaining('user agent-scraper') });

    await a.iam.send(
      new UpdateAccessKeyCommand({ UserName: 'agent-scraper', AccessKeyId: key.accessKeyId, Status: 'Inactive' }),
    );
    const inactive = await present(id);
    expect(inactive.status).toBe('inactive');
    expect(comparable(inactive)).toEqual({ ...(comparable(scannedById(id)) as object), status: 'inactive' });

    await a.iam.send(new DeleteAccessKeyCommand({ UserName: 'agent-scraper', AccessKeyId: key.accessKeyId }));
    const gone = await recheck(id);
    expect(gone).toMatchObject({
      state: 'absent',
      reason: `access key ${key.accessKeyId} does not exist`,
      checkedAt: CHECKED_AT,
      apiCalls: { total: 2, byOperation: { 'sts:GetCallerIdentity': 1, 'iam:GetAccessKeyLastUsed': 1 } },
    });
  });

  it('says absent for every credential of a user deleted entirely', async () => {
    const [k] = await createUser(
      a,
      {
        name: 'agent-doomed',
        groups: ['agents-readers'],
        inline: { p: doc(['s3:ListBucket']) },
        keys: ['active'],
        password: true,
      },
      moto.endpoint,
    );
    const keyCred = `aws/${ACCOUNT_A}/access-key/${k!.accessKeyId}`;
    const pwCred = `aws/${ACCOUNT_A}/console-password/agent-doomed`;
    expect((await present(keyCred)).grants.map((g) => g.provenance.attachment).sort()).toEqual([
      'group-inline',
      'group-managed',
      'inline',
    ]);
    expect((await present(pwCred)).unregisteredAgent).toBe(true);

    await a.iam.send(new DeleteAccessKeyCommand({ UserName: 'agent-doomed', AccessKeyId: k!.accessKeyId }));
    await a.iam.send(new DeleteUserPolicyCommand({ UserName: 'agent-doomed', PolicyName: 'p' }));
    await a.iam.send(new RemoveUserFromGroupCommand({ UserName: 'agent-doomed', GroupName: 'agents-readers' }));
    await a.iam.send(new DeleteLoginProfileCommand({ UserName: 'agent-doomed' }));
    await a.iam.send(new DeleteUserCommand({ UserName: 'agent-doomed' }));
    expect(await recheck(keyCred)).toMatchObject({
      state: 'absent',
      reason: `access key ${k!.accessKeyId} does not exist`,
    });
    expect(await recheck(pwCred)).toMatchObject({
      state: 'absent',
      reason: 'user agent-doomed does not exist',
      apiCalls: { total: 2, byOperation: { 'sts:GetCallerIdentity': 1, 'iam:GetUser': 1 } },
    });
  });

  it('says absent for a role once deleted', async () => {
    const id = `aws/${ACCOUNT_A}/role/agent-idle-role`;
    expect((await present(id)).attributes.roleId).toBe(scannedById(id).attributes.roleId);
    await a.iam.send(new DeleteRoleCommand({ RoleName: 'agent-idle-role' }));
    expect(await recheck(id)).toMatchObject({
      state: 'absent',
      reason: 'role agent-idle-role does not exist',
      apiCalls: { total: 2, byOperation: { 'sts:GetCallerIdentity': 1, 'iam:GetRole': 1 } },
    });
  });

  it('says absent for a console password once its login profile is deleted', async () => {
    const id = `aws/${ACCOUNT_A}/console-password/svc-reporter`;
    const pw = await present(id);
    expect(pw.attributes.mfaActive).toBe(false);
    expect(pw.createdAt).toBe(scannedById(id).createdAt);
    await a.iam.send(new DeleteLoginProfileCommand({ UserName: 'svc-reporter' }));
    expect(await recheck(id)).toMatchObject({
      state: 'absent',
      reason: 'user svc-reporter has no console password (no login profile)',
      apiCalls: {
        total: 3,
        byOperation: { 'sts:GetCallerIdentity': 1, 'iam:GetUser': 1, 'iam:GetLoginProfile': 1 },
      },
    });
  });

  it('throws INPUT for an id of an account it does not scan, and for malformed ids', async () => {
    const other = 'aws/333333333333/role/agent-runner-role';
    expect(aws.owns(other)).toBe(false);
    expect(aws.owns(`aws/${ACCOUNT_B}/role/etl-bot-role`)).toBe(true);
    expect(aws.owns('vault/c/root/token/x')).toBe(false);
    await expect(recheck(other)).rejects.toMatchObject({
      code: 'CW_ERR_INPUT',
      message: expect.stringMatching(/"aws\/333333333333\/role\/agent-runner-role".*not one this source scans/),
    });
    for (const bad of [
      `aws/${ACCOUNT_A}/role`,
      `aws/${ACCOUNT_A}/role/a/b`,
      `aws/${ACCOUNT_A}/bucket/x`,
      `aws/${ACCOUNT_A}/access-key/`,
      `aws/${ACCOUNT_A}/root-access-key/3`,
      'aws/12345/role/x',
      'vault/c/root/token/x',
    ]) {
      await expect(recheck(bad), bad).rejects.toMatchObject({
        code: 'CW_ERR_INPUT',
        message: expect.stringContaining(`"${bad}"`),
      });
    }
  });

  it('with no accounts configured, confirms the home account is the id account', async () => {
    const home = await testApp(writeTestFiles(config(false), registry));
    try {
      const src = home.sources.find((s) => s.type === 'aws')!;
      const c = { clock: new ManualClock(CHECKED_AT), log: home.log, registry: home.registry };
      const id = `aws/${ACCOUNT_A}/role/agent-runner-role`;
      expect(src.owns(id)).toBe(true);
      // moto's default account for the "testing" credentials is 123456789012.
      await expect(src.recheck(id, c)).rejects.toMatchObject({
        code: 'CW_ERR_INPUT',
        message: expect.stringMatching(/"aws\/111111111111\/role\/agent-runner-role".*home account.*123456789012/),
      });
      expect(await src.recheck('aws/123456789012/role/agent-runner-role', c)).toMatchObject({
        state: 'absent',
        reason: 'role agent-runner-role does not exist',
      });
    } finally {
      await home.close();
    }
  });
});
