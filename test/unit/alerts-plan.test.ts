/** The alert planner (alerts/plan.ts): silences, inhibition, paging classes, routing, grouping. Pure. */
import { describe, expect, it } from 'vitest';
import { AlertsSchema } from '../../src/alerts/config.js';
import { escalationActions } from '../../src/alerts/items.js';
import { type PlanInput, planAlerts } from '../../src/alerts/plan.js';
import type { AlertItem } from '../../src/alerts/types.js';
import type { Finding } from '../../src/policy/model.js';

const NOW = new Date('2026-11-27T00:00:00Z');
const KEY = 'aws/111111111111/access-key/AKIAEXAMPLE000000001';

function item(over: Partial<AlertItem> = {}): AlertItem {
  const fp = over.fingerprint ?? `${over.policy ?? 'agent-admin-equivalent'}:${over.credentialId ?? KEY}`;
  return {
    id: `s1:opened:${fp}`,
    action: 'trigger',
    transition: 'opened',
    fingerprint: fp,
    title: 'x',
    severity: 'critical',
    policy: 'agent-admin-equivalent',
    rules: ['aws-admin'],
    detector: 'admin',
    credentialId: KEY,
    kind: 'aws-access-key',
    source: '111111111111',
    agentId: 'bot',
    owner: { team: 'payments', contact: 'p@example.com' },
    environment: 'prod',
    evidence: [],
    tags: {},
    runbookUrl: null,
    scanId: 's1',
    at: NOW.toISOString(),
    ...over,
  };
}

function finding(policy: string, detector: string, credentialId = KEY, state: Finding['state'] = 'open'): Finding {
  return {
    fingerprint: `${policy}:${credentialId}`,
    policy,
    rules: [],
    credentialId,
    kind: 'aws-access-key',
    agentId: 'bot',
    owner: null,
    severity: 'high',
    state,
    message: '',
    hits: [{ message: '', evidence: [], detector }],
    controls: {},
    firstSeen: '',
    lastSeen: '',
    resolvedAt: null,
    reopened: 0,
    exceptionId: null,
  };
}

const SINKS = [
  { name: 'pd', type: 'pagerduty', routingKey: 'r'.repeat(32) },
  { name: 'slack', type: 'slack', webhookUrl: 'https://hooks.slack.com/services/T/B/x' },
];

function run(
  items: AlertItem[],
  opts: {
    config?: Record<string, unknown>;
    pageClass?: Record<string, string | null>;
    findings?: Finding[];
    paged?: Record<string, string[]>;
    expired?: string[];
  } = {},
) {
  const config = AlertsSchema.parse({ sinks: SINKS, ...opts.config });
  const input: PlanInput = {
    scanId: 's1',
    now: NOW,
    items,
    pageClass: new Map(
      Object.entries(opts.pageClass ?? Object.fromEntries(items.map((i) => [i.id, 'critical-privilege']))),
    ),
    findings: new Map((opts.findings ?? []).map((f) => [f.fingerprint, f])),
    config,
    sinkTypes: new Map(config.sinks.map((s) => [s.name, s.type])),
    paged: new Map(Object.entries(opts.paged ?? {})),
    alreadyExpiredSilences: new Set(opts.expired ?? []),
  };
  return planAlerts(input);
}

