/**
 * The Vault source end to end: node-vault → the Vault double (state, wire rules) → registry →
 * Redis store → audit log. Asserts the exact inventory, the request budget, partial scans on a
 * missing sudo, two namespaces, and drift after a revocation. The same scans run against a real
 * OpenBao in vault-openbao.test.ts; what only the double can do stays here: AWS secrets-engine
 * roles (OpenBao has none), sealing between scans, a server that never answers, and the exact
 * request log with each HTTP verb.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/main.js';
import type { Credential, VaultPathGrant } from '../../src/model/credential.js';
import { registry, SCANNER_POLICY, type SeededVault, scannerPolicy, seedVault } from '../fixtures/vault-estate.js';
import { testApp, writeTestFiles } from '../support/app.js';
import { useRedis } from '../support/redis.js';
import { startVaultDouble, type VaultDouble } from '../support/vault-double/index.js';

/** A config-file env reference (not a template string). */
const ENV_REF = ['$', '{env:CW_TEST_VAULT_TOKEN}'].join('');
const r = useRedis('vault-inv');
let vault: VaultDouble;
let seeded: SeededVault;

function files(prefix: string, extra: Record<string, unknown> = {}) {
  return writeTestFiles(
    {
      redis: { prefix },
      vault: [
        {
          name: 'main',
          address: vault.address,
          token: ENV_REF,
          namespaces: ['root', 'team-a'],
          approleMounts: ['approle'],
          leasePrefixes: ['aws/creds/'],
          awsMounts: ['aws'],
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

describe('Vault inventory against the double', () => {
  let app: App;
  beforeAll(async () => {
    vault = await startVaultDouble();
    seeded = seedVault(vault);
    process.env.CW_TEST_VAULT_TOKEN = seeded.scanner.token;
    app = await testApp(files(r.prefix));
  });
  afterAll(async () => {
    await app?.close();
    await vault?.close();
  });

  it('inventories tokens, AppRole roles and secret IDs, leases and AWS roles across two namespaces', async () => {
    vault.clearRequestLog();
    const summary = await app.orchestrator.runInProcess(
      'v-1',
      'test',
      app.orchestrator.units({ sourceType: 'vault' }),
      2,
    );
    expect(summary.status).toBe('complete');
    const creds = await app.scans.observed('v-1');
    const m = byId(creds);

    const tokens = creds.filter((c) => c.kind === 'vault-token');
    const expectedTokens = [
      vault.rootAccessor,
      seeded.scanner.accessor,
      seeded.invoice.accessor,
      seeded.expiring.accessor,
      seeded.rogue.accessor,
    ].map((a) => tokenId(a));
    expect(
      tokens
        .filter((c) => c.source === 'main/root')
        .map((c) => c.id)
        .sort(),
    ).toEqual(expectedTokens.sort());
    expect(tokens.some((c) => String(c.attributes.displayName).includes('batch'))).toBe(false);

    const root = m.get(tokenId(vault.rootAccessor))!;
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
    expect(new Date(expiring.expiresAt!).getTime() - vault.clock.now().getTime()).toBeLessThanOrEqual(120_000);

    const rogue = m.get(tokenId(seeded.rogue.accessor))!;
    expect(rogue).toMatchObject({ agentId: null, unregisteredAgent: true });
    const rg = rogue.grants as VaultPathGrant[];
    expect(rg.find((g) => g.path === '*')?.provenance.policy).toBe('everything');
    expect(rg.some((g) => g.capabilities.includes('sudo') && g.path === 'sys/audit/*')).toBe(true);

    const role = m.get('vault/main/root/approle/approle/deploy-agent')!;
    expect(role).toMatchObject({
      kind: 'vault-approle-role',
      agentId: 'deploy-agent',
      attributes: { tokenPolicies: ['deploy'], secretIdTtlSeconds: 0, tokenTtlSeconds: 3600 },
    });
    const sid = (a: string) => m.get(`vault/main/root/approle/approle/deploy-agent/secret-id/${a}`)!;
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

    const leases = creds.filter((c) => c.kind === 'vault-lease').map((c) => c.attributes.leaseId);
    expect(leases.sort()).toEqual([...seeded.leases].sort());
    expect(m.get('vault/main/root/aws-role/aws/deploy')).toMatchObject({
      kind: 'vault-aws-role',
      attributes: { credentialType: 'iam_user', policyArns: ['arn:aws:iam::aws:policy/ReadOnlyAccess'] },
    });

    const teamA = m.get(tokenId(seeded.teamA.accessor, 'team-a'))!;
    expect(teamA).toMatchObject({ agentId: 'team-a-bot', source: 'main/team-a' });
    expect(teamA.attributes.meta).toEqual({ agent: 'team-a-bot' });

    // No secret values anywhere in the records.
    const text = JSON.stringify(creds);
    for (const t of [seeded.scanner, seeded.invoice, seeded.rogue, seeded.teamA]) expect(text).not.toContain(t.token);

    // Every request is counted and lists use GET ?list=true, never the LIST verb.
    const log = vault.requestLog;
    expect(log.length).toBe(summary.apiCalls.total);
    expect(log.every((e) => e.method !== 'LIST')).toBe(true);
    const lookups = log.filter((e) => e.path === 'auth/token/lookup-accessor');
    expect(lookups).toHaveLength(tokens.length);
  });

  it('marks a namespace partial with a clear reason when the accessor list lacks sudo', async () => {
    vault.putPolicy('', 'credwarden-scanner', scannerPolicy('"list"'));
    try {
      const summary = await app.orchestrator.runInProcess(
        'v-2',
        'test',
        app.orchestrator.units({ sourceType: 'vault' }),
        2,
      );
      expect(summary.status).toBe('partial');
      const unit = summary.units.find((u) => u.key === 'vault/main/team-a')!;
      expect(unit.status).toBe('partial');
      expect(unit.problems).toEqual([
        expect.objectContaining({
          scope: 'vault/main/team-a/token/',
          code: 'CW_ERR_VAULT_PERMISSION',
          message: expect.stringMatching(
            /namespace team-a: permission denied: needs list\+sudo on auth\/token\/accessors/,
          ),
        }),
      ]);
      expect(summary.counts.drift['credential.removed'] ?? 0).toBe(0);
      expect(await r.redis.hexists(`${r.keyPrefix}:inv:creds`, tokenId(seeded.teamA.accessor, 'team-a'))).toBe(1);
    } finally {
      vault.putPolicy('', 'credwarden-scanner', SCANNER_POLICY);
    }
  });

  it('reports drift after a token is revoked (its subtree and leases with it)', async () => {
    vault.revokeAccessor(seeded.rogue.accessor);
    const summary = await app.orchestrator.runInProcess(
      'v-3',
      'test',
      app.orchestrator.units({ sourceType: 'vault' }),
      2,
    );
    expect(summary.status).toBe('complete');
    expect(summary.counts.drift['credential.removed']).toBe(1);
    const ev = (await app.audit.read(1)).find((e) => e.type === 'credential.removed' && e.data.scanId === 'v-3');
    expect(ev?.subject).toBe(tokenId(seeded.rogue.accessor));
    expect((await app.audit.verify()).ok).toBe(true);
  });

  it('marks the whole unit partial when Vault is sealed', async () => {
    vault.seal();
    try {
      const summary = await app.orchestrator.runInProcess(
        'v-4',
        'test',
        app.orchestrator.units({ sourceType: 'vault' }),
        2,
      );
      expect(summary.status).toBe('partial');
      expect(summary.units.every((u) => u.status === 'failed')).toBe(true);
      expect(summary.units[0]!.problems[0]).toMatchObject({
        code: 'CW_ERR_VAULT_SEALED',
        message: expect.stringContaining('Vault is sealed'),
      });
      expect(summary.counts.drift['credential.removed'] ?? 0).toBe(0);
    } finally {
      vault.unseal();
    }
  });

  it('inventory --source vault prints only Vault records; a bad --source is exit 2', async () => {
    const { run } = await import('../../src/cli/main.js');
    const out: string[] = [];
    const err: string[] = [];
    const io = { out: (s: string) => out.push(s), err: (s: string) => err.push(s), stderrIsTty: false };
    const f = files(r.prefix);
    expect(await run(['--config', f.configPath, 'inventory', '--source', 'vault', '--json'], io)).toBe(0);
    const records = JSON.parse(out.join('')) as Credential[];
    expect(records.length).toBeGreaterThan(5);
    expect(records.every((c) => c.sourceType === 'vault')).toBe(true);
    expect(await run(['--config', f.configPath, 'inventory', '--source', 'gcp'], io)).toBe(2);
    expect(err.at(-1)).toMatch(/--source must be "aws" or "vault"/);
  });

  it('a Vault that accepts connections and never answers: every step partial with a timeout reason', async () => {
    const { createServer } = await import('node:net');
    const sockets: import('node:net').Socket[] = [];
    const hang = createServer((sock) => sockets.push(sock));
    await new Promise<void>((res) => hang.listen(0, '127.0.0.1', res));
    const port = (hang.address() as { port: number }).port;
    const f = writeTestFiles(
      {
        redis: { prefix: `${r.prefix}-hang` },
        vault: [
          {
            name: 'main',
            address: `http://127.0.0.1:${port}`,
            token: ENV_REF,
            approleMounts: [],
            requestTimeoutMs: 200,
          },
        ],
      },
      registry,
    );
    const hung = await testApp(f);
    try {
      const s = await hung.orchestrator.runInProcess('v-hang', 'test', hung.orchestrator.units(), 1);
      expect(s.status).toBe('partial');
      const problems = s.units[0]!.problems;
      expect(problems.map((p) => p.scope)).toEqual(['vault/main/root/', 'vault/main/root/token/']);
      expect(problems.every((p) => p.code === 'CW_ERR_TIMEOUT' && /timed out after 200 ms/.test(p.message))).toBe(true);
    } finally {
      await hung.close();
      for (const sock of sockets) sock.destroy();
      hang.close();
    }
  });

  it('an unreachable Vault: inventory prints one line and exits 2', async () => {
    const { run } = await import('../../src/cli/main.js');
    const err: string[] = [];
    const io = { out: () => {}, err: (s: string) => err.push(s), stderrIsTty: false };
    const f = writeTestFiles(
      {
        redis: { prefix: `${r.prefix}-refused` },
        vault: [{ name: 'main', address: 'http://127.0.0.1:1', token: ENV_REF }],
      },
      registry,
    );
    expect(await run(['--config', f.configPath, 'inventory'], io)).toBe(2);
    expect(err).toEqual([
      expect.stringMatching(/^credwarden: CW_ERR_UNREACHABLE: vault main: cannot reach Vault \(ECONNREFUSED\)/),
    ]);
  });

  it('discovers namespaces when asked to', async () => {
    const disc = await testApp(files(`${r.prefix}-disc`, { namespaces: { discover: true } }));
    try {
      const units = disc.orchestrator.units();
      expect(units.map((u) => u.key)).toEqual(['vault/main']);
      const s = await disc.orchestrator.runInProcess('v-5', 'test', units, 1);
      const ids = (await disc.scans.observed('v-5')).map((c) => c.id);
      expect(ids.some((id) => id.startsWith('vault/main/team-a/token/'))).toBe(true);
      expect(ids.some((id) => id.startsWith('vault/main/root/token/'))).toBe(true);
      expect(s.status).toBe('complete');
    } finally {
      await disc.close();
    }
  });
});
