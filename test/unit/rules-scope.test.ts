/**
 * scope-excess (src/policy/rules/scope-excess.rule.ts over src/privilege/scope.ts): what a
 * credential can do beyond its agent's declared scopes, listed exactly, per statement (AWS) or per
 * path grant (Vault); the cases where there is nothing to compare with; and the emptyScope choice.
 */
import { describe, expect, it } from 'vitest';
import type { Agent } from '../../src/model/agent.js';
import type { AwsStatementGrant, Credential, Grant, VaultPathGrant } from '../../src/model/credential.js';
import { scopeExcess } from '../../src/policy/rules/scope-excess.rule.js';
import type { RuleContext } from '../../src/policy/types.js';
import { createPrivilegeServices } from '../../src/privilege/index.js';

const services = { privilege: createPrivilegeServices() };
const catalogSize = services.privilege.catalog.size;

const allow = (actions: string[], more: Partial<AwsStatementGrant> = {}): AwsStatementGrant => ({
  type: 'aws-statement',
  effect: 'Allow',
  actions,
  resources: ['*'],
  provenance: { policy: 'agent-inline', attachment: 'inline' },
  ...more,
});
const path = (p: string, capabilities: string[], policy = 'agent'): VaultPathGrant => ({
  type: 'vault-path',
  path: p,
  capabilities,
  provenance: { policy, attachment: 'vault-policy' },
});

function agent(scopes: Partial<Agent['scopes']>): Agent {
  return {
    id: 'reporter',
    name: 'Reporter',
    version: '1',
    environment: 'prod',
    scopes: scopes as Agent['scopes'],
    selectors: { aws: { users: ['agent-*'] } },
  };
}

function cred(grants: Grant[], more: Partial<Credential> = {}): Credential {
  const vault = grants.some((g) => g.type === 'vault-path');
  return {
    id: 'c1',
    kind: vault ? 'vault-token' : 'aws-access-key',
    sourceType: vault ? 'vault' : 'aws',
    source: vault ? 'main/root' : '111111111111',
    principal: vault ? 'token-reporter' : 'arn:aws:iam::111111111111:user/agent-reporter',
    agentId: 'reporter',
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
    ...more,
  };
}

function ctx(a: Agent | undefined): RuleContext {
  return {
    now: new Date('2026-06-01T00:00:00Z'),
    registry: {
      agents: a ? [a] : [],
      unregistered: {
        aws: { tags: {}, namePatterns: [] },
        vault: { meta: [], displayNamePatterns: [], policyPatterns: [] },
      },
    },
    agent: (id) => (a && id === a.id ? a : undefined),
    inventory: { all: [], byId: new Map(), samePrincipal: (c) => [c] },
    services,
  };
}

const run = (c: Credential, a: Agent | undefined, params: object = {}) =>
  scopeExcess.evaluate(c, scopeExcess.schema.parse(params), ctx(a));

/** The `excess` evidence value of each hit. */
const excessOf = (c: Credential, a: Agent | undefined, params?: object) =>
  run(c, a, params).map((h) => h.evidence.find((e) => e.field === 'excess')?.value);

