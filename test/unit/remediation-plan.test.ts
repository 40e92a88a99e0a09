/** The planner (remediation/plan.ts): open findings × policies' remediation → exact, deterministic plans. Pure. */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { ActionType } from '../../src/actions/action-type.js';
import type { ActionTarget } from '../../src/model/action.js';
import type { Registry } from '../../src/model/agent.js';
import type { Credential } from '../../src/model/credential.js';
import type { Finding, RuleHit } from '../../src/model/finding.js';
import type { Policy } from '../../src/policy/model.js';
import {
  evidenceHash,
  type PlanInput,
  planActions,
  planId,
  VOLATILE_EVIDENCE_FIELDS,
} from '../../src/remediation/plan.js';

// Most tests inject small action types of their own (the planner takes its lookup injected); the
// not-yet-available map and the default lookup are the real registry's.
const NOW = new Date('2026-11-27T10:00:00Z');
const ACCT = '111111111111';
const USER = `arn:aws:iam::${ACCT}:user/svc-invoice-bot`;
const K1 = `aws/${ACCT}/access-key/AKIAEXAMPLE000000001`;
const K2 = `aws/${ACCT}/access-key/AKIAEXAMPLE000000002`;
const PW = `aws/${ACCT}/console-password/svc-invoice-bot`;

function cred(id: string, over: Partial<Credential> = {}): Credential {
  const keyId = id.split('/').pop()!;
  return {
    id,
    kind: 'aws-access-key',
    sourceType: 'aws',
    source: ACCT,
    principal: USER,
    agentId: 'invoice-bot',
    owner: { team: 'finance-eng', contact: 'f@example.com' },
    unregisteredAgent: false,
    createdAt: '2025-01-01T00:00:00Z',
    lastUsed: { at: '2026-01-01T00:00:00Z', source: 'GetAccessKeyLastUsed', asOf: '2026-11-27T09:00:00Z' },
    expiresAt: null,
    status: 'active',
    grants: [],
    tags: { team: 'finance' },
    attributes: { accessKeyId: keyId, userName: 'svc-invoice-bot', userId: 'AIDAEXAMPLEUSER00001' },
    observedAt: NOW.toISOString(),
    ...over,
  };
}

const unusedHits = (asOf = '2026-11-27T09:00:00Z', at = '2026-01-01T00:00:00Z'): RuleHit[] => [
  {
    message: `unused since ${at} (as of ${asOf})`,
    detector: 'unused',
    evidence: [
      { field: 'lastUsed.at', value: at },
      { field: 'lastUsed.asOf', value: asOf, note: 'report time' },
    ],
  },
];

function finding(over: Partial<Finding> = {}): Finding {
  const policy = over.policy ?? 'agent-key-unused';
  const credentialId = over.credentialId ?? K1;
  return {
    fingerprint: `${policy}:${credentialId}`,
    policy,
    rules: ['unused-for'],
    credentialId,
    kind: 'aws-access-key',
    agentId: 'invoice-bot',
    owner: { team: 'finance-eng', contact: 'f@example.com' },
    severity: 'high',
    state: 'open',
    message: 'key unused for 330 days',
    hits: unusedHits(),
    controls: {},
    firstSeen: '2026-11-01T00:00:00Z',
    lastSeen: NOW.toISOString(),
    resolvedAt: null,
    reopened: 0,
    exceptionId: null,
    ...over,
  };
}

function policy(name: string, remediation: Policy['remediation'], mode: Policy['mode'] = 'enforce'): Policy {
  return {
    name,
    description: name,
    resource: {},
    rules: [],
    severity: 'high',
    mode,
    remediation,
    metadata: {},
    file: `policies/${name}.yaml`,
  };
}

/** A key action: targets exactly the credential it is handed, by its own access key id. */
function keyAction(name: string, over: Partial<ActionType> = {}): ActionType {
  return {
    name,
    description: name,
    docs: '',
    example: '',
    schema: {} as ActionType['schema'],
    kinds: ['aws-access-key'],
    reversible: name === 'deactivate-key',
    permissions: { aws: [], vault: [] },
    plan: (c) => ({
      target: {
        credentialId: c.id,
        kind: c.kind,
        sourceType: c.sourceType,
        source: c.source,
        principal: c.principal,
        identity: { accessKeyId: String(c.attributes.accessKeyId), userName: String(c.attributes.userName) },
      },
    }),
    inspect: async () => ({ exists: true, facts: {} }),
    isDone: () => false,
    refuse: () => null,
    execute: async () => {},
    verify: () => true,
    ...over,
  };
}

