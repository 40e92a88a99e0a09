/** The guardrails (remediation/guard.ts): every reason listed, deny > dry-run > hold > allow. Pure. */
import { describe, expect, it } from 'vitest';
import type { ActionPlan, GuardDecision } from '../../src/model/action.js';
import type { Severity } from '../../src/model/finding.js';
import { type RemediationConfig, RemediationSchema } from '../../src/remediation/config.js';
import { approvalRequired, type GuardState, guardPlans, windowState } from '../../src/remediation/guard.js';

const NOW = new Date('2026-11-27T10:00:00Z'); // a Friday
const ACCT = '111111111111';
const H = 3_600_000;

const config = (over: Record<string, unknown> = {}): RemediationConfig =>
  RemediationSchema.parse({ mode: 'enforce', rate: { max: 1000 }, ...over });

function plan(n: number | string, over: Partial<ActionPlan> = {}): ActionPlan {
  const credentialId = `aws/${ACCT}/access-key/AKIA${String(n).padStart(16, '0')}`;
  return {
    id: `ap-${String(n).padStart(32, '0')}`,
    action: 'deactivate-key',
    params: {},
    policy: 'agent-key-unused',
    policyMode: 'enforce',
    findingFingerprint: `agent-key-unused:${credentialId}`,
    severity: 'high',
    agentId: 'invoice-bot',
    owner: null,
    environment: 'prod',
    tags: {},
    credentialCreatedAt: '2025-01-01T00:00:00Z',
    target: {
      credentialId,
      kind: 'aws-access-key',
      sourceType: 'aws',
      source: ACCT,
      principal: `arn:aws:iam::${ACCT}:user/svc`,
      identity: {},
    },
    reversible: true,
    evidenceHash: 'e'.repeat(64),
    facts: [],
    message: '',
    scanId: 's1',
    plannedAt: NOW.toISOString(),
    ...over,
  };
}

function state(over: Partial<GuardState> = {}): GuardState {
  return {
    now: NOW,
    config: config(),
    paused: null,
    breaker: null,
    recentActions: 0,
    lastActionAt: new Map(),
    matchedByPolicy: new Map(),
    credentialsFor: () => null,
    ...over,
  };
}

const decide = (p: ActionPlan, s: Partial<GuardState> = {}): GuardDecision => guardPlans([p], state(s)).get(p.id)!;
const codes = (d: GuardDecision) => d.reasons.map((r) => r.code);

