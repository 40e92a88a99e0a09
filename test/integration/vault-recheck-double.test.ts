/**
 * VaultSource.recheck() against the Vault double, for what a real OpenBao cannot do on demand
 * (vault-recheck.test.ts has the rest): a sealed Vault, a chosen 5xx (a fault proxy in front of the
 * double answers it for one path), a Vault that never answers, time moved past a secret ID's TTL,
 * and AWS secrets-engine roles (OpenBao has no AWS engine). The double's clock stands still, so
 * here a recheck equals its scan record exactly, TTLs included (only observedAt and
 * lastUsed.asOf, stamped by credwarden's own clock, differ).
 */
import { createServer as createHttpServer, request as httpRequest, type Server } from 'node:http';
import { createServer as createNetServer, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ManualClock } from '../../src/clock.js';
import type { App } from '../../src/main.js';
import type { Credential } from '../../src/model/credential.js';
import type { RecheckContext, Source } from '../../src/sources/source.js';
import { registry, type SeededVault, seedVault } from '../fixtures/vault-estate.js';
import { testApp, writeTestFiles } from '../support/app.js';
import { useRedis } from '../support/redis.js';
import { startVaultDouble, type VaultDouble } from '../support/vault-double/index.js';

/** A config-file env reference (not a template string). */
const ENV_REF = ['$', '{env:CW_TEST_VAULT_TOKEN}'].join('');
const r = useRedis('vault-recheck-dbl');
let double: VaultDouble;
let seeded: SeededVault;
let app: App;
let vault: Source;
let ctx: RecheckContext;
const opened: { close(): Promise<void> }[] = [];

