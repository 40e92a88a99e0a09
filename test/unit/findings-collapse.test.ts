/**
 * One risk, one finding (issue 9 §2.1; policy/collapse.ts, findings/transitions.ts). agent-deploy-1's
 * single admin grant used to make one finding per policy that runs aws-admin (agent-admin-equivalent
 * and cis-aws-no-full-admin), and its never-used key one per never-used policy: the same hit, paged
 * and counted twice. Now each risk on a credential is one finding carrying every policy's controls,
 * with a fingerprint that does not move when a second policy's threshold is crossed; genuinely
 * different checks stay apart; findings stored before this continue under their own fingerprints
 * and their duplicates become `merged` tombstones, which never trip the mass-resolve hold.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { findingItems } from '../../src/alerts/items.js';
import { holdVerdict } from '../../src/findings/hold.js';
import { computeTransitions, type TransitionResult } from '../../src/findings/transitions.js';
import type { Credential } from '../../src/model/credential.js';
import { evaluatePolicies, fingerprint } from '../../src/policy/evaluate.js';
import { loadPolicies } from '../../src/policy/load.js';
import type { Finding, Policy, PolicyException } from '../../src/policy/model.js';
import { defaultPacksDir } from '../../src/policy/packs.js';
import { ACCOUNT, accessKey, agent, daysAgo, NEVER_USED, NOW } from '../support/credentials.js';

const KEY = 'AKIAFAKEDEPLOY000001';
const ID = `aws/${ACCOUNT}/access-key/${KEY}`;
const registry = {
  agents: [agent('deploy-agent', { scopes: { aws: ['ecs:UpdateService'], vault: [] } })],
  unregistered: {
    aws: { tags: {}, namePatterns: [] },
    vault: { meta: [], displayNamePatterns: [], policyPatterns: [] },
  },
};
const ACCOUNTS = new Map([[ACCOUNT, 'prod']]);

/** agent-deploy-1: one inline `*` on `*`, one key never used since it was created `age` days ago. */
function deployKey(age = 10, keyId = KEY): Credential {
  return accessKey(
    keyId,
    {
      agentId: 'deploy-agent',
      owner: { team: 'platform', contact: 'platform-oncall@example.com' },
      createdAt: daysAgo(age),
      lastUsed: NEVER_USED,
      grants: [
        {
          type: 'aws-statement',
          effect: 'Allow',
          actions: ['*'],
          resources: ['*'],
          provenance: { policy: 'deploy-admin', attachment: 'inline' },
        },
      ],
    },
    'agent-deploy-1',
  );
}

let packs: Policy[];
beforeAll(async () => {
  packs = (await loadPolicies([defaultPacksDir()])).policies;
});

async function policiesFrom(yaml: string): Promise<Policy[]> {
  const dir = mkdtempSync(join(tmpdir(), 'cw-collapse-'));
  writeFileSync(join(dir, 'p.yaml'), yaml);
  return (await loadPolicies([join(dir, 'p.yaml')])).policies;
}

function evaluate(
  creds: Credential[],
  opts: { policies?: Policy[]; previous?: Finding[]; now?: Date; exceptions?: PolicyException[] } = {},
): TransitionResult {
  const now = opts.now ?? NOW;
  return computeTransitions({
    previous: new Map((opts.previous ?? []).map((f) => [f.fingerprint, f])),
    hits: evaluatePolicies({ credentials: creds, policies: opts.policies ?? packs, registry, now }),
    exceptions: opts.exceptions ?? [],
    alreadyExpired: new Set(),
    now,
    completePrefixes: [`aws/${ACCOUNT}/`],
    accountNames: ACCOUNTS,
  });
}

const on = (r: TransitionResult, detector: string) =>
  r.changed.filter((f) => f.credentialId === ID && f.hits.some((h) => h.detector === detector));

