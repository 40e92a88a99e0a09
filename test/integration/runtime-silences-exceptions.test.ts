/**
 * Silences and exceptions created at runtime (the stores behind the HTTP API), through the real
 * composition root against real Redis: a stored silence mutes an alert item in the next plan and,
 * once lifted, mutes nothing (its expiry audited once); a stored exception suppresses a finding in
 * the next evaluation and, once lifted, the following evaluation re-opens it. Every create and
 * lift is audited with who did it; every refusal names its field or says why.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../src/audit/event.js';
import { DAY_MS, ManualClock } from '../../src/clock.js';
import { CwError, ErrorCodes } from '../../src/errors.js';
import type { App } from '../../src/main.js';
import type { Credential } from '../../src/model/credential.js';
import type { ScanUnit } from '../../src/sources/source.js';
import { registry } from '../fixtures/aws-estate.js';
import { testApp, writeTestFiles } from '../support/app.js';
import { ACCOUNT, accessKey } from '../support/credentials.js';
import { testKeyPrefix, useRedis } from '../support/redis.js';

const r = useRedis('runtime-rules');
const clock = new ManualClock('2026-11-01T00:00:00Z');
const UNIT: ScanUnit = { sourceType: 'aws', key: `aws/${ACCOUNT}`, label: ACCOUNT };
const inDays = (d: number) => new Date(clock.now().getTime() + d * DAY_MS).toISOString();
const keyId = (name: string) => `AKIA${name.toUpperCase().padEnd(16, '0')}`;
const credId = (name: string) => `aws/${ACCOUNT}/access-key/${keyId(name)}`;

const POLICIES = `
policies:
  - name: any-key-old
    description: every key (created 10 days ago) is older than 1 day
    resource: { kinds: [aws-access-key] }
    rules: [{ type: age-since-created, days: 1 }]
    severity: medium
exceptions:
  - id: file-exception
    selector: { agents: [nobody] }
    owner: security@example.com
    reason: kept in the policy file
    expires: "2026-12-31"
`;

async function appFor(label: string): Promise<App> {
  process.env.CW_T_RT_SLACK = 'http://127.0.0.1:9/services/T000/B000/unused';
  const files = writeTestFiles(
    {
      redis: { prefix: `${r.prefix}-${label}` },
      policies: ['policies.yaml'],
      alerts: {
        sinks: [{ name: 'slack', type: 'slack', webhookUrl: ['$', '{env:CW_T_RT_SLACK}'].join('') }],
        silences: [
          {
            id: 'config-silence',
            matchers: { agents: ['nobody'] },
            owner: 'platform@example.com',
            reason: 'kept in credwarden.yaml',
            expires: '2026-12-31',
          },
        ],
      },
    },
    registry,
  );
  writeFileSync(join(files.dir, 'policies.yaml'), POLICIES);
  return testApp(files, clock);
}

/** One complete scan of `names` (keys), evaluated; the scan's planned notifications. */
async function scan(app: App, id: string, names: string[]) {
  const credentials: Credential[] = names.map((n) => accessKey(keyId(n), { createdAt: '2026-10-22T00:00:00.000Z' }));
  const now = clock.now().toISOString();
  await app.scans.start(id, 'test', [UNIT]);
  await app.scans.recordUnit(id, {
    unit: UNIT,
    credentials,
    completePrefixes: [`aws/${ACCOUNT}/`],
    problems: [],
    apiCalls: { total: 1, attempts: 1, byOperation: {} },
    startedAt: now,
    finishedAt: now,
  });
  await app.scans.finalize(id);
  const evaluation = await app.findings.evaluateScan(id);
  const notifications = await app.alerts.planScan(id);
  return { evaluation, notifications };
}

const events = (app: App): Promise<AuditEvent[]> => app.audit.read(1);
const ofType = (evs: AuditEvent[], type: string, subject?: string) =>
  evs.filter((e) => e.type === type && (subject === undefined || e.subject === subject));

async function refusal(p: Promise<unknown>): Promise<CwError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(CwError);
  return err as CwError;
}

