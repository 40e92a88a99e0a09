import {
  CredentialReportNotPresentException,
  CredentialReportNotReadyException,
  GenerateCredentialReportCommand,
  GetAccessKeyLastUsedCommand,
  GetAccountAuthorizationDetailsCommand,
  type GetAccountAuthorizationDetailsCommandOutput,
  GetCredentialReportCommand,
  GetPolicyCommand,
  GetPolicyVersionCommand,
  GetRoleCommand,
  IAMClient,
  type IAMClientConfig,
  IAMServiceException,
  LimitExceededException,
  ListAccessKeysCommand,
  ListRolesCommand,
  NoSuchEntityException,
  paginateGetAccountAuthorizationDetails,
  paginateListAccessKeys,
  paginateListUsers,
} from '@aws-sdk/client-iam';
import { HttpRequest } from '@smithy/core/protocols';
import { StandardRetryStrategy } from '@smithy/core/retry';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  CREDENTIAL_REPORT_HEADER,
  IamHttpStub,
  type StubBehaviour,
  type StubEstate,
} from '../support/iam-http-stub.js';

const ACCOUNT = '111122223333';
const BOUNDARY = `arn:aws:iam::${ACCOUNT}:policy/agent-boundary`;
const S3_READ = 'arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess';
const inlineDoc = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }] };

function estate(): StubEstate {
  return {
    accountId: ACCOUNT,
    users: [
      {
        name: 'agent-0',
        groups: ['agents'],
        tags: { owner: 'team <a> & "b"', note: "it's\r\nmultiline" },
        inlinePolicies: { 'read-bucket': inlineDoc },
        managedPolicyArns: [S3_READ],
        accessKeys: [
          // Listed out of order on purpose: the credential report fills slots by creation date.
          {
            id: 'AKIAAGENT0NEW',
            status: 'Inactive',
            createDate: '2025-06-01T00:00:00Z',
            lastUsed: { date: '2025-07-01T12:00:00Z', service: 's3', region: 'eu-west-1' },
          },
          { id: 'AKIAAGENT0OLD', status: 'Active', createDate: '2024-02-01T00:00:00Z' },
        ],
      },
      { name: 'agent-1', hasPassword: true },
      { name: 'agent-2', passwordLastUsed: '2025-05-05T05:05:05Z' },
      { name: 'agent-3', path: '/bots/' },
      { name: 'agent-4' },
    ],
    roles: [
      {
        name: 'role-0',
        boundaryArn: BOUNDARY,
        lastUsed: { date: '2025-08-01T00:00:00Z', region: 'us-east-1' },
        tags: { env: 'prod' },
        maxSessionDuration: 7200,
      },
      { name: 'role-1', inlinePolicies: { inline: inlineDoc } },
      { name: 'role-2', managedPolicyArns: [BOUNDARY, S3_READ] },
    ],
    groups: [],
    policies: [],
  };
}

const fastBackoff = { computeNextBackoffDelay: () => 1, setDelayBase: () => {} };

function client(stub: IamHttpStub, extra: Partial<IAMClientConfig> = {}): IAMClient {
  return new IAMClient({
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'x' },
    requestHandler: stub,
    ...extra,
  });
}

function setup(behaviour: StubBehaviour = {}, extra: Partial<IAMClientConfig> = {}, e: StubEstate = estate()) {
  const stub = new IamHttpStub(e, behaviour);
  return { stub, iam: client(stub, extra) };
}

