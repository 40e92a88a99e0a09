/**
 * Contract tests for the Vault double (test/support/vault-double): one test per wire rule of
 * /work/shared/reference/vault-api.md, each citing its section. Every rule runs twice: against the
 * double and against a real OpenBao dev server (test/support/openbao.ts), through one seeding API
 * (test/support/vault-target.ts). Where the two disagreed, OpenBao won and the double was fixed.
 * They drive the server through node-vault (as credwarden does) and, for the LIST verb and raw
 * status/headers/bodies, through fetch and raw sockets. If a rule fails only on the double, the
 * double no longer behaves like Vault; if it fails only on OpenBao, the rule itself is wrong.
 *
 * Double-only (in the last describe blocks, marked so): what only a double can do on demand or
 * what OpenBao does not have: the AWS secrets engine (OpenBao has none), constraint-less AppRole
 * roles (OpenBao refuses to store them), entities chosen by id, a manual clock moved by minutes,
 * and the double's request log.
 */
import net from 'node:net';
import vault from 'node-vault';
import { beforeEach, describe, expect, it } from 'vitest';
import { SPAWNER_POLICY, type TargetKind, useVaultTarget, type VaultTarget } from '../support/vault-target.js';

const RFC3339_NANO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{1,9}(Z|[+-]\d{2}:\d{2})$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

interface RawReply {
  status: number;
  headers: Headers;
  text: string;
  // biome-ignore lint/suspicious/noExplicitAny: JSON bodies under test
  json: any;
}

// biome-ignore lint/suspicious/noExplicitAny: node-vault rejects with an untyped ApiResponseError
async function rejection(p: Promise<unknown>): Promise<{ message: string; statusCode: number; body: any }> {
  try {
    await p;
  } catch (e) {
    const err = e as Error & { response?: { statusCode: number; body: unknown } };
    return { message: err.message, statusCode: err.response?.statusCode ?? -1, body: err.response?.body };
  }
  throw new Error('expected the request to fail');
}

