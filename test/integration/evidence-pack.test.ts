/**
 * An evidence pack's content over the seeded history of test/support/evidence-scenario.ts (its
 * header has the timeline): population, audit slice, coverage, findings, actions, exceptions, and
 * every control's status, reason and numbers, each worked out by hand from the timeline.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NO_DRILL } from '../../src/evidence/controls-drills.js';
import type { CollectedEvidence } from '../../src/evidence/model.js';
import type { App } from '../../src/main.js';
import { fingerprint } from '../../src/policy/evaluate.js';
import {
  ACCOUNT,
  at,
  controlsOf as controlsOfApp,
  type EvidenceScenario,
  FAR,
  FROM,
  iso,
  OWNER,
  seedEvidenceHistory,
  TO,
} from '../support/evidence-scenario.js';
import { useMoto } from '../support/moto.js';
import { useRedis } from '../support/redis.js';

const moto = useMoto();
const r = useRedis('evidence-pack');
let s: EvidenceScenario;
let app: App;
let ids: Record<string, string>;

beforeAll(async () => {
  s = await seedEvidenceHistory(moto.endpoint, r.prefix);
  ({ app, ids } = s);
}, 180_000);
afterAll(async () => {
  await s?.app.close();
});
const controlsOf = (framework: 'soc2' | 'pci-dss-4', from = FROM, to = TO) => controlsOfApp(app, framework, from, to);

describe('evidence pack over a seeded history', () => {
  let ev: CollectedEvidence;

  it('population: every credential that existed in the period, with owner, agent, created, removed', async () => {
    ({ ev } = await controlsOf('soc2'));
    const key = (u: string) => ids[u]!;
    expect(key('agent-idle-1')).toBe(`aws/${ACCOUNT}/access-key/${s.keys['agent-idle-1']!.accessKeyId}`);
    const rows = Object.fromEntries(ev.population.map((p) => [p.id, p]));
    expect(Object.keys(rows).sort()).toEqual(
      ['agent-idle-1', 'agent-idle-2', 'agent-admin', 'agent-human', 'agent-far', 'agent-new'].map(key).sort(),
    );
    // agent-late was first recorded after the period.
    expect(rows[key('agent-late')]).toBeUndefined();
    expect(rows[key('agent-idle-1')]).toMatchObject({
      kind: 'aws-access-key',
      source: ACCOUNT,
      agent: 'bot',
      owner: OWNER,
      firstSeen: iso(-1, 1),
      removedAt: iso(5, 1),
      created: null, // gone from the inventory: only the audit knows it
      status: 'inactive',
    });
    expect(rows[key('agent-idle-2')]).toMatchObject({ firstSeen: iso(-1, 1), removedAt: null, status: 'inactive' });
    expect(rows[key('agent-new')]).toMatchObject({ firstSeen: iso(4, 1), removedAt: null, status: 'active' });
    expect(rows[key('agent-far')]).toMatchObject({ source: FAR, owner: OWNER, firstSeen: iso(-1, 1) });
    expect(rows[key('agent-human')]).toMatchObject({ kind: 'aws-console-password', owner: OWNER });
    expect(rows[key('agent-admin')]!.lastUsed).not.toBeNull();
    expect(rows[key('agent-admin')]!.created).not.toBeNull();
  });

  it('the audit slice is exactly the events recorded in the period, the links reach the head', async () => {
    const events = await app.audit.read(1);
    const inside = events.filter((e) => Date.parse(e.time) >= FROM.getTime() && Date.parse(e.time) <= TO.getTime());
    expect(inside[0]!.type).toBe('exception.created');
    expect(ev.chain).toMatchObject({
      fromSeq: inside[0]!.seq,
      toSeq: inside.at(-1)!.seq,
      sliceLastHash: inside.at(-1)!.hash,
      headSeq: events.at(-1)!.seq,
      hashAlgorithm: 'sha256',
      eventsRead: events.length,
    });
    expect(inside.at(-1)!.time).toBe(iso(6, 1));
    expect(events.at(-1)!.time).toBe(iso(6, 20)); // scan-8: after the period, so in the links only
  });

  it('coverage: every scan with its units, the partial one with its reason, per unit the largest gap', () => {
    expect(ev.coverage.scans.map((s) => [s.id, s.status])).toEqual([
      ['scan-1', 'complete'],
      ['scan-2', 'complete'],
      ['scan-3', 'partial'],
      ['scan-4', 'complete'],
      ['scan-5', 'complete'],
      ['scan-6', 'complete'],
      ['scan-7', 'complete'],
    ]);
    const partial = ev.coverage.scans[2]!.units.find((u) => u.key === `aws/${FAR}`)!;
    expect(partial).toMatchObject({
      status: 'timed-out',
      problems: [{ code: 'Timeout', message: 'the unit did not report before the scan deadline' }],
    });
    expect(ev.coverage.units).toEqual([
      {
        key: `aws/${ACCOUNT}`,
        label: ACCOUNT,
        sourceType: 'aws',
        configured: true,
        scans: 7,
        completeScans: 7,
        lastComplete: iso(6, 1),
        largestGapHours: 24,
        reasons: [],
      },
      {
        key: `aws/${FAR}`,
        label: FAR,
        sourceType: 'aws',
        configured: true,
        scans: 7,
        completeScans: 6,
        lastComplete: iso(6, 1),
        largestGapHours: 48, // d1 01:00 → d3 01:00
        reasons: ['Timeout: the unit did not report before the scan deadline'],
      },
    ]);
  });

  it('findings, actions and exceptions of the period', () => {
    const f = Object.fromEntries(ev.findings.map((x) => [x.fingerprint, x]));
    const fp = (p: string, u: string) => fingerprint(p, ids[u]!);
    expect(Object.keys(f).sort()).toEqual(
      [
        fp('unused-keys', 'agent-idle-1'),
        fp('unused-keys', 'agent-idle-2'),
        fp('unused-keys', 'agent-new'),
        fp('admin-keys', 'agent-admin'),
        fp('agent-console', 'agent-human'),
      ].sort(),
    );
    const eps = (x: string) => f[x]!.episodes.map((e) => [e.how, e.start, e.end, e.endedBy]);
    expect(eps(fp('unused-keys', 'agent-idle-1'))).toEqual([['opened', iso(-1, 1), iso(1, 1), 'resolved']]);
    expect(eps(fp('unused-keys', 'agent-idle-2'))).toEqual([['opened', iso(-1, 1), iso(3, 1), 'resolved']]);
    expect(eps(fp('unused-keys', 'agent-new'))).toEqual([['opened', iso(4, 1), null, null]]);
    expect(eps(fp('admin-keys', 'agent-admin'))).toEqual([
      ['opened', iso(-1, 1), iso(1, 1), 'resolved'],
      ['reopened', iso(2, 1), null, null],
    ]);
    expect(f[fp('agent-console', 'agent-human')]!.episodes).toEqual([
      {
        how: 'opened',
        start: iso(-1, 1),
        end: null,
        endedBy: null,
        severity: 'high',
        suppressions: [{ from: iso(0, 1), to: null, exceptionId: s.excId }],
      },
    ]);
    expect(f[fp('agent-console', 'agent-human')]!.stateAtEnd).toBe('suppressed');

    const a = Object.fromEntries(ev.actions.map((x) => [x.planId, x]));
    expect(Object.keys(a).sort()).toEqual([s.f1PlanId, s.f2PlanId, s.detachId].sort());
    expect(a[s.f1PlanId]).toMatchObject({
      action: 'deactivate-key',
      approvalRequired: false,
      result: { at: iso(0, 1), outcome: 'done' },
    });
    expect(a[s.f2PlanId]).toMatchObject({ result: null, decisions: [{ at: iso(0, 1), state: 'denied' }] });
    expect(a[s.detachId]).toMatchObject({
      action: 'detach-policy',
      policy: 'admin-keys',
      approvalRequired: true,
      needed: 2,
      approvals: [
        { by: 'user:alice', at: iso(0, 2), source: 'cli' },
        { by: 'user:bob', at: iso(0, 3), source: 'cli' },
      ],
      result: { at: iso(0, 3), outcome: 'done', approvedBy: ['user:alice', 'user:bob'] },
      rollbackRequest: { by: 'user:erin', at: iso(1, 6), needed: 2 },
      rollbackApprovals: [
        { by: 'user:alice', at: iso(1, 7) },
        { by: 'user:bob', at: iso(1, 8) },
      ],
      rolledBack: { by: 'user:erin', at: iso(1, 8), approvedBy: ['user:alice', 'user:bob'] },
    });

    expect(ev.exceptions).toEqual([
      {
        id: s.excId,
        source: 'api',
        owner: 'carol@example.com',
        reason: 'break-glass console access for the migration (CHG-42)',
        expires: iso(30),
        createdAt: iso(0, 0, 30),
        createdBy: 'user:carol',
        lifted: null,
        expiredAt: null,
        selector: { agents: ['bot'], policies: ['agent-console'] },
        suppressed: [fp('agent-console', 'agent-human')],
      },
    ]);
  });

  it('SOC 2: every control with its status, reason and numbers', async () => {
    const { by } = await controlsOf('soc2');
    const every = 'every unit completely scanned (6–7 complete scans each, largest gap 48.0 h)';
    expect(by['CC6.1']).toMatchObject({
      mappedPolicies: ['key-rotation'],
      status: 'pass',
      reason: `no findings in the period; ${every}`,
      findings: { total: 0, opened: 0, resolved: 0, openAtEnd: 0 },
      actions: [],
      coverage: { units: [`aws/${ACCOUNT}`, `aws/${FAR}`], notCompletelyScanned: [] },
    });
    // F1 2.0 days (d-1 01:00 → d1 01:00), F2 4.0 days (→ d3 01:00); F6 open 2.5 days of its 30.
    expect(by['CC6.2']).toMatchObject({
      mappedPolicies: ['unused-keys'],
      status: 'pass',
      reason:
        '1 finding opened in the period and 2 carried in; 2 resolved (median 3.0 days, max 4.0); at the end 1 open within the SLA, 0 under an exception; ' +
        `2 actions, none ran without its required approvals; ${every}`,
      findings: {
        total: 3,
        opened: 1,
        reopened: 0,
        carriedIn: 2,
        resolved: 2,
        openAtEnd: 1,
        suppressedAtEnd: 0,
        ttrMedianDays: 3,
        ttrMaxDays: 4,
      },
      exceptions: [],
    });
    expect(by['CC6.2']!.actions.map((x) => [x.planId, x.outcome]).sort()).toEqual(
      [
        [s.f1PlanId, 'done'],
        [s.f2PlanId, 'denied'],
      ].sort(),
    );
    // F3: resolved after 2.0 days (SLA 1), reopened d2 01:00 and open 4.46 days at d6 12:00.
    expect(by['CC6.3']).toMatchObject({
      mappedPolicies: ['admin-keys'],
      status: 'fail',
      reason:
        '1 critical finding open at the end of the period past the 1-day SLA (oldest 4.5 days); ' +
        '1 critical finding resolved after the 1-day SLA (slowest 2.0 days)',
      findings: {
        total: 1,
        opened: 0,
        reopened: 1,
        carriedIn: 1,
        resolved: 1,
        openAtEnd: 1,
        ttrMedianDays: 2,
        ttrMaxDays: 2,
      },
      actions: [
        {
          planId: s.detachId,
          action: 'detach-policy',
          outcome: 'rolled-back',
          approvedBy: [
            { by: 'user:alice', at: iso(0, 2) },
            { by: 'user:bob', at: iso(0, 3) },
          ],
          rolledBackBy: 'user:erin',
        },
      ],
    });
    expect(by['CC7.2']).toMatchObject({
      mappedPolicies: ['agent-console'],
      status: 'fail',
      reason: `monitoring gap: aws/${FAR} went 48.0 h without a complete scan (limit 24 h)`,
      findings: { total: 1, opened: 0, carriedIn: 1, resolved: 0, openAtEnd: 0, suppressedAtEnd: 1 },
      exceptions: [s.excId],
    });
    expect(Object.keys(by)).toEqual(['CC6.1', 'CC6.2', 'CC6.3', 'CC7.2']);
  });

  it('PCI DSS 4.0: interactive use under an exception passes, 8.6.2 is not evidenced', async () => {
    const { by } = await controlsOf('pci-dss-4');
    const every = 'every unit completely scanned (6–7 complete scans each, largest gap 48.0 h)';
    expect(Object.fromEntries(Object.entries(by).map(([k, c]) => [k, [c.status, c.reason]]))).toEqual({
      '8.2.6': [
        'pass',
        '1 finding opened in the period and 2 carried in; 2 resolved (median 3.0 days, max 4.0); at the end 1 open within the SLA, 0 under an exception; ' +
          `2 actions, none ran without its required approvals; ${every}`,
      ],
      '8.6.1': [
        'pass',
        `0 findings opened in the period and 1 carried in; none resolved; at the end 0 open within the SLA, 1 under an exception; ${every}`,
      ],
      '8.6.2': [
        'not-evidenced',
        'no policy maps to it (credwarden reads credential metadata, not code: no leak scanning)',
      ],
      '8.6.3': ['pass', `no findings in the period; ${every}`],
      '12.10.2': ['not-evidenced', NO_DRILL],
    });
    expect(by['8.6.1']!.exceptions).toEqual([s.excId]);
  });

  it('a period whose only scan of account 222 is partial: nothing passes, the gap is named', async () => {
    const { by, ev: sub } = await controlsOf('soc2', at(2), at(2, 12));
    const gap = `coverage gap: aws/${FAR} (${FAR}) not completely scanned in the period (Timeout: the unit did not report before the scan deadline)`;
    expect(Object.fromEntries(Object.entries(by).map(([k, c]) => [k, [c.status, c.reason]]))).toEqual({
      'CC6.1': ['not-evidenced', gap],
      'CC6.2': ['not-evidenced', gap], // F2 open 1.5 days: within its SLA
      'CC6.3': ['not-evidenced', gap], // F3 reopened 11 h before the end: within its SLA
      'CC7.2': ['not-evidenced', gap],
    });
    expect(sub.coverage.units.map((u) => [u.key, u.completeScans, u.largestGapHours])).toEqual([
      [`aws/${ACCOUNT}`, 1, 11],
      [`aws/${FAR}`, 0, 12],
    ]);
    expect(sub.actions).toEqual([]);
  });
});
