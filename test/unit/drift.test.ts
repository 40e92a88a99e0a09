import { describe, expect, it } from 'vitest';
import { computeDrift, type DriftEvent } from '../../src/inventory/drift.js';
import {
  type AwsStatementGrant,
  type Credential,
  type Grant,
  grantedActions,
  type VaultPathGrant,
} from '../../src/model/credential.js';

const A = '111111111111';
const B = '222222222222';

const allow = (actions: string[], extra: Partial<AwsStatementGrant> = {}): AwsStatementGrant => ({
  type: 'aws-statement',
  effect: 'Allow',
  actions,
  resources: ['*'],
  provenance: { policy: 'inline-1', attachment: 'inline' },
  ...extra,
});
const deny = (actions: string[]): AwsStatementGrant => ({ ...allow(actions), effect: 'Deny' });
const boundary = (actions: string[]): AwsStatementGrant =>
  allow(actions, { provenance: { policy: 'b', policyArn: `arn:aws:iam::${A}:policy/b`, attachment: 'boundary' } });
const vaultPath = (path: string, capabilities: string[]): VaultPathGrant => ({
  type: 'vault-path',
  path,
  capabilities,
  provenance: { policy: 'agent-policy', attachment: 'vault-policy' },
});

function cred(id: string, over: Partial<Credential> = {}): Credential {
  return {
    id,
    kind: id.includes('/role/') ? 'aws-role' : 'aws-access-key',
    sourceType: 'aws',
    source: id.split('/')[1] ?? A,
    principal: `arn:aws:iam::${A}:user/${id.split('/').pop()}`,
    agentId: 'bot',
    owner: { team: 'platform', contact: 'platform@example.com' },
    unregisteredAgent: false,
    createdAt: '2026-01-01T00:00:00.000Z',
    lastUsed: null,
    expiresAt: null,
    status: 'active',
    grants: [allow(['s3:GetObject'])],
    tags: {},
    attributes: {},
    observedAt: '2026-01-02T00:00:00.000Z',
    ...over,
  };
}

const byId = (...creds: Credential[]) => new Map(creds.map((c) => [c.id, c]));
const KEY_A1 = `aws/${A}/access-key/AKIAA1`;
const KEY_A2 = `aws/${A}/access-key/AKIAA2`;
const KEY_B1 = `aws/${B}/access-key/AKIAB1`;
const ROLE_A = `aws/${A}/role/agent-role`;
const COMPLETE_A = [`aws/${A}/access-key/`, `aws/${A}/role/`, `aws/${A}/console-password/`];

