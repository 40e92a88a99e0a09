import { describe, expect, it } from 'vitest';
import type { Credential } from '../../src/model/credential.js';
import { ageSinceCreated } from '../../src/policy/rules/age-since-created.rule.js';
import { expiresWithin } from '../../src/policy/rules/expires-within.rule.js';
import { inactivePresent } from '../../src/policy/rules/inactive-present.rule.js';
import { neverExpires } from '../../src/policy/rules/never-expires.rule.js';
import { neverUsed } from '../../src/policy/rules/never-used.rule.js';
import { rotationOverdue } from '../../src/policy/rules/rotation-overdue.rule.js';
import { unusedFor } from '../../src/policy/rules/unused-for.rule.js';
import { DAY_MS } from '../../src/policy/types.js';
import {
  accessKey,
  asOf,
  consolePassword,
  daysAgo,
  daysAhead,
  evaluate,
  NEVER_USED,
  NOW,
  rootKey,
  ruleContext,
  secretId,
  usedDaysAgo,
  vaultLease,
  vaultToken,
} from '../support/credentials.js';

const HOUR_MS = 3_600_000;
const at = (ms: number) => new Date(NOW.getTime() + ms).toISOString();

describe(ageSinceCreated.name, () => {
  const rule = ageSinceCreated;

  it.each<[string, Credential, boolean]>([
    ['exactly 30 days old', accessKey(undefined, { createdAt: daysAgo(30) }), false],
    [
      '30 days and 23 hours old (not yet a whole 31st day)',
      accessKey(undefined, { createdAt: daysAgo(30 + 23 / 24) }),
      false,
    ],
    ['31 days old', accessKey(undefined, { createdAt: daysAgo(31) }), true],
    ['created at an unknown time', accessKey(undefined, { createdAt: null }), false],
    ['created after the evaluation time', accessKey(undefined, { createdAt: daysAhead(2) }), false],
    ['a Vault token 400 days old', vaultToken({ createdAt: daysAgo(400) }), true],
  ])('should judge a credential %s against days: 30 (hit: %s)', (_label, cred, hit) => {
    expect(evaluate(rule, cred, { days: 30 })).toHaveLength(hit ? 1 : 0);
  });

  it('should give the age, the date and the threshold in the message and evidence', () => {
    const [hit] = evaluate(rule, accessKey(undefined, { createdAt: '2026-07-04T12:00:00.000Z' }), { days: 90 });
    expect(hit?.message).toBe('created 119 days ago (2026-07-04; threshold 90)');
    expect(hit?.detector).toBe('age');
    expect(hit?.evidence).toContainEqual({ field: 'createdAt', value: '2026-07-04T12:00:00.000Z' });
  });

  it('should hit at one --as-of time and not at an earlier one', () => {
    const cred = accessKey(undefined, { createdAt: daysAgo(40) });
    expect(evaluate(rule, cred, { days: 30 }, ruleContext({ now: NOW }))).toHaveLength(1);
    expect(evaluate(rule, cred, { days: 30 }, ruleContext({ now: asOf(20) }))).toHaveLength(0);
  });

  it.each([[{}], [{ days: -1 }], [{ days: 1.5 }], [{ days: 30, extra: 1 }]])('should reject params %j', (params) => {
    expect(rule.schema.safeParse(params).success).toBe(false);
  });
});

