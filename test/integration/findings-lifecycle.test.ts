/**
 * Findings across scans, end to end (moto → inventory → evaluation → Redis → audit): a finding
 * opens, resolves and re-opens over three scans, each transition audited exactly once even when
 * the evaluation job is replayed; an exception suppresses, then expires (audited once); `--as-of`
 * answers "what will be overdue then" without storing anything; scores explain themselves.
 */

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UpdateAccessKeyCommand } from '@aws-sdk/client-iam';
import { beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import type { App } from '../../src/main.js';
import { fingerprint } from '../../src/policy/evaluate.js';
import { ACCOUNT_A, registry, type SeededEstate, seedEstate } from '../fixtures/aws-estate.js';
import { testApp, useMotoCredentialsEnv, writeTestFiles } from '../support/app.js';
import { seederFor } from '../support/aws-seed.js';
import { useMoto } from '../support/moto.js';
import { useRedis } from '../support/redis.js';

const moto = useMoto();
const r = useRedis('findings');
let estate: SeededEstate;
// moto stamps creation with the real time, so the test's clock starts just after it.
const START = Date.now() + 3_600_000;
const clock = new ManualClock(START);
const EXCEPTION_EXPIRES = new Date(START + 2 * 86_400_000).toISOString();

const POLICIES = `
policies:
  - name: key-inactive-present
    description: A deactivated key that still exists
    resource: { kinds: [aws-access-key] }
    rules:
      - type: inactive-present
    severity: low
  - name: agent-key-old
    description: An agent access key older than 30 days
    resource: { kinds: [aws-access-key], agents: ["*"] }
    rules:
      - type: age-since-created
        days: 30
    severity: medium
  - name: unregistered
    description: Agent-looking credential nobody registered
    rules:
      - type: unregistered-agent
    severity: high
exceptions:
  - id: scraper-migration
    selector: { policies: [unregistered], credentials: ["aws/${ACCOUNT_A}/access-key/*"] }
    owner: security@example.com
    reason: scraper is being registered this sprint
    expires: "${EXCEPTION_EXPIRES}"
`;

async function scan(app: App, id: string) {
  await app.orchestrator.runInProcess(id, 'test', app.orchestrator.units(), 2);
  return app.findings.evaluateScan(id);
}

describe('findings across scans', () => {
  let app: App;
  let dir: string;
  beforeAll(async () => {
    useMotoCredentialsEnv();
    estate = await seedEstate(moto.endpoint);
    const files = writeTestFiles(
      {
        redis: { prefix: r.prefix },
        aws: { endpoint: moto.endpoint, accounts: [{ id: ACCOUNT_A, roleArn: `arn:aws:iam::${ACCOUNT_A}:role/r` }] },
      },
      registry,
    );
    dir = files.dir;
    writeFileSync(join(dir, 'policies.yaml'), POLICIES);
    writeFileSync(
      files.configPath,
      `${(await import('node:fs')).readFileSync(files.configPath, 'utf8')}policies: [policies.yaml]\n`,
    );
    app = await testApp(files, clock);
    return () => app.close();
  });

  it('opens, resolves and re-opens a finding across three scans, auditing each transition once', async () => {
    const inactive = estate.keys['svc-invoice-bot']![1]!;
    const fp = fingerprint('key-inactive-present', `aws/${ACCOUNT_A}/access-key/${inactive.accessKeyId}`);
    const s1 = await scan(app, 'f-1');
    expect(s1.transitions['finding.opened']).toBeGreaterThanOrEqual(1);
    expect((await app.findings.all()).find((f) => f.fingerprint === fp)).toMatchObject({
      state: 'open',
      credentialId: `aws/${ACCOUNT_A}/access-key/${inactive.accessKeyId}`,
    });

    const iam = (await seederFor(moto.endpoint, ACCOUNT_A)).iam;
    await iam.send(
      new UpdateAccessKeyCommand({ UserName: 'svc-invoice-bot', AccessKeyId: inactive.accessKeyId, Status: 'Active' }),
    );
    clock.advance(3_600_000);
    const s2 = await scan(app, 'f-2');
    expect(s2.transitions).toMatchObject({ 'finding.resolved': 1 });
    expect((await app.findings.all()).find((f) => f.fingerprint === fp)?.state).toBe('resolved');

    await iam.send(
      new UpdateAccessKeyCommand({
        UserName: 'svc-invoice-bot',
        AccessKeyId: inactive.accessKeyId,
        Status: 'Inactive',
      }),
    );
    iam.destroy();
    clock.advance(3_600_000);
    const s3 = await scan(app, 'f-3');
    expect(s3.transitions).toMatchObject({ 'finding.reopened': 1 });
    expect((await app.findings.all()).find((f) => f.fingerprint === fp)).toMatchObject({ state: 'open', reopened: 1 });

    // A replayed evaluation job changes nothing and audits nothing twice.
    const before = (await app.audit.head()).seq;
    await app.findings.evaluateScan('f-3');
    expect((await app.audit.head()).seq).toBe(before);
    const mine = (await app.audit.read(1)).filter((e) => e.subject === fp).map((e) => e.type);
    expect(mine).toEqual(['finding.opened', 'finding.resolved', 'finding.reopened']);
    expect((await app.audit.verify()).ok).toBe(true);
  });

  it('suppresses under an exception, then audits its expiry once and re-opens the finding', async () => {
    const sup = (await app.findings.all()).find(
      (f) => f.policy === 'unregistered' && f.credentialId.includes('/access-key/'),
    )!;
    expect(sup).toMatchObject({ state: 'suppressed', exceptionId: 'scraper-migration' });
    clock.set(START + 3 * 86_400_000);
    const s = await scan(app, 'f-4');
    expect(s.transitions).toMatchObject({ 'finding.unsuppressed': 1, 'exception.expired': 1 });
    clock.advance(3_600_000);
    const again = await scan(app, 'f-5');
    expect(again.transitions['exception.expired'] ?? 0).toBe(0);
    const expired = (await app.audit.read(1)).filter((e) => e.type === 'exception.expired');
    expect(expired).toHaveLength(1);
    expect(expired[0]).toMatchObject({ subject: 'scraper-migration', data: { owner: 'security@example.com' } });
  });

  it('--as-of answers what will be overdue later, without storing anything', async () => {
    const before = await r.redis.hlen(`${r.keyPrefix}:findings`);
    const later = await app.findings.preview(new Date(START + 60 * 86_400_000));
    const old = later.result.changed.filter((f) => f.policy === 'agent-key-old');
    expect(old.length).toBeGreaterThan(0);
    expect(old.every((f) => f.agentId === 'invoice-bot' || f.agentId === 'etl-bot')).toBe(true);
    expect((await app.findings.all()).some((f) => f.policy === 'agent-key-old')).toBe(false);
    expect(await r.redis.hlen(`${r.keyPrefix}:findings`)).toBe(before);
  });

  it('scores credentials and agents with their explanations', async () => {
    const s = await app.findings.agentScore('invoice-bot');
    expect(s).not.toBeNull();
    expect(s!.score).toBeGreaterThan(0);
    expect(s!.top[0]).toMatchObject({ detector: expect.any(String), message: expect.any(String) });
  });
});