describe('one risk, one finding', () => {
  it('should make the admin grant one finding carrying both policies and the union of their controls', () => {
    const r = evaluate([deployKey()]);
    const admin = on(r, 'admin');
    expect(admin).toHaveLength(1);
    expect(admin[0]).toMatchObject({
      fingerprint: fingerprint('agent-admin-equivalent', ID),
      policy: 'agent-admin-equivalent',
      policies: ['agent-admin-equivalent', 'cis-aws-no-full-admin'],
      riskKey: 'aws-admin',
      severity: 'critical',
      state: 'open',
      controlsByPolicy: {
        'agent-admin-equivalent': { 'owasp-nhi': ['NHI5'] },
        'cis-aws-no-full-admin': { 'cis-aws-v5': ['1.15'], 'cis-aws-v3': ['1.16'], securityhub: ['IAM.1'] },
      },
    });
    expect(admin[0]!.controls).toEqual({
      'cis-aws-v3': ['1.16'],
      'cis-aws-v5': ['1.15'],
      iso27001: ['A.8.2'],
      'nist-800-53': ['AC-6'],
      'owasp-nhi': ['NHI5'],
      securityhub: ['IAM.1'],
      soc2: ['CC6.3'],
    });
    // The shared star-on-star hit is listed once.
    expect(admin[0]!.hits.filter((h) => h.key?.startsWith('star-on-star:'))).toHaveLength(1);

    const neverUsed = on(r, 'never-used');
    expect(neverUsed).toHaveLength(1);
    expect(neverUsed[0]!.policies).toEqual(['agent-key-never-used', 'cis-aws-no-keys-at-initial-setup']);
    expect(neverUsed[0]!.controls).toEqual({
      'cis-aws-v3': ['1.11'],
      'cis-aws-v5': ['1.10'],
      iso27001: ['A.5.18'],
      'nist-800-53': ['AC-2(3)'],
      soc2: ['CC6.2'],
    });
  });

  it('should give each risk on the credential exactly one finding, and audit its policies and controls', () => {
    const r = evaluate([deployKey()]);
    const mine = r.changed.filter((f) => f.credentialId === ID);
    expect(new Set(mine.map((f) => f.riskKey)).size).toBe(mine.length);
    const opened = r.transitions.find((t) => t.subject === fingerprint('agent-admin-equivalent', ID));
    expect(opened).toMatchObject({
      type: 'finding.opened',
      data: {
        policies: ['agent-admin-equivalent', 'cis-aws-no-full-admin'],
        controls: {
          'agent-admin-equivalent': { 'owasp-nhi': ['NHI5'] },
          'cis-aws-no-full-admin': { 'cis-aws-v5': ['1.15'], 'cis-aws-v3': ['1.16'], securityhub: ['IAM.1'] },
        },
        principal: `arn:aws:iam::${ACCOUNT}:user/agent-deploy-1`,
        account: { id: ACCOUNT, name: 'prod' },
      },
    });
    // One transition per fingerprint (the fault harness's exactly-once rule).
    expect(new Set(r.transitions.map((t) => t.subject)).size).toBe(r.transitions.length);
  });

  it('should keep the fingerprint when a second policy starts to apply, and audit the new controls', () => {
    const day5 = evaluate([deployKey(5)]);
    const first = on(day5, 'never-used');
    expect(first.map((f) => [f.fingerprint, f.policies])).toEqual([
      [fingerprint('agent-key-never-used', ID), ['agent-key-never-used']],
    ]);
    const day9 = evaluate([deployKey(9)], { previous: day5.changed });
    expect(on(day9, 'never-used').map((f) => [f.fingerprint, f.policies, f.firstSeen])).toEqual([
      [first[0]!.fingerprint, ['agent-key-never-used', 'cis-aws-no-keys-at-initial-setup'], first[0]!.firstSeen],
    ]);
    expect(day9.transitions).toEqual([
      expect.objectContaining({
        type: 'finding.policies-changed',
        subject: first[0]!.fingerprint,
        data: expect.objectContaining({
          policiesAdded: ['cis-aws-no-keys-at-initial-setup'],
          policiesRemoved: [],
          controls: {
            'agent-key-never-used': { soc2: ['CC6.2'], iso27001: ['A.5.18'], 'nist-800-53': ['AC-2(3)'] },
            'cis-aws-no-keys-at-initial-setup': expect.any(Object),
          },
        }),
      }),
    ]);
    // And nothing at all on the next scan.
    expect(evaluate([deployKey(9)], { previous: day9.changed }).transitions).toEqual([]);
  });

  it('should be deterministic: the same inventory gives the same findings in any order', () => {
    const a = evaluate([deployKey(), deployKey(10, 'AKIAFAKEDEPLOY000002')]);
    const b = evaluate([deployKey(10, 'AKIAFAKEDEPLOY000002'), deployKey()]);
    expect(b.changed.map((f) => f.fingerprint).sort()).toEqual(a.changed.map((f) => f.fingerprint).sort());
    expect(b.transitions.map((t) => `${t.type} ${t.subject}`)).toEqual(
      a.transitions.map((t) => `${t.type} ${t.subject}`),
    );
  });

  it('should keep genuinely different checks apart: other rule types, other defining parameters, an AND', async () => {
    const policies = await policiesFrom(`
policies:
  - { name: esc-lambda, description: d, rules: [{ type: aws-privilege-escalation, methods: [PassExistingRoleToNewLambdaThenInvoke] }], severity: high }
  - { name: esc-keys, description: d, rules: [{ type: aws-privilege-escalation, methods: [CreateAccessKey] }], severity: high }
  - { name: esc-keys-too, description: d, rules: [{ type: aws-privilege-escalation, methods: [CreateAccessKey], minConfidence: confirmed }], severity: medium }
  - { name: unused, description: d, rules: [{ type: unused-for, days: 1 }], severity: low }
  - { name: never, description: d, rules: [{ type: never-used, graceDays: 1 }], severity: low }
  - { name: never-and-admin, description: d, rules: [{ type: never-used, graceDays: 1 }, { type: aws-admin }], severity: high }
`);
    const r = evaluate([deployKey()], { policies });
    // minConfidence does not define the check (esc-keys-too merges); the methods list does.
    const byPolicies = r.changed.map((f) => f.policies?.join(',')).sort();
    expect(byPolicies).toEqual(['esc-keys,esc-keys-too', 'esc-lambda', 'never', 'never-and-admin']);
    const keys = new Map(r.changed.map((f) => [f.policy, f.riskKey]));
    expect(keys.get('esc-lambda')).toMatch(/^aws-privilege-escalation#[0-9a-f]{10}$/);
    expect(keys.get('esc-lambda')).not.toBe(keys.get('esc-keys'));
    expect(keys.get('never-and-admin')).toBe('aws-admin+never-used');
  });

  it('should suppress only when an exception covers every policy of the finding', () => {
    const ex = (policies: string[]): PolicyException => ({
      id: `ex-${policies.length}`,
      selector: { policies },
      owner: 'sec@example.com',
      reason: 'accepted',
      expires: '2027-06-01',
      file: 'x.yaml',
    });
    const fp = fingerprint('agent-admin-equivalent', ID);
    const one = evaluate([deployKey()], { exceptions: [ex(['cis-aws-no-full-admin'])] });
    expect(one.changed.find((f) => f.fingerprint === fp)).toMatchObject({ state: 'open', exceptionId: null });
    const both = evaluate([deployKey()], { exceptions: [ex(['cis-aws-no-full-admin', 'agent-admin-equivalent'])] });
    expect(both.changed.find((f) => f.fingerprint === fp)).toMatchObject({ state: 'suppressed', exceptionId: 'ex-2' });
  });

  it('should list each evidence line of the page once, however many hits cite the same statement', () => {
    const r = evaluate([deployKey()]);
    const findings = new Map(r.changed.map((f) => [f.fingerprint, f]));
    const [item] = findingItems(
      r.transitions.filter((t) => t.subject === fingerprint('agent-admin-equivalent', ID)),
      findings,
      { scanId: 's', now: NOW, credentials: new Map(), registry, runbookUrl: undefined },
    );
    const lines = item!.evidence.map((e) => `${e.label}: ${e.value}`);
    expect(lines.filter((l) => l.startsWith('statement: '))).toHaveLength(1);
    expect(new Set(lines).size).toBe(lines.length);
  });
});

/** A finding as credwarden stored it before findings collapsed: no risk key, no policies list. */
function legacy(policy: string, credentialId: string, over: Partial<Finding> = {}): Finding {
  return {
    fingerprint: fingerprint(policy, credentialId),
    policy,
    rules: [],
    credentialId,
    kind: 'aws-access-key',
    agentId: 'deploy-agent',
    owner: null,
    severity: 'critical',
    state: 'open',
    message: 'm',
    hits: [],
    controls: {},
    firstSeen: '2026-09-01T00:00:00.000Z',
    lastSeen: '2026-10-01T00:00:00.000Z',
    resolvedAt: null,
    reopened: 0,
    exceptionId: null,
    ...over,
  };
}

describe('findings stored before collapsing', () => {
  it('should continue the first under its own fingerprint and merge the duplicate, resolving nothing', () => {
    const prev = [
      legacy('agent-admin-equivalent', ID),
      legacy('cis-aws-no-full-admin', ID, { firstSeen: '2026-08-01T00:00:00.000Z' }),
      legacy('agent-key-never-used', ID, { severity: 'medium' }),
      legacy('cis-aws-no-keys-at-initial-setup', ID, { severity: 'medium' }),
    ];
    const r = evaluate([deployKey()], { previous: prev });
    const by = (t: string) => r.transitions.filter((x) => x.type === t).map((x) => x.subject);
    expect(by('finding.resolved')).toEqual([]);
    expect(by('finding.opened')).not.toContain(fingerprint('agent-admin-equivalent', ID));
    expect(by('finding.merged').sort()).toEqual(
      [fingerprint('cis-aws-no-full-admin', ID), fingerprint('cis-aws-no-keys-at-initial-setup', ID)].sort(),
    );
    const survivor = r.changed.find((f) => f.fingerprint === fingerprint('agent-admin-equivalent', ID));
    expect(survivor).toMatchObject({
      state: 'open',
      policies: ['agent-admin-equivalent', 'cis-aws-no-full-admin'],
      firstSeen: '2026-08-01T00:00:00.000Z',
    });
    expect(r.changed.find((f) => f.fingerprint === fingerprint('cis-aws-no-full-admin', ID))).toMatchObject({
      state: 'merged',
      mergedInto: fingerprint('agent-admin-equivalent', ID),
    });
    // The next evaluation leaves the tombstones alone.
    const again = evaluate([deployKey()], { previous: r.changed });
    expect(again.transitions).toEqual([]);
  });

  it('should never trip the mass-resolve hold: merging many duplicates is not resolving them', () => {
    const creds = Array.from({ length: 20 }, (_, i) => deployKey(10, `AKIAFAKEDEPLOY${String(i).padStart(6, '0')}`));
    const prev = creds.flatMap((c) => [
      legacy('agent-key-never-used', c.id),
      legacy('cis-aws-no-keys-at-initial-setup', c.id),
    ]);
    const previous = new Map(prev.map((f) => [f.fingerprint, f]));
    const r = evaluate(creds, { previous: prev });
    expect(r.transitions.filter((t) => t.type === 'finding.merged')).toHaveLength(20);
    expect(r.transitions.some((t) => t.type === 'finding.resolved')).toBe(false);
    const verdict = holdVerdict(r, previous, new Set(creds.map((c) => c.id)), { resolveRatio: 0.5, minResolved: 10 });
    expect(verdict).toMatchObject({ held: false, resolvedPresent: 0 });
  });
});