describe(unusedFor.name, () => {
  const rule = unusedFor;

  it.each<[string, Credential, unknown, boolean]>([
    [
      'last used exactly 45 days ago (default threshold)',
      accessKey(undefined, { lastUsed: usedDaysAgo(45) }),
      {},
      false,
    ],
    ['last used 45 days and 23 hours ago', accessKey(undefined, { lastUsed: usedDaysAgo(45 + 23 / 24) }), {}, false],
    ['last used 46 days ago (default threshold)', accessKey(undefined, { lastUsed: usedDaysAgo(46) }), {}, true],
    [
      'last used 60 days ago with days: 90 (IAM.8)',
      accessKey(undefined, { lastUsed: usedDaysAgo(60) }),
      { days: 90 },
      false,
    ],
    [
      'last used 91 days ago with days: 90 (IAM.8)',
      accessKey(undefined, { lastUsed: usedDaysAgo(91) }),
      { days: 90 },
      true,
    ],
    ['with an unknown last use', accessKey(undefined, { lastUsed: null, createdAt: daysAgo(400) }), {}, false],
    ['never used', accessKey(undefined, { lastUsed: NEVER_USED, createdAt: daysAgo(400) }), {}, false],
    ['a role last used 100 days ago', accessKey(undefined, { kind: 'aws-role', lastUsed: usedDaysAgo(100) }), {}, true],
    ['a Vault token never renewed (unknown)', vaultToken({ createdAt: daysAgo(100) }), {}, false],
  ])('should judge a credential %s (hit: %s)', (_label, cred, params, hit) => {
    expect(evaluate(rule, cred, params)).toHaveLength(hit ? 1 : 0);
  });

  it('should default to 45 days (CIS 1.12 v3 / Security Hub IAM.22)', () => {
    expect(rule.schema.parse({})).toEqual({ days: 45 });
  });

  it('should say how long, when, where and the threshold, and cite the source of the last-use data', () => {
    const cred = accessKey(undefined, { lastUsed: usedDaysAgo(63) });
    const [hit] = evaluate(rule, cred, { days: 45 });
    expect(hit?.message).toBe('unused for 63 days (last used 2026-08-30 via iam in us-east-1; threshold 45)');
    expect(hit?.detector).toBe('unused');
    expect(hit?.evidence).toEqual([
      { field: 'lastUsed.at', value: cred.lastUsed?.at },
      { field: 'lastUsed.service', value: 'iam' },
      { field: 'lastUsed.region', value: 'us-east-1' },
      { field: 'lastUsed.source', value: 'credential-report' },
      { field: 'lastUsed.asOf', value: NOW.toISOString() },
    ]);
  });

  it('should leave out the service and region when the source gives none (RoleLastUsed has no service)', () => {
    const cred = accessKey(undefined, { lastUsed: usedDaysAgo(50, { service: null, region: null }) });
    expect(evaluate(rule, cred)[0]?.message).toBe('unused for 50 days (last used 2026-09-12; threshold 45)');
  });

  it('should hit at one --as-of time and not at an earlier one', () => {
    const cred = accessKey(undefined, { lastUsed: usedDaysAgo(50) });
    expect(evaluate(rule, cred, {}, ruleContext({ now: NOW }))).toHaveLength(1);
    expect(evaluate(rule, cred, {}, ruleContext({ now: asOf(10) }))).toHaveLength(0);
  });

  it('should not hit when --as-of is before the last use', () => {
    expect(
      evaluate(rule, accessKey(undefined, { lastUsed: usedDaysAgo(5) }), {}, ruleContext({ now: asOf(60) })),
    ).toEqual([]);
  });
});

describe(neverUsed.name, () => {
  const rule = neverUsed;
  const key = (createdDaysAgo: number, o: Partial<Credential> = {}) =>
    accessKey(undefined, { createdAt: daysAgo(createdDaysAgo), lastUsed: NEVER_USED, ...o });

  it.each<[string, Credential, unknown, boolean]>([
    ['within the grace period (3 days old)', key(3), {}, false],
    ['exactly at the end of the grace period (7 days old)', key(7), {}, false],
    ['one day past the grace period (8 days old)', key(8), {}, true],
    ['60 days old with graceDays: 90', key(60), { graceDays: 90 }, false],
    ['a day old with graceDays: 0', key(1), { graceDays: 0 }, true],
    ['with an unknown last use', key(100, { lastUsed: null }), {}, false],
    ['used once', key(100, { lastUsed: usedDaysAgo(99) }), {}, false],
    ['inactive (activeOnly default true)', key(100, { status: 'inactive' }), {}, false],
    ['inactive with activeOnly: false', key(100, { status: 'inactive' }), { activeOnly: false }, true],
    ['with an unknown creation time', key(0, { createdAt: null }), {}, false],
    ['a role never assumed', key(30, { kind: 'aws-role' }), {}, true],
  ])('should judge a never-used credential %s (hit: %s)', (_label, cred, params, hit) => {
    expect(evaluate(rule, cred, params)).toHaveLength(hit ? 1 : 0);
  });

  it('should default to a 7-day grace and active credentials only', () => {
    expect(rule.schema.parse({})).toEqual({ graceDays: 7, activeOnly: true });
  });

  it('should catch the active, never-used, API-only key Prowler misses (no console password anywhere)', () => {
    const cred = key(60);
    const ctx = ruleContext({ credentials: [cred] });
    expect(ctx.inventory.samePrincipal(cred).some((c) => c.kind === 'aws-console-password')).toBe(false);
    const [hit] = evaluate(rule, cred, {}, ctx);
    expect(hit?.detector).toBe('never-used');
    expect(hit?.message).toBe(
      `never used in the 60 days since creation (created 2026-09-02; per credential-report as of ${NOW.toISOString()}; grace 7 days)`,
    );
    expect(hit?.evidence).toContainEqual({ field: 'lastUsed.at', value: null, note: 'never used' });
    expect(hit?.evidence).toContainEqual({ field: 'createdAt', value: cred.createdAt });
  });

  it('should hit at one --as-of time and not at an earlier one (still within grace then)', () => {
    const cred = key(10);
    expect(evaluate(rule, cred, {}, ruleContext({ now: NOW }))).toHaveLength(1);
    expect(evaluate(rule, cred, {}, ruleContext({ now: asOf(5) }))).toHaveLength(0);
  });
});