describe('per-plan guardrails: each with its decision and exact reasons', () => {
  const created = (hoursAgo: number) => new Date(NOW.getTime() - hoursAgo * H).toISOString();
  const cases: [string, Partial<ActionPlan>, Partial<GuardState>, GuardDecision['decision'], string[]][] = [
    ['nothing applies', {}, {}, 'allow', []],
    ['a protect tag', { tags: { 'credwarden-protect': 'true' } }, {}, 'deny', ['protected-tag']],
    ['a protect tag, other case', { tags: { 'credwarden-protect': 'TRUE' } }, {}, 'deny', ['protected-tag']],
    ['a protect tag key with another value', { tags: { 'credwarden-protect': 'false' } }, {}, 'allow', []],
    ['a break-glass tag', { tags: { 'break-glass': 'true' } }, {}, 'deny', ['break-glass']],
    ['a protected agent', {}, { config: config({ protect: { agents: ['invoice-*'] } }) }, 'deny', ['protected-agent']],
    [
      'a protected account',
      {},
      { config: config({ protect: { accounts: ['1111*'] } }) },
      'deny',
      ['protected-account'],
    ],
    [
      'a rotation for an agent with no delivery target',
      { action: 'rotate-key', delivery: null },
      {},
      'deny',
      ['no-delivery'],
    ],
    [
      'a rotation with a delivery target',
      {
        action: 'rotate-key',
        delivery: { type: 'vault', cluster: 'main', namespace: 'root', mount: 'secret', path: 'agents/x' },
      },
      {},
      'allow',
      [],
    ],
    [
      'a credential another rotation holds',
      {},
      { rotating: new Map([[`aws/${ACCT}/access-key/AKIA${'1'.padStart(16, '0')}`, 'ap-other']]) },
      'hold',
      ['rotation-in-progress'],
    ],
    [
      'a credential its own rotation holds',
      { id: 'ap-mine' },
      { rotating: new Map([[`aws/${ACCT}/access-key/AKIA${'1'.padStart(16, '0')}`, 'ap-mine']]) },
      'allow',
      [],
    ],
    [
      'a protected credential',
      {},
      { config: config({ protect: { credentials: ['*0000000000000001'] } }) },
      'deny',
      ['protected-credential'],
    ],
    [
      'an allow list that matches',
      {},
      { config: config({ allow: { agents: ['invoice-*'], accounts: [ACCT] } }) },
      'allow',
      [],
    ],
    [
      'an allow list that does not',
      {},
      { config: config({ allow: { agents: ['payroll-*'] } }) },
      'deny',
      ['not-allowed'],
    ],
    [
      'an allow list and no agent',
      { agentId: null },
      { config: config({ allow: { agents: ['*'] } }) },
      'deny',
      ['not-allowed'],
    ],
    [
      'two allow lists failing',
      {},
      { config: config({ allow: { accounts: ['2*'], credentials: ['vault/*'] } }) },
      'deny',
      ['not-allowed', 'not-allowed'],
    ],
    ['younger than minAgeHours', { credentialCreatedAt: created(23.9) }, {}, 'deny', ['min-age']],
    ['exactly minAgeHours old', { credentialCreatedAt: created(24) }, {}, 'allow', []],
    ['no known creation time', { credentialCreatedAt: null }, {}, 'deny', ['age-unknown']],
    ['an unreadable creation time', { credentialCreatedAt: 'yesterday' }, {}, 'deny', ['age-unknown']],
    [
      'no creation time, minAgeHours 0',
      { credentialCreatedAt: null },
      { config: config({ minAgeHours: 0 }) },
      'allow',
      [],
    ],
    [
      'no remediation credentials',
      {},
      { credentialsFor: () => 'no remediationRoleArn for account 111111111111' },
      'deny',
      ['no-credentials'],
    ],
    ['global dry-run', {}, { config: config({ mode: 'dry-run' }) }, 'dry-run', ['global-dry-run']],
    ['a policy in observe', { policyMode: 'observe' }, {}, 'dry-run', ['policy-observe']],
    [
      'both dry-runs',
      { policyMode: 'observe' },
      { config: config({ mode: 'dry-run' }) },
      'dry-run',
      ['global-dry-run', 'policy-observe'],
    ],
    ['paused', {}, { paused: { by: 'alice', at: '2026-11-27T09:00:00Z', reason: 'incident' } }, 'hold', ['paused']],
    [
      'the breaker open',
      {},
      { breaker: { trippedAt: '2026-11-27T09:00:00Z', reason: '3 of 4 failed' } },
      'hold',
      ['breaker-open'],
    ],
    [
      'outside the window',
      {},
      { config: config({ windows: [{ cron: '* 0-5 * * *', tz: 'UTC' }] }) },
      'hold',
      ['window-closed'],
    ],
    [
      'inside one of two windows',
      {},
      { config: config({ windows: [{ cron: '* 0-5 * * *' }, { cron: '* 10 * * 5' }] }) },
      'allow',
      [],
    ],
    ['a freeze', {}, { config: config({ freezes: [{ from: '2026-11-27', to: '2026-11-27' }] }) }, 'hold', ['freeze']],
    ['approval required', { severity: 'critical' }, {}, 'hold', ['approval-required']],
  ];
  it.each(cases)('%s', (_, p, s, decision, expected) => {
    const d = decide(plan(1, p), s);
    expect(d.decision).toBe(decision);
    expect(codes(d)).toEqual(expected);
    expect(d.decidedAt).toBe(NOW.toISOString());
  });

  it('messages carry the facts', () => {
    expect(decide(plan(1, { tags: { 'credwarden-protect': 'true' } })).reasons[0]).toEqual({
      guard: 'protect',
      code: 'protected-tag',
      message: `tag credwarden-protect=true protects aws/${ACCT}/access-key/AKIA0000000000000001`,
    });
    expect(decide(plan(1), { credentialsFor: () => 'no remediationRoleArn for account 111' }).reasons[0]!.message).toBe(
      'no remediationRoleArn for account 111',
    );
    expect(decide(plan(1, { credentialCreatedAt: created(12) })).reasons[0]!.message).toContain(
      '(12.0 h ago), younger than minAgeHours 24',
    );
    expect(decide(plan(1), { paused: { by: 'alice', at: 'T', reason: 'incident' } }).reasons[0]!.message).toBe(
      'remediation paused by alice at T: incident',
    );
  });
});

