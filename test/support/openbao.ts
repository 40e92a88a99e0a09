/**
 * Real OpenBao (the Linux Foundation fork of HashiCorp Vault; same HTTP API) for tests. Guarantees:
 * - Each startOpenBao() call gets its own `bao server -dev` process on a free 127.0.0.1 port with a
 *   random root token, so test files (separate vitest processes) never share state. useOpenBao()
 *   does this once per file. Dev mode is in-memory: every start is empty (`secret/` KV v2,
 *   `cubbyhole/`, `identity/`, `sys/`, and the token auth method).
 * - The venv at .venv/openbao is (re)installed via scripts/openbao-venv.sh when `bao` is missing or
 *   its stamp does not match scripts/requirements-openbao.txt; concurrent workers serialise on a
 *   mkdir lock at .cw/openbao-venv.lock and only one of them runs pip.
 * - startOpenBao() resolves only once GET /v1/sys/health answers 200, the root token works and the
 *   unseal key has been printed (<= 30 s), else rejects naming the log file
 *   .cw/openbao-<port>.log (bao's stdout/stderr).
 * - The dev root token is never written to ~/.vault-token (-dev-no-store-token), and no VAULT_* /
 *   BAO_* variable of the caller reaches the server.
 * - stop() first revokes (synchronously) every lease of the database engines mounted through
 *   mountDatabase(), which drops the PostgreSQL roles they created, then kills the server
 *   (SIGTERM, SIGKILL after 3 s) and awaits its exit. Idempotent. Servers still running when the
 *   worker process exits are SIGKILLed.
 * - reset() brings a running server back to its just-started state (no namespaces, no tokens but
 *   the root token, no policies but default/root, only the dev mounts, no entities), for suites
 *   that share one server across tests.
 *
 * OpenBao has no AWS secrets engine; real leases come from the database engine against the
 * machine's PostgreSQL (POSTGRES_ADDR, trust auth, user postgres), see mountDatabase().
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll } from 'vitest';
import { ensureVenv, freePort, killAndWait, live } from './venv.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CW_DIR = join(ROOT, '.cw');
const INSTALL_TIMEOUT_MS = 600_000;
const VENV = join(ROOT, '.venv', 'openbao');
export const BAO_BIN = join(VENV, 'bin', 'bao');
const READY_TIMEOUT_MS = 30_000;

/** The PostgreSQL the database engine talks to (OpenBao connects itself; trust auth). */
export const POSTGRES_ADDR = { host: '127.0.0.1', port: 5432 };

export interface BaoReply {
  status: number;
  headers: Headers;
  text: string;
  // biome-ignore lint/suspicious/noExplicitAny: JSON bodies from the server
  json: any;
}

export interface BaoRequestOptions {
  body?: unknown;
  /** Default: the root token. `null` sends no token. */
  token?: string | null;
  /** X-Vault-Namespace; omitted when empty. */
  namespace?: string;
  headers?: Record<string, string>;
}

export interface DatabaseEngine {
  mount: string;
  namespace: string;
  /** The connection name under `<mount>/config/`. */
  connection: string;
  /** The first role (created by mountDatabase). */
  role: string;
  /** Adds another role on the same connection. */
  addRole(name: string, opts?: { defaultTtl?: string; maxTtl?: string }): Promise<void>;
  /** `GET <mount>/creds/<role>` (as `token`, default root): a new PostgreSQL role and its lease. */
  creds(opts?: {
    role?: string;
    token?: string;
  }): Promise<{ leaseId: string; username: string; leaseDuration: number }>;
}

