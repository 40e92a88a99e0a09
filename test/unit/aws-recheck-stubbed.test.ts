/**
 * AwsIamSource.recheck over the real SDK stack with only the network stubbed, for what moto cannot
 * do: AccessDenied on one call, throttling past the retries, listings over several pages, a user
 * permissions boundary, MFA and PasswordLastUsed, AWS's URL-encoded policy documents.
 */
import { IAMClient } from '@aws-sdk/client-iam';
import { STSClient } from '@aws-sdk/client-sts';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { AwsSchema } from '../../src/config/schema.js';
import { createLogger } from '../../src/logger.js';
import type { Registry } from '../../src/model/agent.js';
import type { Credential } from '../../src/model/credential.js';
import { AwsIamSource } from '../../src/sources/aws/aws-iam.source.js';
import { AwsClientPool } from '../../src/sources/aws/client-pool.js';
import type { RecheckResult } from '../../src/sources/source.js';
import { IamHttpStub, type StubBehaviour, type StubEstate } from '../support/iam-http-stub.js';
import { stsStub } from '../support/sts-stub.js';

const ACCOUNT = '444455556666';
const KEY = 'AKIAAGENTBOT00000001';
const CHECKED_AT = '2026-11-27T00:00:00.000Z';
const registry: Registry = {
  agents: [],
  unregistered: {
    aws: { tags: {}, namePatterns: ['agent-*'] },
    vault: { meta: [], displayNamePatterns: [], policyPatterns: [] },
  },
};
const policy = (a: string) => ({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: a, Resource: '*' }] });
const arn = (name: string) => `arn:aws:iam::${ACCOUNT}:policy/${name}`;
const MANAGED = ['m1', 'm2', 'm3', 'm4', 'm5'];

function estate(): StubEstate {
  return {
    accountId: ACCOUNT,
    users: [
      {
        name: 'agent-bot',
        tags: { team: 'x' },
        groups: ['g'],
        inlinePolicies: { i1: policy('s3:GetObject'), i2: policy('s3:PutObject'), i3: policy('sqs:SendMessage') },
        managedPolicyArns: MANAGED.map(arn),
        boundaryArn: arn('bound'),
        accessKeys: [
          {
            id: KEY,
            status: 'Active',
            createDate: '2025-01-01T00:00:00Z',
            lastUsed: { date: '2026-11-20T10:00:00Z', service: 's3', region: 'eu-west-1' },
          },
        ],
        hasPassword: true,
        passwordLastUsed: '2026-11-21T09:30:00Z',
        mfa: true,
      },
    ],
    roles: [
      {
        name: 'agent-role',
        inlinePolicies: { r: policy('ec2:*') },
        managedPolicyArns: [arn('m1')],
        boundaryArn: arn('bound'),
        lastUsed: { date: '2026-11-22T00:00:00Z', region: 'us-east-1' },
        maxSessionDuration: 7200,
      },
    ],
    groups: [{ name: 'g', inlinePolicies: { gp: policy('sqs:*') }, managedPolicyArns: [arn('m2')] }],
    policies: [...MANAGED, 'bound'].map((n) => ({ arn: arn(n), name: n, document: policy(`${n}:Do`) })),
  };
}

function sourceFor(stub: IamHttpStub, maxAttempts = 4) {
  const cfg = AwsSchema.parse({ accounts: [{ id: ACCOUNT }], maxAttempts, maxConcurrency: 3 });
  const pool = new AwsClientPool(
    cfg,
    {
      iam: (c) => new IAMClient({ ...c, requestHandler: stub }),
      sts: (c) => new STSClient({ ...c, requestHandler: stsStub(ACCOUNT) }),
    },
    new ManualClock(),
    1,
  );
  process.env.AWS_ACCESS_KEY_ID = 'AKIDEXAMPLE';
  process.env.AWS_SECRET_ACCESS_KEY = 'x';
  return new AwsIamSource(cfg, pool);
}

const ctx = () => ({ clock: new ManualClock(CHECKED_AT), log: createLogger({ level: 'silent' }), registry });
const keyId = `aws/${ACCOUNT}/access-key/${KEY}`;
const passwordId = `aws/${ACCOUNT}/console-password/agent-bot`;
const roleId = `aws/${ACCOUNT}/role/agent-role`;

async function recheck(id: string, behaviour: StubBehaviour = {}, maxAttempts?: number) {
  const stub = new IamHttpStub(estate(), behaviour);
  const result = await sourceFor(stub, maxAttempts).recheck(id, ctx());
  return { stub, result };
}

const credentialOf = (r: RecheckResult): Credential => {
  expect(r.state).toBe('present');
  return (r as Extract<RecheckResult, { state: 'present' }>).credential;
};

