/**
 * The drill's pure parts: config checks (each names its key), the agent-looking names it plants
 * under, the observer's reading of audit events (detect, alert, remediate, approval; dry-run and
 * deny block; a hold waits), and the routing of drill alert items (digest, never a page).
 */
import { describe, expect, it } from 'vitest';
import { itemRoute } from '../../src/alerts/plan.js';
import type { AuditEvent } from '../../src/audit/event.js';
import { loadConfigText } from '../../src/config/load.js';
import { describeDrill, durationText } from '../../src/drill/describe.js';
import { DrillObserver } from '../../src/drill/observe.js';
import { drillLook } from '../../src/drill/planter.js';
import type { Registry } from '../../src/model/agent.js';

const FILE = '/tmp/drill-config.yaml';
const base = `aws:
  accounts: [{ id: "111111111111" }]
vault:
  - { name: main, address: "http://127.0.0.1:8200", token: "\${env:T}" }
alerts:
  sinks: [{ name: hook, type: webhook, url: "https://example.com/h", secrets: ["\${env:S}"] }]
`;
const env = { T: 'token', S: `whsec_${Buffer.alloc(32, 1).toString('base64')}` };
const load = (extra: string) => loadConfigText(FILE, base + extra, env);

describe('drills config', () => {
  it('accepts a drill account, a Vault place and schedules', () => {
    const c = load(
      'drills: { aws: { account: "111111111111" }, vault: { cluster: main } }\nschedules: { drills: [{ scenario: admin-key, cron: "0 3 * * 1" }] }\n',
    );
    expect(c.drills?.vault).toEqual({ cluster: 'main', namespace: 'root', approleMount: 'approle' });
    expect(c.drills?.deadlineMinutes).toBe(15);
    expect(c.schedules.drills).toEqual([{ scenario: 'admin-key', cron: '0 3 * * 1' }]);
  });

  it.each([
    ['drills: { aws: { account: "222222222222" } }\n', /drills\.aws\.account.*222222222222 is not in aws\.accounts/],
    ['drills: { vault: { cluster: nope } }\n', /drills\.vault\.cluster.*no vault cluster named "nope"/],
    [
      'drills: { aws: { account: "111111111111" }, alerts: { page: [pd] } }\n',
      /drills\.alerts\.page\[0\].*no sink named "pd"/,
    ],
    [
      'schedules: { drills: [{ scenario: admin-key, cron: "0 3 * * 1" }] }\n',
      /schedules\.drills\[0\].*needs a drills section/,
    ],
    [
      'drills: { aws: { account: "111111111111" } }\nschedules: { drills: [{ scenario: stale-token, cron: "0 3 * * 1" }] }\n',
      /schedules\.drills\[0\]\.scenario.*stale-token plants in vault: needs drills\.vault/,
    ],
    ['schedules: { drills: [{ scenario: bogus, cron: "0 3 * * 1" }] }\n', /schedules\.drills\[0\]\.scenario/],
    [
      'drills: { vault: { cluster: main, token: "literal" } }\n',
      /drills\.vault\.token.*must be an \$\{env:NAME\} reference/,
    ],
  ])('refuses %j naming the key', (extra, message) => {
    expect(() => load(extra)).toThrow(message);
  });
});

