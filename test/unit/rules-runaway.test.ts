/**
 * Runaway-agent rules (detector "runaway"): credential-burst over one evaluation's inventory, and
 * agent-grant-surge against the previous scan, given as credentials or rebuilt from drift; and the
 * default paging class they feed.
 */
import { describe, expect, it } from 'vitest';
import { AlertsSchema, PAGING_CLASSES } from '../../src/alerts/config.js';
import { pagingClass } from '../../src/alerts/items.js';
import { computeDrift } from '../../src/inventory/drift.js';
import type { Credential, Grant } from '../../src/model/credential.js';
import type { Finding } from '../../src/policy/model.js';
import { agentGrantSurge } from '../../src/policy/rules/agent-grant-surge.rule.js';
import { credentialBurst } from '../../src/policy/rules/credential-burst.rule.js';
import { previousFromCredentials, previousFromDrift, runawayGroup } from '../../src/policy/runaway.js';
import type { RuleContext } from '../../src/policy/types.js';
import { ACCOUNT, accessKey, evaluate, NOW, ruleContext, vaultToken } from '../support/credentials.js';

const MIN = 60_000;
const minutesAgo = (m: number) => new Date(NOW.getTime() - m * MIN).toISOString();

/** `n` keys of one agent, each its own IAM user (moto's two-keys-per-user limit is why agents spread). */
const keys = (n: number, o: { agentId?: string | null; at?: (i: number) => string | null; tag?: string } = {}) =>
  Array.from({ length: n }, (_, i) =>
    accessKey(
      `AKIA${o.tag ?? 'BURST'}${String(i).padStart(4, '0')}`,
      {
        agentId: o.agentId === undefined ? 'swarm' : o.agentId,
        createdAt: o.at ? o.at(i) : minutesAgo(5 * i),
      },
      `svc-swarm-${o.tag ?? 'b'}-${i}`,
    ),
  );

const hitsOf = (creds: Credential[], params: unknown = {}, ctx = ruleContext({ credentials: creds })) =>
  creds.filter((c) => evaluate(credentialBurst, c, params, ctx).length > 0).map((c) => c.id);