export interface OpenBao {
  address: string;
  port: number;
  rootToken: string;
  rootAccessor: string;
  logFile: string;
  /** One HTTP request (as the root token unless told otherwise); never throws on a status. */
  request(method: string, path: string, opts?: BaoRequestOptions): Promise<BaoReply>;
  /** Like request(), but throws unless the status is 2xx; returns the parsed body ('' when empty). */
  // biome-ignore lint/suspicious/noExplicitAny: JSON bodies from the server
  call(method: string, path: string, body?: unknown, opts?: Omit<BaoRequestOptions, 'body'>): Promise<any>;
  /** `POST sys/auth/<path> {"type":"approle"}`; a mount already there is fine. */
  enableAppRole(opts?: { namespace?: string; path?: string }): Promise<void>;
  /** Creates a namespace (and missing parents); returns its id and full path (`a/b/`). */
  createNamespace(path: string, customMetadata?: Record<string, string>): Promise<{ id: string; path: string }>;
  /** Mounts the database engine and configures a PostgreSQL connection and one role (unique names). */
  mountDatabase(opts?: {
    mount?: string;
    namespace?: string;
    role?: string;
    defaultTtl?: string;
    maxTtl?: string;
  }): Promise<DatabaseEngine>;
  /** The dev server's unseal key (printed in its log). */
  unsealKey(): string;
  reset(): Promise<void>;
  stop(): Promise<void>;
}

/** Whether something accepts TCP connections at POSTGRES_ADDR (within 1 s). */
export function postgresReachable(): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect(POSTGRES_ADDR.port, POSTGRES_ADDR.host);
    const done = (ok: boolean) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(1_000, () => done(false));
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}

/** Installs .venv/openbao if needed (scripts/openbao-venv.sh, once across workers). */
export const ensureOpenBaoVenv = (): Promise<void> => ensureVenv('openbao', 'bao');

function logTail(log: string): string {
  const text = existsSync(log) ? readFileSync(log, 'utf8') : '';
  return text.trim().split('\n').slice(-5).join('\n');
}

/** A short random name safe for OpenBao paths and PostgreSQL identifiers. */
export const uniqueName = (prefix: string): string => `${prefix}${randomBytes(4).toString('hex')}`;