const notifyOwner = keyAction('notify-owner', { kinds: [], reversible: false });
const ACTIONS = new Map<string, ActionType>([
  ['deactivate-key', keyAction('deactivate-key')],
  ['delete-key', keyAction('delete-key')],
  ['notify-owner', notifyOwner],
]);

const REGISTRY: Registry = {
  agents: [
    {
      id: 'invoice-bot',
      name: 'Invoice bot',
      version: '1',
      environment: 'prod',
      scopes: { aws: [], vault: [] },
      selectors: {},
    },
  ],
  unregistered: {
    aws: { tags: {}, namePatterns: [] },
    vault: { meta: [], displayNamePatterns: [], policyPatterns: [] },
  },
};

function input(over: Partial<PlanInput> = {}): PlanInput {
  return {
    scanId: 'scan-1',
    now: NOW,
    findings: [finding()],
    policies: new Map([['agent-key-unused', policy('agent-key-unused', [{ action: 'deactivate-key', params: {} }])]]),
    credentials: new Map([K1, K2, PW].map((id) => [id, cred(id)])),
    registry: REGISTRY,
    actionType: (n) => ACTIONS.get(n),
    ...over,
  };
}

describe('planActions: one plan per (finding, action), every field from its source', () => {
  it('fills a plan from the finding, the policy, the registry and the credential', () => {
    const { plans, skipped } = planActions(input());
    expect(skipped).toEqual([]);
    expect(plans).toHaveLength(1);
    const p = plans[0]!;
    expect(p).toMatchObject({
      action: 'deactivate-key',
      policy: 'agent-key-unused',
      policyMode: 'enforce',
      findingFingerprint: `agent-key-unused:${K1}`,
      severity: 'high',
      agentId: 'invoice-bot',
      owner: { team: 'finance-eng', contact: 'f@example.com' },
      environment: 'prod',
      tags: { team: 'finance' },
      credentialCreatedAt: '2025-01-01T00:00:00Z',
      reversible: true,
      message: 'key unused for 330 days',
      scanId: 'scan-1',
      plannedAt: NOW.toISOString(),
    });
    expect(p.target).toMatchObject({ credentialId: K1, identity: { accessKeyId: 'AKIAEXAMPLE000000001' } });
    expect(p.facts).toEqual(unusedHits());
    expect(p.evidenceHash).toBe(evidenceHash(unusedHits()));
    expect(p.id).toBe(planId('agent-key-unused', 'deactivate-key', K1, p.evidenceHash));
    expect(p.id).toMatch(/^ap-[0-9a-f]{32}$/);
  });

  it.each([
    ['an agent not in the registry', 'ghost-bot', null],
    ['no agent', null, null],
  ])('environment is null for %s', (_, agentId, env) => {
    const { plans } = planActions(input({ findings: [finding({ agentId })] }));
    expect(plans[0]!.environment).toBe(env);
    expect(plans[0]!.agentId).toBe(agentId);
  });

  it('takes the policy mode (observe) onto the plan', () => {
    const pols = new Map([
      ['agent-key-unused', policy('agent-key-unused', [{ action: 'delete-key', params: {} }], 'observe')],
    ]);
    const { plans } = planActions(input({ policies: pols }));
    expect(plans[0]).toMatchObject({ policyMode: 'observe', action: 'delete-key', reversible: false });
  });

  it('plans only open findings, and does not report the others as skipped', () => {
    const states: Finding['state'][] = ['resolved', 'suppressed', 'merged'];
    const { plans, skipped } = planActions(input({ findings: states.map((state) => finding({ state })) }));
    expect(plans).toEqual([]);
    expect(skipped).toEqual([]);
  });
});