describe(credentialBurst.name, () => {
  it('should default to 10 credentials in 60 minutes and reject counts under 2, empty windows and fractions', () => {
    expect(credentialBurst.schema.parse({})).toEqual({ count: 10, windowMinutes: 60 });
    for (const bad of [{ count: 1 }, { windowMinutes: 0 }, { count: 2.5 }, { kinds: [] }, { kinds: ['aws-key'] }])
      expect(credentialBurst.schema.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
  });

  it('should hit every credential of a burst of 10 within the hour, naming the agent, count, window and times', () => {
    const creds = keys(10);
    expect(hitsOf(creds)).toEqual(creds.map((c) => c.id));
    const [hit] = evaluate(credentialBurst, creds[3]!, {}, ruleContext({ credentials: creds }));
    expect(hit!.detector).toBe('runaway');
    expect(hit!.message).toBe(
      `agent swarm: 10 credentials created within 60 minutes (first ${minutesAgo(45)}, last ${minutesAgo(0)}; threshold 10)`,
    );
    expect(hit!.evidence).toEqual(
      expect.arrayContaining([
        { field: 'group', value: 'agent swarm' },
        { field: 'count', value: 10 },
      ]),
    );
  });

  it('should not hit 9 within the hour, nor 10 spread over 3 hours', () => {
    expect(hitsOf(keys(9))).toEqual([]);
    expect(hitsOf(keys(10, { at: (i) => minutesAgo(20 * i) }))).toEqual([]);
  });

  it.each([
    ['exactly windowMinutes before now (inclusive)', NOW.getTime() - 60 * MIN, true],
    ['a millisecond before the window', NOW.getTime() - 60 * MIN - 1, false],
    ['exactly now (inclusive)', NOW.getTime(), true],
    ['after now (an --as-of before it existed)', NOW.getTime() + 1, false],
  ])('should count a credential created %s: %s', (_label, at, counted) => {
    const edge = accessKey('AKIAEDGE', { agentId: 'swarm', createdAt: new Date(at).toISOString() }, 'svc-edge');
    const creds = [...keys(9, { at: (i) => minutesAgo(1 + i) }), edge];
    expect(hitsOf(creds).length).toBe(counted ? 10 : 0);
  });

  it('should not count credentials without createdAt, and never hit them', () => {
    const unknown = keys(3, { tag: 'NULL', at: () => null });
    const creds = [...keys(8), ...unknown];
    expect(hitsOf(creds)).toEqual([]);
    const more = [...keys(10), ...unknown];
    expect(hitsOf(more)).toEqual(keys(10).map((c) => c.id));
  });

  it('should group a credential with no agent by its principal within its source', () => {
    const tok = (i: number, o: Partial<Credential> = {}) =>
      vaultToken({
        id: `vault/main/root/token/acc-spawn-${i}`,
        agentId: null,
        owner: null,
        unregisteredAgent: true,
        principal: 'token-agent-spawner',
        createdAt: minutesAgo(3 * i),
        ...o,
      });
    const spawned = Array.from({ length: 10 }, (_, i) => tok(i));
    expect(hitsOf(spawned)).toEqual(spawned.map((c) => c.id));
    const [hit] = evaluate(credentialBurst, spawned[0]!, {}, ruleContext({ credentials: spawned }));
    expect(hit!.message).toMatch(
      /^principal token-agent-spawner in main\/root: 10 credentials created within 60 minutes/,
    );
    expect(hit!.evidence[0]).toEqual({ field: 'group', value: 'principal main/root token-agent-spawner' });

    // Nine of them plus one of the same display name in another namespace: two groups, no burst.
    const split = [...spawned.slice(0, 9), tok(9, { source: 'main/team-a' })];
    expect(hitsOf(split)).toEqual([]);
    // Nine plus one an agent claims: the agent's credential is in the agent's group, not the principal's.
    const claimed = [...spawned.slice(0, 9), tok(9, { agentId: 'spawner', unregisteredAgent: false })];
    expect(hitsOf(claimed)).toEqual([]);
  });

  it("should count an agent's credentials across principals and kinds", () => {
    const mixed = [
      ...keys(6),
      ...Array.from({ length: 4 }, (_, i) =>
        vaultToken({ id: `vault/main/root/token/acc-${i}`, agentId: 'swarm', createdAt: minutesAgo(i) }),
      ),
    ];
    expect(hitsOf(mixed)).toHaveLength(10);
    // `kinds` narrows what counts (and what can hit).
    expect(hitsOf(mixed, { kinds: ['aws-access-key'] })).toEqual([]);
    expect(hitsOf(mixed, { kinds: ['aws-access-key'], count: 6 })).toEqual(keys(6).map((c) => c.id));
  });

  it('should not hit an old credential of a group that is bursting now', () => {
    const old = accessKey('AKIAOLD', { agentId: 'swarm', createdAt: minutesAgo(600) }, 'svc-old');
    const creds = [...keys(10), old];
    expect(hitsOf(creds)).not.toContain(old.id);
    expect(hitsOf(creds)).toHaveLength(10);
  });

  it('should honour count and windowMinutes', () => {
    const creds = keys(4, { at: (i) => minutesAgo(10 * i) }); // 0, 10, 20, 30 minutes ago
    expect(hitsOf(creds, { count: 4, windowMinutes: 30 })).toHaveLength(4);
    expect(hitsOf(creds, { count: 4, windowMinutes: 29 })).toEqual([]);
    expect(hitsOf(creds, { count: 3, windowMinutes: 29 })).toHaveLength(3);
  });
});

// ---- agent-grant-surge ----

const s3 = (actions: string[], policy = 'work'): Grant => ({
  type: 'aws-statement',
  effect: 'Allow',
  actions,
  resources: ['arn:aws:s3:::bot-bucket/*'],
  provenance: { policy, attachment: 'inline' },
});
const acts = (n: number, from = 0) =>
  Array.from({ length: n }, (_, i) => `s3:Action${String(from + i).padStart(2, '0')}`);

const key = (id: string, grants: Grant[], o: Partial<Credential> = {}, user = 'svc-surge') =>
  accessKey(id, { agentId: 'surge', grants, ...o }, user);

function surgeCtx(current: Credential[], previous?: Credential[]): RuleContext {
  const ctx = ruleContext({ credentials: current });
  return previous ? { ...ctx, previous: previousFromCredentials(previous) } : ctx;
}

const surgeHits = (current: Credential[], previous: Credential[] | undefined, params: unknown = {}) => {
  const ctx = surgeCtx(current, previous);
  return current.filter((c) => evaluate(agentGrantSurge, c, params, ctx).length > 0).map((c) => c.id);
};

describe(agentGrantSurge.name, () => {
  const before = key('AKIASURGE1', [s3(acts(2))]);
  const after = key('AKIASURGE1', [s3(acts(2)), s3(acts(25, 2), 'more')]);

  it('should default to 20 new actions, with no ratio, and reject minAdded 0 and ratios of 1 or less', () => {
    expect(agentGrantSurge.schema.parse({})).toEqual({ minAdded: 20 });
    for (const bad of [{ minAdded: 0 }, { minRatio: 1 }, { minRatio: 0.5 }])
      expect(agentGrantSurge.schema.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
  });

  it('should hit an agent that gained 25 actions, with before → after and up to 10 of the new ones', () => {
    const ctx = surgeCtx([after], [before]);
    const [hit] = evaluate(agentGrantSurge, after, {}, ctx);
    expect(hit!.detector).toBe('runaway');
    expect(hit!.message).toBe(
      `agent surge: granted actions grew 2 → 27 (+25 new since the previous scan; threshold 20 new): ${acts(10, 2).join(', ')}, … (+15 more)`,
    );
    expect(hit!.evidence).toEqual(
      expect.arrayContaining([
        { field: 'group', value: 'agent surge' },
        { field: 'grantedActions.before', value: 2 },
        { field: 'grantedActions.after', value: 27 },
      ]),
    );
  });

  it.each([
    [5, false],
    [19, false],
    [20, true],
  ])('should judge %i new actions against the default 20 (hit: %s)', (n, hit) => {
    const grown = key('AKIASURGE1', [s3(acts(2)), s3(acts(n, 2), 'more')]);
    expect(surgeHits([grown], [before])).toEqual(hit ? [grown.id] : []);
  });

  it('should never hit without a previous scan, nor for a group the previous scan did not have', () => {
    expect(surgeHits([after], undefined)).toEqual([]);
    const other = key('AKIAOTHER', [s3(acts(2))], { agentId: 'someone-else' });
    expect(surgeHits([after], [other])).toEqual([]);
    expect(surgeHits([after], [])).toEqual([]);
  });

  it('with minRatio: hit when the union doubled, even under minAdded; from nothing only minAdded counts', () => {
    const four = key('AKIASURGE1', [s3(acts(4))]);
    const nine = key('AKIASURGE1', [s3(acts(9))]);
    expect(surgeHits([nine], [four])).toEqual([]);
    expect(surgeHits([nine], [four], { minRatio: 2 })).toEqual([nine.id]);
    expect(surgeHits([nine], [four], { minRatio: 2.5 })).toEqual([]);
    const empty = key('AKIASURGE1', []);
    expect(surgeHits([nine], [empty], { minRatio: 2 })).toEqual([]);
  });

  it('should hit only the credentials that brought new actions: a new one, not an unchanged sibling', () => {
    const sibling = key('AKIASIBLING', [s3(acts(2))], {}, 'svc-sibling');
    const newcomer = key('AKIANEW', [s3(acts(30, 50), 'new')], {}, 'svc-new');
    expect(surgeHits([sibling, newcomer], [sibling])).toEqual([newcomer.id]);
    const [hit] = evaluate(agentGrantSurge, newcomer, {}, surgeCtx([sibling, newcomer], [sibling]));
    expect(hit!.evidence.at(-1)!.note).toBe('this credential is new to the group');
  });

  it('should group a credential with no agent by principal', () => {
    const b = key('AKIAUNREG', [s3(acts(1))], { agentId: null, unregisteredAgent: true }, 'agent-rogue');
    const a = key('AKIAUNREG', [s3(acts(30))], { agentId: null, unregisteredAgent: true }, 'agent-rogue');
    const [hit] = evaluate(agentGrantSurge, a, {}, surgeCtx([a], [b]));
    expect(hit!.message).toMatch(
      new RegExp(`^principal arn:aws:iam::${ACCOUNT}:user/agent-rogue in ${ACCOUNT}: granted actions grew 1 → 30`),
    );
  });
});

describe('the previous scan rebuilt from drift', () => {
  const complete = [`aws/${ACCOUNT}/`];
  const view = (prev: Credential[], cur: Credential[]) =>
    previousFromDrift(cur, computeDrift(new Map(prev.map((c) => [c.id, c])), cur, complete).events);

  it('should know nothing on a first scan: every credential was added', () => {
    const v = view([], [key('AKIA1', [s3(acts(30))])]);
    expect(v.grantedActions('agent surge')).toBeNull();
    expect(v.credential(`aws/${ACCOUNT}/access-key/AKIA1`)).toBeNull();
  });

  it("should undo a grants change: current − drift's added + drift's removed", () => {
    const prev = key('AKIA1', [s3(['s3:Old', ...acts(2)])]);
    const cur = key('AKIA1', [s3(acts(27))]);
    const v = view([prev], [cur]);
    expect([...v.grantedActions('agent surge')!].sort()).toEqual(['s3:Old', ...acts(2)].sort());
    // The surge rule over it.
    const ctx = { ...ruleContext({ credentials: [cur] }), previous: v };
    expect(evaluate(agentGrantSurge, cur, {}, ctx)).toHaveLength(1);
  });

  it('should put a re-attributed credential under the agent it had, and a new one under none', () => {
    const moved = key('AKIA1', [s3(acts(3))], { agentId: 'old-owner' });
    const now = key('AKIA1', [s3(acts(3))], { agentId: 'surge' });
    const added = key('AKIA2', [s3(acts(25, 10))], {}, 'svc-2');
    const v = view([moved], [now, added]);
    expect(v.credential(now.id)).toEqual({ group: 'agent old-owner', actions: new Set(acts(3)) });
    expect(v.grantedActions('agent surge')).toBeNull();
    expect(v.grantedActions('agent old-owner')).toEqual(new Set(acts(3)));
  });

  it('should not know a group that lost a credential in the scan (drift keeps no grants for it)', () => {
    const stays = key('AKIA1', [s3(acts(2))]);
    const gone = key('AKIA2', [s3(acts(30, 10))], {}, 'svc-2');
    const replacement = key('AKIA3', [s3(acts(30, 10))], {}, 'svc-2');
    const v = view([stays, gone], [stays, replacement]);
    expect(v.grantedActions('agent surge')).toBeNull();
    const ctx = { ...ruleContext({ credentials: [stays, replacement] }), previous: v };
    expect(evaluate(agentGrantSurge, replacement, {}, ctx)).toEqual([]);
    // A removed credential with no agent marks its principal's group, by the source in its id.
    const lone = key('AKIA9', [], { agentId: null }, 'agent-lone');
    const v2 = view([stays, lone], [stays]);
    expect(v2.grantedActions(runawayGroup(lone))).toBeNull();
    expect(v2.grantedActions('agent surge')).toEqual(new Set(acts(2)));
  });
});

describe('paging', () => {
  const finding = (detector: string, severity: Finding['severity'] = 'high') =>
    ({ hits: [{ detector, message: '', evidence: [] }], severity }) as unknown as Finding;
  const item = { transition: 'opened' } as never;

  it('should page runaway findings by default, on active credentials only', () => {
    expect(PAGING_CLASSES).toContain('runaway');
    expect(AlertsSchema.parse({}).paging).toContain('runaway');
    expect(pagingClass(item, finding('runaway'), keys(1)[0])).toBe('runaway');
    expect(pagingClass(item, finding('runaway', 'low'), keys(1)[0])).toBe('runaway');
    expect(pagingClass(item, finding('runaway'), { ...keys(1)[0]!, status: 'inactive' })).toBeNull();
    expect(pagingClass(item, finding('two-keys'), keys(1)[0])).toBeNull();
  });
});
