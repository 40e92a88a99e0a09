/**
 * The Vault actions against the Vault double, for what a real OpenBao cannot do on demand
 * (actions-vault.test.ts has the rest): Vault sealed between inspect and execute, a chosen 5xx,
 * 429 or 400 on the write (a fault proxy in front of the double answers it for one path), the
 * exact write bodies (`sync: true` on the lease revoke), and a pre-CVE-2023-24999 Vault that
 * answers a wrong-role secret-id lookup with data. Credentials come from a scan of the double;
 * the port acts through node-vault with a remediation token holding exactly the listed permissions.
 */
import { createServer, request as httpRequest, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ActionType } from '../../src/actions/action-type.js';
import { destroySecretId } from '../../src/actions/destroy-secret-id.action.js';
import type { ActionPorts, AwsWritePort } from '../../src/actions/ports.js';
import { revokeLease } from '../../src/actions/revoke-lease.action.js';
import { revokeToken } from '../../src/actions/revoke-token.action.js';
import { type VaultApiWritePort, vaultWritePortFrom } from '../../src/actions/vault-port.js';
import { ErrorCodes } from '../../src/errors.js';
import { type App, realVaultHttp } from '../../src/main.js';
import type { ActionPlan } from '../../src/model/action.js';
import type { Credential } from '../../src/model/credential.js';
import { vaultSecretIdId } from '../../src/model/ids.js';
import { registry, type SeededVault, seedVault } from '../fixtures/vault-estate.js';
import { testApp, writeTestFiles } from '../support/app.js';
import { useRedis } from '../support/redis.js';
import { startVaultDouble, type VaultDouble } from '../support/vault-double/index.js';

const envRef = (name: string) => ['$', `{env:${name}}`].join('');
const r = useRedis('actions-vault-dbl');
let double: VaultDouble;
let seeded: SeededVault;
let app: App;
let port: VaultApiWritePort;
let proxy: Server;
let creds: Credential[];
const closers: (() => void)[] = [];
/** Every request through the proxy (path without /v1/ and query, parsed JSON body), and faults by path. */
const seen: { method: string; path: string; body: unknown }[] = [];
const faults = new Map<string, { status: number; body: unknown }>();

function policyFrom(lines: string[]): string {
  return lines
    .map((line) => {
      const [path, caps] = line.replace('<approle mount>', 'approle').split(': ') as [string, string];
      const c = caps
        .replace(/\(.*\)/, '')
        .split(/[\s,]+/)
        .filter(Boolean);
      return `path "${path}" { capabilities = [${c.map((x) => `"${x}"`).join(', ')}] }`;
    })
    .join('\n');
}

async function startProxy(to: URL): Promise<Server> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const path = new URL(req.url ?? '/', 'http://proxy').pathname.replace(/^\/v1\//, '');
      seen.push({ method: req.method ?? '', path, body: raw.length ? JSON.parse(raw.toString()) : undefined });
      const fault = faults.get(path);
      if (fault) {
        res.writeHead(fault.status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(fault.body));
        return;
      }
      const opts = { host: to.hostname, port: to.port, method: req.method, path: req.url, headers: req.headers };
      const up = httpRequest(opts, (u) => {
        res.writeHead(u.statusCode ?? 502, u.headers);
        u.pipe(res);
      });
      up.end(raw);
    });
  });
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  return server;
}

const noAws = new Proxy({}, { get: () => expect.fail('an AWS port was used') }) as AwsWritePort;
const ports = (): ActionPorts => ({ aws: noAws, vault: port });
const refuseCtx = { now: new Date(), lastDoneBy: () => null };
const find = (kind: string, key: string, value: string) =>
  creds.find((c) => c.kind === kind && c.attributes[key] === value) ?? expect.fail(`${value} not scanned`);
const token = (a: string) => find('vault-token', 'accessor', a);
const secretId = (a: string) => find('vault-approle-secret-id', 'secretIdAccessor', a);
const lease = (id: string) => find('vault-lease', 'leaseId', id);