describe(computeDrift.name, () => {
  const sut = computeDrift;

  it('should report nothing when the observation equals the known state', () => {
    const prev = [cred(KEY_A1), cred(ROLE_A, { grants: [vaultPath('secret/x', ['read'])] })];

    const res = sut(
      byId(...prev),
      prev.map((c) => structuredClone(c)),
      COMPLETE_A,
    );

    expect(res).toEqual({ events: [], removed: [] });
  });

  it('should ignore changes that are not drift (observedAt, lastUsed, tags, attributes, grant order)', () => {
    const before = cred(KEY_A1, { grants: [allow(['s3:GetObject']), allow(['s3:PutObject'])] });
    const after = cred(KEY_A1, {
      observedAt: '2026-02-01T00:00:00.000Z',
      lastUsed: { at: '2026-01-31T00:00:00.000Z', source: 'credential-report', asOf: '2026-02-01T00:00:00.000Z' },
      tags: { new: 'tag' },
      attributes: { reportSlot: 2 },
      grants: [allow(['s3:PutObject']), allow(['s3:GetObject'])],
    });

    expect(sut(byId(before), [after], COMPLETE_A).events).toEqual([]);
  });

  it('should report a credential seen for the first time as added', () => {
    const added = cred(KEY_A1, { agentId: null, unregisteredAgent: true, status: 'inactive' });

    const res = sut(new Map(), [added], []);

    expect(res).toEqual({
      events: [
        {
          type: 'credential.added',
          credentialId: KEY_A1,
          kind: 'aws-access-key',
          agentId: null,
          data: { principal: added.principal, status: 'inactive', unregisteredAgent: true },
        },
      ],
      removed: [],
    });
  });

  it.each([
    { name: 'its exact kind prefix is complete', complete: [`aws/${A}/access-key/`], removed: true },
    { name: 'its whole account is complete', complete: [`aws/${A}/`], removed: true },
    {
      name: 'only other kinds in its account are complete',
      complete: [`aws/${A}/role/`, `aws/${A}/console-password/`],
      removed: false,
    },
    { name: 'only another account is complete', complete: [`aws/${B}/`], removed: false },
    { name: 'nothing is complete (a failed scan)', complete: [], removed: false },
  ])('should conclude removed for an unseen credential only when $name', ({ complete, removed }) => {
    const prev = cred(KEY_A1, { status: 'inactive' });

    const res = sut(byId(prev), [], complete);

    expect(res.removed).toEqual(removed ? [KEY_A1] : []);
    expect(res.events).toEqual(
      removed
        ? [
            {
              type: 'credential.removed',
              credentialId: KEY_A1,
              kind: 'aws-access-key',
              agentId: 'bot',
              data: { principal: prev.principal, lastStatus: 'inactive' },
            },
          ]
        : [],
    );
  });

  it('should remove in a complete account and carry over a partial one in the same scan', () => {
    const prev = byId(cred(KEY_A1), cred(KEY_A2), cred(KEY_B1));

    const res = sut(prev, [cred(KEY_A1)], COMPLETE_A);

    expect(res.removed).toEqual([KEY_A2]);
    expect(res.events.map((e) => [e.type, e.credentialId])).toEqual([['credential.removed', KEY_A2]]);
  });

  it.each([
    { from: 'active', to: 'inactive' },
    { from: 'inactive', to: 'active' },
    { from: 'active', to: 'expired' },
    { from: 'unknown', to: 'active' },
  ] as const)('should report a status change from $from to $to', ({ from, to }) => {
    const res = sut(byId(cred(KEY_A1, { status: from })), [cred(KEY_A1, { status: to })], COMPLETE_A);

    expect(res.events).toEqual([
      {
        type: 'credential.status-changed',
        credentialId: KEY_A1,
        kind: 'aws-access-key',
        agentId: 'bot',
        data: { from, to },
      },
    ]);
    expect(res.removed).toEqual([]);
  });

  it('should report a widened resource or a dropped condition with the same actions', () => {
    const narrow = allow(['s3:GetObject'], {
      resources: ['arn:aws:s3:::reports/*'],
      condition: { Bool: { 'aws:SecureTransport': 'true' } },
    });
    const wide = allow(['s3:GetObject'], { resources: ['*'] });
    const res = sut(byId(cred(KEY_A1, { grants: [narrow] })), [cred(KEY_A1, { grants: [wide] })], COMPLETE_A);

    expect(res.events).toHaveLength(1);
    expect(res.events[0]!.data).toMatchObject({ added: [], removed: [] });
    expect(res.events[0]!.data.statementsAdded).toEqual([expect.stringContaining('Allow s3:GetObject on * (')]);
    expect(res.events[0]!.data.statementsRemoved).toEqual([
      expect.stringMatching(/on arn:aws:s3:::reports\/\* if .*SecureTransport/),
    ]);
  });

  interface GrantCase {
    name: string;
    before: Grant[];
    after: Grant[];
    /** Actions added/removed, and how many statements (effect+actions+resources+condition+provenance) changed each way. */
    expected: { added: string[]; removed: string[]; statementsAdded: number; statementsRemoved: number } | null;
  }

  const grantCases: GrantCase[] = [
    {
      name: 'an action added',
      before: [allow(['s3:GetObject'])],
      after: [allow(['s3:GetObject', 's3:PutObject'])],
      expected: { added: ['s3:PutObject'], removed: [], statementsAdded: 1, statementsRemoved: 1 },
    },
    {
      name: 'an action removed and another added',
      before: [allow(['s3:GetObject', 'sqs:SendMessage'])],
      after: [allow(['s3:GetObject', 'iam:CreateAccessKey'])],
      expected: {
        added: ['iam:CreateAccessKey'],
        removed: ['sqs:SendMessage'],
        statementsAdded: 1,
        statementsRemoved: 1,
      },
    },
    {
      name: 'an action moved to another policy',
      before: [allow(['s3:GetObject'])],
      after: [allow(['s3:GetObject'], { provenance: { policy: 'm', policyArn: 'arn:x', attachment: 'managed' } })],
      expected: { added: [], removed: [], statementsAdded: 1, statementsRemoved: 1 },
    },
    {
      name: 'a boundary change only',
      before: [allow(['s3:GetObject']), boundary(['s3:*'])],
      after: [allow(['s3:GetObject']), boundary(['s3:*', 'iam:*'])],
      expected: { added: [], removed: [], statementsAdded: 1, statementsRemoved: 1 },
    },
    {
      name: 'a Deny statement added',
      before: [allow(['s3:*'])],
      after: [allow(['s3:*']), deny(['s3:DeleteBucket'])],
      expected: { added: [], removed: [], statementsAdded: 1, statementsRemoved: 0 },
    },
    {
      name: 'a NotAction statement added',
      before: [allow(['s3:GetObject'])],
      after: [allow(['s3:GetObject']), { ...allow([]), actions: undefined, notActions: ['iam:*'] }],
      expected: { added: ['NotAction:iam:*'], removed: [], statementsAdded: 1, statementsRemoved: 0 },
    },
    {
      name: 'a Vault capability added',
      before: [vaultPath('secret/data/app/*', ['read'])],
      after: [vaultPath('secret/data/app/*', ['read', 'update'])],
      expected: { added: ['secret/data/app/*:update'], removed: [], statementsAdded: 1, statementsRemoved: 1 },
    },
    {
      name: 'a Vault path removed',
      before: [vaultPath('secret/data/app/*', ['read']), vaultPath('sys/policy/*', ['update'])],
      after: [vaultPath('secret/data/app/*', ['read'])],
      expected: { added: [], removed: ['sys/policy/*:update'], statementsAdded: 0, statementsRemoved: 1 },
    },
  ];

  it.each(grantCases)('should report grants for $name', ({ before, after, expected }) => {
    const res = sut(byId(cred(KEY_A1, { grants: before })), [cred(KEY_A1, { grants: after })], COMPLETE_A);

    if (!expected) {
      expect(res.events).toEqual([]);
      return;
    }
    expect(res.events).toHaveLength(1);
    const ev = res.events[0]!;
    expect(ev).toMatchObject({
      type: 'credential.grants-changed',
      credentialId: KEY_A1,
      kind: 'aws-access-key',
      agentId: 'bot',
    });
    expect(ev.data.added).toEqual(expected.added);
    expect(ev.data.removed).toEqual(expected.removed);
    expect(ev.data.statementsAdded).toHaveLength(expected.statementsAdded);
    expect(ev.data.statementsRemoved).toHaveLength(expected.statementsRemoved);
  });

  it.each([
    {
      name: 'a credential claimed by a registry entry',
      before: { agentId: null, unregisteredAgent: true },
      after: { agentId: 'bot', unregisteredAgent: false },
      data: { from: null, to: 'bot', unregisteredAgent: false },
    },
    {
      name: 'a credential moving to another agent',
      before: { agentId: 'bot', unregisteredAgent: false },
      after: { agentId: 'other-bot', unregisteredAgent: false },
      data: { from: 'bot', to: 'other-bot', unregisteredAgent: false },
    },
    {
      name: 'a credential losing its registry entry',
      before: { agentId: 'bot', unregisteredAgent: false },
      after: { agentId: null, unregisteredAgent: true },
      data: { from: 'bot', to: null, unregisteredAgent: true },
    },
    {
      name: 'an unattributed credential starting to look like an agent',
      before: { agentId: null, unregisteredAgent: false },
      after: { agentId: null, unregisteredAgent: true },
      data: { from: null, to: null, unregisteredAgent: true },
    },
  ])('should report an attribution change for $name', ({ before, after, data }) => {
    const res = sut(byId(cred(KEY_A1, before)), [cred(KEY_A1, after)], COMPLETE_A);

    expect(res.events).toEqual([
      {
        type: 'credential.attribution-changed',
        credentialId: KEY_A1,
        kind: 'aws-access-key',
        agentId: after.agentId,
        data,
      },
    ]);
  });

  it('should report every kind of change of one credential, in a fixed order', () => {
    const before = cred(KEY_A1, { status: 'active', grants: [allow(['s3:GetObject'])], agentId: 'bot' });
    const after = cred(KEY_A1, { status: 'inactive', grants: [allow(['s3:PutObject'])], agentId: 'other' });

    const types = sut(byId(before), [after], COMPLETE_A).events.map((e) => e.type);

    expect(types).toEqual(['credential.status-changed', 'credential.grants-changed', 'credential.attribution-changed']);
  });

  it('should be deterministic whatever the input order', () => {
    const prev = [cred(KEY_B1), cred(ROLE_A), cred(KEY_A2), cred(`aws/${A}/access-key/AKIAA0`)];
    const observed = [
      cred(`aws/${A}/access-key/AKIAZ9`),
      cred(KEY_A1),
      cred(ROLE_A, { status: 'inactive' }),
      cred(`aws/${A}/access-key/AKIAA3`),
    ];
    const complete = [...COMPLETE_A, `aws/${B}/`];

    const forward = sut(byId(...prev), observed, complete);
    const backward = sut(byId(...[...prev].reverse()), [...observed].reverse(), complete);

    const summary = (events: DriftEvent[]) => events.map((e) => `${e.type} ${e.credentialId}`);
    expect(summary(forward.events)).toEqual([
      `credential.added aws/${A}/access-key/AKIAA1`,
      `credential.added aws/${A}/access-key/AKIAA3`,
      `credential.added aws/${A}/access-key/AKIAZ9`,
      `credential.status-changed aws/${A}/role/agent-role`,
      `credential.removed aws/${A}/access-key/AKIAA0`,
      `credential.removed aws/${A}/access-key/AKIAA2`,
      `credential.removed aws/${B}/access-key/AKIAB1`,
    ]);
    expect(forward).toEqual(backward);
    expect(forward.removed).toEqual([`aws/${A}/access-key/AKIAA0`, KEY_A2, KEY_B1]);
  });

  it('should not mutate its inputs', () => {
    const prev = byId(cred(KEY_A2));
    const observed = [cred(KEY_B1), cred(KEY_A1)];
    const snapshot = structuredClone({ prev: [...prev.entries()], observed });

    sut(prev, observed, COMPLETE_A);

    expect({ prev: [...prev.entries()], observed }).toEqual(snapshot);
  });
});