describe('drill names', () => {
  const registry = (aws: Registry['unregistered']['aws'], vault: Registry['unregistered']['vault']): Registry => ({
    agents: [],
    unregistered: { aws, vault },
  });

  it('follow the registry so discovery sees the plant as an agent', () => {
    const look = drillLook(
      registry(
        { tags: { 'agent-kind': 'ai-*' }, namePatterns: ['agent-*'] },
        { meta: ['agent'], displayNamePatterns: ['*-agent-*'], policyPatterns: ['*agent*'] },
      ),
      'drill-abc',
      'aws',
    );
    expect(look.aws).toEqual({ userName: 'agent-credwarden-drill-abc', tags: { 'agent-kind': 'ai-drill' } });
    expect(look.vault.meta).toEqual({ agent: 'credwarden-drill-abc', 'credwarden-drill': 'drill-abc' });
    expect(look.vault.displayName).toBe('credwarden-drill-abc-agent-');
    expect(look.vault.name).toBe('credwarden-drill-abcagent');
  });

  it('refuse a registry that would make the plant invisible', () => {
    const none = registry({ tags: {}, namePatterns: [] }, { meta: [], displayNamePatterns: [], policyPatterns: [] });
    expect(() => drillLook(none, 'd', 'aws')).toThrow(/no unregistered\.aws tags or namePatterns/);
    expect(() => drillLook(none, 'd', 'vault')).toThrow(/no unregistered\.vault meta/);
  });
});

const CRED = 'aws/111111111111/access-key/AKIADRILL';
let seq = 0;
const ev = (type: string, subject: string, data: Record<string, unknown>): AuditEvent => ({
  seq: ++seq,
  time: new Date(Date.UTC(2026, 11, 3, 12, 0, seq)).toISOString(),
  type,
  actor: 'credwarden',
  subject,
  data,
  prevHash: '',
  hash: '',
});

describe('the drill observer', () => {
  const detectors = new Map([
    [`p-admin:${CRED}`, ['admin']],
    [`p-age:${CRED}`, ['age']],
  ]);
  const observer = () => new DrillObserver(new Set([CRED]), ['admin'], async (fp) => detectors.get(fp) ?? []);
  const none = { detection: null, alert: null, remediation: null };

  it('reads detect, alert and remediate from the audit log, only for its credentials and detectors', async () => {
    const o = observer();
    expect(await o.feed(ev('finding.opened', `p-age:${CRED}`, { credentialId: CRED, policy: 'p-age' }), none)).toEqual(
      [],
    );
    expect(
      await o.feed(ev('finding.opened', 'p-admin:other', { credentialId: 'other', policy: 'p-admin' }), none),
    ).toEqual([]);
    const [d] = await o.feed(ev('finding.opened', `p-admin:${CRED}`, { credentialId: CRED, policy: 'p-admin' }), none);
    expect(d).toMatchObject({ stage: 'detect', policy: 'p-admin', fingerprint: `p-admin:${CRED}` });
    const detected = {
      ...none,
      detection: { policy: 'p-admin', fingerprint: `p-admin:${CRED}`, at: (d as { at: string }).at },
    };
    expect(
      await o.feed(ev('alert.sent', 'n1', { sink: 'hook', mode: 'digest', fingerprints: ['x'] }), detected),
    ).toEqual([]);
    const [a] = await o.feed(
      ev('alert.sent', 'n2', { sink: 'hook', mode: 'digest', fingerprints: [`p-admin:${CRED}`] }),
      detected,
    );
    expect(a).toMatchObject({ stage: 'alert', sink: 'hook', mode: 'digest', notification: 'n2' });
    expect(
      await o.feed(
        ev('action.planned', CRED, { planId: 'p1', action: 'deactivate-key', decision: 'allow', state: 'queued' }),
        detected,
      ),
    ).toEqual([{ stage: 'queued', planId: 'p1' }]);
    const [r] = await o.feed(
      ev('action.result', CRED, { planId: 'p1', action: 'deactivate-key', outcome: 'done', detail: 'ok' }),
      detected,
    );
    expect(r).toMatchObject({ stage: 'remediate', outcome: 'done', action: 'deactivate-key' });
  });

  it('blocks on dry-run and deny, waits on a hold, and takes an approval request as the end', async () => {
    const o = observer();
    const plan = (decision: string, state: string, reasons: unknown[] = []) =>
      ev('action.planned', CRED, { planId: `p-${decision}`, action: 'deactivate-key', decision, state, reasons });
    expect((await o.feed(plan('dry-run', 'dry-run'), none))[0]).toMatchObject({
      stage: 'blocked',
      reason: expect.stringMatching(/dry-run/),
    });
    expect((await o.feed(plan('deny', 'denied', [{ guard: 'min-age', message: 'too young' }]), none))[0]).toMatchObject(
      {
        stage: 'blocked',
        reason: expect.stringMatching(/min-age: too young/),
      },
    );
    expect((await o.feed(plan('hold', 'held', [{ guard: 'window', message: 'closed' }]), none))[0]).toEqual({
      stage: 'held',
      reason: 'deactivate-key is held: window: closed',
    });
    expect((await o.feed(plan('hold', 'awaiting-approval'), none))[0]).toMatchObject({
      stage: 'approval',
      state: 'awaiting-approval',
    });
  });
});