describe('AwsIamSource.recheck (stubbed IAM)', () => {
  it('should rebuild each record as the scan did, boundary, MFA and last password use included', async () => {
    const stub = new IamHttpStub(estate());
    const source = sourceFor(stub);
    const scan = await source.discover(`aws/${ACCOUNT}`, ctx());
    expect(scan.credentials.map((c) => c.id).sort()).toEqual([keyId, passwordId, roleId].sort());
    for (const s of scan.credentials) {
      const got = credentialOf(await source.recheck(s.id, ctx()));
      const strip = (c: Credential) => {
        const { observedAt: _o, lastUsed, attributes, ...rest } = c;
        const { reportSlot: _r, ...attrs } = attributes;
        // The report writes times as 2026-11-20T10:00:00+00:00, the API as a timestamp: same instant.
        const at = lastUsed?.at ? new Date(lastUsed.at).toISOString() : null;
        return { ...rest, attributes: attrs, lastUsed: { ...lastUsed, at, source: undefined, asOf: undefined } };
      };
      expect(strip(got), s.id).toEqual(strip(s));
    }
    const pw = credentialOf(await source.recheck(passwordId, ctx()));
    expect(pw.lastUsed).toEqual({ at: '2026-11-21T09:30:00+00:00', source: 'GetUser', asOf: CHECKED_AT });
    expect(pw.attributes).toMatchObject({ mfaActive: true, boundaryArn: arn('bound') });
    expect(pw.grants.filter((g) => g.provenance.attachment === 'boundary')).toHaveLength(1);
    const key = credentialOf(await source.recheck(keyId, ctx()));
    expect(key.lastUsed).toEqual({
      at: '2026-11-20T10:00:00.000Z',
      service: 's3',
      region: 'eu-west-1',
      source: 'GetAccessKeyLastUsed',
      asOf: CHECKED_AT,
    });
    const role = credentialOf(await source.recheck(roleId, ctx()));
    expect(role.attributes.maxSessionDurationSeconds).toBe(7200);
  });

  it('should follow ListAttachedUserPolicies and ListUserPolicies across pages', async () => {
    const { stub, result } = await recheck(keyId, { pageSize: 2 });
    const cred = credentialOf(result);
    const attached = stub.calls.filter((c) => c.action === 'ListAttachedUserPolicies');
    expect(attached).toHaveLength(3); // 5 policies, 2 a page
    expect(attached[0]!.params.Marker).toBeUndefined();
    expect(attached.slice(1).every((c) => c.params.Marker)).toBe(true);
    expect(stub.countByAction().ListUserPolicies).toBe(2); // 3 inline policies
    expect(result.apiCalls.byOperation['iam:ListAttachedUserPolicies']).toBe(3);
    const managed = cred.grants.filter((g) => g.provenance.attachment === 'managed').map((g) => g.provenance.policy);
    expect(managed.sort()).toEqual(MANAGED);
    expect(cred.grants.filter((g) => g.provenance.attachment === 'inline')).toHaveLength(3);
  });

  it.each([
    [keyId, 'ListAttachedUserPolicies', 'needs iam:ListAttachedUserPolicies', 1],
    [keyId, 'GetGroupPolicy', 'needs iam:GetGroupPolicy', 1],
    [keyId, 'GetAccessKeyLastUsed', 'needs iam:GetAccessKeyLastUsed', 1],
    [passwordId, 'GetLoginProfile', 'needs iam:GetLoginProfile', 1],
    [passwordId, 'ListMFADevices', 'needs iam:ListMFADevices', 1],
    [roleId, 'GetRole', 'needs iam:GetRole', 1],
    [roleId, 'GetPolicyVersion', 'needs iam:GetPolicy and iam:GetPolicyVersion', 2],
  ])(
    'should say unknown, naming the permission, when %s meets AccessDenied on %s',
    async (id, action, needs, calls) => {
      const { stub, result } = await recheck(id, { accessDenied: [action] });
      expect(result).toMatchObject({ state: 'unknown', code: 'AccessDenied', checkedAt: CHECKED_AT });
      expect((result as { reason: string }).reason).toContain(needs);
      // A denial is not retried: one attempt per request (the role's two managed policies are read together).
      expect(stub.countByAction()[action]).toBe(calls);
      expect(result.apiCalls.byOperation[`iam:${action}`]).toBe(calls);
    },
  );

  it('should throw a retryable error when throttling outlasts the retries', async () => {
    const stub = new IamHttpStub(estate(), { throttle: { GetUser: 10 } });
    await expect(sourceFor(stub, 3).recheck(keyId, ctx())).rejects.toMatchObject({
      code: 'CW_ERR_AWS',
      retryable: true,
      message: expect.stringContaining('GetUser user agent-bot'),
    });
    expect(stub.countByAction().GetUser).toBe(3);
  });

  it('should ride out throttling within the retries, counting the extra attempts', async () => {
    const { stub, result } = await recheck(roleId, { throttle: { GetRole: 2 } });
    expect(credentialOf(result).id).toBe(roleId);
    expect(stub.countByAction().GetRole).toBe(3);
    expect(result.apiCalls.byOperation['iam:GetRole']).toBe(1);
    expect(result.apiCalls.attempts - result.apiCalls.total).toBe(2);
  });

  it('should say unknown, not absent, when a policy the user lists is gone by the time it is read', async () => {
    const e = estate();
    e.users[0]!.managedPolicyArns!.push(arn('vanished'));
    const result = await sourceFor(new IamHttpStub(e)).recheck(keyId, ctx());
    expect(result).toMatchObject({ state: 'unknown', code: 'NoSuchEntityException' });
    expect((result as { reason: string }).reason).toMatch(/changed while being read/);
  });

  it('should say absent when the access key is unknown to IAM', async () => {
    const { result } = await recheck(`aws/${ACCOUNT}/access-key/AKIAGONE000000000000`);
    expect(result).toMatchObject({ state: 'absent', reason: 'access key AKIAGONE000000000000 does not exist' });
  });
});
