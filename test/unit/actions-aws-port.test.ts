/**
 * IamWritePort over the real SDK stack with only the network stubbed (test/support/iam-http-stub.ts),
 * for what moto cannot do: denials, throttling past retries, and ListAccessKeys /
 * ListAttachedUserPolicies over several pages. Also the pure planning of the AWS actions:
 * detach-policy's choice of policy, and the exact-id checks every AWS target passes.
 */
import { IAMClient } from '@aws-sdk/client-iam';
import { STSClient } from '@aws-sdk/client-sts';
import { type HttpHandler, type HttpRequest, HttpResponse } from '@smithy/core/protocols';
import { beforeAll, describe, expect, it } from 'vitest';
import { iamWritePortFrom } from '../../src/actions/aws-port.js';
import { deactivateKey } from '../../src/actions/deactivate-key.action.js';
import { detachPolicy } from '../../src/actions/detach-policy.action.js';
import { quarantine } from '../../src/actions/quarantine.action.js';
import { ManualClock } from '../../src/clock.js';
import { AwsSchema } from '../../src/config/schema.js';
import { CwError } from '../../src/errors.js';
import type { Credential, Provenance } from '../../src/model/credential.js';
import type { RuleHit } from '../../src/model/finding.js';
import { AwsClientPool } from '../../src/sources/aws/client-pool.js';
import { IamHttpStub, type StubBehaviour, type StubEstate } from '../support/iam-http-stub.js';

const ACCOUNT = '444455556666';
const REMEDIATOR = `arn:aws:iam::${ACCOUNT}:role/credwarden-remediator`;
const KEYS = ['AKIAPAGEKEY000000001', 'AKIAPAGEKEY000000002', 'AKIAPAGEKEY000000003'];
const ARNS = ['p1', 'p2', 'p3'].map((n) => `arn:aws:iam::${ACCOUNT}:policy/${n}`);
const allow = (a: string) => ({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: a, Resource: '*' }] });

const estate = (): StubEstate => ({
  accountId: ACCOUNT,
  users: [
    {
      name: 'agent-paged',
      accessKeys: KEYS.map((id, i) => ({
        id,
        status: i === 2 ? 'Inactive' : 'Active',
        createDate: `2025-0${i + 1}-01T00:00:00Z`,
      })),
      managedPolicyArns: ARNS,
      inlinePolicies: { app: allow('s3:*') },
    },
  ],
  roles: [{ name: 'agent-role' }],
  groups: [],
  policies: ARNS.map((arn, i) => ({ arn, name: `p${i + 1}`, document: allow('sqs:*') })),
});

/** STS at the HTTP layer answering AssumeRole, recording each request's parameters. */
function assumeRoleStub(seen: Record<string, string>[]): HttpHandler {
  return {
    async handle(req: HttpRequest) {
      const body = typeof req.body === 'string' ? req.body : new TextDecoder().decode(req.body);
      seen.push(Object.fromEntries(new URLSearchParams(body)));
      const xml = `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult><Credentials><AccessKeyId>ASIAREMEDIATOR000001</AccessKeyId><SecretAccessKey>x</SecretAccessKey><SessionToken>t</SessionToken><Expiration>2099-01-01T00:00:00Z</Expiration></Credentials><AssumedRoleUser><Arn>${REMEDIATOR}/s</Arn><AssumedRoleId>AROAREMEDIATOR:s</AssumedRoleId></AssumedRoleUser></AssumeRoleResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></AssumeRoleResponse>`;
      return {
        response: new HttpResponse({
          statusCode: 200,
          headers: { 'content-type': 'text/xml', 'x-amzn-requestid': '1' },
          body: Buffer.from(xml),
        }),
      };
    },
    updateHttpClientConfig() {},
    httpHandlerConfigs: () => ({}),
    destroy() {},
  } as unknown as HttpHandler;
}

function portFor(behaviour: StubBehaviour = {}, maxAttempts = 3) {
  const stub = new IamHttpStub(estate(), behaviour);
  const sts: Record<string, string>[] = [];
  const cfg = AwsSchema.parse({ accounts: [{ id: ACCOUNT, remediationRoleArn: REMEDIATOR }], maxAttempts });
  const pool = new AwsClientPool(
    cfg,
    {
      iam: (c) => new IAMClient({ ...c, requestHandler: stub }),
      sts: (c) => new STSClient({ ...c, requestHandler: assumeRoleStub(sts) }),
    },
    new ManualClock('2026-11-27T00:00:00Z'),
    1,
  );
  return { stub, sts, port: iamWritePortFrom(pool, cfg.accounts!) };
}