describe('drill alert routing', () => {
  const sinkTypes = new Map([
    ['pd', 'pagerduty'],
    ['hook', 'webhook'],
    ['sec', 'slack'],
  ]);
  const item = {
    severity: 'critical' as const,
    owner: null,
    agentId: null,
    environment: null,
    policy: 'p',
    policies: ['p'],
  };
  const routes = [{ match: {}, page: ['pd'], digest: ['hook'], continue: false }];

  it('never pages by default: the route digest sinks, else every sink that is not PagerDuty', () => {
    expect(itemRoute(item, routes, sinkTypes, undefined)).toEqual({ page: ['pd'], digest: ['hook'] });
    expect(itemRoute({ ...item, drill: 'd1' }, routes, sinkTypes, { page: [], digest: [] })).toEqual({
      page: [],
      digest: ['hook'],
    });
    const pageOnly = [{ match: {}, page: ['pd'], digest: [], continue: false }];
    expect(itemRoute({ ...item, drill: 'd1' }, pageOnly, sinkTypes, { page: [], digest: [] })).toEqual({
      page: [],
      digest: ['hook', 'sec'],
    });
    expect(itemRoute({ ...item, drill: 'd1' }, routes, sinkTypes, { page: ['pd'], digest: ['sec'] })).toEqual({
      page: ['pd'],
      digest: ['sec'],
    });
  });
});

describe('drill text', () => {
  it('says every time and what cleanup did', () => {
    expect(durationText(undefined)).toBe('-');
    expect(durationText(4200)).toBe('4.2 s');
    expect(durationText(185_000)).toBe('3 min 5 s');
    const lines = describeDrill({
      id: 'drill-x',
      scenario: 'admin-key',
      trigger: 'cli',
      by: 'user:a',
      target: { sourceType: 'aws', source: '111111111111' },
      startedAt: '2026-12-03T12:00:00.000Z',
      deadlineAt: '2026-12-03T12:15:00.000Z',
      finishedAt: '2026-12-03T12:00:09.000Z',
      status: 'failed',
      stage: 'remediate',
      reason: 'a guardrail denied deactivate-key',
      planted: [{ kind: 'aws-access-key', id: 'AKIA1', source: '111111111111', credentialId: CRED }],
      riskAt: '2026-12-03T12:00:01.000Z',
      times: { detectMs: 3000, alertMs: 3500 },
      detection: { policy: 'p-admin', fingerprint: 'f', at: '' },
      alert: { sink: 'hook', mode: 'digest', notification: 'n', at: '' },
      remediation: null,
      cleanup: { at: '', removed: ['aws user u'], gone: [], failed: [{ id: 'aws access key AKIA1', error: 'denied' }] },
      scans: [],
    }).join('\n');
    expect(lines).toContain('FAILED');
    expect(lines).toContain('failed at stage remediate: a guardrail denied deactivate-key');
    expect(lines).toContain('time to detect: 3.0 s  (p-admin)');
    expect(lines).toContain('time to alert: 3.5 s  (digest on hook)');
    expect(lines).toContain('time to remediate: -');
    expect(lines).toContain('FAILED aws access key AKIA1: denied');
  });
});
