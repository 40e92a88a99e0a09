/**
 * The Vault source end to end against a REAL Vault-compatible server: node-vault → a recording
 * proxy → OpenBao (`bao server -dev`, test/support/openbao.ts) → registry → Redis store → audit
 * log. The estate is seeded over OpenBao's HTTP API (test/fixtures/vault-estate.ts seedOpenBao):
 * tokens (the root token, an orphan periodic one, a short-lived one, a batch one that must not
 * appear), AppRole roles and secret IDs, ACL policies with `path "*"` and sudo, leases from the
 * database engine against the machine's PostgreSQL, and two child namespaces.
 *
 * Asserted: the exact inventory, the request count (the proxy's log against the scan's own
 * count), partial scans on a missing sudo and on a revoked scanner token, drift after revocations
 * made in OpenBao between two scans, and namespace discovery.
 *
 * Not here: AWS secrets-engine roles (OpenBao has no AWS engine: "plugin not found in the
 * catalog: aws") and faults a real server cannot produce on demand (hangs, sealing mid-scan);
 * those stay on the Vault double in vault-inventory.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/main.js';
import type { Credential, VaultPathGrant } from '../../src/model/credential.js';
import {
  OPENBAO_SCANNER_POLICY,
  registry,
  type SeededOpenBao,
  scannerPolicy,
  seedOpenBao,
} from '../fixtures/vault-estate.js';
import { testApp, writeTestFiles } from '../support/app.js';
import { postgresReachable, useOpenBao } from '../support/openbao.js';
import { type RecordingProxy, startRecordingProxy } from '../support/recording-proxy.js';
import { useRedis } from '../support/redis.js';

/** A config-file env reference (not a template string). */
const ENV_REF = ['$', '{env:CW_TEST_VAULT_TOKEN}'].join('');
const r = useRedis('vault-bao');
const bao = useOpenBao();
let proxy: RecordingProxy;
let seeded: SeededOpenBao;

function files(prefix: string, extra: Record<string, unknown> = {}) {
  return writeTestFiles(
    {
      redis: { prefix },
      vault: [
        {
          name: 'main',
          address: proxy.address,
          token: ENV_REF,
          namespaces: ['root', 'team-a', 'team-b'],
          approleMounts: ['approle'],
          leasePrefixes: ['database/creds/'],
          // No awsMounts: OpenBao has no AWS secrets engine (AWS-engine roles are tested on the double).
          awsMounts: [],
          requestTimeoutMs: 5000,
          ...extra,
        },
      ],
    },
    registry,
  );
}

const byId = (cs: Credential[]) => new Map(cs.map((c) => [c.id, c]));
const tokenId = (accessor: string, ns = 'root') => `vault/main/${ns}/token/${accessor}`;
const sidId = (accessor: string) => `vault/main/root/approle/approle/deploy-agent/secret-id/${accessor}`;

