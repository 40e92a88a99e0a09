/**
 * Short renewed TTLs are not a risk (issue 9 §2.5): `agent-vault-token-expiring` fired on every
 * agent token with a TTL under 3 days, so an agent doing the right thing (a short TTL, renewed) was
 * flagged. With `skipRenewable: true` (the pack sets it) expires-within counts only a credential that
 * cannot be renewed past the window: not renewable, or capped by its explicit max TTL inside it.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { Credential } from '../../src/model/credential.js';
import { evaluatePolicies } from '../../src/policy/evaluate.js';
import { loadPolicies } from '../../src/policy/load.js';
import type { Policy } from '../../src/policy/model.js';
import { defaultPacksDir } from '../../src/policy/packs.js';
import { expiresWithin } from '../../src/policy/rules/expires-within.rule.js';
import { agent, daysAgo, daysAhead, evaluate, NOW, secretId, vaultToken } from '../support/credentials.js';

const DAY = 86_400;
/** A service token the agent renews: 24 h TTL, renewable, no explicit max (what Vault hands out by default). */
const renewed = (o: Partial<Credential['attributes']> = {}, expiresAt = daysAhead(1)) =>
  vaultToken({
    createdAt: daysAgo(20),
    expiresAt,
    attributes: { renewable: true, ttlSeconds: DAY, creationTtlSeconds: DAY, explicitMaxTtlSeconds: 0, ...o },
  });

describe('expires-within, skipRenewable', () => {
  it.each<[string, Credential, string | null]>([
    ['a renewable 24 h token with no explicit max TTL', renewed(), null],
    ['a periodic token (renewable by nature)', renewed({ renewable: undefined, periodSeconds: DAY }), null],
    ['a renewable token whose explicit max TTL is a month out', renewed({ explicitMaxTtlSeconds: 50 * DAY }), null],
    ['a token that is not renewable', renewed({ renewable: false }), '; not renewable'],
    [
      'a batch token (never renewable)',
      renewed({ renewable: false, tokenType: 'batch', ttlSeconds: 3600 }),
      '; not renewable',
    ],
    [
      'a renewable token at its explicit max TTL',
      renewed({ explicitMaxTtlSeconds: 21 * DAY }),
      `; cannot be renewed past ${daysAhead(1)} (explicit max TTL ${21 * DAY} s)`,
    ],
    [
      'a renewable token whose explicit max TTL falls inside the window',
      renewed({ explicitMaxTtlSeconds: 22 * DAY }, daysAhead(0.5)),
      `; cannot be renewed past ${daysAhead(2)} (explicit max TTL ${22 * DAY} s)`,
    ],
    ['a secret ID (cannot be renewed)', secretId({ expiresAt: daysAhead(2) }), '; not renewable'],
  ])('%s', (_what, cred, why) => {
    const hits = evaluate(expiresWithin, cred, { days: 3, skipRenewable: true });
    if (why === null) expect(hits).toEqual([]);
    else {
      expect(hits).toHaveLength(1);
      expect(hits[0]!.message.endsWith(why)).toBe(true);
      expect(hits[0]!.evidence.map((e) => e.field).filter(Boolean)).toContain('expiresAt');
    }
  });

  it('should still count every expiry in the window without skipRenewable (the default)', () => {
    const [hit] = evaluate(expiresWithin, renewed(), { days: 3 });
    expect(hit?.message).toBe(`expires in 1 day (${daysAhead(1)}; threshold 3 days)`);
    expect(hit?.evidence.some((e) => e.note?.startsWith('renewable'))).toBe(true);
  });

  it('should show the TTL facts it judged by', () => {
    const [hit] = evaluate(expiresWithin, renewed({ explicitMaxTtlSeconds: 21 * DAY }), {
      days: 3,
      skipRenewable: true,
    });
    expect(hit?.evidence).toEqual(
      expect.arrayContaining([
        { field: 'attributes.renewable', value: true },
        { field: 'attributes.explicitMaxTtlSeconds', value: 21 * DAY },
        { field: 'attributes.creationTtlSeconds', value: DAY },
      ]),
    );
  });
});

describe('the agent-vault-token-expiring pack policy', () => {
  let policy: Policy;
  beforeAll(async () => {
    policy = (await loadPolicies([defaultPacksDir()])).policies.find((p) => p.name === 'agent-vault-token-expiring')!;
  });
  const hits = (cred: Credential) =>
    evaluatePolicies({
      credentials: [cred],
      policies: [policy],
      registry: {
        agents: [agent('invoice-bot')],
        unregistered: {
          aws: { tags: {}, namePatterns: [] },
          vault: { meta: [], displayNamePatterns: [], policyPatterns: [] },
        },
      },
      now: NOW,
    });

  it('should leave an agent token the agent keeps renewing alone', () => {
    expect(hits(renewed())).toEqual([]);
    expect(hits(renewed({ renewable: undefined, periodSeconds: DAY }))).toEqual([]);
  });

  it('should flag an agent token that will die inside the window whatever the agent does', () => {
    expect(hits(renewed({ renewable: false }))).toHaveLength(1);
    expect(hits(renewed({ explicitMaxTtlSeconds: 21 * DAY }))).toHaveLength(1);
  });
});