describe(grantedActions.name, () => {
  const sut = grantedActions;

  it.each([
    { name: 'no grants', grants: [], expected: [] },
    {
      name: 'Allow actions, sorted and unique',
      grants: [allow(['s3:PutObject', 's3:GetObject']), allow(['s3:GetObject'])],
      expected: ['s3:GetObject', 's3:PutObject'],
    },
    { name: 'Deny statements left out', grants: [allow(['s3:*']), deny(['s3:DeleteBucket'])], expected: ['s3:*'] },
    { name: 'boundaries left out', grants: [allow(['s3:GetObject']), boundary(['*'])], expected: ['s3:GetObject'] },
    {
      name: 'NotAction marked as such',
      grants: [{ ...allow([]), actions: undefined, notActions: ['iam:*'] }],
      expected: ['NotAction:iam:*'],
    },
    {
      name: 'Vault grants as path:capability',
      grants: [vaultPath('secret/data/a', ['read', 'list']), vaultPath('auth/token/create', ['update'])],
      expected: ['auth/token/create:update', 'secret/data/a:list', 'secret/data/a:read'],
    },
    {
      name: 'group grants included',
      grants: [allow(['sqs:SendMessage'], { provenance: { policy: 'g', attachment: 'group-inline', via: 'readers' } })],
      expected: ['sqs:SendMessage'],
    },
  ])('should list $name', ({ grants, expected }) => {
    expect(sut(grants as Grant[])).toEqual(expected);
  });
});