describe('planActions: a collapsed finding, the first policy asking for an action wins', () => {
  const pols = new Map([
    [
      'a-stale-keys',
      policy('a-stale-keys', [
        { action: 'deactivate-key', params: { from: 'a' } },
        { action: 'notify-owner', params: {} },
      ]),
    ],
    ['z-unused-keys', policy('z-unused-keys', [{ action: 'deactivate-key', params: { from: 'z' } }], 'observe')],
  ]);
  const collapsed = finding({ policy: 'z-unused-keys', policies: ['a-stale-keys', 'z-unused-keys'] });

  it('the primary policy is walked first, and a second ask for the same action makes no second plan', () => {
    const { plans, skipped } = planActions(input({ findings: [collapsed], policies: pols }));
    expect(skipped).toEqual([]);
    expect(plans.map((p) => [p.policy, p.action, p.params, p.policyMode])).toEqual([
      ['z-unused-keys', 'deactivate-key', { from: 'z' }, 'observe'],
      ['a-stale-keys', 'notify-owner', {}, 'enforce'],
    ]);
  });

  it('without `policies`, only `policy` is walked', () => {
    const { plans } = planActions(input({ findings: [finding({ policy: 'a-stale-keys' })], policies: pols }));
    expect(plans.map((p) => [p.policy, p.action])).toEqual([
      ['a-stale-keys', 'deactivate-key'],
      ['a-stale-keys', 'notify-owner'],
    ]);
  });
});

describe('planActions: everything not planned is skipped with a reason', () => {
  const one = (action: string) => new Map([['agent-key-unused', policy('agent-key-unused', [{ action, params: {} }])]]);
  const cases: [string, Partial<PlanInput>, string, string][] = [
    ['a policy not loaded', { policies: new Map() }, '*', 'unknown-policy: policy "agent-key-unused" is not loaded'],
    [
      'an action not registered',
      { policies: one('shred-key') },
      'shred-key',
      'unknown-action: no action type named "shred-key"',
    ],
    [
      'a credential gone from the inventory',
      { credentials: new Map() },
      'deactivate-key',
      `credential-missing: ${K1} is not in`,
    ],
    [
      'a kind the action does not act on',
      {
        findings: [finding({ credentialId: PW, kind: 'aws-console-password' })],
        credentials: new Map([[PW, cred(PW, { kind: 'aws-console-password' })]]),
      },
      'deactivate-key',
      'kind-mismatch: deactivate-key acts on aws-access-key, not on aws-console-password',
    ],
    [
      'the action skipping it',
      { actionType: () => keyAction('deactivate-key', { plan: () => ({ skip: 'the key is already inactive' }) }) },
      'deactivate-key',
      'action-skipped: the key is already inactive',
    ],
    [
      'an action throwing',
      {
        actionType: () =>
          keyAction('deactivate-key', {
            plan: () => {
              throw new Error('no accessKeyId');
            },
          }),
      },
      'deactivate-key',
      'plan-error: deactivate-key could not plan',
    ],
  ];
  it.each(cases)('%s', (_, over, action, reason) => {
    const inp = input(over);
    const f = inp.findings[0]!;
    const { plans, skipped } = planActions(inp);
    expect(plans).toEqual([]);
    expect(skipped).toHaveLength(1);
    expect(skipped[0]).toMatchObject({
      findingFingerprint: f.fingerprint,
      credentialId: f.credentialId,
      policy: 'agent-key-unused',
      action,
    });
    expect(skipped[0]!.reason.startsWith(reason)).toBe(true);
  });

  it('a skip of one action does not stop the next one', () => {
    const pols = new Map([
      [
        'agent-key-unused',
        policy('agent-key-unused', [
          { action: 'rotate-key', params: {} },
          { action: 'deactivate-key', params: {} },
        ]),
      ],
    ]);
    const { plans, skipped } = planActions(input({ policies: pols }));
    expect(plans.map((p) => p.action)).toEqual(['deactivate-key']);
    expect(skipped.map((s) => s.action)).toEqual(['rotate-key']);
  });
});