describe(scopeExcess.name, () => {
  describe('AWS', () => {
    it.each([
      {
        name: 'exactly the declared actions',
        declared: ['s3:GetObject'],
        grants: [allow(['s3:GetObject'])],
        excess: [],
      },
      {
        name: 'a declared wildcard covers the grant',
        declared: ['s3:Get*'],
        grants: [allow(['s3:GetObject', 's3:GetObjectAcl'])],
        excess: [],
      },
      {
        name: 'a wildcard grant beyond the declared action',
        declared: ['s3:GetObject'],
        grants: [allow(['s3:*Object'])],
        excess: [['s3:DeleteObject', 's3:PutObject', 's3:ReplicateObject', 's3:RestoreObject']],
      },
      {
        name: 'an unknown pattern nobody declared',
        declared: ['s3:GetObject'],
        grants: [allow(['s3:GetObject', 'lamda:Invoke'])],
        excess: [['lamda:Invoke (unknown to the catalog)']],
      },
      {
        name: 'an unknown pattern declared as written',
        declared: ['lamda:*'],
        grants: [allow(['lamda:Invoke'])],
        excess: [],
      },
      {
        name: 'denied actions are not excess',
        declared: ['s3:GetObject'],
        grants: [allow(['s3:GetObject', 's3:PutObject']), allow(['s3:PutObject'], { effect: 'Deny' })],
        excess: [],
      },
      {
        name: 'boundary-blocked actions are not excess',
        declared: ['s3:GetObject'],
        grants: [
          allow(['s3:GetObject', 'iam:CreateUser']),
          { ...allow(['s3:*']), provenance: { policy: 'b', attachment: 'boundary' } },
        ],
        excess: [],
      },
    ] as { name: string; declared: string[]; grants: Grant[]; excess: unknown[] }[])(
      '$name',
      ({ declared, grants, excess }) => {
        expect(excessOf(cred(grants), agent({ aws: declared, vault: [] }))).toEqual(excess);
      },
    );

    it('one hit per granting statement, keyed and attributed to it', () => {
      const hits = run(
        cred([
          allow(['s3:GetObject', 'sqs:SendMessage']),
          allow(['iam:PassRole'], { provenance: { policy: 'team', attachment: 'group-inline', via: 'agents' } }),
        ]),
        agent({ aws: ['s3:GetObject'], vault: [] }),
      );
      expect(hits.map((h) => [h.key, h.detector, h.confidence])).toEqual([
        ['inline:agent-inline#1', 'scope', 'confirmed'],
        ['group-inline:team@agents#1', 'scope', 'confirmed'],
      ]);
      expect(hits[1]?.message).toContain('iam:PassRole');
      expect(hits[1]?.evidence[0]?.statement?.provenance).toMatchObject({ policy: 'team', via: 'agents' });
    });

    it('caps the listed actions at 50 and states the total', () => {
      const [h] = run(cred([allow(['*'])]), agent({ aws: ['s3:GetObject'], vault: [] }));
      const listed = h?.evidence.find((e) => e.field === 'excess');
      expect(listed?.value).toHaveLength(50);
      expect(listed?.note).toBe(`first 50 of ${catalogSize - 1}`);
      expect(h?.message).toContain(`${catalogSize - 1} actions beyond`);
    });

    it('a conditional statement yields a conditional hit', () => {
      const [h] = run(
        cred([allow(['s3:PutObject'], { condition: { Bool: { 'aws:SecureTransport': 'true' } } })]),
        agent({ aws: ['s3:GetObject'], vault: [] }),
      );
      expect(h?.confidence).toBe('conditional');
    });

    it('a Vault AWS-engine role is compared with the AWS scope', () => {
      const c = cred(
        [allow(['s3:PutObject'], { provenance: { policy: 'aws/roles/r', attachment: 'vault-aws-role' } })],
        { kind: 'vault-aws-role', sourceType: 'vault' },
      );
      expect(excessOf(c, agent({ aws: ['s3:GetObject'], vault: [{ path: '*', capabilities: ['root'] }] }))).toEqual([
        ['s3:PutObject'],
      ]);
    });
  });

  describe('Vault', () => {
    it.each([
      {
        name: 'a capability beyond the declared ones',
        declared: [{ path: 'secret/data/reporter/*', capabilities: ['read'] }],
        grants: [path('secret/data/reporter/*', ['read', 'update'])],
        excess: [['update']],
      },
      {
        name: 'a grant broader than the declared path',
        declared: [{ path: 'secret/data/reporter/*', capabilities: ['read'] }],
        grants: [path('secret/*', ['read'])],
        excess: [['read']],
      },
      {
        name: 'a narrower grant inside a declared glob, + segments included',
        declared: [{ path: 'secret/data/+/reports/*', capabilities: ['read', 'list'] }],
        grants: [path('secret/data/reporter/reports/daily', ['read'])],
        excess: [],
      },
      {
        name: 'capabilities from two covering scopes add up',
        declared: [
          { path: 'secret/*', capabilities: ['read'] },
          { path: 'secret/data/reporter/*', capabilities: ['update'] },
        ],
        grants: [path('secret/data/reporter/x', ['read', 'update'])],
        excess: [],
      },
      {
        name: 'the root policy',
        declared: [{ path: 'secret/*', capabilities: ['read'] }],
        grants: [path('*', ['root'], 'root')],
        excess: [['root']],
      },
      {
        name: 'a deny grants nothing, and a grant merged into a deny neither',
        declared: [{ path: 'secret/*', capabilities: ['read'] }],
        grants: [path('sys/*', ['deny']), path('auth/*', ['update']), path('auth/*', ['deny'], 'guard')],
        excess: [],
      },
    ])('$name', ({ declared, grants, excess }) => {
      expect(excessOf(cred(grants), agent({ aws: [], vault: declared }))).toEqual(excess);
    });

    it('names the path, the policy and the excess capabilities', () => {
      const [h] = run(
        cred([path('sys/mounts/*', ['update', 'read'], 'ops')]),
        agent({ aws: [], vault: [{ path: 'sys/mounts/*', capabilities: ['read'] }] }),
      );
      expect(h).toMatchObject({ detector: 'scope', key: 'ops:sys/mounts/*' });
      expect(h?.message).toBe(
        'path "sys/mounts/*" grants [update] beyond agent reporter\'s declared Vault scope (policy ops)',
      );
    });
  });

  describe('nothing to compare with', () => {
    const grants = [allow(['s3:*'])];

    it('no agent: no hit', () => {
      expect(run(cred(grants, { agentId: null }), undefined)).toEqual([]);
    });

    it('scopes without the key for the source: no hit', () => {
      expect(run(cred(grants), agent({ vault: [{ path: 'secret/*', capabilities: ['read'] }] }))).toEqual([]);
      expect(run(cred(grants), agent({ vault: [] }), { emptyScope: 'nothing-in-scope' })).toEqual([]);
    });

    it('an empty list means "not declared" by default, "needs nothing" on request', () => {
      const a = agent({ aws: [], vault: [] });
      expect(run(cred(grants), a)).toEqual([]);
      const [h] = run(cred(grants), a, { emptyScope: 'nothing-in-scope' });
      expect(h?.message).toMatch(/^\d+ actions beyond agent reporter's declared AWS scope/);
    });

    it('rejects unknown parameters', () => {
      expect(scopeExcess.schema.safeParse({ emptyScope: 'maybe' }).success).toBe(false);
      expect(scopeExcess.schema.safeParse({ other: true }).success).toBe(false);
    });
  });
});