describe(planAlerts.name, () => {
  it('should page a paging-class item on every PagerDuty sink and keep it out of the digest', () => {
    const p = run([item()]);
    expect(p.notifications.map((n) => `${n.mode} ${n.sink}`)).toEqual(['page pd']);
    expect(p.pagedAdd).toEqual([[item().fingerprint, ['pd']]]);
  });

  it('should send everything else as one digest per owner team per sink', () => {
    const items = [
      item({ id: 'a', fingerprint: 'a', severity: 'medium' }),
      item({ id: 'b', fingerprint: 'b', severity: 'low' }),
      item({ id: 'c', fingerprint: 'c', owner: { team: 'data', contact: 'd@example.com' } }),
    ];
    const p = run(items, { pageClass: { a: null, b: null, c: null } });
    expect(
      p.notifications.map((n) => `${n.mode} ${n.sink} ${n.group.owner} ${n.items.map((i) => i.id).join(',')}`),
    ).toEqual(['digest slack data c', 'digest slack payments a,b']);
  });

  it('should page a resolve only where the trigger paged, with the same fingerprint', () => {
    const resolve = item({ id: 's3:resolved:x', action: 'resolve', transition: 'resolved' });
    expect(run([resolve], { paged: { [resolve.fingerprint]: ['pd'] } })).toMatchObject({
      notifications: [{ mode: 'page', sink: 'pd', items: [{ action: 'resolve' }] }],
      pagedRemove: [resolve.fingerprint],
    });
    // Never paged: the resolve goes to the digest.
    expect(run([resolve]).notifications.map((n) => n.mode)).toEqual(['digest']);
  });

  it('should send a privilege-drift resolve only where its trigger paged (never as digest noise)', () => {
    const resolve = item({
      id: 's9:privilege-drift-resolved:x',
      action: 'resolve',
      transition: 'resolved',
      policy: 'privilege-drift',
      fingerprint: `privilege-drift:${KEY}`,
    });
    expect(run([resolve]).notifications).toEqual([]);
    expect(
      run([resolve], { paged: { [`privilege-drift:${KEY}`]: ['pd'] } }).notifications.map((n) => `${n.mode} ${n.sink}`),
    ).toEqual(['page pd']);
  });

  it('should not page classes the config leaves out', () => {
    expect(run([item()], { config: { paging: ['privilege-drift'] } }).notifications.map((n) => n.mode)).toEqual([
      'digest',
    ]);
  });

  it('should inhibit a child while its parent finding is open on the same credential', () => {
    const child = item({
      id: 'child',
      fingerprint: `nhi5-overprivileged-escalation:${KEY}`,
      policy: 'nhi5-overprivileged-escalation',
      detector: 'privesc',
      severity: 'high',
    });
    const p = run([child], { findings: [finding('agent-admin-equivalent', 'admin')], pageClass: { child: null } });
    expect(p.notifications).toEqual([]);
    expect(p.audit).toEqual([
      expect.objectContaining({
        type: 'alert.inhibited',
        subject: 'child',
        data: expect.objectContaining({ parent: `agent-admin-equivalent:${KEY}` }),
      }),
    ]);
    // A resolved parent inhibits nothing.
    expect(
      run([child], {
        findings: [finding('agent-admin-equivalent', 'admin', KEY, 'resolved')],
        pageClass: { child: null },
      }).notifications,
    ).toHaveLength(1);
  });

  it('should drop silenced items while the silence lasts, and audit its expiry once', () => {
    const silences = [
      {
        id: 'bot-maintenance',
        matchers: { agents: ['bot'] },
        owner: 'oncall@example.com',
        reason: 'planned',
        expires: '2026-12-01T00:00:00Z',
      },
    ];
    const silenced = run([item()], { config: { silences } });
    expect(silenced.notifications).toEqual([]);
    expect(silenced.audit).toEqual([
      expect.objectContaining({
        type: 'alert.silenced',
        data: expect.objectContaining({ silence: 'bot-maintenance' }),
      }),
    ]);

    const expired = run([item()], { config: { silences: [{ ...silences[0], expires: '2026-11-01T00:00:00Z' }] } });
    expect(expired.notifications.map((n) => n.mode)).toEqual(['page']);
    expect(expired.audit.map((a) => `${a.type} ${a.subject}`)).toEqual(['silence.expired bot-maintenance']);
    expect(
      run([item()], {
        config: { silences: [{ ...silences[0], expires: '2026-11-01T00:00:00Z' }] },
        expired: ['bot-maintenance'],
      }).audit,
    ).toEqual([]);
  });

  it('should route by team: first match wins unless continue', () => {
    const config = {
      sinks: [...SINKS, { name: 'pd-data', type: 'pagerduty', routingKey: 'd'.repeat(32) }],
      routes: [
        { match: { teams: ['data'] }, page: ['pd-data'], digest: ['slack'] },
        { page: ['pd'], digest: ['slack'] },
      ],
    };
    const p = run([item(), item({ id: 'd', fingerprint: 'd', owner: { team: 'data', contact: 'x' } })], { config });
    expect(p.notifications.map((n) => `${n.sink} ${n.items[0]!.id}`).sort()).toEqual(
      [`pd s1:opened:agent-admin-equivalent:${KEY}`, 'pd-data d'].sort(),
    );
  });

  it('should reject routes naming unknown sinks', () => {
    const res = AlertsSchema.safeParse({ sinks: SINKS, routes: [{ page: ['nope'] }] });
    expect(res.success).toBe(false);
    expect(res.error!.issues[0]).toMatchObject({
      path: ['routes', 0, 'page', 0],
      message: expect.stringMatching(/no sink named "nope" \(sinks: pd, slack\)/),
    });
  });

  it('should give notifications stable ids, so a replayed plan queues nothing new', () => {
    expect(run([item()]).notifications[0]!.id).toBe(run([item()]).notifications[0]!.id);
  });
});

describe(escalationActions.name, () => {
  it.each([
    [['s3:GetObject', 'iam:AttachUserPolicy'], ['iam:AttachUserPolicy']],
    [
      ['iam:CreateAccessKey', 'sts:AssumeRole'],
      ['iam:CreateAccessKey', 'sts:AssumeRole'],
    ],
    [['*'], ['*']],
    [['sys/policies/acl/agent:update', 'secret/data/x:read'], ['sys/policies/acl/agent:update']],
    [['kv/*:sudo'], ['kv/*:sudo']],
    [['s3:PutObject'], []],
  ])('%j → %j', (added, expected) => {
    expect(escalationActions(added)).toEqual(expected);
  });
});