async function caught(p: Promise<unknown>): Promise<IAMServiceException> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(IAMServiceException);
  return e as IAMServiceException;
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('GetAccountAuthorizationDetails', () => {
  it('(a) pages across entity types with pageSize 2, and the Marker round-trips', async () => {
    const { stub, iam } = setup({ pageSize: 2 });
    const pages: GetAccountAuthorizationDetailsCommandOutput[] = [];
    // The paginator asks for 100 per page. The stub "may return fewer", as AWS warns.
    for await (const page of paginateGetAccountAuthorizationDetails({ client: iam, pageSize: 100 }, {})) {
      pages.push(page);
    }

    expect(pages.map((p) => [p.UserDetailList?.length, p.RoleDetailList?.length])).toEqual([
      [2, 0],
      [2, 0],
      [1, 1], // one page holds the last user and the first role
      [0, 2],
    ]);
    expect(pages.flatMap((p) => p.UserDetailList ?? []).map((u) => u.UserName)).toEqual([
      'agent-0',
      'agent-1',
      'agent-2',
      'agent-3',
      'agent-4',
    ]);
    expect(pages.flatMap((p) => p.RoleDetailList ?? []).map((r) => r.RoleName)).toEqual(['role-0', 'role-1', 'role-2']);
    expect(pages.map((p) => p.IsTruncated)).toEqual([true, true, true, false]);
    expect(pages.at(-1)?.Marker).toBeUndefined();

    const calls = stub.calls.filter((c) => c.action === 'GetAccountAuthorizationDetails');
    expect(calls).toHaveLength(4);
    expect(calls[0]?.params.Marker).toBeUndefined();
    expect(calls.map((c) => c.params.MaxItems)).toEqual(['100', '100', '100', '100']);
    for (let i = 1; i < calls.length; i++) {
      // Markers start with '+/=': they survive the SDK's form-encoding and come back byte-exact.
      expect(calls[i]?.params.Marker?.startsWith('+/=')).toBe(true);
      expect(calls[i]?.params.Marker).toBe(pages[i - 1]?.Marker);
    }
    expect(stub.countByAction()).toEqual({ GetAccountAuthorizationDetails: 4 });
  });

  it('returns the real field names, URL-encoded documents and escaped text', async () => {
    const e = estate();
    e.groups = [{ name: 'agents', inlinePolicies: { g: inlineDoc }, managedPolicyArns: [S3_READ] }];
    e.policies = [
      { arn: BOUNDARY, name: 'agent-boundary', document: inlineDoc, defaultVersionId: 'v3' },
      { arn: S3_READ, name: 'AmazonS3ReadOnlyAccess', document: { Version: '2012-10-17', Statement: [] } },
    ];
    const { iam } = setup({}, {}, e);
    const out = await iam.send(new GetAccountAuthorizationDetailsCommand({}));

    const u = out.UserDetailList?.[0];
    expect(u).toMatchObject({
      UserName: 'agent-0',
      Path: '/',
      Arn: `arn:aws:iam::${ACCOUNT}:user/agent-0`,
      GroupList: ['agents'],
      AttachedManagedPolicies: [{ PolicyName: 'AmazonS3ReadOnlyAccess', PolicyArn: S3_READ }],
      Tags: [
        { Key: 'owner', Value: 'team <a> & "b"' },
        { Key: 'note', Value: "it's\r\nmultiline" }, // CR survives only because the stub sends it as &#13;
      ],
    });
    expect(u?.UserId).toMatch(/^AIDA[0-9A-F]{17}$/);
    expect(u?.CreateDate).toEqual(new Date('2024-01-01T00:00:00Z'));
    const doc = u?.UserPolicyList?.[0]?.PolicyDocument ?? '';
    expect(doc.startsWith('%7B%22Version%22')).toBe(true);
    expect(JSON.parse(decodeURIComponent(doc))).toEqual(inlineDoc);
    expect(out.UserDetailList?.find((x) => x.UserName === 'agent-3')?.Arn).toBe(
      `arn:aws:iam::${ACCOUNT}:user/bots/agent-3`,
    );

    expect(out.GroupDetailList?.[0]).toMatchObject({ GroupName: 'agents', GroupPolicyList: [{ PolicyName: 'g' }] });

    const [r0, r1] = out.RoleDetailList ?? [];
    expect(r0).toMatchObject({
      RoleName: 'role-0',
      PermissionsBoundary: { PermissionsBoundaryType: 'PermissionsBoundaryPolicy', PermissionsBoundaryArn: BOUNDARY },
      RoleLastUsed: { LastUsedDate: new Date('2025-08-01T00:00:00Z'), Region: 'us-east-1' },
      Tags: [{ Key: 'env', Value: 'prod' }],
      InstanceProfileList: [],
    });
    expect(JSON.parse(decodeURIComponent(r0?.AssumeRolePolicyDocument ?? ''))).toMatchObject({
      Statement: [{ Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` } }],
    });
    expect(r1?.RoleLastUsed).toEqual({}); // never used: an empty element, as AWS sends it
    expect(r1?.PermissionsBoundary).toBeUndefined();

    expect(out.Policies?.map((p) => [p.PolicyName, p.AttachmentCount, p.PermissionsBoundaryUsageCount])).toEqual([
      ['agent-boundary', 1, 1],
      ['AmazonS3ReadOnlyAccess', 3, 0],
    ]);
    expect(out.Policies?.[0]?.PolicyVersionList).toEqual([
      {
        VersionId: 'v3',
        IsDefaultVersion: true,
        CreateDate: new Date('2024-01-01T00:00:00Z'),
        Document: expect.stringMatching(/^%7B/),
      },
    ]);
    expect(out.IsTruncated).toBe(false);
    expect(out.Marker).toBeUndefined();
  });

  it('honours Filter (Filter.member.N) and urlEncodePolicies: false', async () => {
    const { stub, iam } = setup({ urlEncodePolicies: false });
    const out = await iam.send(new GetAccountAuthorizationDetailsCommand({ Filter: ['Role'] }));
    expect(stub.calls[0]?.params).toEqual({ 'Filter.member.1': 'Role' });
    expect(out.UserDetailList).toEqual([]);
    expect(out.RoleDetailList?.map((r) => r.RoleName)).toEqual(['role-0', 'role-1', 'role-2']);
    expect(JSON.parse(out.RoleDetailList?.[1]?.RolePolicyList?.[0]?.PolicyDocument ?? '')).toEqual(inlineDoc);
  });

  it('rejects a marker it did not issue', async () => {
    const { iam } = setup({}, { maxAttempts: 1 });
    const e = await caught(iam.send(new GetAccountAuthorizationDetailsCommand({ Marker: 'bogus' })));
    expect(e.name).toBe('InvalidInputException');
    expect(e.$metadata.httpStatusCode).toBe(400);
  });
});

describe('other actions', () => {
  it('ListAccessKeys and ListUsers paginate', async () => {
    const { stub, iam } = setup({ pageSize: 1 });
    const keyPages = [];
    for await (const page of paginateListAccessKeys({ client: iam }, { UserName: 'agent-0' })) keyPages.push(page);
    expect(keyPages.map((p) => p.AccessKeyMetadata?.map((k) => k.AccessKeyId))).toEqual([
      ['AKIAAGENT0NEW'],
      ['AKIAAGENT0OLD'],
    ]);
    expect(keyPages[0]?.AccessKeyMetadata?.[0]).toEqual({
      UserName: 'agent-0',
      AccessKeyId: 'AKIAAGENT0NEW',
      Status: 'Inactive',
      CreateDate: new Date('2025-06-01T00:00:00Z'),
    });

    const names: string[] = [];
    for await (const page of paginateListUsers({ client: iam, pageSize: 3 }, {})) {
      expect(page.Users?.[0]?.Tags).toBeUndefined(); // ListUsers does not return tags, as in AWS
      names.push(...(page.Users ?? []).map((u) => u.UserName ?? ''));
    }
    expect(names).toEqual(['agent-0', 'agent-1', 'agent-2', 'agent-3', 'agent-4']);
    expect(stub.countByAction()).toEqual({ ListAccessKeys: 2, ListUsers: 5 });
  });

  it('ListRoles, GetRole, GetPolicy, GetPolicyVersion and GetAccessKeyLastUsed', async () => {
    const e = estate();
    e.policies = [{ arn: BOUNDARY, name: 'agent-boundary', document: inlineDoc }];
    const { iam } = setup({}, { maxAttempts: 1 }, e);

    const roles = await iam.send(new ListRolesCommand({}));
    expect(roles.Roles?.map((r) => r.MaxSessionDuration)).toEqual([7200, 3600, 3600]);
    expect(roles.Roles?.[0]?.RoleLastUsed).toBeUndefined(); // ListRoles omits RoleLastUsed, as AWS does

    const { Role } = await iam.send(new GetRoleCommand({ RoleName: 'role-0' }));
    expect(Role).toMatchObject({ RoleName: 'role-0', MaxSessionDuration: 7200, RoleLastUsed: { Region: 'us-east-1' } });
    const missing = await caught(iam.send(new GetRoleCommand({ RoleName: 'nope' })));
    expect(missing).toBeInstanceOf(NoSuchEntityException);
    expect(missing.$metadata.httpStatusCode).toBe(404);

    const { Policy } = await iam.send(new GetPolicyCommand({ PolicyArn: BOUNDARY }));
    expect(Policy).toMatchObject({ PolicyName: 'agent-boundary', DefaultVersionId: 'v1', AttachmentCount: 1 });
    const { PolicyVersion } = await iam.send(new GetPolicyVersionCommand({ PolicyArn: BOUNDARY, VersionId: 'v1' }));
    expect(JSON.parse(decodeURIComponent(PolicyVersion?.Document ?? ''))).toEqual(inlineDoc);

    const used = await iam.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: 'AKIAAGENT0NEW' }));
    expect(used.UserName).toBe('agent-0');
    expect(used.AccessKeyLastUsed).toEqual({
      LastUsedDate: new Date('2025-07-01T12:00:00Z'),
      ServiceName: 's3',
      Region: 'eu-west-1',
    });
    const unused = await iam.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: 'AKIAAGENT0OLD' }));
    expect(unused.AccessKeyLastUsed).toEqual({ ServiceName: 'N/A', Region: 'N/A' });
  });

  it('answers an unknown action with 400 InvalidAction in the Query error format', async () => {
    const stub = new IamHttpStub(estate());
    const { response } = await stub.handle(
      new HttpRequest({ method: 'POST', body: 'Action=DeleteEverything&Version=2010-05-08' }),
    );
    expect(response.statusCode).toBe(400);
    const xml = new TextDecoder().decode(response.body as Uint8Array);
    expect(xml).toContain('<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">');
    expect(xml).toContain('<Error><Type>Sender</Type><Code>InvalidAction</Code>');
    expect(xml).toMatch(/<\/Error><RequestId>[0-9a-f-]{36}<\/RequestId><\/ErrorResponse>$/);
    expect(stub.calls).toEqual([{ action: 'DeleteEverything', params: {} }]);
  });
});

describe('faults and the SDK retry strategy', () => {
  it('(b) Throttling on the first 2 ListAccessKeys calls: standard retry succeeds on attempt 3', async () => {
    // baseDelay only sets the base for TRANSIENT errors; throttling uses a fixed 1000 ms base
    // (Retry.throttlingDelay()). The `backoff` option replaces the delay computation for every error type.
    const retryStrategy = new StandardRetryStrategy({ maxAttempts: 4, baseDelay: 1, backoff: fastBackoff });
    const { stub, iam } = setup({ throttle: { ListAccessKeys: 2 } }, { retryStrategy });
    const out = await iam.send(new ListAccessKeysCommand({ UserName: 'agent-0' }));
    expect(out.AccessKeyMetadata).toHaveLength(2);
    expect(out.$metadata.attempts).toBe(3);
    expect(out.$metadata.totalRetryDelay).toBe(2);
    expect(stub.countByAction()).toEqual({ ListAccessKeys: 3 });
  });

  it('baseDelay does not change the throttling delay base (1000 ms)', async () => {
    // delay = floor(random * base * 2^retry). With random = 0.001, base 1000 gives 1 + 2 = 3 ms in total.
    // A base of 1 ms (baseDelay) would give 0 + 0.
    vi.spyOn(Math, 'random').mockReturnValue(0.001);
    const retryStrategy = new StandardRetryStrategy({ maxAttempts: 4, baseDelay: 1 });
    const { iam } = setup({ throttle: { ListAccessKeys: 2 } }, { retryStrategy });
    const out = await iam.send(new ListAccessKeysCommand({ UserName: 'agent-0' }));
    expect(out.$metadata.attempts).toBe(3);
    expect(out.$metadata.totalRetryDelay).toBe(3);
  });

  it('gives up on throttling after maxAttempts and surfaces name Throttling', async () => {
    const retryStrategy = new StandardRetryStrategy({ maxAttempts: 2, backoff: fastBackoff });
    const { stub, iam } = setup({ throttle: { ListAccessKeys: 5 } }, { retryStrategy });
    const e = await caught(iam.send(new ListAccessKeysCommand({ UserName: 'agent-0' })));
    expect(e.name).toBe('Throttling'); // not modelled by IAM: a generic IAMServiceException named by the code
    expect(e.message).toBe('Rate exceeded');
    expect(e.$metadata).toMatchObject({ httpStatusCode: 400, attempts: 2 });
    expect(stub.countByAction()).toEqual({ ListAccessKeys: 2 });
  });

  it('(c) AccessDenied surfaces with name AccessDenied and status 403, and is not retried', async () => {
    const { stub, iam } = setup({ accessDenied: ['GetAccountAuthorizationDetails'] }); // default: standard, 3 attempts
    const e = await caught(iam.send(new GetAccountAuthorizationDetailsCommand({})));
    expect(e.name).toBe('AccessDenied');
    expect(e.$fault).toBe('client');
    expect(e.$metadata.httpStatusCode).toBe(403);
    expect(e.$metadata.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(e.message).toContain('is not authorized to perform: iam:GetAccountAuthorizationDetails');
    expect(stub.countByAction()).toEqual({ GetAccountAuthorizationDetails: 1 });
  });

  it('(d) credential report: ReportNotPresent, then ReportInProgress N times, then the CSV', async () => {
    const now = new Date('2026-11-01T10:00:00Z');
    const { stub, iam } = setup({ reportInProgressPolls: 2, now: () => now });

    const absent = await caught(iam.send(new GetCredentialReportCommand({})));
    expect(absent).toBeInstanceOf(CredentialReportNotPresentException);
    expect(absent.$metadata.httpStatusCode).toBe(410);

    expect((await iam.send(new GenerateCredentialReportCommand({}))).State).toBe('STARTED');
    for (let i = 0; i < 2; i++) {
      const busy = await caught(iam.send(new GetCredentialReportCommand({})));
      expect(busy).toBeInstanceOf(CredentialReportNotReadyException);
      expect(busy.name).toBe('CredentialReportNotReadyException'); // wire code ReportInProgress
      expect(busy.$metadata.httpStatusCode).toBe(404);
    }
    const report = await iam.send(new GetCredentialReportCommand({}));
    expect(stub.countByAction()).toEqual({ GetCredentialReport: 4, GenerateCredentialReport: 1 });
    expect(report.ReportFormat).toBe('text/csv');
    expect(report.GeneratedTime).toEqual(now);
    expect(report.Content).toBeInstanceOf(Uint8Array);

    const lines = new TextDecoder().decode(report.Content).split('\n');
    expect(lines[0]).toBe(CREDENTIAL_REPORT_HEADER);
    expect(lines[0]?.split(',')).toHaveLength(22);
    expect(lines.slice(1).map((l) => l.split(',')[0])).toEqual([
      '<root_account>',
      'agent-0',
      'agent-1',
      'agent-2',
      'agent-3',
      'agent-4',
    ]);
    expect(lines[1]).toBe(
      `<root_account>,arn:aws:iam::${ACCOUNT}:root,2020-01-01T00:00:00+00:00,not_supported,no_information,` +
        'not_supported,not_supported,true,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A',
    );
    // Older key in slot 1 even though it is listed second; inactive key 2 keeps its last-used data.
    expect(lines[2]).toBe(
      `agent-0,arn:aws:iam::${ACCOUNT}:user/agent-0,2024-01-01T00:00:00+00:00,false,N/A,N/A,N/A,false,` +
        'true,2024-02-01T00:00:00+00:00,N/A,N/A,N/A,' +
        'false,2025-06-01T00:00:00+00:00,2025-07-01T12:00:00+00:00,eu-west-1,s3,false,N/A,false,N/A',
    );
    expect(lines[3]?.split(',').slice(3, 7)).toEqual(['true', 'no_information', '2024-01-01T00:00:00+00:00', 'N/A']);
    expect(lines[4]?.split(',').slice(3, 5)).toEqual(['true', '2025-05-05T05:05:05+00:00']);

    expect((await iam.send(new GenerateCredentialReportCommand({}))).State).toBe('COMPLETE');
  });

  it('credential report polled through GenerateCredentialReport: STARTED, INPROGRESS x N, COMPLETE', async () => {
    const { iam } = setup({ reportInProgressPolls: 2 });
    const states: (string | undefined)[] = [];
    for (let i = 0; i < 4; i++) states.push((await iam.send(new GenerateCredentialReportCommand({}))).State);
    expect(states).toEqual(['STARTED', 'INPROGRESS', 'INPROGRESS', 'COMPLETE']);
    const report = await iam.send(new GetCredentialReportCommand({}));
    expect(new TextDecoder().decode(report.Content).startsWith('user,arn,')).toBe(true);
  });

  it('(e) LimitExceeded is LimitExceededException, and the default standard strategy retries it', async () => {
    // No retryStrategy or maxAttempts: the SDK default, standard mode with 3 attempts. It classes
    // LimitExceededException as THROTTLING, so the retry waits up to 1 s (random jitter).
    const { stub, iam } = setup({ limitExceeded: { ListAccessKeys: 1 } });
    const out = await iam.send(new ListAccessKeysCommand({ UserName: 'agent-0' }));
    expect(out.$metadata.attempts).toBe(2);
    expect(stub.countByAction()).toEqual({ ListAccessKeys: 2 });
  });

  it('(e) persistent LimitExceeded is retried up to maxAttempts, then thrown as LimitExceededException/409', async () => {
    const retryStrategy = new StandardRetryStrategy({ maxAttempts: 3, backoff: fastBackoff });
    const { stub, iam } = setup({ limitExceeded: { ListAccessKeys: 10 } }, { retryStrategy });
    const e = await caught(iam.send(new ListAccessKeysCommand({ UserName: 'agent-0' })));
    expect(e).toBeInstanceOf(LimitExceededException);
    expect(e.name).toBe('LimitExceededException'); // wire code LimitExceeded
    expect(e.$metadata).toMatchObject({ httpStatusCode: 409, attempts: 3 });
    expect(stub.countByAction()).toEqual({ ListAccessKeys: 3 });
  });

  it('applies throttle before limitExceeded on the same action', async () => {
    const retryStrategy = new StandardRetryStrategy({ maxAttempts: 5, backoff: fastBackoff });
    const { stub, iam } = setup({ throttle: { ListRoles: 1 }, limitExceeded: { ListRoles: 1 } }, { retryStrategy });
    const out = await iam.send(new ListRolesCommand({}));
    expect(out.$metadata.attempts).toBe(3);
    expect(stub.countByAction()).toEqual({ ListRoles: 3 });
  });
});