/** Retries an assertion for up to `ms`: OpenBao applies revocations and expiry asynchronously. */
async function eventually(check: () => Promise<void>, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      await check();
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/** The wire helpers of one target. */
function wire(T: VaultTarget) {
  const client = (token: string = T.rootToken) =>
    vault({ endpoint: T.address, token, requestOptions: { timeout: 5000 }, noCustomHTTPVerbs: true });

  async function http(
    method: string,
    path: string,
    opts: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
  ): Promise<RawReply> {
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.token !== undefined) headers['X-Vault-Token'] = opts.token;
    const res = await fetch(`${T.address}/v1/${path}`, {
      method,
      headers,
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, text, json: text ? JSON.parse(text) : undefined };
  }

  const root = (method: string, path: string, body?: unknown, headers?: Record<string, string>) =>
    http(method, path, { token: T.rootToken, body, headers });

  /** Send raw bytes on one connection and collect what comes back until `responses` arrived. */
  function rawExchange(payload: string, responses: number): Promise<string> {
    return new Promise((resolve, reject) => {
      const url = new URL(T.address);
      const socket = net.connect(Number(url.port), url.hostname, () => socket.write(payload));
      let got = '';
      socket.on('data', (d) => {
        got += d.toString();
        if ((got.match(/HTTP\/1\.1 \d{3}/g) ?? []).length >= responses) {
          setTimeout(() => {
            socket.destroy();
            resolve(got);
          }, 50);
        }
      });
      socket.on('error', reject);
    });
  }

  const lookupAccessor = (accessor: string, token = T.rootToken) =>
    http('POST', 'auth/token/lookup-accessor', { token, body: { accessor } });

  /** Every lease id under `prefix` in the root namespace, walking the lease tree. */
  async function leaseIds(prefix: string): Promise<string[]> {
    const res = await root('LIST', `sys/leases/lookup/${prefix}`);
    if (res.status === 404) return [];
    const out: string[] = [];
    for (const k of res.json.data.keys as string[]) {
      out.push(...(k.endsWith('/') ? await leaseIds(`${prefix}${k}`) : [`${prefix}${k}`]));
    }
    return out.sort();
  }

  return { client, http, root, rawExchange, lookupAccessor, leaseIds };
}

function contract(kind: TargetKind) {
  const T = useVaultTarget(kind);
  const { client, http, root, rawExchange, lookupAccessor, leaseIds } = wire(T);

  describe('§0 wire rules', () => {
    it('§0 success envelope: every field, request_id a UUID, no mount_type', async () => {
      const body = await client().read('auth/token/lookup-self');
      expect(Object.keys(body).sort()).toEqual(
        ['auth', 'data', 'lease_duration', 'lease_id', 'renewable', 'request_id', 'warnings', 'wrap_info'].sort(),
      );
      expect(body.request_id).toMatch(UUID);
      expect(body).toMatchObject({
        lease_id: '',
        renewable: false,
        lease_duration: 0,
        wrap_info: null,
        warnings: null,
        auth: null,
      });
    });

    it('§0 auth-only responses carry data: null; service tokens start s.', async () => {
      const body = await client().write('auth/token/create', { policies: ['default'] });
      expect(body.data).toBeNull();
      expect(body.auth.client_token).toMatch(/^s\.[A-Za-z0-9]{24}$/);
      expect(body.auth.accessor).toMatch(/^[A-Za-z0-9]{24}$/);
    });

    it('§0 status codes: 204 has an empty body but still Content-Type: application/json', async () => {
      const { accessor } = await T.createToken({ policies: ['default'] });
      const res = await root('POST', 'auth/token/revoke-accessor', { accessor });
      expect(res.status).toBe(204);
      expect(res.text).toBe('');
      expect(res.headers.get('content-type')).toBe('application/json');
      expect(await client().write('auth/token/revoke-accessor', { accessor })).toMatchObject({
        warnings: expect.any(Array),
      });
    });

    it('§0/§3 status codes: lease revoke is sync by default (204); sync:false → 202 with an empty body, which node-vault rejects', async () => {
      const L = await T.leases();
      const a = await L.mint();
      const b = await L.mint();
      const queued = await root('PUT', 'sys/leases/revoke', { lease_id: a, sync: false });
      expect(queued.status).toBe(202);
      expect(queued.text).toBe('');
      await eventually(async () => expect(await L.ids()).not.toContain(a));
      const sync = await root('PUT', 'sys/leases/revoke', { lease_id: b });
      expect(sync.status).toBe(204);
      expect(await L.ids()).not.toContain(b);
      expect(await client().write('sys/leases/revoke', { lease_id: `${L.path}/unknown` })).toBe('');
      const err = await rejection(client().write('sys/leases/revoke', { lease_id: `${L.path}/unknown`, sync: false }));
      expect(err).toMatchObject({ statusCode: 202, message: 'Status 202' });
    });

    it('§0/§8.2 empty LIST → 404 {"errors":[]}, unknown route → 404 with non-empty errors', async () => {
      const empty = await root('LIST', 'auth/approle/role');
      expect(empty.status).toBe(404);
      expect(empty.json).toEqual({ errors: [] });
      expect(await rejection(client().list('auth/approle/role'))).toMatchObject({
        statusCode: 404,
        message: 'Status 404',
      });
      const inMount = await root('GET', 'auth/token/no-such-thing');
      expect(inMount.status).toBe(404);
      expect(inMount.json).toEqual({ errors: ['1 error occurred:\n\t* unsupported path\n\n'] });
      const noMount = await root('GET', 'nowhere/at/all');
      expect(noMount.status).toBe(404);
      expect(noMount.json.errors).toEqual(['no handler for route "nowhere/at/all". route entry not found.']);
    });

    it('§0 nil read → 404 {"errors":[]}', async () => {
      const res = await root('GET', 'sys/policies/acl/nope');
      expect(res.status).toBe(404);
      expect(res.json).toEqual({ errors: [] });
    });

    it.each(['1', 't', 'T', 'TRUE', 'true', 'True'])(
      '§0 LIST semantics: GET ?list=%s is a LIST (ParseBool)',
      async (v) => {
        const res = await root('GET', `auth/token/accessors?list=${v}`);
        expect(res.status).toBe(200);
        expect(res.json.data.keys).toContain(T.rootAccessor);
      },
    );

    it.each(['0', 'f', 'F', 'FALSE', 'false', 'False'])('§0 LIST semantics: GET ?list=%s is a read', async (v) => {
      const res = await root('GET', `auth/token/lookup-self?list=${v}`);
      expect(res.status).toBe(200);
      expect(res.json.data.id).toBe(T.rootToken);
    });

    it.each(['yes', '2', 'TRue', 'on'])('§0 LIST semantics: GET ?list=%s → 400 {"errors":[]}', async (v) => {
      const res = await root('GET', `auth/token/accessors?list=${v}`);
      expect(res.status).toBe(400);
      expect(res.json).toEqual({ errors: [] });
    });

    it('§8.1 the LIST verb works (raw and through node-vault generated helpers)', async () => {
      const raw = await root('LIST', 'auth/token/accessors');
      expect(raw.status).toBe(200);
      expect(raw.json.data.keys).toEqual([T.rootAccessor]);
      const generated = await client().tokenAccessors();
      expect(generated.data.keys).toEqual([T.rootAccessor]);
    });

    it('§0 PUT and POST are synonyms', async () => {
      const { accessor } = await T.createToken();
      const put = await root('PUT', 'auth/token/lookup-accessor', { accessor });
      const post = await root('POST', 'auth/token/lookup-accessor', { accessor });
      expect(put.status).toBe(200);
      expect({ ...put.json.data, ttl: 0 }).toEqual({ ...post.json.data, ttl: 0 });
    });

    it('§0 Go errors are multierror text; logical.ErrorResponse messages are plain', async () => {
      const res = await lookupAccessor('nope');
      expect(res.status).toBe(400);
      expect(res.json).toEqual({ errors: ['1 error occurred:\n\t* invalid accessor\n\n'] });
      const plain = await root('POST', 'sys/leases/lookup', { lease_id: 'aws/creds/x/nope' });
      expect(plain.status).toBe(400);
      expect(plain.json).toEqual({ errors: ['invalid lease'] });
    });

    it('§0 403: missing, unknown or revoked token → a bare "permission denied"; valid token without rights → multierror', async () => {
      // HashiCorp Vault sends two errors here ("permission denied", "invalid token"); OpenBao one, unwrapped.
      const twoErrors = { errors: ['permission denied'] };
      expect((await http('GET', 'auth/token/lookup-self')).json).toEqual(twoErrors);
      expect((await http('GET', 'auth/token/lookup-self', { token: 's.bogus' })).json).toEqual(twoErrors);
      const t = await T.createToken();
      await T.revokeAccessor(t.accessor);
      const revoked = await http('GET', 'auth/token/lookup-self', { token: t.token });
      expect(revoked.status).toBe(403);
      expect(revoked.json).toEqual(twoErrors);
      const weak = await T.createToken({ policies: ['default'] });
      const denied = await http('LIST', 'auth/token/accessors', { token: weak.token });
      expect(denied.status).toBe(403);
      expect(denied.json).toEqual({ errors: ['1 error occurred:\n\t* permission denied\n\n'] });
      expect((await rejection(client(weak.token).list('auth/token/accessors'))).message).toBe(
        '1 error occurred:\n\t* permission denied\n\n',
      );
    });

    it('§0 ACL checks run before routing: 403 before 404', async () => {
      const weak = await T.createToken({ policies: ['default'] });
      expect((await http('GET', 'does/not/exist', { token: weak.token })).status).toBe(403);
      expect((await http('GET', 'sys/nothing-here', { token: weak.token })).status).toBe(403);
      expect((await root('GET', 'does/not/exist')).status).toBe(404);
    });

    it('§0/§1 wrong method → 405 unsupported operation (GET lookup-accessor)', async () => {
      const res = await root('GET', 'auth/token/lookup-accessor');
      expect(res.status).toBe(405);
      expect(res.json).toEqual({ errors: ['1 error occurred:\n\t* unsupported operation\n\n'] });
    });

    it('§0 sealed → 503 {"errors":["Vault is sealed"]} except sys/health and sys/seal-status', async () => {
      const weak = await T.createToken({ policies: ['default'] });
      expect((await http('PUT', 'sys/seal', { token: weak.token })).status).toBe(403);
      expect((await root('PUT', 'sys/seal')).status).toBe(204);
      const res = await root('GET', 'auth/token/lookup-self');
      expect(res.status).toBe(503);
      expect(res.json).toEqual({ errors: ['Vault is sealed'] });
      expect((await rejection(client().list('auth/token/accessors'))).statusCode).toBe(503);
      const health = await http('GET', 'sys/health');
      expect(health.status).toBe(503);
      expect(health.json).toMatchObject({ sealed: true, initialized: true });
      expect((await http('GET', 'sys/seal-status')).json).toMatchObject({ sealed: true });
      expect((await http('PUT', 'sys/unseal', { body: { key: T.unsealKey() } })).json).toMatchObject({
        sealed: false,
      });
      await eventually(async () => expect((await root('GET', 'auth/token/lookup-self')).status).toBe(200));
    });

    it('§8.1 wire: keep-alive with pipelined requests and a chunked body on one connection', async () => {
      const token = T.rootToken;
      const body = JSON.stringify({ accessor: T.rootAccessor });
      const chunked = `${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`;
      const got = await rawExchange(
        `LIST /v1/auth/token/accessors HTTP/1.1\r\nHost: x\r\nX-Vault-Token: ${token}\r\n\r\n` +
          `POST /v1/auth/token/lookup-accessor HTTP/1.1\r\nHost: x\r\nX-Vault-Token: ${token}\r\n` +
          `Transfer-Encoding: chunked\r\n\r\n${chunked}`,
        2,
      );
      const statuses = [...got.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => m[1]);
      expect(statuses).toEqual(['200', '200']);
      expect(got).toContain('"creation_ttl":0');
    });
  });

  describe('§1 token auth method', () => {
    it('§1 LIST auth/token/accessors needs list AND sudo', async () => {
      await T.putPolicy('', 'lister', 'path "auth/token/accessors" { capabilities = ["list"] }');
      await T.putPolicy('', 'sudo-lister', 'path "auth/token/accessors" { capabilities = ["list", "sudo"] }');
      const lister = await T.createToken({ policies: ['lister'] });
      const sudo = await T.createToken({ policies: ['sudo-lister'] });
      expect((await http('LIST', 'auth/token/accessors', { token: lister.token })).status).toBe(403);
      const ok = await client(sudo.token).list('auth/token/accessors');
      expect(ok.data.keys).toEqual(expect.arrayContaining([T.rootAccessor, lister.accessor, sudo.accessor]));
    });

    it('§1/§7 accessors are namespace-scoped and end in .<nsID> outside root (header and path prefix)', async () => {
      const ns = await T.createNamespace('team-a');
      const inNs = [await T.createToken({ namespace: 'team-a' }), await T.createToken({ namespace: 'team-a' })];
      const inRoot = await T.createToken();
      const viaHeader = await client().list('auth/token/accessors', { headers: { 'X-Vault-Namespace': 'team-a/' } });
      expect(viaHeader.data.keys.sort()).toEqual(inNs.map((t) => t.accessor).sort());
      for (const a of viaHeader.data.keys) expect(a).toMatch(new RegExp(`^[A-Za-z0-9]{24}\\.${ns.id}$`));
      for (const t of inNs) expect(t.token).toMatch(new RegExp(`^s\\.[A-Za-z0-9]{24}\\.${ns.id}$`));
      const viaPath = await client().list('team-a/auth/token/accessors');
      expect(viaPath.data.keys.sort()).toEqual(viaHeader.data.keys.sort());
      const rootList = await client().list('auth/token/accessors');
      expect(rootList.data.keys.sort()).toEqual([T.rootAccessor, inRoot.accessor].sort());
    });

    it('§1 batch tokens have no accessor and never appear in accessor lists', async () => {
      const batch = await client().write('auth/token/create', { type: 'batch', policies: ['default'] });
      expect(batch.auth.client_token).toMatch(/^b\./);
      expect(batch.auth.accessor).toBe('');
      const service = await T.createToken();
      const keys = (await client().list('auth/token/accessors')).data.keys;
      expect(keys.sort()).toEqual([T.rootAccessor, service.accessor].sort());
      const self = await client(batch.auth.client_token).read('auth/token/lookup-self');
      expect(self.data).toMatchObject({ type: 'batch', accessor: '' });
    });

    it('§1 revoke-accessor revokes the whole child tree and its leases (204)', async () => {
      const L = await T.leases();
      await T.putPolicy('', 'creds', L.readPolicy);
      await T.putPolicy('', 'spawner', SPAWNER_POLICY);
      const parent = await T.createToken({ policies: ['creds', 'spawner'] });
      const child = await T.createToken({ parent: parent.token, policies: ['creds', 'spawner'] });
      const grandchild = await T.createToken({ parent: child.token, policies: ['creds'] });
      const bystander = await T.createToken({ policies: ['creds'] });
      const lease = (await client(grandchild.token).read(L.path)).lease_id as string;
      const other = (await client(bystander.token).read(L.path)).lease_id as string;
      expect(lease).toMatch(new RegExp(`^${escapeRe(L.path)}/[A-Za-z0-9]{24}$`));
      expect((await root('POST', 'auth/token/revoke-accessor', { accessor: parent.accessor })).status).toBe(204);
      for (const t of [parent, child, grandchild]) expect((await lookupAccessor(t.accessor)).status).toBe(400);
      await eventually(async () =>
        expect((await root('POST', 'sys/leases/lookup', { lease_id: lease })).json).toEqual({
          errors: ['invalid lease'],
        }),
      );
      expect((await lookupAccessor(bystander.accessor)).status).toBe(200);
      expect((await root('POST', 'sys/leases/lookup', { lease_id: other })).status).toBe(200);
    });

    it('§1 revoke-accessor with an unknown accessor → 200 with a warning (Vault ≥ 1.10)', async () => {
      const res = await root('POST', 'auth/token/revoke-accessor', { accessor: 'nope' });
      expect(res.status).toBe(200);
      expect(res.json.warnings).toEqual(['No token found with this accessor']);
      expect(res.json.data).toBeNull();
    });

    it('§1 lookup-accessor field types on a service token', async () => {
      const before = T.now();
      const created = await T.createToken({ policies: ['agent-x'], ttl: '1h' });
      const first = (await lookupAccessor(created.accessor)).json;
      expect(first).not.toHaveProperty('mount_type');
      const d = first.data;
      expect(Number.isInteger(d.creation_time)).toBe(true);
      expect(d.creation_time).toBeGreaterThanOrEqual(Math.floor(before / 1000));
      expect(d.creation_time).toBeLessThanOrEqual(Math.floor(T.now() / 1000));
      expect(d.issue_time).toMatch(RFC3339_NANO);
      expect(d.expire_time).toMatch(RFC3339_NANO);
      expect(Date.parse(d.expire_time) - Date.parse(d.issue_time)).toBeGreaterThanOrEqual(3_599_999);
      expect(d).toMatchObject({ id: '', meta: null, creation_ttl: 3600, renewable: true, orphan: false });
      expect(d.ttl).toBeGreaterThanOrEqual(3599);
      expect(d.ttl).toBeLessThanOrEqual(3600);
      expect(d.policies).toEqual(['agent-x', 'default']);
      expect(d.display_name).toBe('token');
      expect(d.entity_id).toBe('');
      for (const k of [
        'period',
        'last_renewal_time',
        'last_renewal',
        'role',
        'bound_cidrs',
        'identity_policies',
        'namespace_path',
      ]) {
        expect(d).not.toHaveProperty(k);
      }
      // ttl = expire − now rounded to the second, truncated (OpenBao's leaseEntry.ttl()).
      await T.elapse(1_100);
      const later = (await lookupAccessor(created.accessor)).json.data.ttl;
      expect(later).toBeGreaterThanOrEqual(3597); // 3599 or 3598 unless the machine is slow
      expect(later).toBeLessThanOrEqual(3599);
    });

    it('§1 root token: expire_time null, ttl 0, not renewable, and a lease entry (issue_time)', async () => {
      const d = (await lookupAccessor(T.rootAccessor)).json.data;
      expect(d).toMatchObject({
        expire_time: null,
        ttl: 0,
        policies: ['root'],
        orphan: true,
        renewable: false,
        creation_ttl: 0,
      });
      expect(d.issue_time).toMatch(RFC3339_NANO);
    });

    it('§1 a non-expiring token (root-policy child, no TTL) has a lease entry but no expiry', async () => {
      const t = await client().write('auth/token/create', { policies: ['root'] });
      expect(t.auth.lease_duration).toBe(0);
      const d = (await lookupAccessor(t.auth.accessor)).json.data;
      expect(d).toMatchObject({
        expire_time: null,
        ttl: 0,
        renewable: false,
        orphan: false,
        path: 'auth/token/create',
      });
      expect(d.issue_time).toMatch(RFC3339_NANO);
    });

    it('§1 keys appear only when set: period, last_renewal(_time), identity_policies, namespace_path, meta', async () => {
      const periodic = await client().write('auth/token/create', { period: '24h', meta: { agent: 'invoice-bot' } });
      const { roleId } = await T.createAppRole('', 'with-entity', { tokenPolicies: ['default'] });
      const { secretId } = await T.mintSecretId('', 'with-entity');
      const entityToken = await T.loginAppRole('', roleId, secretId);
      expect(entityToken.entityId).toMatch(UUID);
      expect((await lookupAccessor(entityToken.accessor)).json.data).not.toHaveProperty('identity_policies');
      await T.setEntityPolicies(entityToken.entityId, ['from-group']);
      await T.createNamespace('team-b');
      const nsToken = await T.createToken({ namespace: 'team-b' });
      await client(periodic.auth.client_token).write('auth/token/renew-self', {});
      const p = (await lookupAccessor(periodic.auth.accessor)).json.data;
      expect(p).toMatchObject({ period: 86400, meta: { agent: 'invoice-bot' } });
      expect(Number.isInteger(p.last_renewal_time)).toBe(true);
      expect(p.last_renewal).toMatch(RFC3339_NANO);
      expect((await lookupAccessor(entityToken.accessor)).json.data.identity_policies).toEqual(['from-group']);
      const n = await http('POST', 'auth/token/lookup-accessor', {
        token: T.rootToken,
        body: { accessor: nsToken.accessor },
        headers: { 'X-Vault-Namespace': 'team-b' },
      });
      expect(n.json.data.namespace_path).toBe('team-b/');
    });

    it('§1 lookup-accessor: missing field → 400 missing accessor (multierror)', async () => {
      expect((await root('POST', 'auth/token/lookup-accessor', {})).json).toEqual({
        errors: ['1 error occurred:\n\t* missing accessor\n\n'],
      });
    });

    it('§0/§1 token create: no_parent and period need sudo; create-orphan does not', async () => {
      await T.putPolicy('', 'creator', 'path "auth/token/create*" { capabilities = ["update"] }');
      const creator = await T.createToken({ policies: ['creator'] });
      const c = client(creator.token);
      expect(await rejection(c.write('auth/token/create', { no_parent: true }))).toMatchObject({
        statusCode: 400,
        message: 'root or sudo privileges required to create orphan token',
      });
      expect((await rejection(c.write('auth/token/create', { period: '1h' }))).message).toBe(
        'root or sudo privileges required to create periodic token',
      );
      const orphan = await c.write('auth/token/create-orphan', {});
      expect(orphan.auth.orphan).toBe(true);
      expect((await rejection(c.write('auth/token/create', { policies: ['admin'] }))).message).toBe(
        'child policies must be subset of parent',
      );
    });

    it('§1 revoke-orphan takes a token (no accessor form), needs sudo, and orphans the children', async () => {
      await T.putPolicy('', 'spawner', SPAWNER_POLICY);
      const parent = await T.createToken({ policies: ['spawner'] });
      const child = await T.createToken({ parent: parent.token });
      await T.putPolicy('', 'revoker', 'path "auth/token/revoke-orphan" { capabilities = ["update"] }');
      const revoker = await T.createToken({ policies: ['revoker'] });
      const noSudo = await http('POST', 'auth/token/revoke-orphan', {
        token: revoker.token,
        body: { token: parent.token },
      });
      expect(noSudo.status).toBe(400);
      expect(noSudo.json).toEqual({ errors: ['root or sudo privileges required to revoke and orphan'] });
      expect((await root('POST', 'auth/token/revoke-orphan', { token: parent.token })).status).toBe(204);
      expect((await lookupAccessor(parent.accessor)).status).toBe(400);
      expect((await lookupAccessor(child.accessor)).json.data.orphan).toBe(true);
    });

    it('§9 display_name: token- prefix, characters outside [A-Za-z0-9-] become -', async () => {
      const a = await client().write('auth/token/create', { display_name: 'invoice-bot' });
      const b = await client().write('auth/token/create', { display_name: 'my bot.v2/' });
      expect((await lookupAccessor(a.auth.accessor)).json.data.display_name).toBe('token-invoice-bot');
      expect((await lookupAccessor(b.auth.accessor)).json.data.display_name).toBe('token-my-bot-v2');
    });

    it('§9 expiry: a token past its TTL is revoked with its children and their leases', async () => {
      const L = await T.leases();
      await T.putPolicy('', 'creds', L.readPolicy);
      await T.putPolicy('', 'spawner', SPAWNER_POLICY);
      const parent = await T.createToken({ ttl: 2, policies: ['creds', 'spawner'] });
      const child = await T.createToken({ parent: parent.token, ttl: 3600, policies: ['creds'] });
      const lease = await L.mint(child.token);
      await T.elapse(1_000);
      expect((await lookupAccessor(child.accessor)).status).toBe(200);
      await T.elapse(1_500);
      await eventually(async () => {
        expect((await lookupAccessor(parent.accessor)).status).toBe(400);
        expect((await lookupAccessor(child.accessor)).status).toBe(400);
        expect(await L.ids()).not.toContain(lease);
      });
      expect((await http('GET', 'auth/token/lookup-self', { token: parent.token })).json).toEqual({
        errors: ['permission denied'],
      });
    });

    it('§1 num_uses: the last use succeeds, then the token is revoked', async () => {
      const t = await T.createToken({ numUses: 2 });
      expect((await http('GET', 'auth/token/lookup-self', { token: t.token })).json.data.num_uses).toBe(1);
      expect((await http('GET', 'auth/token/lookup-self', { token: t.token })).status).toBe(200);
      expect((await http('GET', 'auth/token/lookup-self', { token: t.token })).status).toBe(403);
      await eventually(async () => expect(await T.tokenExists(t.accessor)).toBe(false));
    });

    it('§0 tidy → 202 with a warnings envelope', async () => {
      const res = await root('POST', 'auth/token/tidy');
      expect(res.status).toBe(202);
      expect(res.json.warnings).toHaveLength(1);
      expect(res.json.data).toBeNull();
    });

    it('§6 trap 1: node-vault tokenCreate replaces client.token with the new token', async () => {
      const c = client();
      const created = await c.tokenCreate({ policies: ['default'] });
      expect(c.token).toBe(created.auth.client_token);
      expect(c.token).not.toBe(T.rootToken);
      const viaWrite = client();
      await viaWrite.write('auth/token/create', { policies: ['default'] });
      expect(viaWrite.token).toBe(T.rootToken);
    });
  });

  describe('§2 AppRole', () => {
    beforeEach(async () => {
      await T.createAppRole('', 'agent-x', { tokenPolicies: ['agent-x'], secretIdNumUses: 0 });
    });

    it('§2 secret-id mint (metadata as a JSON string) and accessor lookup field shapes', async () => {
      const minted = await client().write('auth/approle/role/agent-x/secret-id', {
        metadata: '{"tag1":"production"}',
      });
      expect(Object.keys(minted.data).sort()).toEqual([
        'secret_id',
        'secret_id_accessor',
        'secret_id_num_uses',
        'secret_id_ttl',
      ]);
      const res = await client().write('auth/approle/role/agent-x/secret-id-accessor/lookup', {
        secret_id_accessor: minted.data.secret_id_accessor,
      });
      expect(res.data).toMatchObject({
        cidr_list: [],
        token_bound_cidrs: [],
        expiration_time: '0001-01-01T00:00:00Z',
        metadata: { tag1: 'production' },
        secret_id_accessor: minted.data.secret_id_accessor,
        secret_id_num_uses: 0,
        secret_id_ttl: 0,
      });
      expect(res.data.creation_time).toMatch(RFC3339_NANO);
      expect(res.data.last_updated_time).toBe(res.data.creation_time);
      const listed = await client().list('auth/approle/role/agent-x/secret-id');
      expect(listed.data.keys).toEqual([minted.data.secret_id_accessor]);
    });

    it('§2 unknown accessor lookup → 404 raw envelope with data.error and no errors key', async () => {
      const res = await root('POST', 'auth/approle/role/agent-x/secret-id-accessor/lookup', {
        secret_id_accessor: 'abc',
      });
      expect(res.status).toBe(404);
      expect(res.json).not.toHaveProperty('errors');
      expect(res.json.request_id).toMatch(UUID);
      expect(res.json.data).toEqual({ error: 'failed to find accessor entry for secret_id_accessor: "abc"' });
      const err = await rejection(
        client().write('auth/approle/role/agent-x/secret-id-accessor/lookup', { secret_id_accessor: 'abc' }),
      );
      expect(err).toMatchObject({ statusCode: 404, message: 'Status 404' });
    });

    it('§2 destroy: known accessor → 204 and gone; unknown → 500 multierror', async () => {
      const { accessor } = await T.mintSecretId('', 'agent-x');
      const path = 'auth/approle/role/agent-x/secret-id-accessor/destroy';
      expect((await root('POST', path, { secret_id_accessor: accessor })).status).toBe(204);
      expect((await root('LIST', 'auth/approle/role/agent-x/secret-id')).json).toEqual({ errors: [] });
      const unknown = await root('POST', path, { secret_id_accessor: accessor });
      expect(unknown.status).toBe(500);
      expect(unknown.json).toEqual({
        errors: [`1 error occurred:\n\t* failed to find accessor entry for secret_id_accessor: "${accessor}"\n\n`],
      });
    });

    it('§2 LIST role 404 when none; LIST secret-id of a missing role → 400', async () => {
      expect((await root('LIST', 'auth/approle/role')).json.data.keys).toEqual(['agent-x']);
      const missing = await root('LIST', 'auth/approle/role/ghost/secret-id');
      expect(missing.status).toBe(400);
      expect(missing.json).toEqual({ errors: ['role "ghost" does not exist'] });
      expect((await root('GET', 'auth/approle/role/ghost')).json).toEqual({ errors: [] });
      await T.createNamespace('empty');
      expect((await root('LIST', 'auth/approle/role', undefined, { 'X-Vault-Namespace': 'empty' })).status).toBe(404);
    });

    it('§2 role read shape', async () => {
      const r = await client().read('auth/approle/role/agent-x');
      expect(r.data).toMatchObject({ bind_secret_id: true, token_policies: ['agent-x'], token_type: 'default' });
      expect(r.data).not.toHaveProperty('policies');
      expect(r.warnings).toBeNull();
      expect(r.data.secret_id_bound_cidrs).toBeNull();
      expect(r.data.token_bound_cidrs).toEqual([]);
      const loose = await root('POST', 'auth/approle/role/loose', { bind_secret_id: false });
      expect(loose.status).toBe(500);
      expect(loose.json).toEqual({
        errors: ['1 error occurred:\n\t* at least one constraint should be enabled on the role\n\n'],
      });
    });

    it('§2 login: orphan service token with meta.role_name; num_uses >1 decrements and stamps last_updated_time', async () => {
      const { roleId } = await T.createAppRole('', 'agent-x', { secretIdNumUses: 5 });
      const limited = await T.mintSecretId('', 'agent-x', { numUses: 3 });
      await T.elapse(10);
      const login = await vault({ endpoint: T.address }).write('auth/approle/login', {
        role_id: roleId,
        secret_id: limited.secretId,
      });
      expect(login.auth).toMatchObject({ metadata: { role_name: 'agent-x' }, orphan: true, token_type: 'service' });
      const d = (await lookupAccessor(login.auth.accessor)).json.data;
      expect(d).toMatchObject({ path: 'auth/approle/login', display_name: 'approle', meta: { role_name: 'agent-x' } });
      expect(d.entity_id).toMatch(UUID);
      const after = await root('POST', 'auth/approle/role/agent-x/secret-id-accessor/lookup', {
        secret_id_accessor: limited.accessor,
      });
      expect(after.json.data.secret_id_num_uses).toBe(2);
      expect(after.json.data.last_updated_time).not.toBe(after.json.data.creation_time);
    });

    it('§2 login: unlimited secret IDs keep last_updated_time; num_uses 1 deletes the secret ID', async () => {
      const { roleId } = await T.createAppRole('', 'agent-x');
      const unlimited = await T.mintSecretId('', 'agent-x');
      const once = await T.mintSecretId('', 'agent-x', { numUses: 1 });
      await T.elapse(10);
      await T.loginAppRole('', roleId, unlimited.secretId);
      await T.loginAppRole('', roleId, once.secretId);
      const u = await root('POST', 'auth/approle/role/agent-x/secret-id-accessor/lookup', {
        secret_id_accessor: unlimited.accessor,
      });
      expect(u.json.data.last_updated_time).toBe(u.json.data.creation_time);
      expect((await client().list('auth/approle/role/agent-x/secret-id')).data.keys).toEqual([unlimited.accessor]);
      const again = await http('POST', 'auth/approle/login', { body: { role_id: roleId, secret_id: once.secretId } });
      expect(again.status).toBe(400);
      expect(again.json).toEqual({ errors: ['invalid role or secret ID'] });
    });

    it('§9 expired secret IDs stay listed until a tidy, look up as 204 and no longer log in', async () => {
      const { roleId } = await T.createAppRole('', 'agent-x');
      const short = await T.mintSecretId('', 'agent-x', { ttl: 1 });
      const lasting = await T.mintSecretId('', 'agent-x');
      const lookup = (accessor: string) =>
        root('POST', 'auth/approle/role/agent-x/secret-id-accessor/lookup', { secret_id_accessor: accessor });
      const d = (await lookup(short.accessor)).json.data;
      expect(Date.parse(d.expiration_time) - Date.parse(d.creation_time)).toBe(1_000);
      await T.elapse(1_100);
      const listed = async () => (await client().list('auth/approle/role/agent-x/secret-id')).data.keys.sort();
      expect(await listed()).toEqual([short.accessor, lasting.accessor].sort());
      const expired = await lookup(short.accessor);
      expect(expired.status).toBe(204);
      expect(expired.text).toBe('');
      const login = await http('POST', 'auth/approle/login', { body: { role_id: roleId, secret_id: short.secretId } });
      expect(login.json).toEqual({ errors: ['invalid role or secret ID'] });
      expect((await root('POST', 'auth/approle/tidy/secret-id')).status).toBe(202);
      await eventually(async () => expect(await listed()).toEqual([lasting.accessor]));
    });
  });

  describe('§3 leases', () => {
    it('§3 <mount>/creds mints a leased, renewable secret', async () => {
      const L = await T.leases();
      const read = await client().read(L.path);
      expect(read).toMatchObject({ renewable: true, lease_duration: L.ttl });
      expect(read.lease_id).toMatch(new RegExp(`^${escapeRe(L.path)}/[A-Za-z0-9]{24}$`));
    });

    it('§3 sys/leases/lookup: `last_renewal` (null until renewed), never `last_renewal_time`; `path`', async () => {
      const L = await T.leases();
      const leaseId = await L.mint();
      const before = (await client().write('sys/leases/lookup', { lease_id: leaseId })).data;
      expect(Object.keys(before).sort()).toEqual([
        'expire_time',
        'id',
        'issue_time',
        'last_renewal',
        'path',
        'renewable',
        'ttl',
      ]);
      expect(before).toMatchObject({ id: leaseId, path: L.path, last_renewal: null, renewable: true });
      expect(before.ttl).toBeGreaterThanOrEqual(L.ttl - 1);
      expect(before.ttl).toBeLessThanOrEqual(L.ttl);
      expect(before.issue_time).toMatch(RFC3339_NANO);
      await T.elapse(10);
      await client().write('sys/leases/renew', { lease_id: leaseId, increment: 600 });
      const after = (await client().write('sys/leases/lookup', { lease_id: leaseId })).data;
      expect(after.last_renewal).toMatch(RFC3339_NANO);
      expect(after.ttl).toBeGreaterThanOrEqual(599);
      expect(after.ttl).toBeLessThanOrEqual(600);
    });

    it('§3 LIST sys/leases/lookup/<prefix> is one level deep with trailing / on folders', async () => {
      const L = await T.leases();
      const leaseId = await L.mint();
      await T.createToken();
      expect((await client().list(`sys/leases/lookup/${L.mount}/`)).data.keys).toEqual(['creds/']);
      expect((await client().list(`sys/leases/lookup/${L.mount}/creds`)).data.keys).toEqual([`${L.role}/`]);
      const ids = (await root('LIST', `sys/leases/lookup/${L.path}/`)).json.data.keys;
      expect(ids).toEqual([leaseId.split('/').at(-1)]);
      expect(ids[0]).toMatch(/^[A-Za-z0-9]{24}$/);
      expect((await client().list('sys/leases/lookup/')).data.keys).toEqual(
        expect.arrayContaining(['auth/', `${L.mount}/`]),
      );
    });

    it('§3/§9 LIST leases needs sudo, and an exact rule shadows the glob for the bare prefix', async () => {
      const L = await T.leases();
      await L.mint();
      await T.putPolicy('', 'walker', 'path "sys/leases/lookup/*" { capabilities = ["list", "sudo"] }');
      await T.putPolicy('', 'no-sudo', 'path "sys/leases/lookup/*" { capabilities = ["list"] }');
      const walker = await T.createToken({ policies: ['walker'] });
      const noSudo = await T.createToken({ policies: ['no-sudo'] });
      expect((await http('LIST', `sys/leases/lookup/${L.mount}/`, { token: noSudo.token })).status).toBe(403);
      expect((await client(walker.token).list(`sys/leases/lookup/${L.mount}/`)).data.keys).toEqual(['creds/']);
      expect((await http('LIST', 'sys/leases/lookup/', { token: walker.token })).status).toBe(403);
      expect((await http('GET', 'sys/leases/lookup/?list=true', { token: walker.token })).status).toBe(403);
    });

    it('§3 revoke-prefix needs sudo; sync by default (204), 202 with sync:false', async () => {
      const L = await T.leases();
      const a = await L.mint();
      await T.putPolicy('', 'rp', 'path "sys/leases/revoke-prefix/*" { capabilities = ["update"] }');
      const noSudo = await T.createToken({ policies: ['rp'] });
      const prefix = `sys/leases/revoke-prefix/${L.mount}/creds`;
      expect((await http('PUT', prefix, { token: noSudo.token })).status).toBe(403);
      expect((await root('PUT', prefix, { sync: false })).status).toBe(202);
      await eventually(async () => expect(await L.ids()).not.toContain(a));
      await L.mint();
      expect((await root('PUT', prefix)).status).toBe(204);
      expect(await L.ids()).toEqual([]);
    });

    it('§3 the legacy sys/revoke-prefix path is gone (OpenBao removed it)', async () => {
      const res = await root('PUT', 'sys/revoke-prefix/auth/token/create', { sync: true });
      expect(res.status).toBe(404);
      expect(res.json).toEqual({ errors: ['1 error occurred:\n\t* unsupported path\n\n'] });
    });

    it('§9 token leases live under the token path and revoking one revokes the token', async () => {
      const { roleId } = await T.createAppRole('', 'agent-y');
      const { secretId } = await T.mintSecretId('', 'agent-y');
      const t = await T.loginAppRole('', roleId, secretId);
      const [tokenLease] = await leaseIds('auth/approle/login/');
      expect(tokenLease).toMatch(/^auth\/approle\/login\/h[0-9a-f]{64}$/);
      expect(tokenLease).not.toContain(t.accessor);
      expect((await root('PUT', 'sys/leases/revoke-prefix/auth/approle/login', { sync: true })).status).toBe(204);
      expect(await T.tokenExists(t.accessor)).toBe(false);
    });
  });

  describe('§4 policies and capabilities', () => {
    it('§0/§4 sys/policies/acl has no top-level copy; sys/policy has one; root listed and immutable', async () => {
      await client().write('sys/policies/acl/agent-x', { policy: 'path "secret/*" { capabilities = ["read"] }' });
      const acl = await client().read('sys/policies/acl/agent-x');
      const flags = {
        allow_slashes_in_identity_templates: false,
        allow_wildcards_in_identity_templates: false,
        cas_required: false,
      };
      expect(acl.data).toEqual({
        ...flags,
        name: 'agent-x',
        policy: 'path "secret/*" { capabilities = ["read"] }',
        version: 1,
        modified: expect.stringMatching(RFC3339_NANO),
      });
      expect(acl).not.toHaveProperty('policy');
      await client().write('sys/policies/acl/agent-x', { policy: 'path "secret/*" { capabilities = ["read"] }' });
      expect((await client().read('sys/policies/acl/agent-x')).data.version).toBe(2);
      const legacy = (await root('GET', 'sys/policy')).json;
      expect(legacy.keys).toEqual(['agent-x', 'default', 'root']);
      expect(legacy.data.policies).toEqual(legacy.keys);
      expect((await root('GET', 'sys/policy/agent-x')).json.rules).toContain('secret/*');
      expect((await client().list('sys/policies/acl')).data.keys).toEqual(['agent-x', 'default', 'root']);
      expect((await client().read('sys/policies/acl/root')).data).toEqual({
        ...flags,
        name: 'root',
        policy: '',
        version: 0,
      });
      expect((await root('PUT', 'sys/policies/acl/root', { policy: 'path "x" {}' })).status).toBe(400);
      expect((await root('DELETE', 'sys/policies/acl/default')).status).toBe(400);
      const bad = await root('PUT', 'sys/policies/acl/bad', { policy: 'path "x" {\n capabilities = [read]\n}' });
      expect(bad.status).toBe(400);
      // OpenBao: "failed to parse policy: At 2:18: unexpected token …"; the double's parser knows lines, not columns.
      expect(bad.json.errors[0]).toMatch(/^failed to parse policy: (At 2:\d+|line 2): /);
    });

    it('§4 capabilities-self / -accessor: top-level copy, ["root"] for root, ["deny"] for nothing', async () => {
      await T.putPolicy('', 'agent-x', 'path "secret/+/x" { capabilities = ["read", "list"] }');
      const t = await T.createToken({ policies: ['agent-x'] });
      const self = await client(t.token).write('sys/capabilities-self', { paths: ['secret/a/x'] });
      expect(self.capabilities).toEqual(['list', 'read']);
      expect(self.data['secret/a/x']).toEqual(['list', 'read']);
      const other = await client().write('sys/capabilities-accessor', {
        accessor: t.accessor,
        paths: ['nope', 'secret/b/x'],
      });
      expect(other.nope).toEqual(['deny']);
      expect(other).not.toHaveProperty('capabilities');
      expect((await client().write('sys/capabilities-self', { paths: ['anything'] })).capabilities).toEqual(['root']);
      const unknown = await root('POST', 'sys/capabilities-accessor', { accessor: 'nope', paths: ['x'] });
      expect(unknown.json).toEqual({ errors: ['1 error occurred:\n\t* invalid accessor\n\n'] });
    });

    it('§4 identity policies take part in ACL decisions', async () => {
      await T.putPolicy('', 'lister', 'path "auth/token/accessors" { capabilities = ["list", "sudo"] }');
      const { roleId } = await T.createAppRole('', 'with-entity', { tokenPolicies: ['default'] });
      const { secretId } = await T.mintSecretId('', 'with-entity');
      const t = await T.loginAppRole('', roleId, secretId);
      expect((await http('LIST', 'auth/token/accessors', { token: t.token })).status).toBe(403);
      await T.setEntityPolicies(t.entityId, ['lister']);
      expect((await http('LIST', 'auth/token/accessors', { token: t.token })).status).toBe(200);
    });
  });

  describe('§7 namespaces', () => {
    it('§7 LIST sys/namespaces returns direct children only, with key_info', async () => {
      const a = await T.createNamespace('a');
      await T.createNamespace('a/deep');
      const b = await T.createNamespace('b', { team: 'x' });
      const res = await client().list('sys/namespaces');
      // OpenBao does not sort these keys.
      expect(res.data.keys.sort()).toEqual(['a/', 'b/']);
      const info = { locked: false, tainted: false, uuid: expect.stringMatching(UUID) };
      expect(res.data.key_info['a/']).toEqual({ id: a.id, path: 'a/', custom_metadata: {}, ...info });
      expect(res.data.key_info['b/']).toEqual({ id: b.id, path: 'b/', custom_metadata: { team: 'x' }, ...info });
      expect(res).not.toHaveProperty('keys');
      const nested = await client().list('sys/namespaces', { headers: { 'X-Vault-Namespace': 'a' } });
      expect(nested.data.keys).toEqual(['deep/']);
      expect((await root('LIST', 'a/deep/sys/namespaces')).json).toEqual({ errors: [] });
    });

    it('§7 namespace policies apply to paths inside that namespace only', async () => {
      await T.createNamespace('team-a');
      await T.putPolicy('team-a', 'lister', 'path "auth/token/accessors" { capabilities = ["list", "sudo"] }');
      const t = await T.createToken({ namespace: 'team-a', policies: ['lister'] });
      const inNs = await http('LIST', 'auth/token/accessors', {
        token: t.token,
        headers: { 'X-Vault-Namespace': 'team-a' },
      });
      expect(inNs.json.data.keys).toEqual([t.accessor]);
      expect((await http('LIST', 'team-a/auth/token/accessors', { token: t.token })).status).toBe(200);
      expect((await http('LIST', 'auth/token/accessors', { token: t.token })).status).toBe(403);
      const self = await http('GET', 'auth/token/lookup-self', {
        token: t.token,
        headers: { 'X-Vault-Namespace': 'team-a' },
      });
      expect(self.json.data).toMatchObject({ namespace_path: 'team-a/', policies: ['default', 'lister'] });
    });

    it('§7/§9 LIST in a child namespace: a `+/x/*` glob on the full path beats `+/x` on the path without its slash', async () => {
      await T.createNamespace('team-a');
      await T.putPolicy('', 'bare', 'path "+/sys/policies/acl" { capabilities = ["list"] }');
      await T.putPolicy(
        '',
        'bare-and-glob',
        'path "+/sys/policies/acl" { capabilities = ["list"] }\npath "+/sys/policies/acl/*" { capabilities = ["read"] }',
      );
      await T.putPolicy('', 'glob-lists', 'path "+/sys/policies/acl/*" { capabilities = ["read", "list"] }');
      const listStatus = async (policy: string) => {
        const t = await T.createToken({ policies: [policy] });
        const ns = { 'X-Vault-Namespace': 'team-a' };
        return (await http('LIST', 'sys/policies/acl', { token: t.token, headers: ns })).status;
      };
      expect(await listStatus('bare')).toBe(200);
      expect(await listStatus('bare-and-glob')).toBe(403);
      expect(await listStatus('glob-lists')).toBe(200);
    });

    it('§7 POST sys/namespaces/:path creates a namespace with its own policies and token store', async () => {
      const created = await client().write('sys/namespaces/team-c', {});
      expect(created.data).toMatchObject({ path: 'team-c/', id: expect.stringMatching(/^[A-Za-z0-9]{6}$/) });
      const ns = { 'X-Vault-Namespace': 'team-c' };
      expect((await root('LIST', 'sys/policies/acl', undefined, ns)).json.data.keys).toEqual(['default']);
      expect((await root('LIST', 'auth/token/accessors', undefined, ns)).json).toEqual({ errors: [] });
      const made = await root('POST', 'auth/token/create', { policies: ['default'] }, ns);
      expect(made.json.auth.accessor.endsWith(`.${created.data.id}`)).toBe(true);
      expect((await root('LIST', 'auth/token/accessors', undefined, ns)).json.data.keys).toEqual([
        made.json.auth.accessor,
      ]);
    });
  });
}

describe('against the Vault double', () => {
  contract('double');
});

describe('against OpenBao', () => {
  contract('openbao');
});

// ---- Double-only: what OpenBao does not have, or what only a double can do on demand ----

describe('double only', () => {
  const T = useVaultTarget('double');
  const { client, root, lookupAccessor } = wire(T);

  describe('§3 the AWS secrets engine (OpenBao has none: "plugin not found in the catalog: aws")', () => {
    beforeEach(() => {
      T.double.createAwsRole('', 'aws', 'deploy', { credentialType: 'iam_user' });
      T.double.createAwsRole('', 'aws', 'sts', {
        credentialType: 'assumed_role',
        roleArns: ['arn:aws:iam::1:role/x'],
      });
    });

    it('§3 aws/creds mints a leased secret; STS types are not renewable', async () => {
      const iam = await client().read('aws/creds/deploy');
      expect(iam).toMatchObject({ renewable: true, lease_duration: 2764800 });
      expect(iam.data.access_key).toMatch(/^AKIA[A-Z0-9]{16}$/);
      const sts = await client().read('aws/creds/sts');
      expect(sts).toMatchObject({ renewable: false, lease_duration: 3600 });
      expect(sts.data.session_token).toBeTruthy();
      expect((await client().read('aws/roles/sts')).data).toMatchObject({
        credential_type: 'assumed_role',
        role_arns: ['arn:aws:iam::1:role/x'],
        policy_arns: [],
        policy_document: '',
      });
    });

    it('§0/§8.2 LIST aws/roles with no roles → 404 {"errors":[]}', async () => {
      T.double.awsMount('', 'aws2');
      const empty = await root('LIST', 'aws2/roles');
      expect(empty.status).toBe(404);
      expect(empty.json).toEqual({ errors: [] });
    });
  });

  it('§2 a role stored without any constraint reads back with a warning (OpenBao refuses to write one)', async () => {
    T.double.createAppRole('', 'approle', 'loose', { bindSecretId: false });
    expect((await client().read('auth/approle/role/loose')).warnings).toHaveLength(1);
  });

  it('§1 ttl is recomputed on every request (manual clock moved by 100.5 s)', async () => {
    const created = await T.createToken({ policies: ['agent-x'], ttl: '1h' });
    T.clock.advance(100_500);
    expect((await lookupAccessor(created.accessor)).json.data.ttl).toBe(3499);
  });

  it('§4 identity policies of an entity chosen by id', async () => {
    const t = await T.createToken({ entityId: 'ent-1' });
    T.double.setEntityPolicies('ent-1', ['from-group']);
    expect((await lookupAccessor(t.accessor)).json.data.identity_policies).toEqual(['from-group']);
  });

  it('request log: records method, path, namespace and status for every request (and no seeding calls)', async () => {
    const double = T.double;
    double.createNamespace('team-a');
    double.createToken();
    await client()
      .list('auth/token/accessors', { headers: { 'X-Vault-Namespace': 'team-a' } })
      .catch(() => undefined);
    await root('LIST', 'team-a/auth/token/accessors');
    await root('POST', 'auth/token/lookup-accessor', { accessor: double.rootAccessor });
    expect(
      double.requestLog.map(({ method, path, namespace, status, operation }) => ({
        method,
        path,
        namespace,
        status,
        operation,
      })),
    ).toEqual([
      { method: 'GET', path: 'auth/token/accessors', namespace: 'team-a/', status: 404, operation: 'list' },
      { method: 'LIST', path: 'auth/token/accessors', namespace: 'team-a/', status: 404, operation: 'list' },
      { method: 'POST', path: 'auth/token/lookup-accessor', namespace: '', status: 200, operation: 'update' },
    ]);
  });
});
