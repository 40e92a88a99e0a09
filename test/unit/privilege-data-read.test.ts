/**
 * Unconstrained reads of secrets and data: the AWS detector over the curated list
 * (src/privilege/data-access.ts; Resource "*" or a type-wide ARN, after Deny and the boundary) and
 * the Vault detector for read over a whole mount (src/privilege/vault-detectors.ts dataRead).
 */
import { describe, expect, it } from 'vitest';
import type { AwsStatementGrant, Credential, Grant, VaultPathGrant } from '../../src/model/credential.js';
import { AwsPrivilegeAnalyzer } from '../../src/privilege/aws-analyzer.js';
import { SENSITIVE_READS } from '../../src/privilege/data-access.js';
import { VaultPrivilegeAnalyzer } from '../../src/privilege/vault-detectors.js';

const ACCT = '111111111111';

const allow = (
  actions: string[],
  resources: string[] = ['*'],
  more: Partial<AwsStatementGrant> = {},
): AwsStatementGrant => ({
  type: 'aws-statement',
  effect: 'Allow',
  actions,
  resources,
  provenance: { policy: 'agent-inline', attachment: 'inline' },
  ...more,
});
const path = (p: string, capabilities: string[]): VaultPathGrant => ({
  type: 'vault-path',
  path: p,
  capabilities,
  provenance: { policy: 'agent', attachment: 'vault-policy' },
});

function cred(grants: Grant[]): Credential {
  const vault = grants.some((g) => g.type === 'vault-path');
  return {
    id: 'c1',
    kind: vault ? 'vault-token' : 'aws-role',
    sourceType: vault ? 'vault' : 'aws',
    source: vault ? 'main/root' : ACCT,
    principal: vault ? 'token-agent' : `arn:aws:iam::${ACCT}:role/agent`,
    agentId: null,
    owner: null,
    unregisteredAgent: false,
    createdAt: null,
    lastUsed: null,
    expiresAt: null,
    status: 'active',
    grants,
    tags: {},
    attributes: {},
    observedAt: '2026-01-01T00:00:00Z',
  };
}

const aws = new AwsPrivilegeAnalyzer();
const read = (grants: Grant[]) => aws.dataRead(cred(grants)).map((r) => [r.key, r.severity, r.actions]);

describe('the curated list of sensitive reads', () => {
  it('names only catalog actions, each with the ARN format of its resource type', () => {
    for (const e of SENSITIVE_READS) {
      expect(aws.catalog.id(e.action), e.action).toBeDefined();
      expect(aws.catalog.resourceArnFormat(e.action, e.resourceType), e.action).toMatch(/^arn:\$\{Partition\}:/);
    }
  });

  it('is Read actions, except kms:Decrypt, which the catalog calls Write', () => {
    const notRead = SENSITIVE_READS.filter((e) => aws.catalog.accessLevel(e.action) !== 'Read').map((e) => e.action);
    expect(notRead).toEqual(['kms:Decrypt']);
  });
});

