/**
 * One risk, one finding, through the real services and CLI (issue 9 §2.1, §2.2, §2.6), on Redis:
 * agent-deploy-1 (one inline `*` on `*`, a key never used) evaluated against the default packs gives
 * ONE admin finding carrying agent-admin-equivalent's and cis-aws-no-full-admin's controls, audited
 * with both policies' controls, and ONE page; `findings --json` names the principal and the account
 * by its configured name; the table fits 120 columns while `findings show` prints every word.
 * Findings stored by the previous version (one per policy) continue under their own fingerprints:
 * the duplicate becomes a merged tombstone, nothing resolves, and the page the duplicate had open is
 * resolved under its own dedup key.
 */
import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Io } from '../../src/cli/context.js';
import { run } from '../../src/cli/main.js';
import { ManualClock } from '../../src/clock.js';
import type { App } from '../../src/main.js';
import type { Credential } from '../../src/model/credential.js';
import { fingerprint } from '../../src/policy/evaluate.js';
import type { Finding } from '../../src/policy/model.js';
import { type TestAppFiles, testApp, writeTestFiles } from '../support/app.js';
import { useRedis } from '../support/redis.js';

const r = useRedis('onerisk');
const ACCT = '111111111111';
const NOW = new Date('2026-12-01T00:00:00.000Z');
const clock = new ManualClock(NOW.getTime());
const ROUTING_KEY = randomBytes(16).toString('hex');
const ARN = `arn:aws:iam::${ACCT}:user/agents/agent-deploy-1`;
const env = (n: string) => ['$', `{env:${n}}`].join('');

/** agent-deploy-1's key: `*` on `*` inline, never used since it was created 10 days ago. */
function key(keyId: string, user = 'agent-deploy-1'): Credential {
  return {
    id: `aws/${ACCT}/access-key/${keyId}`,
    kind: 'aws-access-key',
    sourceType: 'aws',
    source: ACCT,
    principal: user === 'agent-deploy-1' ? ARN : `arn:aws:iam::${ACCT}:user/${user}`,
    agentId: 'deploy-agent',
    owner: { team: 'platform', contact: 'platform-oncall@example.com' },
    unregisteredAgent: false,
    createdAt: new Date(NOW.getTime() - 10 * 86_400_000).toISOString(),
    lastUsed: { at: null, source: 'credential-report', asOf: NOW.toISOString() },
    expiresAt: null,
    status: 'active',
    grants: [
      {
        type: 'aws-statement',
        effect: 'Allow',
        actions: ['*'],
        resources: ['*'],
        provenance: { policy: 'deploy-admin', attachment: 'inline' },
      },
    ],
    tags: {},
    attributes: { userName: user, accessKeyId: keyId },
    observedAt: NOW.toISOString(),
  };
}
const K1 = key('AKIAFAKEDEPLOY000001');
const K2 = key('AKIAFAKEDEPLOY000002', 'agent-deploy-2');

function capture(): Io & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (s) => stdout.push(s), err: (s) => stderr.push(s), stderrIsTty: false };
}

let files: TestAppFiles;
let app: App;

async function putCredentials(...creds: Credential[]) {
  for (const c of creds) await r.redis.hset(`${r.keyPrefix}:inv:creds`, c.id, JSON.stringify(c));
}

/** A scan that observed the whole account, so the evaluation may resolve (and merging must not). */
async function evaluate(scanId: string) {
  await r.redis.hset(
    `${r.keyPrefix}:scan:${scanId}:units`,
    `aws/${ACCT}`,
    JSON.stringify({ credentials: [], completePrefixes: [`aws/${ACCT}/`] }),
  );
  return app.findings.evaluateScan(scanId);
}

async function auditEvents(): Promise<{ type: string; subject: string; data: Record<string, unknown> }[]> {
  const entries = await r.redis.xrange(`${r.keyPrefix}:audit:events`, '-', '+');
  return entries.map(([, fields]) => JSON.parse(fields[1]!)); // one field, "e": the event's JSON
}