beforeAll(() => {
  process.env.AWS_ACCESS_KEY_ID = 'AKIDEXAMPLE';
  process.env.AWS_SECRET_ACCESS_KEY = 'x';
});

describe('IamWritePort', () => {
  it('follows ListAccessKeys across pages to find exactly the key asked for', async () => {
    const { stub, port, sts } = portFor({ pageSize: 1 });
    expect(await port.getAccessKey(ACCOUNT, 'agent-paged', KEYS[2]!)).toEqual({
      status: 'Inactive',
      createDate: '2025-03-01T00:00:00.000Z',
    });
    const list = stub.calls.filter((c) => c.action === 'ListAccessKeys');
    expect(list).toHaveLength(3);
    expect(list.map((c) => [c.params.UserName, Boolean(c.params.Marker)])).toEqual([
      ['agent-paged', false],
      ['agent-paged', true],
      ['agent-paged', true],
    ]);
    expect(port.calls).toEqual({ total: 3, attempts: 3, byOperation: { 'iam:ListAccessKeys': 3 } });
    // The clients act as the remediation role, not the scanner's.
    expect(sts.map((p) => [p.Action, p.RoleArn])).toEqual([['AssumeRole', REMEDIATOR]]);
    expect(await port.getAccessKey(ACCOUNT, 'agent-paged', 'AKIANOTTHEREKEY00001')).toBeNull();
    expect(port.calls.byOperation['iam:ListAccessKeys']).toBe(6);
  });

  it('follows ListAttachedUserPolicies across pages', async () => {
    const { port } = portFor({ pageSize: 1 });
    expect(await port.listAttachedPolicies(ACCOUNT, { type: 'user', name: 'agent-paged' })).toEqual(ARNS);
    expect(port.calls.byOperation).toEqual({ 'iam:ListAttachedUserPolicies': 3 });
  });

  it('answers null for what is not there, and decodes URL-encoded policy documents', async () => {
    const { port } = portFor();
    expect(await port.getAccessKey(ACCOUNT, 'nobody', KEYS[0]!)).toBeNull();
    expect(await port.getLoginProfile(ACCOUNT, 'agent-paged')).toBeNull();
    expect(await port.getInlinePolicy(ACCOUNT, { type: 'role', name: 'no-role' }, 'x')).toBeNull();
    expect(await port.getInlinePolicy(ACCOUNT, { type: 'user', name: 'agent-paged' }, 'missing')).toBeNull();
    expect(await port.listAttachedPolicies(ACCOUNT, { type: 'role', name: 'no-role' })).toBeNull();
    const text = await port.getInlinePolicy(ACCOUNT, { type: 'user', name: 'agent-paged' }, 'app');
    expect(text).toBe(JSON.stringify(allow('s3:*')));
  });

  it.each([
    [
      'UpdateAccessKey',
      (p: ReturnType<typeof portFor>['port']) => p.updateAccessKey(ACCOUNT, 'agent-paged', KEYS[0]!, 'Inactive'),
    ],
    ['ListAccessKeys', (p: ReturnType<typeof portFor>['port']) => p.getAccessKey(ACCOUNT, 'agent-paged', KEYS[0]!)],
    [
      'PutRolePolicy',
      (p: ReturnType<typeof portFor>['port']) =>
        p.putInlinePolicy(ACCOUNT, { type: 'role', name: 'agent-role' }, 'q', '{}'),
    ],
    [
      'DetachUserPolicy',
      (p: ReturnType<typeof portFor>['port']) =>
        p.detachPolicy(ACCOUNT, { type: 'user', name: 'agent-paged' }, ARNS[0]!),
    ],
  ])('turns a denial of %s into AWS_ACCESS_DENIED naming iam:%s', async (op, call) => {
    const { port, stub } = portFor({ accessDenied: [op] });
    const err = await call(port).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(CwError);
    expect(err).toMatchObject({ code: 'CW_ERR_AWS_ACCESS_DENIED', retryable: false });
    expect((err as Error).message).toContain(`the remediation role needs iam:${op}`);
    expect(stub.countByAction()[op]).toBe(1); // a denial is not retried
    expect(port.calls.byOperation).toEqual({ [`iam:${op}`]: 1 });
  });

  it('gives up on throttling after maxAttempts with a retryable error, counting the attempts', async () => {
    const { port, stub } = portFor({ throttle: { ListAccessKeys: 10 } }, 3);
    await expect(port.getAccessKey(ACCOUNT, 'agent-paged', KEYS[0]!)).rejects.toMatchObject({
      code: 'CW_ERR_AWS',
      retryable: true,
    });
    expect(stub.countByAction().ListAccessKeys).toBe(3);
    expect(port.calls).toEqual({ total: 1, attempts: 3, byOperation: { 'iam:ListAccessKeys': 1 } });
  });

  it('refuses an id that is not one exact id, before any call', async () => {
    const { port, stub } = portFor();
    await expect(port.updateAccessKey(ACCOUNT, 'agent-*', KEYS[0]!, 'Inactive')).rejects.toMatchObject({
      code: 'CW_ERR_INTERNAL',
    });
    await expect(port.deleteAccessKey(ACCOUNT, 'agent-paged', '')).rejects.toMatchObject({ code: 'CW_ERR_INTERNAL' });
    expect(stub.calls).toEqual([]);
    expect(port.calls.total).toBe(0);
  });
});