describe('precedence: deny > dry-run > hold > allow, every reason listed', () => {
  const everything: Partial<GuardState> = {
    config: config({ mode: 'dry-run', protect: { agents: ['invoice-bot'] } }),
    paused: { by: 'alice', at: 'T' },
    lastActionAt: new Map([[plan(1).target.credentialId, new Date(NOW.getTime() - H).toISOString()]]),
  };
  it('deny wins over dry-run and hold, and lists them all', () => {
    const d = decide(plan(1, { policyMode: 'observe', severity: 'critical' }), everything);
    expect(d.decision).toBe('deny');
    expect(codes(d)).toEqual([
      'protected-agent',
      'global-dry-run',
      'policy-observe',
      'paused',
      'cooldown',
      'approval-required',
    ]);
  });
  it('dry-run wins over hold, and still lists what would hold it (caps too)', () => {
    const s = { ...everything, config: config({ mode: 'dry-run', caps: { perPolicyPerRun: 0 } }) };
    const d = decide(plan(1), s);
    expect(d.decision).toBe('dry-run');
    expect(codes(d)).toEqual(['global-dry-run', 'paused', 'cooldown', 'cap-exceeded']);
  });
  it('hold with several reasons', () => {
    const d = decide(plan(1), { ...everything, config: config() });
    expect(d.decision).toBe('hold');
    expect(codes(d)).toEqual(['paused', 'cooldown']);
  });
});

describe('cooldown', () => {
  const id = plan(1).target.credentialId;
  const at = (msAgo: number) => new Map([[id, new Date(NOW.getTime() - msAgo).toISOString()]]);
  it.each([
    ['1 ms before it ends', 24 * H - 1, 'hold'],
    ['exactly when it ends', 24 * H, 'allow'],
    ['a later action on another credential only', -1, 'allow'],
  ] as const)('%s → %s', (_, msAgo, decision) => {
    const lastActionAt = msAgo < 0 ? new Map([['other', NOW.toISOString()]]) : at(msAgo);
    expect(decide(plan(1), { lastActionAt }).decision).toBe(decision);
  });
  it('says when it ends; cooldownHours 0 turns it off; an unreadable time holds', () => {
    expect(decide(plan(1), { lastActionAt: at(H) }).reasons[0]!.message).toBe(
      `credwarden acted on ${id} at 2026-11-27T09:00:00.000Z; cooldown 24 h ends 2026-11-28T09:00:00.000Z`,
    );
    expect(decide(plan(1), { lastActionAt: at(0), config: config({ cooldownHours: 0 }) }).decision).toBe('allow');
    expect(decide(plan(1), { lastActionAt: new Map([[id, 'garbage']]) }).decision).toBe('hold');
  });
});

