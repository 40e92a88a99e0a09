/**
 * AWS privilege analysis (src/privilege/aws-*): the effective set (NotAction, conditional and
 * scoped Denies, boundaries, wildcards in action names, unknown patterns), the detectors (admin
 * with PMapper's self-modification test, escalation combinations across policies, exposure,
 * wildcards, role trust) and the grant-set cache. Behaviour only, on hand-built credentials.
 */
import { describe, expect, it } from 'vitest';
import type { AwsStatementGrant, Credential, Grant, Provenance } from '../../src/model/credential.js';
import { AwsPrivilegeAnalyzer } from '../../src/privilege/aws-analyzer.js';

const ACCT = '111111111111';
const USER = `arn:aws:iam::${ACCT}:user/agents/agent-a`;
const ROLE = `arn:aws:iam::${ACCT}:role/agent-role`;
const INLINE: Provenance = { policy: 'agent-inline', attachment: 'inline' };
const GROUP: Provenance = { policy: 'team-policy', attachment: 'group-inline', via: 'agents' };
const BOUNDARY: Provenance = {
  policy: 'agent-boundary',
  policyArn: `arn:aws:iam::${ACCT}:policy/agent-boundary`,
  attachment: 'boundary',
};

type S = Partial<Omit<AwsStatementGrant, 'type'>>;
const allow = (actions: string[], resources: string[] = ['*'], more: S = {}): AwsStatementGrant => ({
  type: 'aws-statement',
  effect: 'Allow',
  actions,
  resources,
  provenance: INLINE,
  ...more,
});
const deny = (actions: string[], resources: string[] = ['*'], more: S = {}): AwsStatementGrant =>
  allow(actions, resources, { effect: 'Deny', ...more });
const COND = { StringEquals: { 'aws:RequestedRegion': 'eu-west-1' } };

function cred(grants: Grant[], more: Partial<Credential> = {}): Credential {
  return {
    id: 'aws/test/key',
    kind: 'aws-access-key',
    sourceType: 'aws',
    source: ACCT,
    principal: USER,
    agentId: null,
    owner: null,
    unregisteredAgent: false,
    createdAt: null,
    lastUsed: null,
    expiresAt: null,
    status: 'active',
    grants,
    tags: {},
    attributes: { userName: 'agent-a', groups: ['agents'] },
    observedAt: '2026-01-01T00:00:00Z',
    ...more,
  };
}

const analyzer = new AwsPrivilegeAnalyzer();
const set = (grants: Grant[]) => analyzer.permissionSet(grants);