function planOf(action: ActionType, cred: Credential): ActionPlan {
  const out = action.plan(cred, {}, { now: new Date(), hits: [] });
  if (!('target' in out)) return expect.fail(`${action.name} skipped ${cred.id}: ${out.skip}`);
  return {
    id: `p-${action.name}`,
    action: action.name,
    params: {},
    policy: 'test',
    policyMode: 'enforce',
    findingFingerprint: 'f',
    severity: 'high',
    agentId: cred.agentId,
    owner: cred.owner,
    environment: null,
    tags: {},
    credentialCreatedAt: cred.createdAt,
    target: out.target,
    reversible: false,
    evidenceHash: 'h',
    facts: [],
    message: 'test',
    scanId: 'avd-1',
    plannedAt: new Date().toISOString(),
  };
}

async function run(action: ActionType, plan: ActionPlan) {
  const pre = await action.inspect(plan, ports());
  if (action.isDone(plan, pre)) return { outcome: 'already-done', pre };
  const refused = action.refuse(plan, pre, refuseCtx);
  if (refused) return { outcome: 'refused', pre, refused };
  await action.execute(plan, ports(), pre);
  const post = await action.inspect(plan, ports());
  return { outcome: action.verify(plan, post) ? 'done' : 'unverified', pre, post };
}

const WRITE = {
  token: 'auth/token/revoke-accessor',
  secretId: 'auth/approle/role/deploy-agent/secret-id-accessor/destroy',
  lease: 'sys/leases/revoke',
};