describe('caps: a batch over a cap runs nothing of it (Custodian max-resources)', () => {
  const batch = (n: number, policy = 'agent-key-unused', over: Partial<ActionPlan> = {}) =>
    Array.from({ length: n }, (_, i) => plan(`${policy}-${i}`, { policy, ...over }));
  const tally = (m: Map<string, GuardDecision>) => {
    const t: Record<string, number> = {};
    for (const d of m.values()) t[d.decision] = (t[d.decision] ?? 0) + 1;
    return t;
  };

  it('10 of cap 10 all run; 11 hold all 11, with the numbers; another policy is untouched', () => {
    expect(tally(guardPlans(batch(10), state()))).toEqual({ allow: 10 });
    const m = guardPlans([...batch(11), ...batch(3, 'other')], state());
    expect(tally(m)).toEqual({ hold: 11, allow: 3 });
    const held = [...m.values()].filter((d) => d.decision === 'hold');
    for (const d of held)
      expect(d.reasons).toEqual([
        { guard: 'caps', code: 'cap-exceeded', message: 'agent-key-unused: 11 actions > cap 10 per run' },
      ]);
  });

  it('counts credentials, not plans: two actions on each of 6 credentials are 6 of cap 10 and 60 % of 10 matched', () => {
    const two = Array.from({ length: 6 }, (_, i) => {
      const a = plan(`c${i}`);
      return [a, { ...a, id: `ap-notify-${i}`, action: 'notify-owner' }];
    }).flat();
    expect(tally(guardPlans(two, state()))).toEqual({ allow: 12 });
    const pct = state({
      config: config({ caps: { perPolicyPerRun: 100, percentPerRun: 60 } }),
      matchedByPolicy: new Map([['agent-key-unused', 10]]),
    });
    expect(tally(guardPlans(two, pct))).toEqual({ allow: 12 });
  });

  it('denied plans are not part of the batch', () => {
    const plans = [...batch(10), plan('protected', { tags: { 'break-glass': 'true' } })];
    expect(tally(guardPlans(plans, state()))).toEqual({ allow: 10, deny: 1 });
  });

  it.each([
    ['27.5 % of 40 > 25 %', 11, 40, { hold: 11 }, '11 actions on 40 matched credentials = 27.5% > cap 25% per run'],
    ['exactly 25 % of 40', 10, 40, { allow: 10 }, null],
    ['55 % of 9, below percentMinMatched 10', 5, 9, { allow: 5 }, null],
    [
      '50 % of 10, at percentMinMatched',
      5,
      10,
      { hold: 5 },
      '5 actions on 10 matched credentials = 50% > cap 25% per run',
    ],
  ] as const)('percent cap: %s', (_, n, matched, expected, message) => {
    const s = state({
      config: config({ caps: { perPolicyPerRun: 100 } }),
      matchedByPolicy: new Map([['agent-key-unused', matched]]),
    });
    const m = guardPlans(batch(n), s);
    expect(tally(m)).toEqual(expected);
    if (message) expect([...m.values()][0]!.reasons[0]!.message).toBe(`agent-key-unused: ${message}`);
  });
});