describe(AwsPrivilegeAnalyzer.name, () => {
  describe('effective permission set', () => {
    const cases: {
      name: string;
      grants: Grant[];
      allowed: string[];
      notAllowed: string[];
    }[] = [
      {
        name: 'NotAction + Allow grants the catalog minus the list',
        grants: [
          { type: 'aws-statement', effect: 'Allow', notActions: ['iam:*'], resources: ['*'], provenance: INLINE },
        ],
        allowed: ['s3:GetObject', 'ec2:RunInstances'],
        notAllowed: ['iam:CreateUser', 'iam:PassRole'],
      },
      {
        name: 'a Deny with a condition does not remove the Allow',
        grants: [allow(['s3:*']), deny(['s3:DeleteObject'], ['*'], { condition: COND })],
        allowed: ['s3:DeleteObject', 's3:GetObject'],
        notAllowed: [],
      },
      {
        name: 'an unconditional Deny on * removes the Allow',
        grants: [allow(['s3:*']), deny(['s3:Delete*'])],
        allowed: ['s3:GetObject'],
        notAllowed: ['s3:DeleteObject', 's3:DeleteBucket'],
      },
      {
        name: 'a Deny scoped to one ARN leaves a * Allow standing',
        grants: [allow(['s3:*']), deny(['s3:*'], ['arn:aws:s3:::secrets/*'])],
        allowed: ['s3:GetObject'],
        notAllowed: [],
      },
      {
        name: 'a Deny covering the Allow’s ARN pattern removes it',
        grants: [allow(['s3:GetObject'], ['arn:aws:s3:::data/reports/*']), deny(['s3:Get*'], ['arn:aws:s3:::data/*'])],
        allowed: [],
        notAllowed: ['s3:GetObject'],
      },
      {
        name: 'a wildcard inside an action name expands against the catalog',
        grants: [allow(['s3:*Object'])],
        allowed: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'],
        notAllowed: ['s3:GetObjectAcl', 's3:ListBucket'],
      },
      {
        name: 'a Deny with NotAction denies everything but the list',
        grants: [allow(['s3:*', 'iam:*']), deny([], ['*'], { actions: undefined, notActions: ['s3:*'] })],
        allowed: ['s3:GetObject'],
        notAllowed: ['iam:CreateUser'],
      },
    ];
    it.each(cases)('$name', ({ grants, allowed, notAllowed }) => {
      const s = set(grants);
      for (const a of allowed) expect(s.has(a), a).toBe(true);
      for (const a of notAllowed) expect(s.has(a), a).toBe(false);
    });

    it('keeps the star Allow when a Deny names one ARN, but that ARN itself is denied', () => {
      const s = set([allow(['s3:*']), deny(['s3:*'], ['arn:aws:s3:::secrets/*'])]);
      expect(s.get('s3:GetObject')).toMatchObject({ resourceStar: true, conditional: false, confidence: 'confirmed' });
      expect(s.allowsOn('s3:GetObject', 'arn:aws:s3:::secrets/key')).toBeUndefined();
      expect(s.allowsOn('s3:GetObject', 'arn:aws:s3:::public/key')?.confidence).toBe('confirmed');
    });

    it('a boundary blocks actions outside it: boundaryBlocked, kept with its sources', () => {
      const s = set([
        allow(['s3:*', 'iam:*']),
        { ...allow(['s3:*']), provenance: BOUNDARY },
        { ...allow(['iam:Get*']), provenance: BOUNDARY },
      ]);
      expect(s.hasBoundary).toBe(true);
      expect(s.has('s3:PutObject')).toBe(true);
      expect(s.has('iam:GetUser')).toBe(true);
      expect(s.has('iam:CreateUser')).toBe(false);
      const blocked = s.get('iam:CreateUser');
      expect(blocked).toMatchObject({ boundaryBlocked: true, resourceStar: true });
      expect(blocked?.sources.map((r) => r.provenance.policy)).toEqual(['agent-inline']);
      expect(s.blockedCount).toBeGreaterThan(0);
    });

    it('an action the boundary allows only under a Condition is conditional, not blocked', () => {
      const s = set([
        allow(['s3:GetObject']),
        { ...allow(['s3:*'], ['*'], { condition: COND }), provenance: BOUNDARY },
      ]);
      expect(s.get('s3:GetObject')).toMatchObject({
        boundaryBlocked: false,
        conditional: true,
        confidence: 'conditional',
      });
    });

    it('a boundary alone grants nothing', () => {
      expect(set([{ ...allow(['*']), provenance: BOUNDARY }]).allowedCount).toBe(0);
    });

    it('a conditional Allow is kept, marked conditional', () => {
      expect(set([allow(['s3:GetObject'], ['*'], { condition: COND })]).get('s3:GetObject')).toMatchObject({
        conditional: true,
        confidence: 'conditional',
      });
    });

    it('NotResource + Allow counts as every resource', () => {
      const s = set([
        {
          type: 'aws-statement',
          effect: 'Allow',
          actions: ['s3:GetObject'],
          notResources: ['arn:aws:s3:::x/*'],
          provenance: INLINE,
        },
      ]);
      expect(s.get('s3:GetObject')?.resourceStar).toBe(true);
      expect(s.notResourceAllows).toHaveLength(1);
    });

    it('keeps an unknown action pattern and flags it', () => {
      const c = cred([allow(['lamda:InvokeFunction', 's3:GetObject'])]);
      const s = analyzer.permissionSet(c.grants);
      expect(s.has('s3:GetObject')).toBe(true);
      expect(s.unknownPatterns.map((u) => u.pattern)).toEqual(['lamda:InvokeFunction']);
      const [r] = analyzer.unknownActions(c);
      expect(r).toMatchObject({ detector: 'unknown-action', severity: 'low', actions: ['lamda:InvokeFunction'] });
      expect(r?.message).toContain('unknown service prefix "lamda"');
      expect(r?.evidence[0]?.statement?.provenance).toEqual(INLINE);
    });
  });

  describe('privilege escalation', () => {
    const keysOf = (c: Credential, methods?: string[]) => analyzer.privilegeEscalation(c, methods).map((r) => r.key);

    it('finds a combination split across an inline and a group policy', () => {
      const c = cred([
        allow(['iam:PassRole']),
        allow(['lambda:CreateFunction', 'lambda:InvokeFunction'], ['*'], { provenance: GROUP }),
      ]);
      const [r] = analyzer.privilegeEscalation(c, ['PassExistingRoleToNewLambdaThenInvoke']);
      expect(r).toMatchObject({ detector: 'privesc', confidence: 'confirmed', severity: 'high' });
      expect(r?.message).toContain('combined across 2 policies');
      const policies = r?.evidence.flatMap((e) => (e.statement ? [e.statement.provenance?.policy] : []));
      expect(policies).toEqual(expect.arrayContaining(['agent-inline', 'team-policy']));
    });

    it.each([
      { name: 'unconditional on * → confirmed', extra: {}, resources: ['*'], expected: 'confirmed' },
      {
        name: 'ARN-scoped → potential',
        extra: {},
        resources: [`arn:aws:iam::${ACCT}:role/app-*`],
        expected: 'potential',
      },
      {
        name: 'under a Condition → conditional',
        extra: { condition: COND },
        resources: ['*'],
        expected: 'conditional',
      },
    ])('$name', ({ extra, resources, expected }) => {
      const c = cred([allow(['iam:PassRole'], resources, extra), allow(['ec2:RunInstances'])]);
      const [r] = analyzer.privilegeEscalation(c, ['CreateEC2WithExistingIP']);
      expect(r?.confidence).toBe(expected);
    });

    it('a wildcard-only action needs no `*` to count as unscoped', () => {
      // lambda:CreateEventSourceMapping takes no resource ARN: whatever the statement names, `*` is its scope.
      const c = cred([
        allow(['iam:PassRole', 'lambda:CreateFunction']),
        allow(['lambda:CreateEventSourceMapping'], ['arn:aws:lambda:*:*:event-source-mapping:*']),
      ]);
      const [r] = analyzer.privilegeEscalation(c, ['PassExistingRoleToNewLambdaThenTriggerWithExistingDynamo']);
      expect(r?.confidence).toBe('confirmed');
      expect(keysOf(c)).toContain('PassExistingRoleToNewLambdaThenTriggerWithExistingDynamo');
    });

    it('an incomplete combination or a boundary-blocked part is no escalation', () => {
      expect(keysOf(cred([allow(['iam:PassRole'])]), ['CreateEC2WithExistingIP'])).toEqual([]);
      const blocked = cred([
        allow(['iam:PassRole', 'ec2:RunInstances']),
        { ...allow(['ec2:*']), provenance: BOUNDARY },
      ]);
      expect(keysOf(blocked, ['CreateEC2WithExistingIP'])).toEqual([]);
    });
  });

  describe('admin equivalence', () => {
    const adminKeys = (c: Credential) => analyzer.admin(c).map((r) => `${r.key} ${r.confidence} ${r.severity}`);

    it('Allow * on * without condition is critical and confirmed', () => {
      const [r] = analyzer.admin(cred([allow(['*'])]));
      expect(r).toMatchObject({ detector: 'admin', severity: 'critical', confidence: 'confirmed' });
    });

    it('Allow * on * narrowed by a Deny is only potential', () => {
      const [r] = analyzer.admin(cred([allow(['*']), deny(['iam:*'])]));
      expect(r).toMatchObject({ severity: 'high', confidence: 'potential' });
    });

    it.each([
      {
        name: 'a user that can put a policy on its own ARN',
        c: cred([allow(['iam:PutUserPolicy'], [USER])]),
        key: 'self-put-user-policy confirmed critical',
      },
      {
        name: 'a user that can attach a policy to its own name as a policy variable',
        c: cred([allow(['iam:AttachUserPolicy'], [`arn:aws:iam::${ACCT}:user/agents/\${aws:username}`])]),
        key: 'self-attach-user-policy confirmed critical',
      },
      {
        name: 'a role that can put a policy on itself',
        c: cred([allow(['iam:PutRolePolicy'], [ROLE])], { kind: 'aws-role', principal: ROLE, attributes: {} }),
        key: 'self-put-role-policy confirmed critical',
      },
      {
        name: 'a user that can put a policy on its own group',
        c: cred([allow(['iam:PutGroupPolicy'], [`arn:aws:iam::${ACCT}:group/agents`])]),
        key: 'group-put-policy:agents confirmed critical',
      },
      {
        name: 'a principal that can rewrite its attached customer-managed policy',
        c: cred([
          {
            ...allow(['iam:CreatePolicyVersion'], [`arn:aws:iam::${ACCT}:policy/agent-*`]),
            provenance: {
              policy: 'agent-managed',
              policyArn: `arn:aws:iam::${ACCT}:policy/agent-managed`,
              attachment: 'managed',
            },
          },
        ]),
        key: `create-policy-version:arn:aws:iam::${ACCT}:policy/agent-managed confirmed critical`,
      },
      {
        name: 'a principal that can create a role and attach to it',
        c: cred([allow(['iam:CreateRole', 'iam:AttachRolePolicy'])]),
        key: 'create-role+iam:AttachRolePolicy confirmed critical',
      },
      {
        name: 'self-modification under a boundary is capped to potential',
        c: cred([allow(['iam:PutUserPolicy'], [USER]), { ...allow(['iam:*']), provenance: BOUNDARY }]),
        key: 'self-put-user-policy potential high',
      },
    ])('$name', ({ c, key }) => {
      expect(adminKeys(c)).toContain(key);
    });

    it('modifying another principal is escalation, not self-modification', () => {
      const c = cred([allow(['iam:PutUserPolicy'], [`arn:aws:iam::${ACCT}:user/someone-else`])]);
      expect(analyzer.admin(c)).toEqual([]);
      expect(analyzer.privilegeEscalation(c, ['PutUserPolicy'])[0]?.confidence).toBe('potential');
    });

    it('a Deny on its own ARN stops self-modification', () => {
      expect(analyzer.admin(cred([allow(['iam:PutUserPolicy']), deny(['iam:PutUserPolicy'], [USER])]))).toEqual([]);
    });
  });

  describe('exposure and wildcards', () => {
    it('credential exposure is split by confidence tier', () => {
      const c = cred([allow(['sts:AssumeRole'], [ROLE]), allow(['iam:CreateAccessKey'])]);
      const byKey = Object.fromEntries(analyzer.credentialExposure(c).map((r) => [r.key, r.actions]));
      expect(byKey).toEqual({ confirmed: ['iam:CreateAccessKey'], potential: ['sts:AssumeRole'] });
    });

    it.each([
      { name: 'on *', grants: [allow(['iam:PutRolePolicy'])], hits: 1 },
      { name: 'ARN-scoped', grants: [allow(['iam:PutRolePolicy'], [ROLE])], hits: 0 },
      { name: 'conditional', grants: [allow(['iam:PutRolePolicy'], ['*'], { condition: COND })], hits: 0 },
    ])('resource exposure: Permissions management $name', ({ grants, hits }) => {
      expect(analyzer.resourceExposure(cred(grants))).toHaveLength(hits);
    });

    it.each([
      { name: 'service wildcard', grants: [allow(['s3:*'])], expected: ['medium', 'confirmed', ['s3:*']] },
      {
        name: 'conditional',
        grants: [allow(['s3:*'], ['*'], { condition: COND })],
        expected: ['low', 'conditional', ['s3:*']],
      },
      { name: 'everything', grants: [allow(['*'], ['arn:aws:s3:::x'])], expected: ['medium', 'confirmed', ['*']] },
    ])('$name', ({ grants, expected }) => {
      const [r] = analyzer.serviceWildcards(cred(grants));
      expect([r?.severity, r?.confidence, r?.actions]).toEqual(expected);
    });

    it('NotAction and NotResource with Allow are reported per statement', () => {
      const c = cred([
        { type: 'aws-statement', effect: 'Allow', notActions: ['iam:*'], resources: ['*'], provenance: INLINE },
        {
          type: 'aws-statement',
          effect: 'Allow',
          actions: ['s3:GetObject'],
          notResources: ['arn:aws:s3:::x'],
          provenance: INLINE,
        },
      ]);
      expect(analyzer.notActionAllow(c).map((r) => [r.key, r.severity])).toEqual([
        ['inline:agent-inline#1:NotAction', 'high'],
        ['inline:agent-inline#2:NotResource', 'medium'],
      ]);
    });
  });

  describe('role trust', () => {
    const role = (statement: object) =>
      cred([], { kind: 'aws-role', principal: ROLE, attributes: { trustPolicy: { Statement: [statement] } } });
    const assume = { Effect: 'Allow', Action: 'sts:AssumeRole' };

    it.each([
      {
        name: 'Principal * without conditions',
        st: { ...assume, Principal: '*' },
        expected: ['critical', 'confirmed'],
      },
      {
        name: 'AWS * with conditions',
        st: { ...assume, Principal: { AWS: '*' }, Condition: { StringEquals: { 'aws:PrincipalOrgID': 'o-1' } } },
        expected: ['medium', 'conditional'],
      },
      {
        name: 'another account',
        st: { ...assume, Principal: { AWS: 'arn:aws:iam::999999999999:root' } },
        expected: ['high', 'confirmed'],
      },
      {
        name: 'another account with ExternalId',
        st: { ...assume, Principal: { AWS: '999999999999' }, Condition: { StringEquals: { 'sts:ExternalId': 'x' } } },
        expected: ['low', 'conditional'],
      },
      {
        name: 'NotPrincipal with Allow',
        st: { ...assume, NotPrincipal: { AWS: 'arn:aws:iam::999999999999:root' } },
        expected: ['critical', 'confirmed'],
      },
      {
        name: 'OIDC without a sub condition',
        st: {
          Effect: 'Allow',
          Action: 'sts:AssumeRoleWithWebIdentity',
          Principal: { Federated: `arn:aws:iam::${ACCT}:oidc-provider/token.actions.githubusercontent.com` },
          Condition: { StringEquals: { 'token.actions.githubusercontent.com:aud': 'sts.amazonaws.com' } },
        },
        expected: ['high', 'potential'],
      },
    ])('$name', ({ st, expected }) => {
      const [r] = analyzer.roleTrust(role(st));
      expect([r?.severity, r?.confidence]).toEqual(expected);
    });

    it.each([
      { name: 'the same account', st: { ...assume, Principal: { AWS: `arn:aws:iam::${ACCT}:root` } } },
      { name: 'a Deny', st: { ...assume, Effect: 'Deny', Principal: '*' } },
      {
        name: 'OIDC pinned to a subject',
        st: {
          Effect: 'Allow',
          Action: 'sts:AssumeRoleWithWebIdentity',
          Principal: { Federated: `arn:aws:iam::${ACCT}:oidc-provider/x` },
          Condition: { StringLike: { 'x:sub': 'repo:org/app:*' } },
        },
      },
      { name: 'a compute service unless asked', st: { ...assume, Principal: { Service: 'lambda.amazonaws.com' } } },
    ])('nothing for $name', ({ st }) => {
      expect(analyzer.roleTrust(role(st))).toEqual([]);
    });

    it('compute services on request, and only for roles', () => {
      const c = role({ ...assume, Principal: { Service: 'lambda.amazonaws.com' } });
      expect(analyzer.roleTrust(c, { includeComputeServices: true })[0]?.severity).toBe('low');
      expect(analyzer.roleTrust({ ...c, kind: 'aws-access-key' })).toEqual([]);
    });
  });

  describe('confused deputy (service principals without a source condition)', () => {
    const role = (statement: object, more: Partial<Credential> = {}) =>
      cred([], {
        kind: 'aws-role',
        principal: ROLE,
        attributes: { path: '/', trustPolicy: { Statement: [statement] } },
        ...more,
      });
    const service = (s: string | string[], Condition?: object) => ({
      Effect: 'Allow',
      Action: 'sts:AssumeRole',
      Principal: { Service: s },
      ...(Condition ? { Condition } : {}),
    });

    it('a service principal with no condition is a medium, confirmed hit per statement', () => {
      const [r, ...rest] = analyzer.confusedDeputy(role(service(['lambda.amazonaws.com', 'events.amazonaws.com'])));
      expect(rest).toEqual([]);
      expect(r).toMatchObject({
        detector: 'confused-deputy',
        severity: 'medium',
        confidence: 'confirmed',
        key: '#1:lambda.amazonaws.com,events.amazonaws.com',
      });
      expect(r?.message).toContain('no aws:SourceAccount or aws:SourceArn condition');
      expect(r?.evidence[0]).toMatchObject({ field: 'attributes.trustPolicy.Statement[0]', note: 'no Condition' });
    });

    it.each([
      { name: 'aws:SourceAccount', cond: { StringEquals: { 'aws:SourceAccount': ACCT } } },
      { name: 'aws:SourceArn', cond: { ArnLike: { 'aws:SourceArn': `arn:aws:events:*:${ACCT}:rule/*` } } },
      { name: 'aws:SourceOrgID', cond: { StringEquals: { 'aws:SourceOrgID': 'o-abc123' } } },
      { name: 'a key in any case', cond: { StringEquals: { 'AWS:SourceAccount': ACCT } } },
    ])('nothing when pinned by $name', ({ cond }) => {
      expect(analyzer.confusedDeputy(role(service('events.amazonaws.com', cond)))).toEqual([]);
    });

    it.each([
      { name: 'an unrelated condition', cond: { StringEquals: { 'aws:RequestedRegion': 'eu-west-1' } } },
      { name: 'a wildcard source account', cond: { StringLike: { 'aws:SourceAccount': '*' } } },
      { name: 'a negated operator', cond: { StringNotEquals: { 'aws:SourceAccount': '999999999999' } } },
      { name: 'an IfExists operator', cond: { StringEqualsIfExists: { 'aws:SourceAccount': ACCT } } },
    ])('still a hit with $name', ({ cond }) => {
      expect(analyzer.confusedDeputy(role(service('events.amazonaws.com', cond)))).toHaveLength(1);
    });

    it('skips service-linked roles, ignored services, AWS principals, Deny statements and non-roles', () => {
      const slr = role(service('events.amazonaws.com'), {
        principal: `arn:aws:iam::${ACCT}:role/aws-service-role/events.amazonaws.com/AWSServiceRoleForEvents`,
        attributes: {
          path: '/aws-service-role/events.amazonaws.com/',
          trustPolicy: { Statement: [service('events.amazonaws.com')] },
        },
      });
      expect(analyzer.confusedDeputy(slr)).toEqual([]);
      expect(analyzer.confusedDeputy(role(service('ec2.amazonaws.com')), { ignoreServices: ['ec2.*'] })).toEqual([]);
      expect(
        analyzer.confusedDeputy(role({ Effect: 'Allow', Action: 'sts:AssumeRole', Principal: { AWS: ROLE } })),
      ).toEqual([]);
      expect(analyzer.confusedDeputy(role({ ...service('events.amazonaws.com'), Effect: 'Deny' }))).toEqual([]);
      expect(analyzer.confusedDeputy({ ...role(service('events.amazonaws.com')), kind: 'aws-access-key' })).toEqual([]);
    });
  });

  describe('policies attached directly to a user', () => {
    const MANAGED: Provenance = {
      policy: 'agent-write',
      policyArn: `arn:aws:iam::${ACCT}:policy/agent-write`,
      attachment: 'managed',
    };

    it('one low hit per inline or managed policy on the user, none for group or boundary grants', () => {
      const c = cred([
        allow(['s3:PutObject'], ['arn:aws:s3:::b/*']),
        allow(['s3:DeleteObject'], ['arn:aws:s3:::b/*']),
        allow(['sqs:SendMessage'], ['*'], { provenance: MANAGED }),
        allow(['s3:GetObject'], ['*'], { provenance: GROUP }),
        { ...allow(['s3:*']), provenance: BOUNDARY },
      ]);
      expect(analyzer.directUserPolicies(c).map((r) => [r.key, r.severity, r.actions])).toEqual([
        [`arn:aws:iam::${ACCT}:policy/agent-write`, 'low', ['sqs:SendMessage']],
        ['inline:agent-inline', 'low', ['s3:DeleteObject', 's3:PutObject']],
      ]);
      const [, inline] = analyzer.directUserPolicies(c);
      expect(inline?.message).toBe(
        'the inline policy agent-inline is attached to the user directly, not through a group (2 statements)',
      );
      expect(inline?.evidence).toHaveLength(2);
    });

    it('nothing when every policy comes through a group, and nothing for roles', () => {
      expect(analyzer.directUserPolicies(cred([allow(['s3:GetObject'], ['*'], { provenance: GROUP })]))).toEqual([]);
      expect(
        analyzer.directUserPolicies(cred([allow(['s3:GetObject'])], { kind: 'aws-role', principal: ROLE })),
      ).toEqual([]);
    });
  });

  describe('cache', () => {
    it('analyses equal grants once, whatever the array or statement order', () => {
      const a = new AwsPrivilegeAnalyzer();
      const grants = () => [
        allow(['s3:*']),
        allow(['iam:PassRole'], ['*'], {
          provenance: GROUP,
          condition: { Bool: { x: 'true' }, StringEquals: { y: 'z' } },
        }),
      ];
      const first = a.permissionSet(grants());
      const reordered = grants().reverse();
      reordered[0] = { ...reordered[0]!, condition: { StringEquals: { y: 'z' }, Bool: { x: 'true' } } };
      expect(a.permissionSet(grants())).toBe(first);
      expect(a.permissionSet(reordered)).toBe(first);
      expect(a.stats).toEqual({ builds: 1, hits: 2 });
    });

    it('different provenance is a different analysis; results are memoised on the set', () => {
      const a = new AwsPrivilegeAnalyzer();
      const c1 = cred([allow(['iam:PassRole', 'ec2:RunInstances'])]);
      const c2 = cred([allow(['iam:PassRole', 'ec2:RunInstances'], ['*'], { provenance: GROUP })]);
      expect(a.permissionSet(c1.grants)).not.toBe(a.permissionSet(c2.grants));
      expect(a.privilegeEscalation(c1)).toBe(a.privilegeEscalation({ ...c1, grants: [...c1.grants] }));
      expect(a.stats.builds).toBe(2);
    });

    it('evicts the oldest set beyond its bound', () => {
      const a = new AwsPrivilegeAnalyzer(undefined, 2);
      const g = (n: number) => [allow([`s3:GetObject`], [`arn:aws:s3:::b${n}/*`])];
      a.permissionSet(g(1));
      a.permissionSet(g(2));
      a.permissionSet(g(3));
      a.permissionSet(g(1));
      expect(a.stats.builds).toBe(4);
    });
  });

  it('analyses a Vault AWS-engine role like any IAM policy', () => {
    const c = cred(
      [{ ...allow(['iam:CreateAccessKey']), provenance: { policy: 'aws/roles/deploy', attachment: 'vault-aws-role' } }],
      {
        kind: 'vault-aws-role',
        sourceType: 'vault',
        principal: 'aws/roles/deploy',
      },
    );
    expect(analyzer.all(c).map((r) => `${r.detector}:${r.key}`)).toEqual(
      expect.arrayContaining(['privesc:CreateAccessKey', 'credential-exposure:confirmed']),
    );
  });
});