describe('planActions: the exact credential (Custodian #842 / #5583)', () => {
  // svc-invoice-bot has two keys, K1 and K2. The finding is about K1 (a user-level fact: the user's
  // direct policy), and the plan must aim at K1 alone, never "the user's keys".
  const userFact: RuleHit[] = [
    { message: 'user has a direct policy', detector: 'hygiene', evidence: [{ field: 'principal', value: USER }] },
  ];

  it("a key action on a key finding carries that key id, not the user's other key", () => {
    const { plans } = planActions(input({ findings: [finding({ hits: userFact })] }));
    expect(plans).toHaveLength(1);
    expect(plans[0]!.target.credentialId).toBe(K1);
    expect(plans[0]!.target.identity.accessKeyId).toBe('AKIAEXAMPLE000000001');
    expect(JSON.stringify(plans[0])).not.toContain('AKIAEXAMPLE000000002');
  });

  it("the same with the registry's own deactivate-key and delete-key (the default lookup)", () => {
    const pols = new Map([
      [
        'agent-key-unused',
        policy('agent-key-unused', [
          { action: 'deactivate-key', params: {} },
          { action: 'delete-key', params: {} },
        ]),
      ],
    ]);
    const { plans, skipped } = planActions({
      ...input({ findings: [finding({ hits: userFact })], policies: pols }),
      actionType: undefined,
    });
    expect(skipped).toEqual([]);
    expect(plans.map((p) => [p.action, p.target.credentialId, p.target.identity.accessKeyId, p.reversible])).toEqual([
      ['deactivate-key', K1, 'AKIAEXAMPLE000000001', true],
      ['delete-key', K1, 'AKIAEXAMPLE000000001', false],
    ]);
    expect(JSON.stringify(plans)).not.toContain('AKIAEXAMPLE000000002');
  });

  it('a key action on a user-level finding (the console password) is skipped, never widened to a key', () => {
    const f = finding({ credentialId: PW, kind: 'aws-console-password', hits: userFact });
    const creds = new Map([PW, K1, K2].map((id) => [id, cred(id, id === PW ? { kind: 'aws-console-password' } : {})]));
    const { plans, skipped } = planActions(input({ findings: [f], credentials: creds }));
    expect(plans).toEqual([]);
    expect(skipped[0]!.reason).toMatch(/^kind-mismatch:/);
  });

  it('an action that aims at another credential than it was handed is refused', () => {
    const sloppy = keyAction('deactivate-key', {
      plan: (c) => ({
        target: {
          ...(keyAction('x').plan(c, {}, { now: NOW, hits: [] }) as { target: ActionTarget }).target,
          credentialId: K2,
        },
      }),
    });
    const { plans, skipped } = planActions(input({ actionType: () => sloppy }));
    expect(plans).toEqual([]);
    expect(skipped[0]!.reason).toBe(`target-mismatch: deactivate-key aimed at ${K2}, not ${K1}`);
  });

  it("the action is handed the finding's own hits and the planning time", () => {
    const seen: unknown[] = [];
    const spy = keyAction('deactivate-key', {
      plan: (c, params, ctx) => {
        seen.push([c.id, params, ctx.now, ctx.hits]);
        return keyAction('x').plan(c, params, ctx);
      },
    });
    planActions(input({ actionType: () => spy }));
    expect(seen).toEqual([[K1, {}, NOW, unusedHits()]]);
  });
});