describe('rate: the first `max − recent` ready plans, most severe first, then by id', () => {
  const sevs: Severity[] = ['low', 'critical', 'medium', 'high', 'critical', 'low', 'high'];
  const plans = sevs.map((severity, i) => plan(i, { severity }));
  const allowed = (m: Map<string, GuardDecision>) =>
    [...m]
      .filter(([, d]) => d.decision === 'allow')
      .map(([id]) => id)
      .sort();
  // No approvals (critical would need one by default) and no per-policy cap in the way.
  const rateConfig = config({
    rate: { max: 20 },
    caps: { perPolicyPerRun: 100 },
    approvals: { required: [{ actions: ['delete-key'] }] },
  });
  const s = () => state({ config: rateConfig, recentActions: 18 });

  it('20 max, 18 recent: exactly 2 allow (the two criticals, by id), the rest rate-limited', () => {
    const m = guardPlans(plans, s());
    expect(allowed(m)).toEqual([plans[1]!.id, plans[4]!.id]);
    const limited = [...m.values()].filter((d) => d.decision === 'hold');
    expect(limited).toHaveLength(5);
    for (const d of limited) expect(codes(d)).toEqual(['rate-limited']);
    expect(limited[0]!.reasons[0]!.message).toBe(
      'rate limit 20 actions per 1 h: 18 started in the window, 2 left for 7 ready plans',
    );
    // Input order does not change the choice.
    expect(allowed(guardPlans([...plans].reverse(), s()))).toEqual(allowed(m));
  });

  it('ties are broken by plan id', () => {
    const same = [5, 3, 9, 1].map((i) => plan(i));
    expect(allowed(guardPlans(same, s()))).toEqual([plan(1).id, plan(3).id]);
  });

  it('dry-run, held and denied plans never use up the rate', () => {
    const observe = plans.map((p) => ({
      ...p,
      id: `${p.id}-o`,
      policyMode: 'observe' as const,
      severity: 'critical' as const,
    }));
    const cooling = plan('cool', { severity: 'critical' });
    const m = guardPlans([...observe, cooling, ...plans], {
      ...s(),
      lastActionAt: new Map([[cooling.target.credentialId, NOW.toISOString()]]),
    });
    expect(allowed(m)).toEqual([plans[1]!.id, plans[4]!.id]);
    expect(m.get(cooling.id)!.reasons.map((r) => r.code)).toEqual(['cooldown']);
    for (const o of observe) expect(codes(m.get(o.id)!)).toEqual(['policy-observe']);
  });

  it('more recent than max: nothing allowed', () => {
    expect(allowed(guardPlans(plans, state({ config: rateConfig, recentActions: 25 })))).toEqual([]);
  });
});

describe('windows and freezes (windowState)', () => {
  const berlin = { windows: [{ cron: '* 9-17 * * 1-5', tz: 'Europe/Berlin' }], freezes: [] };
  it.each([
    // Europe/Berlin moves to CEST on Sunday 2026-03-29: the same UTC time of day lands differently.
    ['Fri 07:30Z = 08:30 CET', '2026-03-27T07:30:00Z', false],
    ['Mon 07:30Z = 09:30 CEST', '2026-03-30T07:30:00Z', true],
    ['Fri 16:30Z = 17:30 CET', '2026-03-27T16:30:00Z', true],
    ['Mon 16:30Z = 18:30 CEST', '2026-03-30T16:30:00Z', false],
    ['Mon 17:59:59.999 CEST', '2026-03-30T15:59:59.999Z', true],
    ['Mon 18:00 CEST', '2026-03-30T16:00:00Z', false],
    ['Sat 11:00 CET', '2026-03-28T10:00:00Z', false],
    // and back to CET on Sunday 2026-10-25
    ['Fri 16:30Z = 18:30 CEST', '2026-10-23T16:30:00Z', false],
    ['Mon 16:30Z = 17:30 CET', '2026-10-26T16:30:00Z', true],
  ])('%s → open %s', (_, at, open) => {
    const w = windowState(config(berlin), new Date(at));
    expect(w.open).toBe(open);
    expect(w.reason).toBe(
      open ? null : `${new Date(at).toISOString()} is outside every change window ("* 9-17 * * 1-5" Europe/Berlin)`,
    );
  });

  const freeze = {
    freezes: [{ from: '2026-12-20', to: '2027-01-04', tz: 'America/New_York', reason: 'year-end freeze' }],
  };
  it.each([
    ['Dec 19 23:59:59 New York', '2026-12-20T04:59:59Z', true],
    ['Dec 20 00:00 New York', '2026-12-20T05:00:00Z', false],
    ['Jan 4 23:59:59 New York', '2027-01-05T04:59:59Z', false],
    ['Jan 5 00:00 New York', '2027-01-05T05:00:00Z', true],
  ])('freeze day boundary in its tz: %s → open %s', (_, at, open) => {
    expect(windowState(config(freeze), new Date(at)).open).toBe(open);
  });

  it('a freeze closes an open window and says why; no windows is always open', () => {
    const w = windowState(config({ ...freeze, windows: [{ cron: '* * * * *' }] }), new Date('2026-12-24T12:00:00Z'));
    expect(w).toEqual({
      open: false,
      reason: 'change freeze 2026-12-20..2027-01-04 (America/New_York, today is 2026-12-24): year-end freeze',
    });
    expect(windowState(config(), new Date('2026-12-24T12:00:00Z'))).toEqual({ open: true, reason: null });
  });
});