describe(rotationOverdue.name, () => {
  const rule = rotationOverdue;

  it('should apply only to long-lived secrets', () => {
    expect(rule.kinds).toEqual([
      'aws-access-key',
      'aws-console-password',
      'vault-approle-secret-id',
      'aws-root-access-key',
    ]);
  });

  it.each<[string, Credential, unknown, boolean]>([
    ['an access key exactly 90 days old', accessKey(undefined, { createdAt: daysAgo(90) }), {}, false],
    ['an access key 91 days old', accessKey(undefined, { createdAt: daysAgo(91) }), {}, true],
    ['an access key 31 days old with days: 30', accessKey(undefined, { createdAt: daysAgo(31) }), { days: 30 }, true],
    [
      'an inactive access key 200 days old',
      accessKey(undefined, { createdAt: daysAgo(200), status: 'inactive' }),
      {},
      false,
    ],
    [
      'an access key of unknown status 200 days old',
      accessKey(undefined, { createdAt: daysAgo(200), status: 'unknown' }),
      {},
      true,
    ],
    ['a console password changed 100 days ago', consolePassword({ createdAt: daysAgo(100) }), {}, true],
    ['a secret ID issued 100 days ago', secretId({ createdAt: daysAgo(100) }), {}, true],
    ['an active root key 100 days old', rootKey(1, { createdAt: daysAgo(100) }), {}, true],
    ['an empty root key slot', rootKey(2, { createdAt: null, status: 'inactive', lastUsed: NEVER_USED }), {}, false],
  ])('should judge %s (hit: %s)', (_label, cred, params, hit) => {
    expect(evaluate(rule, cred, params)).toHaveLength(hit ? 1 : 0);
  });

  it('should default to 90 days (CIS 1.14 v3 / Security Hub IAM.3)', () => {
    expect(rule.schema.parse({})).toEqual({ days: 90 });
  });

  it.each<[string, Credential, string]>([
    [
      'an access key',
      accessKey('AKIAOLD', { createdAt: '2026-07-04T00:00:00.000Z' }),
      'access key AKIAOLD not rotated for 120 days (created 2026-07-04; threshold 90)',
    ],
    [
      'a console password',
      consolePassword({ createdAt: '2026-07-04T00:00:00+00:00' }),
      'console password not changed for 120 days (password last changed 2026-07-04; threshold 90)',
    ],
    [
      'a secret ID',
      secretId({ createdAt: '2026-07-04T00:00:00.000Z' }),
      'secret ID sid-acc-1 not rotated for 120 days (issued 2026-07-04; threshold 90)',
    ],
    [
      'a root key',
      rootKey(2, { createdAt: '2026-07-04T00:00:00.000Z' }),
      'root access key (slot 2) not rotated for 120 days (last rotated 2026-07-04; threshold 90)',
    ],
  ])('should name what was not rotated for %s', (_label, cred, message) => {
    const [hit] = evaluate(rule, cred);
    expect(hit?.message).toBe(message);
    expect(hit?.detector).toBe('rotation');
    expect(hit?.evidence[0]).toMatchObject({ field: 'createdAt', value: cred.createdAt });
  });

  it('should hit at one --as-of time and not at an earlier one', () => {
    const cred = accessKey(undefined, { createdAt: daysAgo(100) });
    expect(evaluate(rule, cred, {}, ruleContext({ now: NOW }))).toHaveLength(1);
    expect(evaluate(rule, cred, {}, ruleContext({ now: asOf(15) }))).toHaveLength(0);
  });
});