describe('ids are deterministic: same facts, same id; new facts, new id', () => {
  const idOf = (hits: RuleHit[]) => planActions(input({ findings: [finding({ hits })] })).plans[0]!.id;
  const base = idOf(unusedHits());

  it('the same input twice gives the same id', () => {
    expect(idOf(unusedHits())).toBe(base);
    expect(planActions(input()).plans[0]!.id).toBe(planActions(input()).plans[0]!.id);
  });

  const h = unusedHits()[0]!;
  const same: [string, RuleHit[]][] = [
    ['a later lastUsed.asOf', unusedHits('2026-11-28T09:00:00Z')],
    ['other messages and notes', [{ ...h, message: 'other', evidence: h.evidence.map((e) => ({ ...e, note: 'x' })) }]],
    ['evidence in another order', [{ ...h, evidence: [...h.evidence].reverse() }]],
    [
      'a renewed expiresAt and a lower ttl',
      [
        {
          ...h,
          evidence: [
            ...h.evidence,
            { field: 'expiresAt', value: '2027-01-01T00:00:00Z' },
            { field: 'attributes.ttlSeconds', value: 5 },
          ],
        },
      ],
    ],
  ];
  const withVolatile = idOf([
    {
      ...h,
      evidence: [
        ...h.evidence,
        { field: 'expiresAt', value: '2026-12-01T00:00:00Z' },
        { field: 'attributes.ttlSeconds', value: 99 },
      ],
    },
  ]);
  it.each(same)('same id after %s', (what, hits) => {
    expect(idOf(hits)).toBe(what.startsWith('a renewed') ? withVolatile : base);
  });

  const other: [string, RuleHit[]][] = [
    ['the key used since (lastUsed.at)', unusedHits(undefined, '2026-11-20T00:00:00Z')],
    ['another detector', [{ ...h, detector: 'stale' }]],
    ['a hit key', [{ ...h, key: 'passrole' }]],
    ['another statement', [{ ...h, evidence: [...h.evidence, { statement: { summary: 'Allow iam:* on *' } }] }]],
    ['an extra hit', [h, { message: '', detector: 'admin', evidence: [] }]],
  ];
  it.each(other)('a new id after %s', (_, hits) => {
    expect(idOf(hits)).not.toBe(base);
  });

  it('hit order does not matter', () => {
    const a: RuleHit = {
      message: 'a',
      detector: 'admin',
      evidence: [{ field: 'grants[0]', value: { b: 1, a: [2, 3] } }],
    };
    const b: RuleHit = { message: 'b', detector: 'privesc', key: 'passrole', evidence: [] };
    expect(evidenceHash([a, b])).toBe(evidenceHash([b, a]));
    // Key order inside a value does not matter either; value contents do.
    const a2: RuleHit = { ...a, evidence: [{ field: 'grants[0]', value: { a: [2, 3], b: 1 } }] };
    expect(evidenceHash([a2, b])).toBe(evidenceHash([a, b]));
    expect(evidenceHash([{ ...a, evidence: [{ field: 'grants[0]', value: { a: [3, 2], b: 1 } }] }, b])).not.toBe(
      evidenceHash([a, b]),
    );
  });

  it('the hash is sha256 over a documented canonical form', () => {
    const canon =
      '[{"detector":"unused","evidence":[{"field":"lastUsed.asOf"},{"field":"lastUsed.at","value":"2026-01-01T00:00:00Z"}],"key":null}]';
    expect(evidenceHash(unusedHits())).toBe(createHash('sha256').update(canon).digest('hex'));
    expect([...VOLATILE_EVIDENCE_FIELDS].sort()).toEqual(['attributes.ttlSeconds', 'expiresAt', 'lastUsed.asOf']);
  });

  it('planId: each part counts, and parts cannot run into each other', () => {
    const hash = 'e'.repeat(64);
    const id = planId('p', 'deactivate-key', K1, hash);
    expect(planId('p', 'deactivate-key', K1, hash)).toBe(id);
    expect(id).toBe(
      `ap-${createHash('sha256').update(`p\u0000deactivate-key\u0000${K1}\u0000${hash}`).digest('hex').slice(0, 32)}`,
    );
    expect(
      new Set([
        id,
        planId('q', 'deactivate-key', K1, hash),
        planId('p', 'delete-key', K1, hash),
        planId('p', 'deactivate-key', K2, hash),
        planId('p', 'deactivate-key', K1, 'f'.repeat(64)),
      ]).size,
    ).toBe(5);
    expect(planId('ab', 'c', K1, hash)).not.toBe(planId('a', 'bc', K1, hash));
  });

  it('another policy or action on the same credential and facts is another plan', () => {
    const pols = new Map([
      [
        'agent-key-unused',
        policy('agent-key-unused', [
          { action: 'deactivate-key', params: {} },
          { action: 'notify-owner', params: {} },
        ]),
      ],
    ]);
    const ids = planActions(input({ policies: pols })).plans.map((p) => p.id);
    expect(new Set(ids).size).toBe(2);
  });
});