describe('approval rules: ALL listed fields of a rule, ANY rule', () => {
  const cfg = config({
    approvals: {
      required: [
        { actions: ['delete-*'], environments: ['prod'] },
        { severities: ['critical'] },
        { policies: ['cis-*'] },
      ],
    },
  });
  it.each([
    [
      'delete-key in prod',
      { action: 'delete-key', environment: 'prod' },
      'approvals.required[0] (actions: delete-*; environments: prod)',
    ],
    ['delete-key in staging', { action: 'delete-key', environment: 'staging' }, null],
    ['delete-key, no environment', { action: 'delete-key', environment: null }, null],
    ['deactivate-key in prod', { environment: 'prod' }, null],
    [
      'critical in staging',
      { severity: 'critical' as const, environment: 'staging' },
      'approvals.required[1] (severities: critical)',
    ],
    ['a cis policy', { policy: 'cis-1.14' }, 'approvals.required[2] (policies: cis-*)'],
    [
      'delete-key, prod, critical: the first rule',
      { action: 'delete-key', severity: 'critical' as const },
      'approvals.required[0] (actions: delete-*; environments: prod)',
    ],
  ])('%s', (_, over, rule) => {
    expect(approvalRequired(plan(1, over), cfg)).toBe(rule);
    const d = decide(plan(1, over), { config: cfg });
    expect(d.decision).toBe(rule ? 'hold' : 'allow');
    if (rule)
      expect(d.reasons).toEqual([
        { guard: 'approval', code: 'approval-required', message: `approval required by ${rule}` },
      ]);
  });
  it('the defaults: delete-key and quarantine, and critical', () => {
    expect(approvalRequired(plan(1, { action: 'quarantine' }), config())).toBe(
      'approvals.required[0] (actions: delete-key, quarantine)',
    );
    expect(approvalRequired(plan(1), config())).toBeNull();
  });
});

describe('100,000 plans: one decision each, counts exact', () => {
  it('decides them all', () => {
    const sevs: Severity[] = ['critical', 'high', 'medium', 'low', 'info'];
    const plans: ActionPlan[] = [];
    const expected = { deny: 0, 'dry-run': 0, hold: 0, allow: 0 };
    let ready = 0;
    for (let i = 0; i < 100_000; i++) {
      const protectedTag = i % 100 === 0;
      const observe = !protectedTag && i % 7 === 0;
      const cooling = !protectedTag && !observe && i % 11 === 0;
      plans.push(
        plan(i, {
          policy: `p${i % 10_000}`,
          severity: sevs[i % 5]!,
          policyMode: observe ? 'observe' : 'enforce',
          tags: protectedTag ? { 'credwarden-protect': 'true' } : {},
        }),
      );
      if (protectedTag) expected.deny++;
      else if (observe) expected['dry-run']++;
      else if (cooling) expected.hold++;
      else ready++;
    }
    expected.allow = 1000;
    expected.hold += ready - 1000;
    const lastActionAt = new Map(
      plans.filter((_, i) => i % 11 === 0).map((p) => [p.target.credentialId, NOW.toISOString()]),
    );
    const cfg = config({ rate: { max: 1000 }, approvals: { required: [{ actions: ['delete-key'] }] } });
    const m = guardPlans(plans, state({ config: cfg, lastActionAt }));
    expect(m.size).toBe(100_000);
    const got = { deny: 0, 'dry-run': 0, hold: 0, allow: 0 };
    for (const d of m.values()) got[d.decision]++;
    expect(got).toEqual(expected);
    // The rate admitted the most severe: with 1000 slots and far more than 1000 ready criticals, every allowed one is critical.
    for (const p of plans) if (m.get(p.id)!.decision === 'allow') expect(p.severity).toBe('critical');
  });
});