describe(expiresWithin.name, () => {
  const rule = expiresWithin;

  it.each<[string, string | null, boolean]>([
    ['exactly 7 days from now', at(7 * DAY_MS), true],
    ['7 days and 1 ms from now', at(7 * DAY_MS + 1), false],
    ['8 days from now', at(8 * DAY_MS), false],
    ['in 1 ms', at(1), true],
    ['exactly now (already expired)', at(0), false],
    ['an hour ago', at(-HOUR_MS), false],
    ['never (expiresAt null)', null, false],
  ])('should judge a token expiring %s against days: 7 (hit: %s)', (_label, expiresAt, hit) => {
    expect(evaluate(rule, vaultToken({ expiresAt }), { days: 7 })).toHaveLength(hit ? 1 : 0);
  });

  it.each<[number, string]>([
    [3 * DAY_MS + 4 * HOUR_MS, 'expires in 3 days 4 hours'],
    [DAY_MS, 'expires in 1 day'],
    [12 * HOUR_MS, 'expires in 12 hours'],
    [HOUR_MS, 'expires in 1 hour'],
    [20 * 60_000, 'expires in less than an hour'],
  ])('should say how long is left (%d ms)', (left, prefix) => {
    const cred = secretId({ expiresAt: at(left) });
    expect(evaluate(rule, cred, { days: 7 })[0]?.message).toBe(`${prefix} (${at(left)}; threshold 7 days)`);
  });

  it('should mark a renewable expiry as not a hard deadline', () => {
    const [hit] = evaluate(rule, vaultToken({ attributes: { periodSeconds: 86_400 } }), { days: 7 });
    expect(hit?.detector).toBe('expiry');
    expect(hit?.evidence.some((e) => e.note?.startsWith('renewable'))).toBe(true);
    const [plain] = evaluate(rule, secretId({ expiresAt: daysAhead(2) }), { days: 7 });
    expect(plain?.evidence.some((e) => e.note?.startsWith('renewable'))).toBe(false);
  });

  it('should hit at one --as-of time and not at an earlier one', () => {
    const cred = vaultLease({ expiresAt: daysAhead(10) });
    expect(evaluate(rule, cred, { days: 7 }, ruleContext({ now: new Date(NOW.getTime() + 4 * DAY_MS) }))).toHaveLength(
      1,
    );
    expect(evaluate(rule, cred, { days: 7 }, ruleContext({ now: NOW }))).toHaveLength(0);
  });

  it.each([[{}], [{ days: 0 }]])('should reject params %j (days is required and positive)', (params) => {
    expect(rule.schema.safeParse(params).success).toBe(false);
  });
});