describe('one risk, one finding', () => {
  beforeAll(async () => {
    process.env.CW_T_ONERISK_PD = ROUTING_KEY;
    files = writeTestFiles(
      {
        redis: { prefix: r.prefix },
        aws: { accounts: [{ id: ACCT, name: 'prod' }] },
        alerts: { sinks: [{ name: 'pd', type: 'pagerduty', routingKey: env('CW_T_ONERISK_PD') }] },
      },
      {
        agents: [
          {
            id: 'deploy-agent',
            name: 'Deploy agent',
            owner: { team: 'platform', contact: 'platform-oncall@example.com' },
            version: '1.0.0',
            environment: 'prod',
            scopes: { aws: ['ecs:UpdateService'] },
            selectors: { aws: { users: ['agent-deploy-*'] } },
          },
        ],
      },
    );
    app = await testApp(files, clock);
    await putCredentials(K1);
    return () => app.close();
  });

  it('one admin finding with both policies and their controls, audited, paged once', async () => {
    const summary = await evaluate('s1');
    const mine = (await app.findings.all()).filter((f) => f.credentialId === K1.id);
    const admin = mine.filter((f) => f.hits.some((h) => h.detector === 'admin'));
    expect(admin.map((f) => [f.fingerprint, f.policies])).toEqual([
      [fingerprint('agent-admin-equivalent', K1.id), ['agent-admin-equivalent', 'cis-aws-no-full-admin']],
    ]);
    expect(admin[0]!.controls).toMatchObject({ 'cis-aws-v5': ['1.15'], securityhub: ['IAM.1'], 'owasp-nhi': ['NHI5'] });
    expect(mine.filter((f) => f.hits.some((h) => h.detector === 'never-used'))).toHaveLength(1);
    expect(summary.transitions['finding.opened']).toBe(mine.length);

    const opened = (await auditEvents()).find(
      (e) => e.type === 'finding.opened' && e.subject === admin[0]!.fingerprint,
    );
    expect(opened?.data).toMatchObject({
      policies: ['agent-admin-equivalent', 'cis-aws-no-full-admin'],
      controls: {
        'agent-admin-equivalent': { 'owasp-nhi': ['NHI5'] },
        'cis-aws-no-full-admin': { 'cis-aws-v5': ['1.15'], 'cis-aws-v3': ['1.16'], securityhub: ['IAM.1'] },
      },
      principal: ARN,
      account: { id: ACCT, name: 'prod' },
    });

    const pages = (await app.alerts.planScan('s1')).filter((n) => n.mode === 'page');
    const adminPages = pages.filter((n) => n.items[0]!.detector === 'admin');
    expect(adminPages.map((n) => n.items[0]!.fingerprint)).toEqual([admin[0]!.fingerprint]);
    expect(adminPages[0]!.items[0]).toMatchObject({ principal: ARN, account: { id: ACCT, name: 'prod' } });
  });

  it('findings --json names the principal and the account by its configured name', async () => {
    const io = capture();
    expect(await run(['--config', files.configPath, 'findings', '--json'], io)).toBe(1);
    const list = JSON.parse(io.stdout.join('')) as Finding[];
    expect(list.length).toBeGreaterThan(0);
    for (const f of list)
      expect(f).toMatchObject({
        principal: ARN,
        principalName: 'agent-deploy-1',
        principalType: 'iam-user',
        source: ACCT,
        account: { id: ACCT, name: 'prod' },
        policies: expect.arrayContaining([f.policy]),
      });
  });

  it('the table fits 120 columns; findings show prints every word', async () => {
    let io = capture();
    expect(await run(['--config', files.configPath, 'findings'], io)).toBe(1);
    const text = io.stdout.join('\n');
    for (const line of text.split('\n')) expect(line.length).toBeLessThanOrEqual(120);
    expect(text).toMatch(/agent-admin-equivalent \+1/);
    expect(text).toMatch(/\+\d+ more/);
    expect(text).toContain('findings show');

    const scope = (await app.findings.all()).find((f) => f.policy === 'agent-beyond-declared-scope')!;
    io = capture();
    expect(await run(['--config', files.configPath, 'findings', 'show', scope.fingerprint], io)).toBe(0);
    const shown = io.stdout.join('\n');
    expect(shown).toContain(scope.hits[0]!.message); // the full WHY, uncut
    expect(shown).toContain(`principal   ${ARN}`);
    expect(shown).toContain(`holder      IAM user agent-deploy-1 in account prod (${ACCT})`);

    io = capture();
    expect(await run(['--config', files.configPath, 'findings', 'show', K1.id], io)).toBe(0);
    expect(io.stdout.join('\n')).toContain(
      `policies    agent-admin-equivalent, cis-aws-no-full-admin (risk aws-admin)`,
    );

    io = capture();
    expect(await run(['--config', files.configPath, 'findings', 'show', 'no-such-thing'], io)).toBe(2);
    expect(io.stderr[0]).toMatch(/no finding has fingerprint "no-such-thing"/);
  });

  it('findings stored by the previous version continue; the duplicate merges, its page resolves', async () => {
    const legacy = (policy: string, severity: Finding['severity']): Finding => ({
      fingerprint: fingerprint(policy, K2.id),
      policy,
      rules: [],
      credentialId: K2.id,
      kind: 'aws-access-key',
      agentId: 'deploy-agent',
      owner: K2.owner,
      severity,
      state: 'open',
      message: 'from before',
      hits: [],
      controls: {},
      firstSeen: '2026-11-01T00:00:00.000Z',
      lastSeen: '2026-11-30T00:00:00.000Z',
      resolvedAt: null,
      reopened: 0,
      exceptionId: null,
    });
    const before = [
      legacy('agent-admin-equivalent', 'critical'),
      legacy('cis-aws-no-full-admin', 'critical'),
      legacy('agent-key-never-used', 'medium'),
      legacy('cis-aws-no-keys-at-initial-setup', 'medium'),
    ];
    await putCredentials(K2);
    for (const f of before) await r.redis.hset(`${r.keyPrefix}:findings`, f.fingerprint, JSON.stringify(f));
    // Both admin findings paged under the previous version.
    for (const f of before.slice(0, 2)) await r.redis.hset(`${r.keyPrefix}:alerts:paged`, f.fingerprint, '["pd"]');

    const summary = await evaluate('s2');
    expect(summary.held).toBeUndefined();
    expect(summary.transitions).not.toHaveProperty('finding.resolved');
    expect(summary.transitions['finding.merged']).toBe(2);

    const all = new Map((await app.findings.all()).map((f) => [f.fingerprint, f]));
    expect(all.get(fingerprint('agent-admin-equivalent', K2.id))).toMatchObject({
      state: 'open',
      firstSeen: '2026-11-01T00:00:00.000Z',
      policies: ['agent-admin-equivalent', 'cis-aws-no-full-admin'],
      principal: `arn:aws:iam::${ACCT}:user/agent-deploy-2`,
    });
    expect(all.get(fingerprint('cis-aws-no-full-admin', K2.id))).toMatchObject({
      state: 'merged',
      mergedInto: fingerprint('agent-admin-equivalent', K2.id),
    });

    const notes = await app.alerts.planScan('s2');
    const onK2 = notes
      .flatMap((n) => n.items.map((i) => `${n.mode} ${i.action} ${i.fingerprint}`))
      .filter((s) => s.includes(K2.id));
    // No new page for the risk that was already paged; the duplicate's page is resolved.
    expect(onK2.filter((s) => s.includes('agent-admin-equivalent:'))).toEqual([]);
    expect(onK2).toContain(`page resolve ${fingerprint('cis-aws-no-full-admin', K2.id)}`);

    // `findings show` on the old fingerprint says where it went.
    const io = capture();
    expect(
      await run(['--config', files.configPath, 'findings', 'show', fingerprint('cis-aws-no-full-admin', K2.id)], io),
    ).toBe(0);
    expect(io.stdout.join('\n')).toContain(`merged into ${fingerprint('agent-admin-equivalent', K2.id)}`);
  });
});