describe('Vault actions against the double', () => {
  beforeAll(async () => {
    double = await startVaultDouble();
    seeded = seedVault(double);
    double.putPolicy(
      '',
      'credwarden-remediation',
      policyFrom([revokeToken, destroySecretId, revokeLease].flatMap((a) => a.permissions.vault)),
    );
    const remediation = double.createToken({
      policies: ['credwarden-remediation'],
      noDefaultPolicy: true,
      orphan: true,
    });
    double.createAppRole('', 'approle', 'other-role', { tokenPolicies: ['default'] });
    proxy = await startProxy(new URL(double.address));
    process.env.CW_TEST_VAULT_TOKEN = seeded.scanner.token;
    process.env.CW_TEST_VAULT_REMEDIATION_TOKEN = remediation.token;
    const cluster = {
      name: 'main',
      address: double.address,
      token: envRef('CW_TEST_VAULT_TOKEN'),
      remediationToken: envRef('CW_TEST_VAULT_REMEDIATION_TOKEN'),
      namespaces: ['root'],
      approleMounts: ['approle'],
      leasePrefixes: ['aws/creds/'],
      awsMounts: ['aws'],
      requestTimeoutMs: 5000,
    };
    app = await testApp(writeTestFiles({ redis: { prefix: r.prefix }, vault: [cluster] }, registry));
    const s = await app.orchestrator.runInProcess('avd-1', 'test', app.orchestrator.units({ sourceType: 'vault' }), 2);
    expect(s.status).toBe('complete');
    creds = await app.scans.observed('avd-1');
    const address = `http://127.0.0.1:${(proxy.address() as { port: number }).port}`;
    port = vaultWritePortFrom(app.config.vault, (c) => {
      const h = realVaultHttp({ ...c, address, token: c.remediationToken! });
      closers.push(() => h.close());
      return h;
    });
  });
  afterAll(async () => {
    for (const close of closers) close();
    await app?.close();
    await new Promise<void>((res) => (proxy ? proxy.close(() => res()) : res()));
    await double?.close();
  });

  it('sealed between inspect and execute: VAULT_SEALED, retryable, nothing changed; after the unseal it completes', async () => {
    const cases: [ActionType, Credential, string, unknown][] = [
      [revokeToken, token(seeded.rogue.accessor), WRITE.token, { accessor: seeded.rogue.accessor }],
      [destroySecretId, secretId(seeded.secretIds.day), WRITE.secretId, { secret_id_accessor: seeded.secretIds.day }],
      [revokeLease, lease(seeded.leases[0]!), WRITE.lease, { lease_id: seeded.leases[0], sync: true }],
    ];
    for (const [action, cred, path, body] of cases) {
      const plan = planOf(action, cred);
      const pre = await action.inspect(plan, ports());
      expect(pre.exists, action.name).toBe(true);
      double.clearRequestLog();
      double.seal();
      try {
        const err = await action.execute(plan, ports(), pre).catch((e: unknown) => e);
        expect(err, action.name).toMatchObject({ code: ErrorCodes.VAULT_SEALED, retryable: true });
      } finally {
        double.unseal();
      }
      // Every request met the seal (revoke-token's first one is its lookup-self); none reached a handler.
      expect(double.requestLog.length, action.name).toBeGreaterThan(0);
      expect(
        double.requestLog.filter((e) => e.status !== 503),
        action.name,
      ).toEqual([]);
      expect((await action.inspect(plan, ports())).exists, action.name).toBe(true);
      seen.length = 0;
      expect((await run(action, plan)).outcome, action.name).toBe('done');
      // Exactly the one write, with exactly this body: the lease revoke is synchronous.
      expect(seen.filter((e) => e.path === path).map((e) => [e.method, e.body])).toEqual([['POST', body]]);
    }
    expect(double.lookupAccessor(seeded.rogue.accessor)).toBeNull();
    expect(double.lookupLease('', seeded.leases[0]!)).toBeNull();
  });

  it('a chosen 5xx or 429 on the write is a retryable CwError naming path and status; a 400 is permanent', async () => {
    const cases: [ActionType, Credential, string, number, boolean][] = [
      [revokeToken, token(seeded.expiring.accessor), WRITE.token, 500, true],
      [destroySecretId, secretId(seeded.secretIds.limited), WRITE.secretId, 502, true],
      [revokeLease, lease(seeded.leases[1]!), WRITE.lease, 429, true],
      [revokeToken, token(seeded.invoice.accessor), WRITE.token, 400, false],
    ];
    for (const [action, cred, path, status, retryable] of cases) {
      const plan = planOf(action, cred);
      double.clearRequestLog();
      faults.set(path, { status, body: { errors: ['chosen fault'] } });
      try {
        const err = await run(action, plan).catch((e: unknown) => e);
        expect(err, `${action.name} ${status}`).toMatchObject({ code: ErrorCodes.VAULT, retryable });
        expect((err as Error).message).toContain(`${path}: HTTP ${status}: chosen fault`);
      } finally {
        faults.delete(path);
      }
      expect(double.requestLog.some((e) => e.path === path)).toBe(false);
      expect((await action.inspect(plan, ports())).exists, `${action.name} ${status}`).toBe(true);
    }
  });

  it('an old Vault answering a wrong-role lookup with data (CVE-2023-24999): refused, nothing destroyed', async () => {
    const mine = secretId(seeded.secretIds.never);
    const forged: Credential = {
      ...mine,
      id: vaultSecretIdId('main', '', 'approle', 'other-role', seeded.secretIds.never),
      attributes: { ...mine.attributes, role: 'other-role' },
    };
    const lookup = 'auth/approle/role/other-role/secret-id-accessor/lookup';
    faults.set(lookup, { status: 200, body: { data: { secret_id_accessor: seeded.secretIds.never, metadata: {} } } });
    seen.length = 0;
    try {
      const res = await run(destroySecretId, planOf(destroySecretId, forged));
      expect(res).toMatchObject({
        outcome: 'refused',
        pre: { exists: false, facts: { ownedByRole: false, found: true } },
      });
      expect(res.refused).toMatch(
        /secret ID accessor \S+ is not listed under AppRole role "other-role" on auth\/approle/,
      );
    } finally {
      faults.delete(lookup);
    }
    expect(seen.map((e) => e.path)).toEqual(['auth/approle/role/other-role/secret-id', lookup]);
    const listed = await port.listSecretIdAccessors('main', '', 'approle', 'deploy-agent');
    expect(listed).toContain(seeded.secretIds.never);
  });
});
