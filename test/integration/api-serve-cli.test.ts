/**
 * `credwarden serve` as a process: it listens where --listen says, with TLS from `api.tls` (a
 * self-signed certificate made here with openssl), answers /healthz and authenticated routes over
 * HTTPS, refuses plain HTTP on that port, and exits 0 on SIGTERM. Without any way to authenticate
 * (no api.tokens, no api.oidc) it refuses to start, exit 2, naming the config file; a bad --listen
 * is exit 2 naming the flag.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { hashToken } from '../../src/api/tokens.js';
import { writeTestFiles } from '../support/app.js';
import { useRedis } from '../support/redis.js';
import { freePort } from '../support/venv.js';

const ROOT = join(import.meta.dirname, '../..');
const r = useRedis('api-serve');
const TOKEN = randomBytes(24).toString('base64url');
let dir: string;
let configPath: string;
let noTokens: string;

function serve(args: string[]): ChildProcess & { output: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    cwd: ROOT,
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => {
    out += c.toString();
  });
  child.stderr!.on('data', (c: Buffer) => {
    out += c.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return Object.assign(child, { output: () => out, exited });
}

async function until(what: string, ok: () => boolean, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((res) => setTimeout(res, 50));
  }
}

function get(url: string, ca: Buffer, token?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca, headers: token ? { authorization: `Bearer ${token}` } : {} }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => {
        body += c.toString();
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Sign in through the login form over HTTPS: the status and the Set-Cookie header. */
function signIn(origin: string, ca: Buffer, token: string): Promise<{ status: number; cookie: string }> {
  return new Promise((resolve, reject) => {
    const body = new URLSearchParams({ token, next: '/' }).toString();
    const req = request(
      `${origin}/login`,
      {
        method: 'POST',
        ca,
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          origin,
          'content-length': Buffer.byteLength(body),
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, cookie: String(res.headers['set-cookie'] ?? '') }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

beforeAll(async () => {
  const files = writeTestFiles(
    {
      redis: { prefix: r.prefix },
      api: {
        tls: { cert: 'tls/api.crt', key: 'tls/api.key' },
        tokens: [{ subject: 'ops', roles: ['viewer'], hash: await hashToken(TOKEN, { N: 16_384, r: 8, p: 1 }) }],
      },
    },
    { agents: [] },
  );
  dir = files.dir;
  configPath = files.configPath;
  execFileSync('mkdir', ['-p', join(dir, 'tls')]);
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '-keyout',
      join(dir, 'tls', 'api.key'),
      '-out',
      join(dir, 'tls', 'api.crt'),
    ],
    { stdio: 'pipe' },
  );
  noTokens = writeTestFiles({ redis: { prefix: r.prefix } }, { agents: [] }).configPath;
}, 60_000);

describe('credwarden serve', () => {
  it('serves HTTPS from api.tls on --listen, authenticated, and exits 0 on SIGTERM', async () => {
    const port = await freePort();
    const p = serve(['--config', configPath, 'serve', '--listen', `127.0.0.1:${port}`]);
    try {
      await until('the listening line', () => p.output().includes('API listening on'));
      expect(p.output()).toContain(`credwarden: API listening on https://127.0.0.1:${port}`);
      expect(p.output()).toContain(`credwarden: dashboard at https://127.0.0.1:${port}/ (sign in with an API token)`);
      const ca = readFileSync(join(dir, 'tls', 'api.crt'));
      // The dashboard on the same port: the login page, its session cookie Secure and __Host- over HTTPS.
      const login = await get(`https://127.0.0.1:${port}/login`, ca);
      expect(login.status).toBe(200);
      expect(login.body).toContain('Sign in to credwarden');
      const session = await signIn(`https://127.0.0.1:${port}`, ca, TOKEN);
      expect(session.status).toBe(303);
      expect(session.cookie).toMatch(
        /^__Host-cw_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=\d+; Secure$/,
      );
      expect(await get(`https://127.0.0.1:${port}/healthz`, ca)).toEqual({ status: 200, body: '{"status":"ok"}' });
      expect((await get(`https://127.0.0.1:${port}/api/v1/remediation`, ca)).status).toBe(401);
      const ok = await get(`https://127.0.0.1:${port}/api/v1/remediation`, ca, TOKEN);
      expect(ok.status).toBe(200);
      expect(JSON.parse(ok.body)).toMatchObject({ mode: 'dry-run', paused: null });
      // Plain HTTP on the TLS port gets no API answer.
      const plain = await fetch(`http://127.0.0.1:${port}/healthz`).then(
        (res) => res.status,
        () => 'refused',
      );
      expect(plain).not.toBe(200);
      p.kill('SIGTERM');
      expect(await p.exited).toBe(0);
    } finally {
      if (p.exitCode === null) p.kill('SIGKILL');
    }
  }, 60_000);

  it('refuses to start when nothing could authenticate, and a bad --listen, each exit 2', async () => {
    const none = serve(['--config', noTokens, 'serve']);
    expect(await none.exited).toBe(2);
    expect(none.output()).toContain('api.tokens is empty and api.oidc is not set');
    expect(none.output()).toContain(noTokens);
    const bad = serve(['--config', configPath, 'serve', '--listen', 'localhost']);
    expect(await bad.exited).toBe(2);
    expect(bad.output()).toContain('--listen localhost: must be host:port');
  }, 60_000);
});