describe(iamWritePortFrom.name, () => {
  const pool = { forAccount: () => ({}) as never };
  it('names the account that has no remediationRoleArn, and makes no call', async () => {
    let asked = 0;
    const port = iamWritePortFrom(
      {
        forAccount: () => {
          asked++;
          return {} as never;
        },
      },
      [{ id: ACCOUNT, name: 'prod', roleArn: `arn:aws:iam::${ACCOUNT}:role/credwarden-reader` }],
    );
    await expect(port.getLoginProfile(ACCOUNT, 'u')).rejects.toThrow(
      new RegExp(`account ${ACCOUNT} \\(prod\\) has no remediationRoleArn`),
    );
    await expect(port.getLoginProfile(ACCOUNT, 'u')).rejects.toMatchObject({ code: 'CW_ERR_CONFIG' });
    expect(asked).toBe(0);
    expect(port.calls.total).toBe(0);
  });

  it('names an account that is not configured', async () => {
    const port = iamWritePortFrom(pool, []);
    await expect(port.getLoginProfile('999999999999', 'u')).rejects.toMatchObject({
      code: 'CW_ERR_CONFIG',
      message: expect.stringContaining('account 999999999999 is not in aws.accounts'),
    });
  });

  it('asks the pool for the account with remediationRoleArn as the role to assume', () => {
    const seen: unknown[] = [];
    const port = iamWritePortFrom(
      {
        forAccount: (a) => {
          seen.push(a);
          throw new Error('stop');
        },
      },
      [{ id: ACCOUNT, roleArn: 'arn:aws:iam::444455556666:role/reader', remediationRoleArn: REMEDIATOR }],
    );
    return expect(port.getLoginProfile(ACCOUNT, 'u'))
      .rejects.toThrow('stop')
      .then(() => expect(seen).toEqual([{ id: ACCOUNT, roleArn: REMEDIATOR, remediationRoleArn: REMEDIATOR }]));
  });
});

// --- pure planning ---------------------------------------------------------------------------------

const USER_ID = 'AIDAEXAMPLEUSER00001';
function keyCred(over: Partial<Credential> = {}, attrs: Record<string, unknown> = {}): Credential {
  return {
    id: `aws/${ACCOUNT}/access-key/AKIAEXAMPLEKEY000001`,
    kind: 'aws-access-key',
    sourceType: 'aws',
    source: ACCOUNT,
    principal: `arn:aws:iam::${ACCOUNT}:user/agent-bot`,
    agentId: null,
    owner: null,
    unregisteredAgent: true,
    createdAt: '2025-01-01T00:00:00.000Z',
    lastUsed: null,
    expiresAt: null,
    status: 'active',
    grants: [],
    tags: {},
    attributes: { userName: 'agent-bot', userId: USER_ID, accessKeyId: 'AKIAEXAMPLEKEY000001', ...attrs },
    observedAt: '2026-11-27T00:00:00.000Z',
    ...over,
  };
}

const arn = (n: string) => `arn:aws:iam::${ACCOUNT}:policy/${n}`;
const hit = (...prov: Provenance[]): RuleHit => ({
  message: 'admin',
  detector: 'admin',
  evidence: prov.map((provenance) => ({ statement: { summary: 'Allow * on *', provenance } })),
});
const managed = (n: string): Provenance => ({ policy: n, policyArn: arn(n), attachment: 'managed' });
const viaGroup = (n: string, group: string): Provenance => ({
  policy: n,
  policyArn: arn(n),
  attachment: 'group-managed',
  via: group,
});
const inline = (n: string): Provenance => ({ policy: n, attachment: 'inline' });
const NOW = new Date('2026-11-27T00:00:00Z');

