/**
 * The AWS source over the real SDK stack with only the network stubbed, for what moto cannot do:
 * pagination of GetAccountAuthorizationDetails and ListAccessKeys, Throttling with backoff,
 * LimitExceeded (not retried), ReportInProgress polling, and a denial on one step.
 */
import { IAMClient } from '@aws-sdk/client-iam';
import { STSClient } from '@aws-sdk/client-sts';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { AwsSchema } from '../../src/config/schema.js';
import { createLogger } from '../../src/logger.js';
import type { Registry } from '../../src/model/agent.js';
import { AwsIamSource } from '../../src/sources/aws/aws-iam.source.js';
import { AwsClientPool } from '../../src/sources/aws/client-pool.js';
import { IamHttpStub, type StubBehaviour, type StubEstate } from '../support/iam-http-stub.js';
import { stsStub } from '../support/sts-stub.js';

const ACCOUNT = '444455556666';
const registry: Registry = {
  agents: [],
  unregistered: {
    aws: { tags: {}, namePatterns: ['agent-*'] },
    vault: { meta: [], displayNamePatterns: [], policyPatterns: [] },
  },
};
const policy = (a: string) => ({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: a, Resource: '*' }] });

function estate(users: number): StubEstate {
  return {
    accountId: ACCOUNT,
    users: [
      ...Array.from({ length: users }, (_, i) => ({
        name: `agent-${i}`,
        groups: ['g'],
        inlinePolicies: { p: policy('s3:GetObject') },
        accessKeys: [
          {
            id: `AKIAAGENT${String(i).padStart(4, '0')}A00001`,
            status: 'Active' as const,
            createDate: '2025-01-01T00:00:00Z',
          },
          {
            id: `AKIAAGENT${String(i).padStart(4, '0')}B00002`,
            status: 'Inactive' as const,
            createDate: '2025-06-01T00:00:00Z',
          },
        ],
      })),
      {
        name: 'human-bob',
        accessKeys: [{ id: 'AKIAHUMANBOB00000001', status: 'Active', createDate: '2025-01-01T00:00:00Z' }],
      },
    ],
    roles: [{ name: 'agent-role', inlinePolicies: { r: policy('ec2:*') }, maxSessionDuration: 3600 }],
    groups: [{ name: 'g', inlinePolicies: { gp: policy('sqs:*') } }],
    policies: [],
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

const ctx = () => ({
  clock: new ManualClock('2026-11-27T00:00:00Z'),
  log: createLogger({ level: 'silent' }),
  registry,
});

async function run(users: number, behaviour: StubBehaviour, maxAttempts?: number) {
  const stub = new IamHttpStub(estate(users), behaviour);
  const result = await sourceFor(stub, maxAttempts).discover(`aws/${ACCOUNT}`, ctx());
  return { stub, result };
}

describe(AwsIamSource.name, () => {
  it('should follow GetAccountAuthorizationDetails and ListAccessKeys across pages', async () => {
    const { stub, result } = await run(5, { pageSize: 1 });
    const keys = result.credentials.filter((c) => c.kind === 'aws-access-key');
    expect(keys).toHaveLength(10);
    expect(result.credentials.some((c) => c.principal.endsWith('human-bob'))).toBe(false);
    expect(result.credentials.find((c) => c.kind === 'aws-role')?.attributes.maxSessionDurationSeconds).toBe(3600);
    const gaad = stub.calls.filter((c) => c.action === 'GetAccountAuthorizationDetails');
    // 6 users + 1 group + 1 role, one per page.
    expect(gaad).toHaveLength(8);
    expect(gaad.slice(1).every((c) => c.params.Marker)).toBe(true);
    expect(stub.countByAction().ListAccessKeys).toBe(10); // 2 pages for each of the 5 agent users
    expect(result.problems).toEqual([]);
    const first = keys.find((k) => k.id.endsWith('A00001'))!;
    expect(first.grants.map((g) => g.provenance.attachment).sort()).toEqual(['group-inline', 'inline']);
  });

  it('should back off and retry throttling, counting attempts separately from operations', async () => {
    const { stub, result } = await run(3, { throttle: { GetAccountAuthorizationDetails: 2, ListAccessKeys: 1 } });
    expect(result.problems).toEqual([]);
    expect(result.credentials.filter((c) => c.kind === 'aws-access-key')).toHaveLength(6);
    expect(stub.countByAction().GetAccountAuthorizationDetails).toBe(3);
    expect(result.apiCalls.byOperation['iam:GetAccountAuthorizationDetails']).toBe(1);
    expect(result.apiCalls.attempts - result.apiCalls.total).toBe(3);
  });

  it('should give up on throttling after maxAttempts with a retryable error', async () => {
    await expect(run(1, { throttle: { GetAccountAuthorizationDetails: 10 } }, 3)).rejects.toMatchObject({
      code: 'CW_ERR_AWS',
      retryable: true,
    });
  });

  it('should not retry a quota error (LimitExceeded) as throttling', async () => {
    const stub = new IamHttpStub(estate(1), { limitExceeded: { GetAccountAuthorizationDetails: 5 } });
    await expect(sourceFor(stub).discover(`aws/${ACCOUNT}`, ctx())).rejects.toMatchObject({
      code: 'CW_ERR_AWS_QUOTA',
      retryable: false,
    });
    expect(stub.countByAction().GetAccountAuthorizationDetails).toBe(1);
  });

  it('should poll the credential report while it is in progress', async () => {
    const { stub, result } = await run(2, { reportInProgressPolls: 2 });
    expect(result.problems).toEqual([]);
    expect(stub.countByAction().GenerateCredentialReport).toBeGreaterThanOrEqual(2);
    expect(result.credentials.filter((c) => c.lastUsed?.source === 'credential-report')).toHaveLength(4);
  });

  it('should mark only the denied step incomplete when ListAccessKeys is denied', async () => {
    const { result } = await run(2, { accessDenied: ['ListAccessKeys'] });
    expect(result.problems).toEqual([
      expect.objectContaining({ scope: `aws/${ACCOUNT}/access-key/`, code: 'AccessDenied' }),
    ]);
    expect(result.completePrefixes).not.toContain(`aws/${ACCOUNT}/access-key/`);
    expect(result.completePrefixes).toContain(`aws/${ACCOUNT}/role/`);
    expect(result.credentials.filter((c) => c.kind === 'aws-role')).toHaveLength(1);
  });

  it('should stay at about one IAM call per agent user (bulk first)', async () => {
    const { result } = await run(200, { pageSize: 1000 });
    const perUser = result.apiCalls.total / 200;
    expect(result.apiCalls.byOperation['iam:GetAccessKeyLastUsed'] ?? 0).toBe(0);
    expect(perUser).toBeLessThanOrEqual(1.05);
  });
});
