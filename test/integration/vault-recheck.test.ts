/**
 * VaultSource.recheck() against a REAL OpenBao (`bao server -dev`) seeded with the estate of
 * vault-openbao.test.ts (test/fixtures/vault-estate.ts seedOpenBao), plus an AppRole mounted at a
 * path with a slash (`ci/approle`). Requests go node-vault → a recording proxy → OpenBao, so the
 * exact requests of each recheck are visible.
 *
 * Asserted: every credential a scan finds rechecks `present` and equal to the scan record (bar
 * observedAt, lastUsed.asOf and the TTL countdown); revocations and deletions made in OpenBao read
 * `absent` with a reason naming what is gone; a widened policy shows in the rechecked grants; a
 * child-namespace token; ids this source cannot recheck throw INPUT before any request; a scanner
 * without `update` on lookup-accessor reads `unknown` naming the capability; exact API call counts.
 * Seals, chosen 5xx, hangs and AWS secrets-engine roles are in vault-recheck-double.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/main.js';
import type { Credential, VaultPathGrant } from '../../src/model/credential.js';
import type { RecheckContext, RecheckResult, Source } from '../../src/sources/source.js';
import { OPENBAO_SCANNER_POLICY, registry, type SeededOpenBao, seedOpenBao } from '../fixtures/vault-estate.js';
import { testApp, writeTestFiles } from '../support/app.js';
import { postgresReachable, useOpenBao } from '../support/openbao.js';
import { type RecordingProxy, startRecordingProxy } from '../support/recording-proxy.js';
import { useRedis } from '../support/redis.js';

/** A config-file env reference (not a template string). */
const ENV_REF = ['$', '{env:CW_TEST_VAULT_TOKEN}'].join('');
const r = useRedis('vault-recheck');
const bao = useOpenBao();
let proxy: RecordingProxy;
let seeded: SeededOpenBao;
let app: App;
let vault: Source;
let ctx: RecheckContext;

/** The scanner policy, plus the AppRole mounted at `ci/approle` (as written and one namespace down). */
const CI_RULES: [string, string][] = [
  ['auth/ci/approle/role', '"list"'],
  ['auth/ci/approle/role/*', '"read", "list"'],
  ['auth/ci/approle/role/+/secret-id-accessor/lookup', '"update"'],
];
const SCANNER = [
  OPENBAO_SCANNER_POLICY,
  ...CI_RULES.flatMap(([p, c]) => [`path "${p}" { capabilities = [${c}] }`, `path "+/${p}" { capabilities = [${c}] }`]),
].join('\n');

const tokenId = (accessor: string, ns = 'root') => `vault/main/${ns}/token/${accessor}`;
const ROLE_ID = 'vault/main/root/approle/approle/deploy-agent';
const sidId = (accessor: string, role = 'deploy-agent', mount = 'approle') =>
  `vault/main/root/approle/${mount}/${role}/secret-id/${accessor}`;
const leaseId = (lease: string) => `vault/main/root/lease/${lease}`;

const recheck = (id: string) => vault.recheck(id, ctx);
const present = async (id: string): Promise<Credential> => {
  const res = await recheck(id);
  if (res.state !== 'present') throw new Error(`${id}: expected present, got ${JSON.stringify(res)}`);
  return res.credential;
};
const paths = () => proxy.log.map((e) => `${e.method} ${e.path}${e.namespace ? ` @${e.namespace}` : ''}`);

/** A record without what moves on its own between two reads: observedAt, lastUsed.asOf, the TTL countdown. */
function stable(c: Credential) {
  const { observedAt: _o, ...rest } = c;
  const attributes = { ...c.attributes };
  if (typeof attributes.ttlSeconds === 'number') attributes.ttlSeconds = '<ttl>';
  return { ...rest, attributes, lastUsed: c.lastUsed ? { ...c.lastUsed, asOf: '<asOf>' } : null };
}

