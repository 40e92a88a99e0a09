/**
 * The privilege rule types (src/policy/rules/aws-*, vault-*): meta-checks over every one (name,
 * strict schema, registered, its YAML example loads through the real policy loader) and the mapping
 * from detector results to rule hits (detector, severity, confidence, key, parameters), including
 * how a rule reaches the shared analysers through ctx.services.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AwsStatementGrant, Credential, Grant, VaultPathGrant } from '../../src/model/credential.js';
import { loadPolicies } from '../../src/policy/load.js';
import { privilege } from '../../src/policy/privilege-rules.js';
import { awsAdmin } from '../../src/policy/rules/aws-admin.rule.js';
import { awsAdminHeldByBoundary } from '../../src/policy/rules/aws-admin-held-by-boundary.rule.js';
import { awsCredentialExposure } from '../../src/policy/rules/aws-credential-exposure.rule.js';
import { awsDataReadUnconstrained } from '../../src/policy/rules/aws-data-read-unconstrained.rule.js';
import { awsNotActionAllow } from '../../src/policy/rules/aws-not-action-allow.rule.js';
import { awsPrivilegeEscalation } from '../../src/policy/rules/aws-privilege-escalation.rule.js';
import { awsResourceExposure } from '../../src/policy/rules/aws-resource-exposure.rule.js';
import { awsRoleConfusedDeputy } from '../../src/policy/rules/aws-role-confused-deputy.rule.js';
import { awsRoleTrust } from '../../src/policy/rules/aws-role-trust.rule.js';
import { awsServiceWildcard } from '../../src/policy/rules/aws-service-wildcard.rule.js';
import { awsUnknownAction } from '../../src/policy/rules/aws-unknown-action.rule.js';
import { getRuleType } from '../../src/policy/rules/index.js';
import { vaultAuditSudo } from '../../src/policy/rules/vault-audit-sudo.rule.js';
import { vaultBroadGlob } from '../../src/policy/rules/vault-broad-glob.rule.js';
import { vaultDataReadUnconstrained } from '../../src/policy/rules/vault-data-read-unconstrained.rule.js';
import { vaultRootPolicy } from '../../src/policy/rules/vault-root-policy.rule.js';
import { vaultSecretIdMinting } from '../../src/policy/rules/vault-secret-id-minting.rule.js';
import { vaultSensitiveWrite } from '../../src/policy/rules/vault-sensitive-write.rule.js';
import { vaultSudo } from '../../src/policy/rules/vault-sudo.rule.js';
import { vaultTokenCreateSudo } from '../../src/policy/rules/vault-token-create-sudo.rule.js';
import type { RuleContext, RuleType } from '../../src/policy/types.js';
import { createPrivilegeServices } from '../../src/privilege/index.js';

const ACCT = '111111111111';

const allow = (actions: string[], resources = ['*'], more: Partial<AwsStatementGrant> = {}): AwsStatementGrant => ({
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

function cred(grants: Grant[], more: Partial<Credential> = {}): Credential {
  const vault = grants.some((g) => g.type === 'vault-path');
  return {
    id: 'c1',
    kind: vault ? 'vault-token' : 'aws-access-key',
    sourceType: vault ? 'vault' : 'aws',
    source: vault ? 'main/root' : ACCT,
    principal: vault ? 'token-agent' : `arn:aws:iam::${ACCT}:user/agent`,
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
    ...more,
  };
}

function ctx(services: Record<string, unknown> = { privilege: createPrivilegeServices() }): RuleContext {
  return {
    now: new Date('2026-06-01T00:00:00Z'),
    registry: {
      agents: [],
      unregistered: {
        aws: { tags: {}, namePatterns: [] },
        vault: { meta: [], displayNamePatterns: [], policyPatterns: [] },
      },
    },
    agent: () => undefined,
    inventory: { all: [], byId: new Map(), samePrincipal: (c) => [c] },
    services,
  };
}

const RULES = [
  awsAdmin,
  awsPrivilegeEscalation,
  awsCredentialExposure,
  awsResourceExposure,
  awsServiceWildcard,
  awsNotActionAllow,
  awsRoleTrust,
  awsUnknownAction,
  awsDataReadUnconstrained,
  awsAdminHeldByBoundary,
  awsRoleConfusedDeputy,
  vaultRootPolicy,
  vaultSudo,
  vaultAuditSudo,
  vaultBroadGlob,
  vaultSensitiveWrite,
  vaultTokenCreateSudo,
  vaultSecretIdMinting,
  vaultDataReadUnconstrained,
] as RuleType<unknown>[];

const evaluate = <P>(rule: RuleType<P>, c: Credential, params: unknown = {}, context = ctx()) =>
  rule.evaluate(c, rule.schema.parse(params), context);

describe('privilege rule types', () => {
  it.each(RULES.map((r) => ({ name: r.name, rule: r })))('$name: well-formed and registered', ({ rule }) => {
    expect(rule.name).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
    expect(rule.category).toBe('privilege');
    expect(rule.description.length).toBeGreaterThan(40);
    expect(rule.needs.length).toBeGreaterThan(0);
    expect(rule.kinds?.length).toBeGreaterThan(0);
    expect(getRuleType(rule.name)).toBe(rule);
    expect(rule.schema.safeParse({}).success).toBe(true);
    expect(rule.schema.safeParse({ noSuchParam: 1 }).success).toBe(false);
  });

  it.each(RULES.map((r) => ({ name: r.name, rule: r })))(
    '$name: its example loads through the policy loader',
    async ({ rule }) => {
      const dir = await mkdtemp(join(tmpdir(), 'cw-rule-example-'));
      const file = join(dir, `${rule.name}.yaml`);
      await writeFile(file, rule.example);
      const set = await loadPolicies([file]);
      expect(set.policies[0]?.rules.map((r) => r.type)).toContain(rule.name);
    },
  );
});

describe(awsAdmin.name, () => {
  it('maps a `*` on `*` grant to a critical, confirmed admin hit with its statement', () => {
    const [h] = evaluate(awsAdmin, cred([allow(['*'])]));
    expect(h).toMatchObject({ detector: 'admin', severity: 'critical', confidence: 'confirmed' });
    expect(h?.evidence[0]?.statement?.summary).toContain('Allow [*] on [*]');
  });

  it('minConfidence drops less certain hits', () => {
    const c = cred([allow(['*'], ['*'], { condition: { Bool: { 'aws:MultiFactorAuthPresent': 'true' } } })]);
    const confidences = new Set(evaluate(awsAdmin, c).map((h) => h.confidence));
    expect([...confidences]).toEqual(['conditional']);
    expect(evaluate(awsAdmin, c, { minConfidence: 'potential' })).toEqual([]);
  });
});

describe(`${awsAdmin.name} checks`, () => {
  it('limits the admin tests, e.g. to `*` on `*` only', () => {
    const c = cred([allow(['*'])]);
    expect(evaluate(awsAdmin, c).map((h) => h.key?.split(/[:+]/)[0])).toEqual(
      expect.arrayContaining(['star-on-star', 'create-role', 'self-put-user-policy']),
    );
    expect(evaluate(awsAdmin, c, { checks: ['star-on-star'] }).map((h) => h.key)).toEqual([
      'star-on-star:inline:agent-inline#1',
    ]);
    expect(evaluate(awsAdmin, cred([allow(['iam:PutUserPolicy'])]), { checks: ['star-on-star'] })).toEqual([]);
    expect(awsAdmin.schema.safeParse({ checks: [] }).success).toBe(false);
  });
});

describe(`${awsAdmin.name} and ${awsAdminHeldByBoundary.name}: * on * under a permissions boundary`, () => {
  const held = cred([
    allow(['*'], ['*'], {
      provenance: {
        policy: 'AdministratorAccess',
        policyArn: 'arn:aws:iam::aws:policy/AdministratorAccess',
        attachment: 'managed',
      },
    }),
    allow(['s3:Get*', 's3:List*'], ['*'], { provenance: { policy: 's3-read', attachment: 'boundary' } }),
  ]);

  it('aws-admin does not fire, not even with checks: [star-on-star]', () => {
    expect(evaluate(awsAdmin, held)).toEqual([]);
    expect(evaluate(awsAdmin, held, { checks: ['star-on-star'] })).toEqual([]);
  });

  it('aws-admin-held-by-boundary does, medium, reading the principal', () => {
    expect(awsAdminHeldByBoundary.needs).toEqual(['grants', 'principal']);
    const [h] = evaluate(awsAdminHeldByBoundary, held);
    expect(h).toMatchObject({ detector: 'boundary-held-admin', severity: 'medium', confidence: 'confirmed' });
    expect(h?.message).toMatch(/held back only by the permissions boundary s3-read: \d+ of \d+ actions effective/);
    expect(evaluate(awsAdminHeldByBoundary, cred([allow(['*'])]))).toEqual([]);
  });
});

describe(awsDataReadUnconstrained.name, () => {
  const c = cred([
    allow(['secretsmanager:GetSecretValue', 's3:GetObject']),
    allow(['kms:Decrypt'], ['arn:aws:kms:us-east-1:111111111111:key/k1']),
  ]);

  it('reports unconstrained secrets (high) and data (medium), scoped ones only on request', () => {
    expect(evaluate(awsDataReadUnconstrained, c).map((h) => [h.key, h.severity])).toEqual([
      ['secrets:confirmed', 'high'],
      ['data:confirmed', 'medium'],
    ]);
    expect(evaluate(awsDataReadUnconstrained, c, { minConfidence: 'potential' }).map((h) => h.key)).toEqual([
      'secrets:confirmed',
      'secrets:potential',
      'data:confirmed',
    ]);
  });

  it('categories narrows it; an empty list is a schema error', () => {
    expect(evaluate(awsDataReadUnconstrained, c, { categories: ['secrets'] }).map((h) => h.key)).toEqual([
      'secrets:confirmed',
    ]);
    expect(awsDataReadUnconstrained.schema.safeParse({ categories: [] }).success).toBe(false);
    expect(awsDataReadUnconstrained.schema.safeParse({ categories: ['logs'] }).success).toBe(false);
  });
});

describe(awsRoleConfusedDeputy.name, () => {
  const role = (services: string[]) =>
    cred([], {
      kind: 'aws-role',
      principal: `arn:aws:iam::${ACCT}:role/agent`,
      attributes: {
        path: '/',
        trustPolicy: { Statement: [{ Effect: 'Allow', Principal: { Service: services }, Action: 'sts:AssumeRole' }] },
      },
    });

  it('applies to roles and honours ignoreServices', () => {
    expect(awsRoleConfusedDeputy.kinds).toEqual(['aws-role']);
    expect(evaluate(awsRoleConfusedDeputy, role(['scheduler.amazonaws.com']))[0]).toMatchObject({
      detector: 'confused-deputy',
      severity: 'medium',
    });
    expect(
      evaluate(awsRoleConfusedDeputy, role(['ec2.amazonaws.com']), { ignoreServices: ['ec2.amazonaws.com'] }),
    ).toEqual([]);
  });
});

describe(awsPrivilegeEscalation.name, () => {
  const c = cred([allow(['iam:PassRole', 'ec2:RunInstances', 'iam:CreateAccessKey'])]);

  it('one hit per method, keyed by the method name', () => {
    const keys = evaluate(awsPrivilegeEscalation, c).map((h) => h.key);
    expect(keys).toEqual(expect.arrayContaining(['CreateEC2WithExistingIP', 'CreateAccessKey']));
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('methods limits the search; an unknown method name is a schema error', () => {
    expect(evaluate(awsPrivilegeEscalation, c, { methods: ['CreateAccessKey'] }).map((h) => h.key)).toEqual([
      'CreateAccessKey',
    ]);
    expect(awsPrivilegeEscalation.schema.safeParse({ methods: ['NoSuchMethod'] }).success).toBe(false);
  });
});

describe(awsCredentialExposure.name, () => {
  it('reports only unconstrained grants unless asked for more', () => {
    const c = cred([allow(['sts:AssumeRole'], [`arn:aws:iam::${ACCT}:role/x`])]);
    expect(evaluate(awsCredentialExposure, c)).toEqual([]);
    expect(evaluate(awsCredentialExposure, c, { minConfidence: 'potential' })[0]).toMatchObject({
      key: 'potential',
      severity: 'medium',
    });
  });
});

describe(awsNotActionAllow.name, () => {
  it('notResource: false keeps only NotAction', () => {
    const c = cred([
      {
        type: 'aws-statement',
        effect: 'Allow',
        actions: ['s3:GetObject'],
        notResources: ['arn:aws:s3:::x'],
        provenance: { policy: 'p', attachment: 'inline' },
      },
    ]);
    expect(evaluate(awsNotActionAllow, c)).toHaveLength(1);
    expect(evaluate(awsNotActionAllow, c, { notResource: false })).toEqual([]);
  });
});

describe(awsRoleTrust.name, () => {
  it('applies to roles only and reports an open trust policy', () => {
    expect(awsRoleTrust.kinds).toEqual(['aws-role']);
    const role = cred([], {
      kind: 'aws-role',
      principal: `arn:aws:iam::${ACCT}:role/agent`,
      attributes: {
        trustPolicy: { Statement: [{ Effect: 'Allow', Principal: { AWS: '*' }, Action: 'sts:AssumeRole' }] },
      },
    });
    expect(evaluate(awsRoleTrust, role)[0]).toMatchObject({
      detector: 'trust',
      severity: 'critical',
      confidence: 'confirmed',
    });
  });
});

describe('grant-only AWS rules', () => {
  it.each([
    { rule: awsResourceExposure, grants: [allow(['iam:PutRolePolicy'])], detector: 'resource-exposure' },
    { rule: awsServiceWildcard, grants: [allow(['s3:*'])], detector: 'service-wildcard' },
    { rule: awsUnknownAction, grants: [allow(['lamda:Invoke'])], detector: 'unknown-action' },
    { rule: awsDataReadUnconstrained, grants: [allow(['ssm:GetParameters'])], detector: 'data-read' },
  ] as { rule: RuleType<unknown>; grants: Grant[]; detector: string }[])('$detector', ({ rule, grants, detector }) => {
    expect(evaluate(rule, cred(grants)).map((h) => h.detector)).toEqual([detector]);
    expect(evaluate(rule, cred([allow(['s3:GetObject'], ['arn:aws:s3:::b/*'])]))).toEqual([]);
  });
});

describe('Vault rules', () => {
  it.each([
    { rule: vaultRootPolicy, grants: [path('*', ['root'])], detector: 'vault-root', severity: 'critical' },
    {
      rule: vaultSudo,
      grants: [path('sys/leases/revoke-force/*', ['update', 'sudo'])],
      detector: 'vault-sudo',
      severity: 'high',
    },
    {
      rule: vaultAuditSudo,
      grants: [path('sys/audit/*', ['update', 'sudo'])],
      detector: 'vault-audit-sudo',
      severity: 'critical',
    },
    { rule: vaultBroadGlob, grants: [path('+/*', ['read'])], detector: 'vault-glob', severity: 'high' },
    {
      rule: vaultSensitiveWrite,
      grants: [path('sys/mounts/*', ['update'])],
      detector: 'vault-sensitive-write',
      severity: 'high',
    },
    {
      rule: vaultTokenCreateSudo,
      grants: [path('auth/token/create-orphan', ['update', 'sudo'])],
      detector: 'vault-token-create-sudo',
      severity: 'critical',
    },
    {
      rule: vaultSecretIdMinting,
      grants: [path('auth/approle/role/a/secret-id', ['update'])],
      detector: 'vault-secret-id-mint',
      severity: 'high',
    },
    {
      rule: vaultDataReadUnconstrained,
      grants: [path('secret/data/*', ['read'])],
      detector: 'vault-data-read',
      severity: 'high',
    },
  ] as { rule: RuleType<unknown>; grants: Grant[]; detector: string; severity: string }[])(
    '$detector',
    ({ rule, grants, detector, severity }) => {
      expect(evaluate(rule, cred(grants)).map((h) => [h.detector, h.severity, h.confidence])).toEqual([
        [detector, severity, 'confirmed'],
      ]);
      expect(evaluate(rule, cred([path('secret/data/agents/a', ['read'])]))).toEqual([]);
    },
  );
});

describe(privilege.name, () => {
  it('uses the bundle the evaluator provides', () => {
    const services = { privilege: createPrivilegeServices() };
    expect(privilege(ctx(services))).toBe(services.privilege);
  });

  it('creates and remembers one when the evaluator provides none', () => {
    const services: Record<string, unknown> = {};
    const p = privilege(ctx(services));
    expect(services.privilege).toBe(p);
    expect(evaluate(awsAdmin, cred([allow(['*'])]), {}, ctx({}))[0]?.detector).toBe('admin');
  });

  it('refuses something else under that name', () => {
    expect(() => privilege(ctx({ privilege: { aws: {} } }))).toThrow(TypeError);
  });
});