describe('AWS: unconstrained reads of secrets and data', () => {
  it.each([
    {
      name: 'secretsmanager:GetSecretValue on *',
      grants: [allow(['secretsmanager:GetSecretValue'])],
      expected: [['secrets:confirmed', 'high', ['secretsmanager:GetSecretValue']]],
    },
    {
      name: 'ssm:GetParameter* on *',
      grants: [allow(['ssm:GetParameter*'])],
      expected: [
        [
          'secrets:confirmed',
          'high',
          ['ssm:GetParameter', 'ssm:GetParameterHistory', 'ssm:GetParameters', 'ssm:GetParametersByPath'],
        ],
      ],
    },
    {
      name: 'kms:Decrypt on *',
      grants: [allow(['kms:Decrypt'])],
      expected: [['secrets:confirmed', 'high', ['kms:Decrypt']]],
    },
    {
      name: 's3:GetObject on *',
      grants: [allow(['s3:GetObject'])],
      expected: [['data:confirmed', 'medium', ['s3:GetObject']]],
    },
    {
      name: 'a type-wide secret ARN counts as unconstrained',
      grants: [allow(['secretsmanager:GetSecretValue'], ['arn:aws:secretsmanager:*:*:secret:*'])],
      expected: [['secrets:confirmed', 'high', ['secretsmanager:GetSecretValue']]],
    },
    {
      name: 'every object of every bucket counts as unconstrained',
      grants: [allow(['s3:GetObject'], ['arn:aws:s3:::*/*'])],
      expected: [['data:confirmed', 'medium', ['s3:GetObject']]],
    },
    {
      name: 'a secret ARN pinned to a region and a name prefix is scoped',
      grants: [allow(['secretsmanager:GetSecretValue'], [`arn:aws:secretsmanager:us-east-1:${ACCT}:secret:app/*`])],
      expected: [['secrets:potential', 'medium', ['secretsmanager:GetSecretValue']]],
    },
    {
      name: 'one bucket is scoped',
      grants: [allow(['s3:GetObject'], ['arn:aws:s3:::reports/*'])],
      expected: [['data:potential', 'low', ['s3:GetObject']]],
    },
    {
      name: 'a Condition makes it conditional',
      grants: [
        allow(['kms:Decrypt'], ['*'], {
          condition: { StringEquals: { 'kms:ViaService': 'ssm.us-east-1.amazonaws.com' } },
        }),
      ],
      expected: [['secrets:conditional', 'medium', ['kms:Decrypt']]],
    },
    {
      name: 'an explicit Deny removes it',
      grants: [
        allow(['secretsmanager:*', 's3:GetObject']),
        allow(['secretsmanager:GetSecretValue', 's3:*'], ['*'], { effect: 'Deny' }),
      ],
      expected: [],
    },
    {
      name: 'reads of names and metadata are not data',
      grants: [
        allow([
          'secretsmanager:DescribeSecret',
          'secretsmanager:ListSecrets',
          's3:ListBucket',
          'ssm:DescribeParameters',
        ]),
      ],
      expected: [],
    },
  ])('$name', ({ grants, expected }) => {
    expect(read(grants)).toEqual(expected);
  });

  it('a boundary that leaves only S3 reads leaves only the data reads', () => {
    const boundary = { ...allow(['s3:Get*']), provenance: { policy: 'b', attachment: 'boundary' as const } };
    expect(read([allow(['*']), boundary])).toEqual([
      ['data:confirmed', 'medium', ['s3:GetObject', 's3:GetObjectVersion']],
    ]);
  });

  it('evidence names the statement, the action and why it matters', () => {
    const [r] = aws.dataRead(cred([allow(['secretsmanager:GetSecretValue'], ['arn:aws:secretsmanager:*:*:secret:*'])]));
    expect(r?.message).toBe('can read secrets on every resource, unconditionally: secretsmanager:GetSecretValue');
    expect(r?.evidence[0]?.statement?.summary).toContain('secretsmanager:GetSecretValue');
    expect(r?.evidence[0]?.note).toMatch(/secret values .*matches every secret/);
  });
});

describe('Vault: read over a whole mount', () => {
  const vault = new VaultPrivilegeAnalyzer();
  const keys = (grants: VaultPathGrant[]) => vault.dataRead(cred(grants)).map((r) => [r.key, r.severity]);

  it.each([
    { name: 'secret/* read', grants: [path('secret/*', ['read'])], expected: [['secret/', 'high']] },
    {
      name: 'secret/data/* read (KV v2)',
      grants: [path('secret/data/*', ['read', 'list'])],
      expected: [['secret/', 'high']],
    },
    { name: 'kv/* read', grants: [path('kv/*', ['read'])], expected: [['kv/', 'high']] },
    { name: 'kv/+/* read', grants: [path('kv/+/*', ['read'])], expected: [['kv/', 'high']] },
    { name: 'a mount a rule names', grants: [path('team-kv/*', ['read'])], expected: [['team-kv/', 'high']] },
    { name: '* read: every mount, once', grants: [path('*', ['read'])], expected: [['*', 'high']] },
    { name: 'the root policy', grants: [path('*', ['root'])], expected: [['*', 'high']] },
    { name: 'a path below the mount root', grants: [path('secret/data/agents/invoice/*', ['read'])], expected: [] },
    { name: 'list only', grants: [path('secret/*', ['list'])], expected: [] },
    { name: 'sys/ is not data', grants: [path('sys/*', ['read'])], expected: [] },
    { name: 'an engine path below the mount root', grants: [path('aws/roles/*', ['read'])], expected: [] },
    {
      name: 'a deny on the same pattern (from another policy) wins',
      grants: [path('kv/*', ['read']), path('kv/*', ['deny'])],
      expected: [],
    },
    {
      name: 'a more specific deny shadows only its part: KV v1 paths stay readable',
      grants: [path('secret/*', ['read']), path('secret/data/*', ['deny'])],
      expected: [['secret/', 'high']],
    },
  ])('$name', ({ grants, expected }) => {
    expect(keys(grants)).toEqual(expected);
  });

  it('names the governing rule and its policy', () => {
    const [r] = vault.dataRead(cred([path('secret/*', ['read', 'list'])]));
    expect(r).toMatchObject({ detector: 'vault-data-read', confidence: 'confirmed', actions: ['secret/*:read'] });
    expect(r?.message).toBe(
      'can read every secret in mount "secret/" (read on "secret/*"): no path below the mount root constrains it',
    );
    expect(r?.evidence[0]?.statement?.provenance?.policy).toBe('agent');
  });
});