async function send(address: string, method: string, path: string, opts: BaoRequestOptions): Promise<BaoReply> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token) headers['X-Vault-Token'] = opts.token;
  if (opts.namespace) headers['X-Vault-Namespace'] = opts.namespace;
  if (opts.body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(`${address}/v1/${path}`, {
    method,
    headers,
    body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
    signal: AbortSignal.timeout(15_000),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

const DEV_SECRET_MOUNTS = new Set(['cubbyhole/', 'identity/', 'sys/', 'secret/']);

/** Spawns one `bao server -dev` on a free port; retries a lost port race (address in use) twice. */
export async function startOpenBao(): Promise<OpenBao> {
  await ensureOpenBaoVenv();
  mkdirSync(CW_DIR, { recursive: true });
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(VAULT|BAO)_/.test(k)) env[k] = v;
  const rootToken = `cwroot-${randomBytes(16).toString('hex')}`;

  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const address = `http://127.0.0.1:${port}`;
    const log = join(CW_DIR, `openbao-${port}.log`);
    const fd = openSync(log, 'w');
    const child = spawn(
      BAO_BIN,
      [
        'server',
        '-dev',
        '-dev-no-store-token',
        `-dev-root-token-id=${rootToken}`,
        `-dev-listen-address=127.0.0.1:${port}`,
      ],
      { env, stdio: ['ignore', fd, fd] },
    );
    closeSync(fd);
    live.add(child);
    let spawnError: Error | undefined;
    child.once('error', (err) => {
      spawnError = err;
    });
    child.once('exit', () => live.delete(child));

    const deadline = Date.now() + READY_TIMEOUT_MS;
    let rootAccessor = '';
    while (!rootAccessor && !spawnError && Date.now() < deadline && child.exitCode === null) {
      try {
        const health = await send(address, 'GET', 'sys/health', {});
        if (health.status === 200) {
          const self = await send(address, 'GET', 'auth/token/lookup-self', { token: rootToken });
          // The unseal key is printed last, after the server already answers.
          const printed = /^Unseal Key: \S+$/m.test(readFileSync(log, 'utf8'));
          if (self.status === 200 && printed) rootAccessor = String(self.json.data.accessor);
        }
      } catch {
        // not listening yet
      }
      if (!rootAccessor) await sleep(100);
    }
    if (rootAccessor) return makeHandle({ child, address, port, rootToken, rootAccessor, log });
    const why = spawnError
      ? `failed to spawn (${spawnError.message})`
      : child.exitCode !== null
        ? `exited with code ${child.exitCode}`
        : `was not ready (sys/health 200, a working root token, the unseal key printed) within ${READY_TIMEOUT_MS} ms`;
    if (!spawnError) await killAndWait(child);
    live.delete(child);
    const tail = logTail(log);
    if (/address already in use/i.test(tail) && attempt < 3) continue;
    throw new Error(`bao server -dev on ${address} ${why}; see ${log}\n${tail}`);
  }
}

function makeHandle(p: {
  child: ChildProcess;
  address: string;
  port: number;
  rootToken: string;
  rootAccessor: string;
  log: string;
}): OpenBao {
  const { address, rootToken, rootAccessor } = p;
  const engines: DatabaseEngine[] = [];
  let stopped = false;

  const request = (method: string, path: string, opts: BaoRequestOptions = {}) =>
    send(address, method, path, { ...opts, token: opts.token === undefined ? rootToken : opts.token });

  const call = async (method: string, path: string, body?: unknown, opts: Omit<BaoRequestOptions, 'body'> = {}) => {
    const res = await request(method, path, { ...opts, body });
    if (res.status < 200 || res.status > 299) {
      const ns = opts.namespace ? ` (namespace ${opts.namespace})` : '';
      throw new Error(`OpenBao ${method} ${path}${ns} -> HTTP ${res.status}: ${res.text.trim()}`);
    }
    return res.json ?? '';
  };

  const listKeys = async (path: string, namespace?: string): Promise<string[]> => {
    const res = await request('GET', `${path}?list=true`, { namespace });
    if (res.status === 404) return [];
    if (res.status !== 200) throw new Error(`OpenBao LIST ${path} -> HTTP ${res.status}: ${res.text.trim()}`);
    return res.json.data.keys as string[];
  };

  const mountIfMissing = async (kind: 'auth' | 'mounts', path: string, type: string, namespace?: string) => {
    const res = await request('POST', `sys/${kind}/${path}`, { body: { type }, namespace });
    if (res.status === 204 || res.status === 200) return;
    if (res.status === 400 && /already in use/.test(res.text)) return;
    throw new Error(`OpenBao POST sys/${kind}/${path} -> HTTP ${res.status}: ${res.text.trim()}`);
  };

  const createNamespace = async (path: string, customMetadata: Record<string, string> = {}) => {
    const segs = path.split('/').filter(Boolean);
    let parent = '';
    let last: { id: string; path: string } = { id: 'root', path: '' };
    for (const [i, seg] of segs.entries()) {
      const existing = await request('GET', `sys/namespaces/${seg}`, { namespace: parent });
      const data =
        existing.status === 200
          ? existing.json.data
          : (
              await call(
                'POST',
                `sys/namespaces/${seg}`,
                { custom_metadata: i === segs.length - 1 ? customMetadata : {} },
                { namespace: parent },
              )
            ).data;
      last = { id: String(data.id), path: String(data.path) };
      parent = last.path;
    }
    return last;
  };

  const revokeEngineLeases = async (): Promise<void> => {
    for (const e of engines) {
      await request('PUT', `sys/leases/revoke-prefix/${e.mount}/creds`, {
        body: { sync: true },
        namespace: e.namespace,
      }).catch(() => undefined);
    }
  };

  /** Deepest namespaces first. */
  const allNamespaces = async (parent = ''): Promise<string[]> => {
    const out: string[] = [];
    for (const key of await listKeys('sys/namespaces', parent)) {
      const path = `${parent}${key}`;
      out.push(...(await allNamespaces(path)), path);
    }
    return out;
  };

  const handle: OpenBao = {
    address,
    port: p.port,
    rootToken,
    rootAccessor,
    logFile: p.log,
    request,
    call,
    enableAppRole: ({ namespace, path = 'approle' } = {}) => mountIfMissing('auth', path, 'approle', namespace),
    createNamespace,
    async mountDatabase({ mount = 'database', namespace = '', role, defaultTtl = '1h', maxTtl = '24h' } = {}) {
      await mountIfMissing('mounts', mount, 'database', namespace);
      const connection = uniqueName('cwpg_');
      const ns = { namespace };
      await call(
        'POST',
        `${mount}/config/${connection}`,
        {
          plugin_name: 'postgresql-database-plugin',
          connection_url: `postgresql://{{username}}:{{password}}@${POSTGRES_ADDR.host}:${POSTGRES_ADDR.port}/postgres?sslmode=disable`,
          username: 'postgres',
          password: 'unused-trust-auth',
          allowed_roles: '*',
          // PostgreSQL roles are cluster-wide: make the ones tests create recognisable.
          username_template: 'cwtest-{{.RoleName | truncate 24}}-{{random 12}}',
        },
        ns,
      );
      const addRole = async (name: string, o: { defaultTtl?: string; maxTtl?: string } = {}) => {
        await call(
          'POST',
          `${mount}/roles/${name}`,
          {
            db_name: connection,
            creation_statements: [
              `CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}';`,
            ],
            default_ttl: o.defaultTtl ?? defaultTtl,
            max_ttl: o.maxTtl ?? maxTtl,
          },
          ns,
        );
      };
      const first = role ?? uniqueName('cwrole');
      await addRole(first);
      const engine: DatabaseEngine = {
        mount,
        namespace,
        connection,
        role: first,
        addRole,
        async creds({ role: r = first, token } = {}) {
          const body = await call('GET', `${mount}/creds/${r}`, undefined, { namespace, token });
          return {
            leaseId: String(body.lease_id),
            username: String(body.data.username),
            leaseDuration: Number(body.lease_duration),
          };
        },
      };
      engines.push(engine);
      return engine;
    },
    unsealKey() {
      const m = /^Unseal Key: (\S+)$/m.exec(readFileSync(p.log, 'utf8'));
      if (!m) throw new Error(`no "Unseal Key:" line in ${p.log}`);
      return m[1]!;
    },
    async reset() {
      const health = await request('GET', 'sys/health', { token: null });
      if (health.json?.sealed) await call('PUT', 'sys/unseal', { key: handle.unsealKey() }, { token: null });
      await revokeEngineLeases();
      engines.length = 0;
      // Namespace deletion runs in the background ({"status":"in-progress"}, the namespace listed as
      // tainted meanwhile), and a parent goes only once its children are gone: repeat until none is left.
      const nsDeadline = Date.now() + 10_000;
      for (let pending = await allNamespaces(); pending.length > 0; pending = await allNamespaces()) {
        if (Date.now() > nsDeadline) throw new Error(`OpenBao reset: namespaces not deleted: ${pending.join(', ')}`);
        for (const ns of pending) {
          // Parent namespace header, child name in the path.
          const i = ns.slice(0, -1).lastIndexOf('/');
          await request('DELETE', `sys/namespaces/${ns.slice(i + 1, -1)}`, { namespace: ns.slice(0, i + 1) });
        }
        await sleep(20);
      }
      const auths = (await call('GET', 'sys/auth')).data as Record<string, unknown>;
      for (const path of Object.keys(auths)) if (path !== 'token/') await call('DELETE', `sys/auth/${path}`);
      const mounts = (await call('GET', 'sys/mounts')).data as Record<string, unknown>;
      for (const path of Object.keys(mounts))
        if (!DEV_SECRET_MOUNTS.has(path)) await call('DELETE', `sys/mounts/${path}`);
      for (const a of await listKeys('auth/token/accessors')) {
        if (a !== rootAccessor) await call('POST', 'auth/token/revoke-accessor', { accessor: a });
      }
      for (const name of await listKeys('sys/policies/acl')) {
        if (name !== 'default' && name !== 'root') await call('DELETE', `sys/policies/acl/${name}`);
      }
      for (const id of await listKeys('identity/entity/id')) await call('DELETE', `identity/entity/id/${id}`);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      if (p.child.exitCode === null) await revokeEngineLeases();
      await killAndWait(p.child);
    },
  };
  return handle;
}

/** Call at the top of a test file; the returned object is filled in by beforeAll (a cold install takes ~10 s). */
export function useOpenBao(): OpenBao {
  const ctx = {} as OpenBao;
  beforeAll(async () => {
    Object.assign(ctx, await startOpenBao());
  }, INSTALL_TIMEOUT_MS + READY_TIMEOUT_MS);
  afterAll(async () => {
    await ctx.stop?.();
  });
  return ctx;
}