describe(neverExpires.name, () => {
  const rule = neverExpires;

  it('should apply to Vault tokens, secret IDs and leases', () => {
    expect(rule.kinds).toEqual(['vault-token', 'vault-approle-secret-id', 'vault-lease']);
  });

  it.each<[string, Credential, string | null]>([
    ['a token with ttl 0', vaultToken({ expiresAt: null, attributes: { ttlSeconds: 0 } }), 'ttl-0'],
    ['a root token', vaultToken({ expiresAt: null, attributes: { ttlSeconds: 0, policies: ['root'] } }), 'ttl-0'],
    [
      'a periodic token with no explicit max (null)',
      vaultToken({ attributes: { periodSeconds: 86_400, explicitMaxTtlSeconds: null } }),
      'periodic-no-max',
    ],
    [
      'a periodic token with explicit max 0',
      vaultToken({ attributes: { periodSeconds: 3_600, explicitMaxTtlSeconds: 0 } }),
      'periodic-no-max',
    ],
    [
      'a periodic token with an explicit max',
      vaultToken({ attributes: { periodSeconds: 86_400, explicitMaxTtlSeconds: 2_592_000 } }),
      null,
    ],
    ['a token with period 0 and a TTL', vaultToken({ attributes: { periodSeconds: 0 } }), null],
    ['an ordinary token with a TTL', vaultToken(), null],
    ['a secret ID without TTL', secretId({ expiresAt: null }), 'secret-id-no-ttl'],
    ['a secret ID with a TTL', secretId(), null],
    ['a lease without expiry', vaultLease({ expiresAt: null }), 'lease-no-ttl'],
    ['a lease with an expiry', vaultLease(), null],
  ])('should judge %s (hit key: %s)', (_label, cred, key) => {
    const hits = evaluate(rule, cred);
    expect(hits.map((h) => h.key)).toEqual(key ? [key] : []);
    for (const h of hits) expect(h.detector).toBe('never-expires');
  });

  it.each<[string, Credential, string, string]>([
    ['ttl 0', vaultToken({ expiresAt: null }), 'token never expires (ttl 0, no expire_time)', 'ttl 0'],
    [
      'a root token',
      vaultToken({ expiresAt: null, attributes: { policies: ['root'] } }),
      'root token never expires (ttl 0, no expire_time)',
      'ttl 0',
    ],
    [
      'a periodic token',
      vaultToken({ attributes: { periodSeconds: 86_400 } }),
      'periodic token (period 86400s) with no explicit max TTL renews forever',
      'periodic with no max',
    ],
    [
      'a secret ID with unlimited uses',
      secretId({ expiresAt: null }),
      'secret ID never expires (no TTL) and has unlimited uses',
      'secret ID without TTL',
    ],
    [
      'a secret ID with 3 uses left',
      secretId({ expiresAt: null, attributes: { remainingUses: 3 } }),
      'secret ID never expires (no TTL), though only 3 uses remain',
      'secret ID without TTL',
    ],
  ])('should say which shape for %s', (_label, cred, message, note) => {
    const [hit] = evaluate(rule, cred);
    expect(hit?.message).toBe(message);
    expect(hit?.evidence.map((e) => e.note)).toContain(note);
  });

  it('should reject any parameter', () => {
    expect(rule.schema.safeParse({ days: 1 }).success).toBe(false);
  });
});

describe(inactivePresent.name, () => {
  const rule = inactivePresent;
  const inactive = (createdAt: string | null) => accessKey(undefined, { status: 'inactive', createdAt });

  it.each<[string, Credential, unknown, boolean]>([
    ['an active key', accessKey(undefined, { createdAt: daysAgo(400) }), {}, false],
    ['an inactive key (default days: 0)', inactive(daysAgo(1)), {}, true],
    ['an inactive key with no creation time (default days: 0)', inactive(null), {}, true],
    ['an inactive key exactly 30 days old with days: 30', inactive(daysAgo(30)), { days: 30 }, false],
    ['an inactive key 31 days old with days: 30', inactive(daysAgo(31)), { days: 30 }, true],
    ['an inactive key with no creation time and days: 30', inactive(null), { days: 30 }, false],
    ['an inactive key created after --as-of', inactive(daysAhead(1)), {}, false],
    ['an expired token', vaultToken({ status: 'expired' }), {}, false],
  ])('should judge %s (hit: %s)', (_label, cred, params, hit) => {
    expect(evaluate(rule, cred, params)).toHaveLength(hit ? 1 : 0);
  });

  it.each<[unknown, string]>([
    [{}, 'inactive but still present, created 40 days ago (2026-09-22): it can be re-activated'],
    [
      { days: 30 },
      'inactive but still present, created 40 days ago (2026-09-22; threshold 30): it can be re-activated',
    ],
  ])('should say how old it is (%j)', (params, message) => {
    const [hit] = evaluate(rule, inactive(daysAgo(40)), params);
    expect(hit?.message).toBe(message);
    expect(hit?.detector).toBe('inactive');
    expect(hit?.evidence).toContainEqual({ field: 'status', value: 'inactive' });
  });

  it('should hit at one --as-of time and not at an earlier one', () => {
    const cred = inactive(daysAgo(40));
    expect(evaluate(rule, cred, { days: 30 }, ruleContext({ now: NOW }))).toHaveLength(1);
    expect(evaluate(rule, cred, { days: 30 }, ruleContext({ now: asOf(20) }))).toHaveLength(0);
  });
});
