/** The finding state machine (findings/transitions.ts): pure, table-driven over evaluations. */
import { describe, expect, it } from 'vitest';
import { computeTransitions } from '../../src/findings/transitions.js';
import type { Credential } from '../../src/model/credential.js';
import type { PolicyHit } from '../../src/policy/evaluate.js';
import { fingerprint } from '../../src/policy/evaluate.js';
import type { Finding, Policy, PolicyException } from '../../src/policy/model.js';

const ID = 'aws/111111111111/access-key/AKIAEXAMPLE000000001';
const COMPLETE = ['aws/111111111111/access-key/'];
const policy: Policy = {
  name: 'agent-key-unused',
  description: 'unused key',
  resource: {},
  rules: [{ type: 'unused-for', params: { days: 30 } }],
  severity: 'medium',
  mode: 'observe',
  remediation: [],
  metadata: { controls: { 'cis-aws-v5': ['1.11'] } },
  file: 'x.yaml',
};
const cred = { id: ID, kind: 'aws-access-key', agentId: 'bot', owner: { team: 't', contact: 'c' } } as Credential;
const hit = (severity: PolicyHit['severity'] = 'medium'): PolicyHit => ({
  fingerprint: fingerprint(policy.name, ID),
  riskKey: 'unused-for',
  policy,
  credential: cred,
  hits: [{ message: 'unused for 40 days', evidence: [], detector: 'unused' }],
  severity,
});
const exception = (expires: string): PolicyException => ({
  id: 'bot-migration',
  selector: { agents: ['bot'] },
  owner: 'alice@example.com',
  reason: 'migrating to roles',
  expires,
  file: 'x.yaml',
});

function run(
  previous: Finding[],
  hits: PolicyHit[],
  opts: { now?: string; complete?: string[]; exceptions?: PolicyException[]; expired?: string[] } = {},
) {
  return computeTransitions({
    previous: new Map(previous.map((f) => [f.fingerprint, f])),
    hits,
    exceptions: opts.exceptions ?? [],
    alreadyExpired: new Set(opts.expired ?? []),
    now: new Date(opts.now ?? '2026-11-01T00:00:00Z'),
    completePrefixes: opts.complete ?? COMPLETE,
  });
}

describe(computeTransitions.name, () => {
  it('should open, resolve and re-open one finding across three evaluations', () => {
    const s1 = run([], [hit()]);
    expect(s1.transitions.map((t) => t.type)).toEqual(['finding.opened']);
    expect(s1.changed[0]).toMatchObject({
      state: 'open',
      firstSeen: '2026-11-01T00:00:00.000Z',
      controls: { 'cis-aws-v5': ['1.11'] },
    });

    const s2 = run(s1.changed, [], { now: '2026-11-02T00:00:00Z' });
    expect(s2.transitions.map((t) => t.type)).toEqual(['finding.resolved']);
    expect(s2.changed[0]).toMatchObject({ state: 'resolved', resolvedAt: '2026-11-02T00:00:00.000Z' });

    const s3 = run(s2.changed, [hit()], { now: '2026-11-03T00:00:00Z' });
    expect(s3.transitions.map((t) => t.type)).toEqual(['finding.reopened']);
    expect(s3.changed[0]).toMatchObject({ state: 'open', reopened: 1, firstSeen: '2026-11-01T00:00:00.000Z' });
  });

  it('should say nothing for a finding still open on a re-scan (only lastSeen moves)', () => {
    const s1 = run([], [hit()]);
    const s2 = run(s1.changed, [hit()], { now: '2026-11-05T00:00:00Z' });
    expect(s2.transitions).toEqual([]);
    expect(s2.changed[0]!.lastSeen).toBe('2026-11-05T00:00:00.000Z');
  });

  it('should never resolve a finding on a credential the scan did not observe completely', () => {
    const s1 = run([], [hit()]);
    expect(run(s1.changed, [], { complete: [] }).transitions).toEqual([]);
    expect(run(s1.changed, [], { complete: ['aws/222222222222/'] }).transitions).toEqual([]);
  });

  it('should escalate when the severity rises', () => {
    const s1 = run([], [hit('medium')]);
    const s2 = run(s1.changed, [hit('high')]);
    expect(s2.transitions).toEqual([
      expect.objectContaining({
        type: 'finding.escalated',
        data: expect.objectContaining({ from: 'medium', to: 'high' }),
      }),
    ]);
  });

  it('should suppress under an active exception, and re-open and audit the expiry once it lapses', () => {
    const ex = exception('2026-11-10T00:00:00Z');
    const s1 = run([], [hit()], { exceptions: [ex] });
    expect(s1.transitions).toEqual([
      expect.objectContaining({
        type: 'finding.suppressed',
        data: expect.objectContaining({ exceptionId: 'bot-migration', owner: 'alice@example.com' }),
      }),
    ]);
    expect(s1.changed[0]).toMatchObject({ state: 'suppressed', exceptionId: 'bot-migration' });

    const s2 = run(s1.changed, [hit()], { exceptions: [ex], now: '2026-11-11T00:00:00Z' });
    expect(s2.transitions.map((t) => `${t.type} ${t.subject}`)).toEqual([
      `finding.unsuppressed ${hit().fingerprint}`,
      'exception.expired bot-migration',
    ]);
    expect(s2.changed[0]).toMatchObject({ state: 'open', exceptionId: null });

    const s3 = run(s2.changed, [hit()], { exceptions: [ex], now: '2026-11-12T00:00:00Z', expired: ['bot-migration'] });
    expect(s3.transitions).toEqual([]);
  });

  it('should resolve a suppressed finding once it no longer hits', () => {
    const s1 = run([], [hit()], { exceptions: [exception('2027-01-01T00:00:00Z')] });
    const s2 = run(s1.changed, []);
    expect(s2.transitions.map((t) => t.type)).toEqual(['finding.resolved']);
  });
});