describe('detach-policy plan()', () => {
  it.each<[string, Record<string, unknown>, RuleHit[], { arn: string } | { skip: RegExp }]>([
    ['one managed policy in the evidence', {}, [hit(managed('a'), inline('x'))], { arn: arn('a') }],
    ['the same managed policy in two hits', {}, [hit(managed('a')), hit(managed('a'))], { arn: arn('a') }],
    [
      'two managed policies',
      {},
      [hit(managed('b')), hit(managed('a'))],
      {
        skip: new RegExp(
          `^ambiguous: 2 managed policies granted this \\(${arn('a')}, ${arn('b')}\\); name one with policyArn$`,
        ),
      },
    ],
    [
      'only through a group',
      {},
      [hit(viaGroup('g', 'agents'), inline('x'))],
      {
        skip: new RegExp(
          `${arn('g')} comes through group agents; detaching it from the group would affect every member`,
        ),
      },
    ],
    ['only inline', {}, [hit(inline('x'))], { skip: /^no managed policy attached directly/ }],
    ['no hits at all', {}, [], { skip: /^no managed policy attached directly/ }],
    [
      'policyArn named, evidence ambiguous',
      { policyArn: arn('b') },
      [hit(managed('a'), managed('b'))],
      { arn: arn('b') },
    ],
  ])('%s', (_name, params, hits, want) => {
    const out = detachPolicy.plan(keyCred(), detachPolicy.schema.parse(params), { now: NOW, hits });
    if ('arn' in want) {
      expect(out).toEqual({
        target: expect.objectContaining({
          identity: { account: ACCOUNT, userName: 'agent-bot', userId: USER_ID, policyArn: want.arn },
        }),
      });
    } else {
      expect('skip' in out && out.skip).toMatch(want.skip);
    }
  });

  it('skips a named policyArn that the principal only has through a group', () => {
    const cred = keyCred({
      grants: [
        { type: 'aws-statement', effect: 'Allow', actions: ['*'], resources: ['*'], provenance: viaGroup('g', 'ops') },
      ],
    });
    const out = detachPolicy.plan(cred, { policyArn: arn('g') }, { now: NOW, hits: [] });
    expect(out).toEqual({ skip: expect.stringContaining('comes through group ops') });
  });

  it('rejects a policyArn that is not a managed-policy ARN', () => {
    expect(detachPolicy.schema.safeParse({ policyArn: 'AdministratorAccess' }).success).toBe(false);
    expect(detachPolicy.schema.safeParse({ policyArn: 'arn:aws:iam::aws:policy/AdministratorAccess' }).success).toBe(
      true,
    );
  });
});

describe('exact-id checks of AWS targets', () => {
  it.each<[string, Credential, RegExp]>([
    [
      'accessKeyId disagrees with the id',
      keyCred({}, { accessKeyId: 'AKIAOTHERKEY00000001' }),
      /does not match its id/,
    ],
    ['no accessKeyId', keyCred({}, { accessKeyId: undefined }), /no valid accessKeyId/],
    ['no userName', keyCred({}, { userName: '' }), /no valid key owner/],
    ['no userId', keyCred({}, { userId: undefined }), /no UserId/],
    ['not an account id', keyCred({ source: 'main/root' }), /is not an AWS account id/],
    ['a Vault credential', keyCred({ sourceType: 'vault' }), /is not an AWS credential/],
    ['a role kind', keyCred({ kind: 'aws-role' }), /this action acts on aws-access-key/],
  ])('deactivate-key skips when %s', (_n, cred, reason) => {
    expect(deactivateKey.plan(cred, {}, { now: NOW, hits: [] })).toEqual({ skip: expect.stringMatching(reason) });
  });

  it('quarantine targets the role by name and RoleId, and checks the name against the id', () => {
    const role = keyCred({ id: `aws/${ACCOUNT}/role/agent-role`, kind: 'aws-role' }, {});
    role.attributes = { roleName: 'agent-role', roleId: 'AROAEXAMPLEROLE00001' };
    expect(quarantine.plan(role, {}, { now: NOW, hits: [] })).toEqual({
      target: expect.objectContaining({
        identity: { account: ACCOUNT, roleName: 'agent-role', roleId: 'AROAEXAMPLEROLE00001' },
      }),
    });
    role.attributes = { roleName: 'other-role', roleId: 'AROAEXAMPLEROLE00001' };
    expect(quarantine.plan(role, {}, { now: NOW, hits: [] })).toEqual({
      skip: expect.stringContaining('does not match its id'),
    });
  });
});