describe('Vault recheck against OpenBao', () => {
  let scanned: Credential[];
  let scannedAt: number;
  beforeAll(async () => {
    if (!(await postgresReachable())) {
      throw new Error('PostgreSQL is not reachable at 127.0.0.1:5432 (trust auth): OpenBao mints leases against it');
    }
    seeded = await seedOpenBao(bao, { scannerPolicy: SCANNER });
    await bao.enableAppRole({ path: 'ci/approle' });
    await bao.call('POST', 'auth/ci/approle/role/builder', { token_policies: ['deploy'], token_ttl: 600 });
    await bao.call('POST', 'auth/ci/approle/role/builder/secret-id', {});
    proxy = await startRecordingProxy(bao.address);
    process.env.CW_TEST_VAULT_TOKEN = seeded.scanner.token;
    const files = writeTestFiles(
      {
        redis: { prefix: r.prefix },
        vault: [
          {
            name: 'main',
            address: proxy.address,
            token: ENV_REF,
            namespaces: ['root', 'team-a', 'team-b'],
            approleMounts: ['approle', '/ci/approle/'],
            leasePrefixes: ['database/creds/'],
            awsMounts: [],
            requestTimeoutMs: 5000,
          },
        ],
      },
      registry,
    );
    app = await testApp(files);
    vault = app.sources.find((s) => s.type === 'vault')!;
    ctx = { clock: app.clock, log: app.log, registry: app.registry };
    const summary = await app.orchestrator.runInProcess(
      'rc-1',
      'test',
      app.orchestrator.units({ sourceType: 'vault' }),
      2,
    );
    expect(summary.status).toBe('complete');
    scanned = await app.scans.observed('rc-1');
    scannedAt = Date.now();
  });
  afterAll(async () => {
    await app?.close();
    await proxy?.close();
  });

  it('every credential the scan found rechecks present and equal to its scan record', async () => {
    const kinds = new Set(scanned.map((c) => c.kind));
    expect([...kinds].sort()).toEqual(['vault-approle-role', 'vault-approle-secret-id', 'vault-lease', 'vault-token']);
    expect(scanned.map((c) => c.id)).toContain('vault/main/root/approle/ci/approle/builder');
    expect(scanned.filter((c) => c.source === 'main/team-b')).toHaveLength(1);
    proxy.clear();
    let calls = 0;
    for (const c of scanned) {
      const res = await recheck(c.id);
      expect(res.state, c.id).toBe('present');
      if (res.state !== 'present') continue;
      calls += res.apiCalls.total;
      expect(stable(res.credential), c.id).toEqual(stable(c));
      // The TTL only counts down between the scan and the recheck.
      if (typeof c.attributes.ttlSeconds === 'number' && c.attributes.ttlSeconds > 0) {
        const now = res.credential.attributes.ttlSeconds as number;
        expect(now, c.id).toBeLessThanOrEqual(c.attributes.ttlSeconds);
        expect(now, c.id).toBeGreaterThanOrEqual(
          c.attributes.ttlSeconds - Math.ceil((Date.now() - scannedAt) / 1000) - 1,
        );
      }
      expect(Date.parse(res.checkedAt)).toBeGreaterThanOrEqual(Date.parse(c.observedAt));
    }
    // The attribution came along: agents, owners, the unregistered flag, `self`.
    const byId = new Map(scanned.map((c) => [c.id, c]));
    expect(byId.get(tokenId(seeded.invoice.accessor))).toMatchObject({
      agentId: 'invoice-bot',
      owner: { team: 'finance-eng' },
    });
    expect(byId.get(tokenId(seeded.rogue.accessor))).toMatchObject({ agentId: null, unregisteredAgent: true });
    expect(byId.get(tokenId(seeded.scanner.accessor))?.attributes.self).toBe(true);
    expect(byId.get(sidId(seeded.secretIds.never))?.agentId).toBe('deploy-agent');
    // Every request went to OpenBao and was counted, and only GET and POST were sent.
    expect(proxy.log.length).toBe(calls);
    expect(proxy.log.every((e) => e.method === 'GET' || e.method === 'POST')).toBe(true);
    expect(proxy.log.some((e) => e.list !== null)).toBe(false);
  });

  it('makes exactly the requests one credential needs, counted per kind', async () => {
    const lookup = 'POST auth/token/lookup-accessor';
    const self = 'GET auth/token/lookup-self';
    const role = 'GET auth/approle/role/deploy-agent';
    const policy = (name: string) => `GET sys/policies/acl/${name}`;
    const cases: [string, 'present' | 'absent', Record<string, number>, string[]][] = [
      [
        tokenId(seeded.invoice.accessor),
        'present',
        { 'vault:lookup-accessor': 1, 'vault:read-policy': 2, 'vault:lookup-self': 1 },
        [lookup, policy('agent-invoice'), policy('default'), self],
      ],
      // The root policy has no text to read.
      [tokenId(bao.rootAccessor), 'present', { 'vault:lookup-accessor': 1, 'vault:lookup-self': 1 }, [lookup, self]],
      [ROLE_ID, 'present', { 'vault:read-approle-role': 1, 'vault:read-policy': 1 }, [role, policy('deploy')]],
      [
        sidId(seeded.secretIds.limited),
        'present',
        { 'vault:read-approle-role': 1, 'vault:lookup-secret-id': 1, 'vault:read-policy': 1 },
        [role, 'POST auth/approle/role/deploy-agent/secret-id-accessor/lookup', policy('deploy')],
      ],
      [leaseId(seeded.leases[1]!), 'present', { 'vault:lookup-lease': 1 }, ['POST sys/leases/lookup']],
      [
        tokenId(seeded.teamA.accessor, 'team-a'),
        'present',
        { 'vault:lookup-accessor': 1, 'vault:read-policy': 2, 'vault:lookup-self': 1 },
        [lookup, policy('bot'), policy('default'), self].map((x) => `${x} @team-a/`),
      ],
      // Absent stops at the first answer that says so.
      [tokenId('aNonexistentAccessor0123'), 'absent', { 'vault:lookup-accessor': 1 }, [lookup]],
    ];
    for (const [id, state, byOperation, requests] of cases) {
      proxy.clear();
      const res = await recheck(id);
      const total = requests.length;
      expect({ state: res.state, apiCalls: res.apiCalls, requests: paths() }, id).toEqual({
        state,
        apiCalls: { total, attempts: total, byOperation },
        requests,
      });
    }
  });

  it('a policy widened between scan and recheck shows in the grants; a deleted one is named as a scan names it', async () => {
    const before = scanned.find((c) => c.id === tokenId(seeded.invoice.accessor))!;
    const grant = (c: Credential) => (c.grants as VaultPathGrant[]).map((g) => `${g.path} ${g.capabilities.join(',')}`);
    expect(grant(before)).not.toContain('secret/data/agents/* read,list');
    const original = 'path "secret/data/agents/invoice/*" { capabilities = ["read"] }';
    await bao.call('PUT', 'sys/policies/acl/agent-invoice', {
      policy: `${original}\npath "secret/data/agents/*" { capabilities = ["read", "list"] }`,
    });
    try {
      const after = await present(tokenId(seeded.invoice.accessor));
      expect(grant(after)).toContain('secret/data/agents/* read,list');
      expect((after.grants as VaultPathGrant[]).find((g) => g.path === 'secret/data/agents/*')?.provenance).toEqual({
        policy: 'agent-invoice',
        attachment: 'vault-policy',
      });
    } finally {
      await bao.call('PUT', 'sys/policies/acl/agent-invoice', { policy: original });
    }

    await bao.call('PUT', 'sys/policies/acl/short-lived', { policy: 'path "kv/tmp/*" { capabilities = ["read"] }' });
    const res = await bao.call('POST', 'auth/token/create', { policies: ['short-lived'], display_name: 'tmp-agent' });
    const id = tokenId(res.auth.accessor);
    const from = (c: Credential, policy: string) => c.grants.filter((g) => g.provenance.policy === policy);
    expect(from(await present(id), 'short-lived')).toHaveLength(1);
    await bao.call('DELETE', 'sys/policies/acl/short-lived');
    const gone = await present(id);
    expect(from(gone, 'short-lived')).toEqual([]);
    expect(from(gone, 'default').length).toBeGreaterThan(0);
    expect(gone.attributes.grantErrors).toEqual(['short-lived: policy not found']);
    // What a scan says about the same token now.
    await app.orchestrator.runInProcess('rc-2', 'test', app.orchestrator.units({ sourceType: 'vault' }), 2);
    const scan = (await app.scans.observed('rc-2')).find((c) => c.id === id)!;
    expect(stable(gone)).toEqual(stable(scan));
  });

  it('a token revoked by accessor is absent, and the reason says so', async () => {
    const id = tokenId(seeded.rogue.accessor);
    await present(id);
    await bao.call('POST', 'auth/token/revoke-accessor', { accessor: seeded.rogue.accessor });
    const res = await recheck(id);
    expect(res).toMatchObject({ state: 'absent', apiCalls: { total: 1, byOperation: { 'vault:lookup-accessor': 1 } } });
    expect(res.state === 'absent' && res.reason).toBe(
      `vault main: token accessor ${seeded.rogue.accessor}: invalid accessor (the token is revoked or expired)`,
    );
  });

  it('a destroyed secret ID is absent', async () => {
    const id = sidId(seeded.secretIds.day);
    await present(id);
    await bao.call('POST', 'auth/approle/role/deploy-agent/secret-id-accessor/destroy', {
      secret_id_accessor: seeded.secretIds.day,
    });
    const res = await recheck(id);
    expect(res).toMatchObject({
      state: 'absent',
      reason: `vault main: secret ID accessor ${seeded.secretIds.day} of AppRole role "deploy-agent" on auth/approle not found (destroyed or expired)`,
      apiCalls: { total: 2, byOperation: { 'vault:read-approle-role': 1, 'vault:lookup-secret-id': 1 } },
    });
    // The role and its other secret IDs are still there.
    await present(ROLE_ID);
    await present(sidId(seeded.secretIds.never));
  });

  it('a deleted AppRole role is absent, and so is its secret ID (on a mount whose path has a slash)', async () => {
    await bao.call('POST', 'auth/ci/approle/role/doomed', { token_policies: ['default'], secret_id_ttl: 0 });
    const minted = await bao.call('POST', 'auth/ci/approle/role/doomed/secret-id', {});
    const role = 'vault/main/root/approle/ci/approle/doomed';
    const sid = sidId(String(minted.data.secret_id_accessor), 'doomed', 'ci/approle');
    expect(await present(role)).toMatchObject({ kind: 'vault-approle-role', attributes: { mount: 'ci/approle' } });
    expect(await present(sid)).toMatchObject({
      kind: 'vault-approle-secret-id',
      principal: 'approle/ci/approle/doomed',
    });
    await bao.call('DELETE', 'auth/ci/approle/role/doomed');
    expect(await recheck(role)).toMatchObject({
      state: 'absent',
      reason: 'vault main: AppRole role "doomed" does not exist on auth/ci/approle',
    });
    proxy.clear();
    expect(await recheck(sid)).toMatchObject({
      state: 'absent',
      reason: `vault main: AppRole role "doomed" does not exist on auth/ci/approle, so its secret ID ${minted.data.secret_id_accessor} is gone`,
      apiCalls: { total: 1, byOperation: { 'vault:read-approle-role': 1 } },
    });
    expect(paths()).toEqual(['GET auth/ci/approle/role/doomed']);
  });

  it('a revoked lease is absent; the other lease is still present', async () => {
    const [gone, kept] = seeded.leases as [string, string];
    await present(leaseId(gone));
    await bao.call('PUT', 'sys/leases/revoke', { lease_id: gone });
    expect(await recheck(leaseId(gone))).toMatchObject({
      state: 'absent',
      reason: `vault main: lease ${gone}: invalid lease (revoked or expired)`,
      apiCalls: { total: 1 },
    });
    expect((await present(leaseId(kept))).attributes.leaseId).toBe(kept);
  });

  it('a child-namespace token; a mount the namespace lacks; an accessor asked for in the wrong namespace', async () => {
    const teamA = await present(tokenId(seeded.teamA.accessor, 'team-a'));
    expect(teamA).toMatchObject({
      agentId: 'team-a-bot',
      owner: { team: 'team-a' },
      source: 'main/team-a',
      principal: 'token-bot',
      attributes: { meta: { agent: 'team-a-bot' }, self: false },
    });
    expect((teamA.grants as VaultPathGrant[]).map((g) => [g.path, g.provenance.policy])).toContainEqual([
      'kv/*',
      'bot',
    ]);
    expect((await present(tokenId(seeded.teamB.accessor, 'team-b'))).source).toBe('main/team-b');
    // team-a has no AppRole mount: nothing of that kind exists there (as a scan concludes).
    const res = await recheck('vault/main/team-a/approle/approle/deploy-agent');
    expect(res).toMatchObject({ state: 'absent', reason: expect.stringMatching(/the mount does not exist here\)$/) });
    // A team-a accessor under the root namespace is not "absent": OpenBao refuses the lookup (500).
    await expect(recheck(tokenId(seeded.teamA.accessor))).rejects.toMatchObject({
      code: 'CW_ERR_VAULT',
      retryable: true,
      message: expect.stringMatching(/HTTP 500: cannot lookup token in different namespace/),
    });
  });

  it('an unknown cluster, an unconfigured mount, a malformed id: INPUT naming the id, before any request', async () => {
    proxy.clear();
    const bad: [string, RegExp][] = [
      ['vault/other/root/token/abc', /no Vault cluster named "other" is configured/],
      ['vault/main/root/approle/other/deploy-agent', /no configured AppRole mount \(ci\/approle, approle\)/],
      ['vault/main/root/aws-role/aws/deploy', /no configured AWS secrets engine mount \(none\)/],
      [
        'vault/main/root/approle/ci/approle/builder/secret-id',
        /malformed AppRole path "ci\/approle\/builder\/secret-id"/,
      ],
    ];
    for (const [id, why] of bad) {
      const err = await recheck(id).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err, id).toMatchObject({ code: 'CW_ERR_INPUT' });
      expect((err as Error).message, id).toContain(`"${id}"`);
      expect((err as Error).message, id).toMatch(why);
    }
    expect(proxy.log).toEqual([]);
    // The whole table of refusals, and owns(), are in vault-recheck-double.test.ts.
  });

  it('a scanner token without update on lookup-accessor: unknown, naming the capability', async () => {
    const without = SCANNER.split('\n')
      .filter((l) => !l.includes('auth/token/lookup-accessor"'))
      .join('\n');
    expect(without.length).toBeLessThan(SCANNER.length);
    await bao.call('PUT', 'sys/policies/acl/credwarden-scanner', { policy: without });
    try {
      for (const id of [tokenId(seeded.invoice.accessor), tokenId(seeded.teamA.accessor, 'team-a')]) {
        const res: RecheckResult = await recheck(id);
        expect(res, id).toMatchObject({
          state: 'unknown',
          code: 'CW_ERR_VAULT_PERMISSION',
          reason: `vault main${id.includes('team-a') ? ' namespace team-a' : ''}: permission denied: needs update on auth/token/lookup-accessor`,
          apiCalls: { total: 1, byOperation: { 'vault:lookup-accessor': 1 } },
        });
      }
      // Everything else still rechecks.
      await present(ROLE_ID);
    } finally {
      await bao.call('PUT', 'sys/policies/acl/credwarden-scanner', { policy: SCANNER });
    }
    await present(tokenId(seeded.invoice.accessor));
  });
});