describe('runtime silences', () => {
  let app: App;
  beforeAll(async () => {
    clock.set('2026-11-01T00:00:00Z');
    app = await appFor('sil');
    return () => app.close();
  });

  it('a stored silence mutes the next plan; lifted, it mutes nothing and its expiry is audited once', async () => {
    const silence = await app.silences.create(
      {
        matchers: { credentials: [`aws/${ACCOUNT}/access-key/AKIAMUTED*`] },
        owner: 'oncall@example.com',
        reason: 'rotating the muted keys',
        expires: inDays(7),
      },
      'alice',
    );
    expect(silence).toMatchObject({ source: 'api', createdBy: 'alice', createdAt: clock.now().toISOString() });
    expect(silence.id).toMatch(/^sil-[0-9a-f]{12}$/);
    const listed = await app.silences.list();
    expect(listed.map((s) => [s.id, s.source, s.active])).toEqual([
      ['config-silence', 'config', true],
      [silence.id, 'api', true],
    ]);

    const s1 = await scan(app, 'sil-1', ['muted1']);
    expect(s1.evaluation.transitions).toMatchObject({ 'finding.opened': 1 });
    expect(s1.notifications.flatMap((n) => n.items)).toEqual([]);
    const silenced = ofType(await events(app), 'alert.silenced');
    expect(silenced).toHaveLength(1);
    expect(silenced[0]!.data).toMatchObject({ silence: silence.id, owner: 'oncall@example.com', scanId: 'sil-1' });

    clock.advance(60_000);
    const lifted = await app.silences.expire(silence.id, 'bob', 'rotation done');
    expect(lifted).toMatchObject({
      expires: clock.now().toISOString(),
      lifted: { by: 'bob', reason: 'rotation done', expires: silence.expires },
    });
    expect((await app.silences.list()).find((s) => s.id === silence.id)?.active).toBe(false);

    clock.advance(60_000);
    const s2 = await scan(app, 'sil-2', ['muted1', 'muted2']);
    expect(s2.notifications.flatMap((n) => n.items.map((i) => i.credentialId))).toEqual([credId('muted2')]);
    clock.advance(60_000);
    await scan(app, 'sil-3', ['muted1', 'muted2', 'muted3']);

    const all = await events(app);
    expect(ofType(all, 'alert.silenced')).toHaveLength(1);
    expect(ofType(all, 'silence.expired', silence.id)).toHaveLength(1);
    const [created] = ofType(all, 'silence.created', silence.id);
    expect(created).toMatchObject({ actor: 'alice', data: { id: silence.id, owner: 'oncall@example.com' } });
    expect(ofType(all, 'silence.lifted', silence.id).map((e) => [e.actor, e.data])).toEqual([
      ['bob', { id: silence.id, reason: 'rotation done' }],
    ]);
    expect((await app.audit.verify()).ok).toBe(true);
  });

  it('refuses bad input naming the field, and stores nothing', async () => {
    const base = { matchers: { agents: ['x'] }, owner: 'o@example.com', reason: 'r', expires: inDays(1) };
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ ...base, expires: inDays(-1) }, /^expires: must be in the future/],
      [{ ...base, expires: inDays(90.5) }, /^expires: must be at most 90 days ahead/],
      [{ ...base, expires: 'next tuesday' }, /^expires: must be an ISO 8601 date/],
      [{ ...base, owner: undefined }, /^owner: is required/],
      [{ ...base, reason: '' }, /^reason: /],
      [{ ...base, reason: undefined }, /^reason: is required/],
      [{ ...base, matchers: {} }, /^matchers: needs at least one of credentials, agents, policies, teams/],
      [{ ...base, matchers: undefined }, /^matchers: is required/],
      [{ ...base, matchers: { hosts: ['h'] } }, /^matchers\.hosts: is not a field/],
      [{ ...base, id: 'mine' }, /^id: is generated/],
    ];
    const before = await app.redis.hlen(`${testKeyPrefix(`${r.prefix}-sil`)}:silences`);
    for (const [input, message] of cases) {
      const err = await refusal(app.silences.create(input as never, 'alice'));
      expect([err.code, err.message]).toEqual([ErrorCodes.INPUT, expect.stringMatching(message)]);
      expect(err.exitCode).toBe(2);
    }
    expect((await app.silences.create({ ...base, expires: inDays(90) }, 'alice')).expires).toBe(inDays(90));
    expect(await app.redis.hlen(`${testKeyPrefix(`${r.prefix}-sil`)}:silences`)).toBe(before + 1);
  });

  it('expire: unknown is NOT_FOUND; a config silence and an expired one are refused', async () => {
    const unknown = await refusal(app.silences.expire('sil-000000000000', 'bob'));
    expect([unknown.code, unknown.exitCode]).toEqual([ErrorCodes.NOT_FOUND, 2]);
    const config = await refusal(app.silences.expire('config-silence', 'bob'));
    expect(config.code).toBe(ErrorCodes.GUARDRAIL);
    expect(config.message).toMatch(/config-silence is in credwarden\.yaml; remove it there/);
    const s = await app.silences.create(
      { matchers: { teams: ['t'] }, owner: 'o@example.com', reason: 'r', expires: inDays(1) },
      'alice',
    );
    await app.silences.expire(s.id, 'bob');
    const twice = await refusal(app.silences.expire(s.id, 'carol'));
    expect([twice.code, twice.message]).toEqual([ErrorCodes.GUARDRAIL, expect.stringMatching(/lifted by bob/)]);
    expect(ofType(await events(app), 'silence.lifted', s.id)).toHaveLength(1);
  });
});

