/**
 * Every AWS detector reads one effective set: what is left after explicit Denies and inside the
 * permissions boundary (src/privilege/aws-effective.ts statementEffect). The statement-shaped
 * detectors (`*` on `*`, service wildcards, NotAction / NotResource) used to read the policy text;
 * these pin that a grant the effective set does not hold is never reported, that a cut-down one
 * says so, and that `*` on `*` under a boundary is the latent "boundary-held-admin", not admin.
 */
import { describe, expect, it } from 'vitest';
import type { AwsStatementGrant, Credential, Grant, Provenance } from '../../src/model/credential.js';
import { BLOCKED } from '../../src/privilege/action-flags.js';
import { AwsPrivilegeAnalyzer } from '../../src/privilege/aws-analyzer.js';

const ACCT = '111111111111';
const ROLE = `arn:aws:iam::${ACCT}:role/agent-role`;
const INLINE: Provenance = { policy: 'agent-inline', attachment: 'inline' };
const ADMIN: Provenance = {
  policy: 'AdministratorAccess',
  policyArn: 'arn:aws:iam::aws:policy/AdministratorAccess',
  attachment: 'managed',
};
const BOUNDARY: Provenance = {
  policy: 's3-read-boundary',
  policyArn: `arn:aws:iam::${ACCT}:policy/s3-read-boundary`,
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
  allow(actions, resources, { effect: 'Deny', provenance: { policy: 'guardrail', attachment: 'inline' }, ...more });
const notAction = (notActions: string[], more: S = {}): AwsStatementGrant => ({
  type: 'aws-statement',
  effect: 'Allow',
  notActions,
  resources: ['*'],
  provenance: INLINE,
  ...more,
});
/** AmazonS3ReadOnlyAccess, as a boundary. */
const S3_READ_BOUNDARY = allow(['s3:Get*', 's3:List*', 's3:Describe*'], ['*'], { provenance: BOUNDARY });

function role(grants: Grant[]): Credential {
  return {
    id: 'aws/111111111111/role/agent-role',
    kind: 'aws-role',
    sourceType: 'aws',
    source: ACCT,
    principal: ROLE,
    agentId: null,
    owner: null,
    unregisteredAgent: false,
    createdAt: null,
    lastUsed: null,
    expiresAt: null,
    status: 'active',
    grants,
    tags: {},
    attributes: { roleName: 'agent-role', path: '/' },
    observedAt: '2026-01-01T00:00:00Z',
  };
}

const analyzer = new AwsPrivilegeAnalyzer();

describe('admin held back by a permissions boundary', () => {
  const held = role([allow(['*'], ['*'], { provenance: ADMIN }), S3_READ_BOUNDARY]);

  it('is not administrator: the effective set is the boundary’s S3 reads', () => {
    expect(analyzer.admin(held)).toEqual([]);
    const s = analyzer.permissionSet(held.grants);
    expect(s.has('s3:GetObject')).toBe(true);
    expect(s.has('s3:PutObject')).toBe(false);
    expect(s.has('iam:CreateUser')).toBe(false);
  });

  it('is reported as the latent risk, medium, naming the boundary and what is effective', () => {
    const [r, ...rest] = analyzer.boundaryHeldAdmin(held);
    expect(rest).toEqual([]);
    expect(r).toMatchObject({
      detector: 'boundary-held-admin',
      severity: 'medium',
      confidence: 'confirmed',
      key: 'managed:arn:aws:iam::aws:policy/AdministratorAccess#1',
      actions: ['*'],
    });
    expect(r?.message).toMatch(
      /^Allow \* on \* held back only by the permissions boundary arn:aws:iam::111111111111:policy\/s3-read-boundary: \d+ of \d+ actions effective \(s3:/,
    );
    expect(r?.message).toContain('Removing or replacing the boundary makes it full administrator');
    expect(r?.message).not.toContain('full administrator:');
    const policies = r?.evidence.map((e) => e.statement?.provenance?.policy);
    expect(policies).toEqual(['AdministratorAccess', 's3-read-boundary']);
  });

  it('other detectors see exactly the effective S3 reads', () => {
    expect(analyzer.dataRead(held).map((r) => [r.key, r.actions])).toEqual([
      ['data:confirmed', ['s3:GetObject', 's3:GetObjectVersion']],
    ]);
    expect(analyzer.privilegeEscalation(held)).toEqual([]);
    expect(analyzer.credentialExposure(held)).toEqual([]);
    expect(analyzer.resourceExposure(held)).toEqual([]);
    const [w] = analyzer.serviceWildcards(held);
    expect([w?.severity, w?.confidence]).toEqual(['low', 'potential']);
    expect(w?.message).toMatch(/cut to \d+ of \d+ actions \(in s3\) by the permissions boundary$/);
  });

  it('is administrator after all when the principal can lift its own boundary', () => {
    const liftable = role([
      allow(['*'], ['*'], { provenance: ADMIN }),
      { ...S3_READ_BOUNDARY, actions: ['s3:Get*', 'iam:DeleteRolePermissionsBoundary'] },
    ]);
    const [r] = analyzer.admin(liftable);
    expect(r).toMatchObject({ detector: 'admin', severity: 'critical', confidence: 'confirmed' });
    expect(r?.message).toContain('iam:DeleteRolePermissionsBoundary on its own ARN');
    expect(analyzer.boundaryHeldAdmin(liftable)).toEqual([]);
  });

  it('a boundary that holds nothing back leaves full administrator', () => {
    const c = role([allow(['*'], ['*'], { provenance: ADMIN }), { ...allow(['*']), provenance: BOUNDARY }]);
    expect(analyzer.admin(c)[0]).toMatchObject({
      severity: 'critical',
      confidence: 'confirmed',
      message: 'Allow * on *: full administrator',
    });
    expect(analyzer.boundaryHeldAdmin(c)).toEqual([]);
  });

  it('a boundary that lets * through only under a Condition makes admin conditional', () => {
    const c = role([
      allow(['*'], ['*'], { provenance: ADMIN }),
      {
        ...allow(['*'], ['*'], { condition: { Bool: { 'aws:MultiFactorAuthPresent': 'true' } } }),
        provenance: BOUNDARY,
      },
    ]);
    expect(analyzer.admin(c).find((r) => r.key?.startsWith('star-on-star:'))).toMatchObject({
      confidence: 'conditional',
      severity: 'high',
    });
  });

  it('a Deny narrows admin to "administrator for everything else"; a Deny of * leaves nothing', () => {
    const narrowed = analyzer.admin(role([allow(['*']), deny(['iam:*'])]))[0];
    expect(narrowed).toMatchObject({ severity: 'high', confidence: 'potential' });
    expect(narrowed?.message).toMatch(
      /^Allow \* on \* less \d+ actions an explicit Deny removes: administrator for the other \d+$/,
    );
    expect(narrowed?.evidence.map((e) => e.statement?.provenance?.policy)).toEqual(['agent-inline', 'guardrail']);
    expect(analyzer.admin(role([allow(['*']), deny(['*'])]))).toEqual([]);
  });
});

describe('service wildcards read the effective set', () => {
  it('an explicit Deny of the whole service removes the wildcard finding', () => {
    expect(analyzer.serviceWildcards(role([allow(['iam:*']), deny(['iam:*'])]))).toEqual([]);
  });

  it('a boundary without the service removes it too', () => {
    expect(analyzer.serviceWildcards(role([allow(['iam:*']), S3_READ_BOUNDARY]))).toEqual([]);
  });

  it('a partial Deny leaves a potential, low finding that says what cut it', () => {
    const [r] = analyzer.serviceWildcards(role([allow(['iam:*']), deny(['iam:Delete*'])]));
    expect(r).toMatchObject({ severity: 'low', confidence: 'potential', actions: ['iam:*'] });
    expect(r?.message).toMatch(
      /^Allow of every action of service iam \(iam:\*\), cut to \d+ of \d+ actions by an explicit Deny$/,
    );
    expect(r?.evidence.map((e) => e.statement?.provenance?.policy)).toEqual(['agent-inline', 'guardrail']);
  });

  it('a service removed entirely is named; the one left intact stays confirmed', () => {
    const [r] = analyzer.serviceWildcards(role([allow(['iam:*', 's3:*']), deny(['iam:*'])]));
    expect(r).toMatchObject({ severity: 'medium', confidence: 'confirmed', actions: ['s3:*'] });
    expect(r?.message).toBe('Allow of every action of service s3 (s3:*); iam:* removed entirely');
  });

  it('a Deny scoped to one ARN leaves the * Allow standing', () => {
    const [r] = analyzer.serviceWildcards(role([allow(['iam:*']), deny(['iam:*'], [ROLE])]));
    expect([r?.severity, r?.confidence]).toEqual(['medium', 'confirmed']);
  });
});

describe('NotAction and NotResource read the effective set', () => {
  it('a NotAction Allow that a Deny of * empties is not reported', () => {
    expect(analyzer.notActionAllow(role([notAction(['iam:*']), deny(['*'])]))).toEqual([]);
  });

  it('a NotAction Allow under a boundary is reported with what is effective', () => {
    const [r] = analyzer.notActionAllow(role([notAction(['iam:*']), S3_READ_BOUNDARY]));
    expect(r).toMatchObject({ severity: 'medium', confidence: 'potential' });
    expect(r?.message).toMatch(/; \d+ of them effective after the permissions boundary$/);
  });

  it('a NotResource Allow whose actions are all denied is not reported', () => {
    const c = role([
      {
        type: 'aws-statement',
        effect: 'Allow',
        actions: ['s3:GetObject'],
        notResources: ['arn:aws:s3:::x/*'],
        provenance: INLINE,
      },
      deny(['s3:*']),
    ]);
    expect(analyzer.notActionAllow(c)).toEqual([]);
  });
});

describe('no AWS detector reports a grant the effective set does not hold', () => {
  it.each([
    { name: 'everything denied', grants: [allow(['*']), allow(['iam:*', 's3:*']), notAction(['ec2:*']), deny(['*'])] },
    {
      name: 'a boundary that allows none of it',
      grants: [
        allow(['iam:*', 'sts:*', 'lambda:*']),
        notAction(['ec2:*']),
        { ...allow(['ec2:DescribeRegions']), provenance: BOUNDARY },
      ],
    },
  ])('$name', ({ grants }) => {
    const c = role(grants);
    const s = analyzer.permissionSet(c.grants);
    expect([...s.granted()].filter(([, f]) => (f & BLOCKED) === 0)).toEqual([]);
    expect(analyzer.all(c).map((r) => `${r.detector} ${r.message}`)).toEqual([]);
  });
});
