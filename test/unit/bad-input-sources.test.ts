/**
 * Cloud documents over their size limit (issue 8, part 2): an IAM policy document or a Vault ACL
 * policy text that is too big is not analysed; it becomes a grant error of the principal that
 * carries it (like any undecodable document), never a crash and never silently dropped.
 */
import type { UserDetail } from '@aws-sdk/client-iam';
import { describe, expect, it } from 'vitest';
import type { Registry } from '../../src/model/agent.js';
import { type AwsCollected, buildAwsCredentials } from '../../src/sources/aws/build-records.js';
import { decodePolicyDocument, PolicyDecodeError } from '../../src/sources/aws/policy-doc.js';
import type { VaultApi } from '../../src/sources/vault/api.js';
import { grantsFor, loadPolicies } from '../../src/sources/vault/policies.js';

const KiB = 1024;

/** A valid policy document of about `chars` characters (one statement, a long Sid-free action list). */
function bigDocument(chars: number): string {
  const actions: string[] = [];
  let len = 0;
  for (let i = 0; len < chars; i++) {
    const a = `s3:GetObject${i}`;
    actions.push(a);
    len += a.length + 3;
  }
  return JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: actions, Resource: '*' }] });
}

describe('IAM policy documents over the limit', () => {
  it('should decode a document just under 128 KiB', () => {
    const doc = bigDocument(120 * KiB);
    expect(doc.length).toBeLessThan(128 * KiB);
    expect(decodePolicyDocument(doc).Statement).toHaveLength(1);
  });

  it('should refuse a decoded document over 128 KiB, with its size and the limit', () => {
    const doc = bigDocument(200 * KiB);

    expect(() => decodePolicyDocument(doc)).toThrow(PolicyDecodeError);
    expect(() => decodePolicyDocument(doc)).toThrow(
      `policy document is ${doc.length} characters, over the limit of 131072; not analysed`,
    );
  });

  it('should refuse a URL-encoded document that decodes to over 128 KiB', () => {
    const doc = encodeURIComponent(bigDocument(130 * KiB));
    expect(() => decodePolicyDocument(doc)).toThrow(/over the limit of 131072/);
  });

  it('should refuse a huge encoded document before decoding it', () => {
    const doc = '%7B'.repeat(200 * KiB);
    expect(() => decodePolicyDocument(doc)).toThrow(`policy document is ${doc.length} characters, over the limit`);
  });

  it('should make it a grant error of that principal, named by policy, and keep its other grants', () => {
    const big = encodeURIComponent(bigDocument(300 * KiB));
    const small = encodeURIComponent(
      JSON.stringify({ Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }] }),
    );
    const arn = 'arn:aws:iam::123456789012:policy/huge';
    const user: UserDetail = {
      UserName: 'svc-bot',
      Arn: 'arn:aws:iam::123456789012:user/svc-bot',
      UserPolicyList: [
        { PolicyName: 'inline-huge', PolicyDocument: big },
        { PolicyName: 'inline-ok', PolicyDocument: small },
      ],
      AttachedManagedPolicies: [{ PolicyArn: arn, PolicyName: 'huge' }],
    };
    const collected: AwsCollected = {
      account: '123456789012',
      details: {
        users: [user],
        roles: [],
        groups: new Map(),
        policyDocs: new Map([[arn, { name: 'huge', document: big }]]),
      },
      report: null,
      agentUsers: [user],
      agentRoles: [],
      accessKeys: new Map([
        ['svc-bot', [{ AccessKeyId: 'AKIAEXAMPLEEXAMPLE01', Status: 'Active', UserName: 'svc-bot' }]],
      ]),
      keyLastUsed: new Map(),
      roleSessionSeconds: new Map(),
      observedAt: '2026-01-01T00:00:00.000Z',
    };
    const registry = {
      agents: [],
      unregistered: {
        aws: { tags: {}, namePatterns: [] },
        vault: { meta: [], displayNamePatterns: [], policyPatterns: [] },
      },
    } as unknown as Registry;

    const [cred] = buildAwsCredentials(collected, registry);

    expect(cred?.grants).toHaveLength(1);
    const errors = cred?.attributes.grantErrors as string[];
    expect(errors).toHaveLength(2);
    expect(errors[0]).toMatch(/^inline-huge: policy document is \d+ characters, over the limit of 131072/);
    expect(errors[1]).toMatch(new RegExp(`^${arn}: policy document is \\d+ characters, over the limit of 131072`));
  });
});

describe('Vault ACL policy text over the limit', () => {
  const MiB = 1024 * KiB;

  function fakeApi(policies: Record<string, string>): VaultApi {
    return {
      list: async () => Object.keys(policies),
      read: async (_op: string, _ns: string, path: string) => ({
        data: { policy: policies[decodeURIComponent(path.split('/').pop()!)] },
      }),
    } as unknown as VaultApi;
  }

  it('should not parse a policy over 1 MiB, and name it in the grant errors', async () => {
    const rule = 'path "secret/data/x" { capabilities = ["read"] }\n';
    const huge = rule.repeat(Math.ceil((MiB + 1) / rule.length));
    const set = await loadPolicies(fakeApi({ huge, ok: rule }), 'root');

    expect(set.rules.has('huge')).toBe(false);
    expect(set.errors.get('huge')).toBe(
      `policy text is ${huge.length} characters, over the limit of 1048576; not analysed`,
    );
    const g = grantsFor(set, ['huge', 'ok']);
    expect(g.grants.map((x) => x.path)).toEqual(['secret/data/x']);
    expect(g.errors).toEqual([
      `huge: policy text is ${huge.length} characters, over the limit of 1048576; not analysed`,
    ]);
  });
});