describe('runtime exceptions', () => {
  let app: App;
  beforeAll(async () => {
    clock.set('2026-11-01T00:00:00Z');
    app = await appFor('exc');
    return () => app.close();
  });

  it('a stored exception suppresses the next evaluation; lifted, the following one re-opens it', async () => {
    const e0 = (await scan(app, 'exc-0', ['other'])).evaluation;
    expect(e0.transitions).toMatchObject({ 'finding.opened': 1 });
    const exc = await app.exceptions.create(
      {
        policy: 'any-key-old',
        selector: { credentials: [`aws/${ACCOUNT}/access-key/AKIAEXCUSED*`] },
        owner: 'security@example.com',
        reason: 'replaced next week',
        expires: '2026-11-30',
      },
      'alice',
    );
    expect(exc).toMatchObject({
      selector: { credentials: [`aws/${ACCOUNT}/access-key/AKIAEXCUSED*`], policies: ['any-key-old'] },
      expires: '2026-11-30T00:00:00.000Z',
      source: 'api',
      createdBy: 'alice',
    });
    expect(exc.id).toMatch(/^exc-[0-9a-f]{12}$/);
    expect((await app.exceptions.list()).map((e) => [e.id, e.source, e.active])).toEqual([
      ['file-exception', 'config', true],
      [exc.id, 'api', true],
    ]);

    clock.advance(60_000);
    const e1 = await scan(app, 'exc-1', ['other', 'excused1']);
    expect(e1.evaluation.transitions).toEqual({ 'finding.suppressed': 1 });
    const finding = () => app.findings.all().then((fs) => fs.find((f) => f.credentialId === credId('excused1')));
    expect(await finding()).toMatchObject({ state: 'suppressed', exceptionId: exc.id });
    expect(e1.notifications.flatMap((n) => n.items)).toEqual([]);

    clock.advance(60_000);
    await app.exceptions.expire(exc.id, 'bob', 'key replaced early');
    expect((await app.exceptions.list()).find((e) => e.id === exc.id)?.active).toBe(false);
    clock.advance(60_000);
    const e2 = await scan(app, 'exc-2', ['other', 'excused1']);
    expect(e2.evaluation.transitions).toEqual({ 'finding.unsuppressed': 1, 'exception.expired': 1 });
    expect(await finding()).toMatchObject({ state: 'open', exceptionId: null });
    clock.advance(60_000);
    const e3 = await scan(app, 'exc-3', ['other', 'excused1']);
    expect(e3.evaluation.transitions).toEqual({});

    const all = await events(app);
    expect(ofType(all, 'exception.created', exc.id).map((e) => e.actor)).toEqual(['alice']);
    expect(ofType(all, 'exception.lifted', exc.id).map((e) => [e.actor, e.data])).toEqual([
      ['bob', { id: exc.id, reason: 'key replaced early' }],
    ]);
    expect(ofType(all, 'exception.expired', exc.id)).toHaveLength(1);
    expect(ofType(all, 'finding.unsuppressed')[0]?.data).toMatchObject({ previousException: exc.id });
    expect((await app.audit.verify()).ok).toBe(true);
  });

  it('refuses bad input naming the field; expire refuses unknown, policy-file and expired ones', async () => {
    const base = { selector: { agents: ['x'] }, owner: 'o@example.com', reason: 'r', expires: inDays(1) };
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ ...base, expires: inDays(-1) }, /^expires: must be in the future/],
      [{ ...base, expires: inDays(91) }, /^expires: must be at most 90 days ahead/],
      [{ ...base, owner: undefined }, /^owner: is required/],
      [{ ...base, reason: undefined }, /^reason: is required/],
      [{ ...base, selector: {} }, /^selector: needs at least one of credentials, agents, policies, rules/],
      [{ ...base, selector: undefined }, /^selector: is required/],
      [{ ...base, policy: 'no-such-policy' }, /^policy: no loaded policy is named "no-such-policy"/],
      [{ ...base, policy: 'any-key-old', selector: { policies: ['p'] } }, /^policy: give policy or selector/],
    ];
    for (const [input, message] of cases) {
      const err = await refusal(app.exceptions.create(input as never, 'alice'));
      expect([err.code, err.message]).toEqual([ErrorCodes.INPUT, expect.stringMatching(message)]);
    }
    const unknown = await refusal(app.exceptions.expire('exc-000000000000', 'bob'));
    expect([unknown.code, unknown.exitCode]).toEqual([ErrorCodes.NOT_FOUND, 2]);
    const file = await refusal(app.exceptions.expire('file-exception', 'bob'));
    expect([file.code, file.message]).toEqual([
      ErrorCodes.GUARDRAIL,
      expect.stringMatching(/file-exception is in .*policies\.yaml; remove it there/),
    ]);
    const e = await app.exceptions.create(base, 'alice');
    await app.exceptions.expire(e.id, 'bob');
    expect((await refusal(app.exceptions.expire(e.id, 'bob'))).code).toBe(ErrorCodes.GUARDRAIL);
  });
});