describe('Vault inventory against OpenBao', () => {
  let app: App;
  beforeAll(async () => {
    if (!(await postgresReachable())) {
      throw new Error('PostgreSQL is not reachable at 127.0.0.1:5432 (trust auth): OpenBao mints leases against it');
    }
    seeded = await seedOpenBao(bao);
    proxy = await startRecordingProxy(bao.address);
    process.env.CW_TEST_VAULT_TOKEN = seeded.scanner.token;
    app = await testApp(files(r.prefix));
  });
  afterAll(async () => {
    await app?.close();
    await proxy?.close();
  });

  const scan = (id: string, target = app) =>
    target.orchestrator.runInProcess(id, 'test', target.orchestrator.units({ sourceType: 'vault' }), 2);

  it('inventories tokens, AppRole roles and secret IDs, database leases and ACL grants across namespaces', async () => {
    proxy.clear();
    const summary = await scan('b-1');
    expect(summary.status).toBe('complete');
    const creds = await app.scans.observed('b-1');
    const m = byId(creds);

    const tokens = creds.filter((c) => c.kind === 'vault-token');
    const rootTokens = [
      bao.rootAccessor,
      seeded.scanner.accessor,
      seeded.invoice.accessor,
      seeded.expiring.accessor,
      seeded.rogue.accessor,
    ];
    expect(
      tokens
        .filter((c) => c.source === 'main/root')
        .map((c) => c.id)
        .sort(),
    ).toEqual(rootTokens.map((a) => tokenId(a)).sort());
    expect(tokens.some((c) => String(c.attributes.displayName).includes('batch'))).toBe(false);

    const root = m.get(tokenId(bao.rootAccessor))!;
    expect(root.expiresAt).toBeNull();
    expect((root.grants as VaultPathGrant[]).some((g) => g.path === '*' && g.capabilities.includes('root'))).toBe(true);

    const self = m.get(tokenId(seeded.scanner.accessor))!;
    expect(self.attributes.self).toBe(true);
    expect(tokens.filter((c) => c.attributes.self === true)).toHaveLength(1);

    const invoice = m.get(tokenId(seeded.invoice.accessor))!;
    expect(invoice).toMatchObject({
      agentId: 'invoice-bot',
      principal: 'token-invoice-bot',
      expiresAt: expect.any(String),
      attributes: { orphan: true, periodSeconds: 86_400 },
    });
    expect((invoice.grants as VaultPathGrant[]).map((g) => [g.path, g.provenance.policy])).toContainEqual([
      'secret/data/agents/invoice/*',
      'agent-invoice',
    ]);

    const expiring = m.get(tokenId(seeded.expiring.accessor))!;
    const left = new Date(expiring.expiresAt!).getTime() - Date.now();
    expect(left).toBeGreaterThan(60_000);
    expect(left).toBeLessThanOrEqual(120_000);

    const rogue = m.get(tokenId(seeded.rogue.accessor))!;
    expect(rogue).toMatchObject({ agentId: null, unregisteredAgent: true });
    const rg = rogue.grants as VaultPathGrant[];
    expect(rg.find((g) => g.path === '*')?.provenance.policy).toBe('everything');
    expect(rg.some((g) => g.capabilities.includes('sudo') && g.path === 'sys/audit/*')).toBe(true);

    const role = m.get('vault/main/root/approle/approle/deploy-agent')!;
    expect(role).toMatchObject({
      kind: 'vault-approle-role',
      agentId: 'deploy-agent',
      attributes: { tokenPolicies: ['deploy'], secretIdTtlSeconds: 0, tokenTtlSeconds: 3600, secretIdBoundCidrs: [] },
    });
    const sid = (a: string) => m.get(sidId(a))!;
    expect(sid(seeded.secretIds.never)).toMatchObject({
      agentId: 'deploy-agent',
      expiresAt: null,
      attributes: { neverExpires: true, metadata: { purpose: 'ci' } },
    });
    expect(sid(seeded.secretIds.day).expiresAt).not.toBeNull();
    expect(sid(seeded.secretIds.limited)).toMatchObject({ attributes: { remainingUses: 3, cidrList: ['10.0.0.0/8'] } });
    expect((sid(seeded.secretIds.day).grants as VaultPathGrant[])[0]).toMatchObject({
      path: 'secret/data/deploy/*',
      capabilities: ['read', 'list'],
    });

    // Real leases, from the database engine against PostgreSQL.
    const leases = creds.filter((c) => c.kind === 'vault-lease');
    expect(leases.map((c) => c.attributes.leaseId).sort()).toEqual([...seeded.leases].sort());
    for (const l of leases) {
      expect(String(l.attributes.leaseId)).toMatch(new RegExp(`^database/creds/${seeded.db.role}/[A-Za-z0-9]{24}$`));
      expect(l.expiresAt).toEqual(expect.any(String));
      expect(l.attributes).toMatchObject({ renewable: true });
    }
    expect(creds.some((c) => c.kind === 'vault-aws-role')).toBe(false);

    const teamA = m.get(tokenId(seeded.teamA.accessor, 'team-a'))!;
    expect(teamA).toMatchObject({ agentId: 'team-a-bot', source: 'main/team-a' });
    expect(teamA.attributes.meta).toEqual({ agent: 'team-a-bot' });
    expect(tokens.filter((c) => c.source === 'main/team-b').map((c) => c.id)).toEqual([
      tokenId(seeded.teamB.accessor, 'team-b'),
    ]);

    // No secret values anywhere in the records.
    const text = JSON.stringify(creds);
    for (const t of [seeded.scanner, seeded.invoice, seeded.rogue, seeded.teamA, seeded.teamB]) {
      expect(text).not.toContain(t.token);
    }

    // Every request reached OpenBao and was counted; lists are GET ?list=true, never the LIST verb.
    expect(proxy.log.length).toBe(summary.apiCalls.total);
    expect(proxy.log.every((e) => e.method === 'GET' || e.method === 'POST')).toBe(true);
    expect(proxy.log.filter((e) => e.list !== null).every((e) => e.method === 'GET' && e.list === 'true')).toBe(true);
    expect(proxy.log.every((e) => e.status === 200 || e.status === 404)).toBe(true);
    expect(proxy.log.filter((e) => e.path === 'auth/token/lookup-accessor')).toHaveLength(tokens.length);
    expect(new Set(proxy.log.map((e) => e.namespace))).toEqual(new Set(['', 'team-a/', 'team-b/']));
  });

  it('marks each child namespace partial with the documented reason when the accessor list lacks sudo', async () => {
    await bao.call('PUT', 'sys/policies/acl/credwarden-scanner', {
      policy: scannerPolicy('"list"', ['database']),
    });
    try {
      const summary = await scan('b-2');
      expect(summary.status).toBe('partial');
      expect(summary.units.find((u) => u.key === 'vault/main/root')?.status).toBe('complete');
      for (const ns of ['team-a', 'team-b']) {
        const unit = summary.units.find((u) => u.key === `vault/main/${ns}`)!;
        expect(unit.status).toBe('partial');
        expect(unit.problems).toEqual([
          {
            scope: `vault/main/${ns}/token/`,
            code: 'CW_ERR_VAULT_PERMISSION',
            message: `vault main namespace ${ns}: permission denied: needs list+sudo on auth/token/accessors`,
          },
        ]);
      }
      expect(summary.counts.drift['credential.removed'] ?? 0).toBe(0);
      expect(await r.redis.hexists(`${r.keyPrefix}:inv:creds`, tokenId(seeded.teamA.accessor, 'team-a'))).toBe(1);
    } finally {
      await bao.call('PUT', 'sys/policies/acl/credwarden-scanner', { policy: OPENBAO_SCANNER_POLICY });
    }
  });

  it('reports drift after a token, a secret ID and a lease are revoked in OpenBao between two scans', async () => {
    expect((await scan('b-3')).status).toBe('complete');
    await bao.call('POST', 'auth/token/revoke-accessor', { accessor: seeded.rogue.accessor });
    await bao.call('POST', 'auth/approle/role/deploy-agent/secret-id-accessor/destroy', {
      secret_id_accessor: seeded.secretIds.day,
    });
    const [gone, kept] = seeded.leases as [string, string];
    await bao.call('PUT', 'sys/leases/revoke', { lease_id: gone });
    const summary = await scan('b-4');
    expect(summary.status).toBe('complete');
    expect(summary.counts.drift['credential.removed']).toBe(3);
    const removed = (await app.audit.read(1))
      .filter((e) => e.type === 'credential.removed' && e.data.scanId === 'b-4')
      .map((e) => e.subject)
      .sort();
    const leaseRecord = (await app.scans.observed('b-3')).find(
      (c) => c.kind === 'vault-lease' && c.attributes.leaseId === gone,
    )!;
    expect(removed).toEqual([tokenId(seeded.rogue.accessor), sidId(seeded.secretIds.day), leaseRecord.id].sort());
    const now = (await app.scans.observed('b-4')).map((c) => c.attributes.leaseId).filter(Boolean);
    expect(now).toEqual([kept]);
    expect((await app.audit.verify()).ok).toBe(true);
  });

  it('a revoked scanner token: every unit partial, and the reason says the token is invalid', async () => {
    const res = await bao.call('POST', 'auth/token/create', { policies: ['credwarden-scanner'], ttl: '1h' });
    const revoked = res.auth.client_token as string;
    await bao.call('POST', 'auth/token/revoke-accessor', { accessor: res.auth.accessor });
    const saved = process.env.CW_TEST_VAULT_TOKEN;
    process.env.CW_TEST_VAULT_TOKEN = revoked;
    const other = await testApp(files(`${r.prefix}-revoked`));
    try {
      const s = await scan('b-5', other);
      expect(s.status).toBe('partial');
      expect(s.units).toHaveLength(3);
      for (const u of s.units) {
        expect(u.problems.length).toBeGreaterThan(0);
        for (const p of u.problems) {
          expect(p.code).toBe('CW_ERR_VAULT_PERMISSION');
          expect(p.message).toMatch(/: the token is invalid, expired or revoked \(/);
        }
      }
    } finally {
      process.env.CW_TEST_VAULT_TOKEN = saved;
      await other.close();
    }
  });

  it('discovers the namespaces when asked to', async () => {
    const disc = await testApp(files(`${r.prefix}-disc`, { namespaces: { discover: true } }));
    try {
      const units = disc.orchestrator.units();
      expect(units.map((u) => u.key)).toEqual(['vault/main']);
      const s = await disc.orchestrator.runInProcess('b-6', 'test', units, 1);
      expect(s.status).toBe('complete');
      const ids = (await disc.scans.observed('b-6')).map((c) => c.id);
      for (const ns of ['root', 'team-a', 'team-b']) {
        expect(ids.some((id) => id.startsWith(`vault/main/${ns}/token/`))).toBe(true);
      }
      expect(ids).toContain(tokenId(seeded.teamB.accessor, 'team-b'));
    } finally {
      await disc.close();
    }
  });
});