function files(prefix: string, extra: Record<string, unknown> = {}) {
  return writeTestFiles(
    {
      redis: { prefix },
      vault: [
        {
          name: 'main',
          address: double.address,
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

/** Another app on the same estate (a different address or timeout); closed after the file. */
async function appWith(extra: Record<string, unknown>): Promise<Source> {
  const other = await testApp(files(`${r.prefix}-${opened.length}`, extra));
  opened.push({ close: () => other.close() });
  return other.sources.find((s) => s.type === 'vault')!;
}

/**
 * Forwards to the double, except that requests whose path (without /v1/ and the query) is
 * `fault.path` get `fault.status` with `fault.body`. node:http is enough: recheck sends no LIST.
 */
async function faultProxy(fault: { path: string; status: number; body: unknown }): Promise<string> {
  const to = new URL(double.address);
  const server: Server = createHttpServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://proxy').pathname.replace(/^\/v1\//, '');
    if (path === fault.path) {
      req.resume();
      res.writeHead(fault.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(fault.body));
      return;
    }
    const up = httpRequest(
      { host: to.hostname, port: to.port, method: req.method, path: req.url, headers: req.headers },
      (u) => {
        res.writeHead(u.statusCode ?? 502, u.headers);
        u.pipe(res);
      },
    );
    req.pipe(up);
  });
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  opened.push({ close: () => new Promise<void>((res) => server.close(() => res())) });
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}

const tokenId = (accessor: string, ns = 'root') => `vault/main/${ns}/token/${accessor}`;
const ROLE_ID = 'vault/main/root/approle/approle/deploy-agent';
const AWS_ROLE_ID = 'vault/main/root/aws-role/aws/deploy';
const sidId = (accessor: string) => `vault/main/root/approle/approle/deploy-agent/secret-id/${accessor}`;
const leaseId = (lease: string) => `vault/main/root/lease/${lease}`;

function stable(c: Credential) {
  const { observedAt: _o, ...rest } = c;
  return { ...rest, lastUsed: c.lastUsed ? { ...c.lastUsed, asOf: '<asOf>' } : null };
}

describe('Vault recheck against the double', () => {
  let scanned: Credential[];
  beforeAll(async () => {
    double = await startVaultDouble();
    seeded = seedVault(double);
    process.env.CW_TEST_VAULT_TOKEN = seeded.scanner.token;
    app = await testApp(files(r.prefix));
    vault = app.sources.find((s) => s.type === 'vault')!;
    ctx = { clock: app.clock, log: app.log, registry: app.registry };
    const s = await app.orchestrator.runInProcess('rd-1', 'test', app.orchestrator.units({ sourceType: 'vault' }), 2);
    expect(s.status).toBe('complete');
    scanned = await app.scans.observed('rd-1');
  });
  afterAll(async () => {
    for (const o of opened) await o.close();
    await app?.close();
    await double?.close();
  });

  it('every scanned credential, AWS-engine role included, rechecks present and exactly equal', async () => {
    expect(new Set(scanned.map((c) => c.kind))).toEqual(
      new Set(['vault-token', 'vault-approle-role', 'vault-approle-secret-id', 'vault-lease', 'vault-aws-role']),
    );
    double.clearRequestLog();
    let calls = 0;
    for (const c of scanned) {
      const res = await vault.recheck(c.id, ctx);
      expect(res.state, c.id).toBe('present');
      if (res.state !== 'present') continue;
      calls += res.apiCalls.total;
      expect(stable(res.credential), c.id).toEqual(stable(c));
    }
    expect(double.requestLog.length).toBe(calls);
  });

  it('an AWS secrets-engine role: its statement grants, one read, absent once deleted', async () => {
    double.clearRequestLog();
    const res = await vault.recheck(AWS_ROLE_ID, ctx);
    expect(res).toMatchObject({
      state: 'present',
      apiCalls: { total: 1, attempts: 1, byOperation: { 'vault:read-aws-role': 1 } },
      credential: {
        kind: 'vault-aws-role',
        principal: 'aws/roles/deploy',
        attributes: { credentialType: 'iam_user', policyArns: ['arn:aws:iam::aws:policy/ReadOnlyAccess'] },
        grants: [
          {
            type: 'aws-statement',
            effect: 'Allow',
            actions: ['ecs:*'],
            provenance: { policy: 'aws/roles/deploy', attachment: 'vault-aws-role' },
          },
        ],
      },
    });
    expect(double.requestLog.map((e) => `${e.method} ${e.path}`)).toEqual(['GET aws/roles/deploy']);
    double.createAwsRole('', 'aws', 'doomed', { credentialType: 'assumed_role' });
    const doomed = 'vault/main/root/aws-role/aws/doomed';
    expect((await vault.recheck(doomed, ctx)).state).toBe('present');
    double.awsMount('', 'aws').roles.delete('doomed');
    expect(await vault.recheck(doomed, ctx)).toMatchObject({
      state: 'absent',
      reason: 'vault main: AWS secrets engine role "doomed" does not exist on aws/',
      apiCalls: { total: 1 },
    });
    await expect(vault.recheck('vault/main/root/aws-role/aws2/deploy', ctx)).rejects.toMatchObject({
      code: 'CW_ERR_INPUT',
      message: expect.stringMatching(/no configured AWS secrets engine mount \(aws\) is a prefix of "aws2\/deploy"/),
    });
  });

  it('a secret ID past its TTL (lookup answers 204, no data) is absent', async () => {
    const { accessor } = double.mintSecretId('', 'approle', 'deploy-agent', { ttl: 60 });
    expect((await vault.recheck(sidId(accessor), ctx)).state).toBe('present');
    (double.clock as ManualClock).advance(61_000);
    double.clearRequestLog();
    expect(await vault.recheck(sidId(accessor), ctx)).toMatchObject({
      state: 'absent',
      reason: `vault main: secret ID accessor ${accessor} of AppRole role "deploy-agent" on auth/approle not found (destroyed or expired)`,
    });
    expect(double.requestLog.map((e) => e.status)).toEqual([200, 204]);
  });

  it('sealed: every kind is unknown with the sealed code, after one request', async () => {
    double.seal();
    try {
      const ids = [
        tokenId(seeded.invoice.accessor),
        tokenId(seeded.teamA.accessor, 'team-a'),
        ROLE_ID,
        sidId(seeded.secretIds.never),
        leaseId(seeded.leases[0]!),
        AWS_ROLE_ID,
      ];
      for (const id of ids) {
        expect(await vault.recheck(id, ctx), id).toMatchObject({
          state: 'unknown',
          code: 'CW_ERR_VAULT_SEALED',
          reason: `vault main${id.includes('/team-a/') ? ' namespace team-a' : ''}: Vault is sealed`,
          apiCalls: { total: 1 },
        });
      }
    } finally {
      double.unseal();
    }
    expect((await vault.recheck(ROLE_ID, ctx)).state).toBe('present');
  });

  it('a chosen 5xx throws (retryable), at any step; it is never absent or unknown', async () => {
    const cases: [string, number, string][] = [
      ['auth/token/lookup-accessor', 502, tokenId(seeded.invoice.accessor)],
      ['sys/policies/acl/agent-invoice', 500, tokenId(seeded.invoice.accessor)],
      ['auth/approle/role/deploy-agent/secret-id-accessor/lookup', 500, sidId(seeded.secretIds.never)],
      ['sys/leases/lookup', 503, leaseId(seeded.leases[0]!)],
      ['aws/roles/deploy', 504, AWS_ROLE_ID],
    ];
    for (const [path, status, id] of cases) {
      const address = await faultProxy({ path, status, body: { errors: ['upstream broke'] } });
      const source = await appWith({ address });
      await expect(source.recheck(id, ctx), `${path} ${status}`).rejects.toMatchObject({
        code: 'CW_ERR_VAULT',
        retryable: true,
        message: `vault main: ${path}: HTTP ${status}: upstream broke`,
      });
    }
    // The double's own 500: an accessor of team-a asked for in the root namespace.
    await expect(vault.recheck(tokenId(seeded.teamA.accessor), ctx)).rejects.toMatchObject({
      code: 'CW_ERR_VAULT',
      retryable: true,
      message: expect.stringMatching(/HTTP 500: cannot lookup token in different namespace/),
    });
  });

  it('owns() and INPUT: every id this source cannot recheck is refused, naming it, before any request', async () => {
    double.clearRequestLog();
    const bad: [string, RegExp][] = [
      ['vault/other/root/token/abc', /no Vault cluster named "other" is configured/],
      ['vault/main/team-c/token/abc', /namespace "team-c" is not configured for cluster main/],
      ['vault/main/root/approle/other/deploy-agent', /no configured AppRole mount \(approle\) is a prefix of/],
      ['vault/main/root/aws-role/aws', /no configured AWS secrets engine mount \(aws\)/],
      ['vault/main/root/aws-role/aws/deploy/x', /malformed AWS secrets engine path "aws\/deploy\/x"/],
      ['vault/main/root/lease/database/creds/r/abc', /under no configured lease prefix \(aws\/creds\/\)/],
      ['vault/main/root/lease/aws/creds/', /malformed lease id/],
      ['vault/main/root/lease/aws/creds//abc', /malformed lease id/],
      ['vault/main/root/token/', /malformed token accessor/],
      ['vault/main/root/token/a/b', /malformed token accessor/],
      ['vault/main/root/approle/approle/deploy-agent/secret-id', /malformed AppRole path/],
      ['vault/main/root/approle/approle/deploy-agent/extra/x', /malformed AppRole path/],
      ['vault/main/root/approle/approle/deploy-agent/secret-id/a/b', /malformed AppRole path/],
      ['vault/main/root/widget/x', /unknown credential kind "widget"/],
      ['vault/main/team-a%2F/token/abc', /is not a namespace segment/],
      ['vault/main/team-a%2F%2Fx/token/abc', /is not a namespace segment/],
      ['vault/main/root', /not of the form/],
      ['aws/123456789012/access-key/AKIA0000000000000000', /not of the form/],
      ['nonsense', /not of the form/],
    ];
    for (const [id, why] of bad) {
      const err = await vault.recheck(id, ctx).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err, id).toMatchObject({ code: 'CW_ERR_INPUT', retryable: false });
      expect((err as Error).message, id).toContain(`"${id}"`);
      expect((err as Error).message, id).toMatch(why);
    }
    expect(double.requestLog).toEqual([]);
    for (const id of ['vault/other/root/token/abc', 'vault/main/team-c/token/abc', 'aws/1/role/x', 'vault/main/root'])
      expect(vault.owns(id), id).toBe(false);
    for (const id of [tokenId('x'), tokenId('x', 'team-a'), 'vault/main/root/widget/x', ...scanned.map((c) => c.id)])
      expect(vault.owns(id), id).toBe(true);
    // Recheck reads a subset of what a scan reads (the first test ran with the scanner policy alone).
    expect(vault.recheckPermissions).toEqual([]);
  });

  it('a Vault that accepts connections and never answers: unknown with the timeout code', async () => {
    const sockets: Socket[] = [];
    const hang = createNetServer((sock) => sockets.push(sock));
    await new Promise<void>((res) => hang.listen(0, '127.0.0.1', res));
    opened.push({
      close: async () => {
        for (const s of sockets) s.destroy();
        await new Promise<void>((res) => hang.close(() => res()));
      },
    });
    const source = await appWith({
      address: `http://127.0.0.1:${(hang.address() as { port: number }).port}`,
      requestTimeoutMs: 200,
    });
    const started = Date.now();
    for (const [id, path] of [
      [tokenId(seeded.invoice.accessor), 'auth/token/lookup-accessor'],
      [AWS_ROLE_ID, 'aws/roles/deploy'],
    ] as const) {
      expect(await source.recheck(id, ctx), id).toMatchObject({
        state: 'unknown',
        code: 'CW_ERR_TIMEOUT',
        reason: `vault main: timed out after 200 ms on ${path}`,
        apiCalls: { total: 1, attempts: 1 },
      });
    }
    expect(Date.now() - started).toBeLessThan(3_000);
  });
});
