/**
 * The dashboard's shell over a real App on real Redis: sign-in with an API token (the same roles
 * and failed-attempt limits as the API), the session cookie's flags, sessions kept as hashes and
 * expiring, `next` never leaving the site, sign-out needing the CSRF token, the CSP and cache
 * headers, hashed assets within the size budget, and the JSON API untouched by any of it.
 */
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/main.js';
import { Assets } from '../../src/web/assets.js';
import { DASHBOARD_CSP } from '../../src/web/layout.js';
import { SessionStore } from '../../src/web/session.js';
import { type TestTokens, testTokens } from '../support/api.js';
import { testApp, writeTestFiles } from '../support/app.js';
import { type Browserless, csrfOf, dashboard } from '../support/dashboard.js';
import { keysOf, useRedis } from '../support/redis.js';

const r = useRedis('web-shell');
let app: App;
let tokens: TestTokens;
let ui: Browserless;

beforeAll(async () => {
  tokens = await testTokens();
  const files = writeTestFiles({ redis: { prefix: r.prefix }, api: { tokens: tokens.config } }, { agents: [] });
  app = await testApp(files);
  ui = await dashboard(app, tokens, {
    authLimits: { failuresPerWindow: 3, windowMs: 60_000, concurrent: 2, queued: 8 },
  });
}, 60_000);

afterAll(async () => {
  await ui?.close();
  await app?.close();
});

const loginForm = (fields: Record<string, string>, headers: Record<string, string> = {}, from = '127.0.0.1') =>
  ui.api.server.inject({
    method: 'POST',
    url: '/login',
    remoteAddress: from,
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      host: 'localhost:80',
      origin: 'http://localhost:80',
      ...headers,
    },
    payload: new URLSearchParams(fields).toString(),
  });

describe('signing in', () => {
  it('a page without a session redirects to the login form, keeping where it was going', async () => {
    const res = await ui.get('/findings?severity=high', null);
    expect([res.statusCode, res.headers.location]).toEqual([
      303,
      `/login?next=${encodeURIComponent('/findings?severity=high')}`,
    ]);
    const form = await ui.get('/login?next=%2Ffindings%3Fseverity%3Dhigh', null);
    expect(form.statusCode).toBe(200);
    expect(form.body).toContain('<label for="token">API token</label>');
    expect(form.body).toContain('name="next" value="/findings?severity=high"');
  });

  it('a valid token starts a session: HttpOnly, SameSite=Strict cookie, back to next; the cookie is not the token', async () => {
    const res = await loginForm({ token: tokens.token['oncall-a'], next: '/findings?severity=high' });
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe('/findings?severity=high');
    const set = String(res.headers['set-cookie']);
    expect(set).toMatch(/^cw_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=43200$/);
    const id = set.split(';')[0]!.split('=')[1]!;
    expect(set).not.toContain(tokens.token['oncall-a']);
    // Redis holds the session under the id's sha256 only: neither the id nor the token is stored.
    const keys = await keysOf(r.redis, `${r.keyPrefix}:ui:session:*`);
    expect(keys).toContain(`${r.keyPrefix}:ui:session:${createHash('sha256').update(id).digest('hex')}`);
    for (const k of keys) {
      const v = (await r.redis.get(k))!;
      expect(v).not.toContain(id);
      expect(v).not.toContain(tokens.token['oncall-a']);
    }
    const page = await ui.get('/login', `cw_session=${id}`);
    expect([page.statusCode, page.headers.location]).toEqual([303, '/']); // already signed in
  });

  it('a wrong token is refused with one message, and the address is limited like the API', async () => {
    const bodies = new Set<string>();
    for (let i = 0; i < 3; i++) {
      const res = await loginForm({ token: `wrong-token-${i}-000000000000000000`, next: '/' }, {}, '10.9.9.9');
      expect(res.statusCode).toBe(401);
      expect(res.headers['set-cookie']).toBeUndefined();
      expect(res.body).toContain('That token was not accepted.');
      bodies.add(res.body);
    }
    expect(bodies.size).toBe(1);
    const limited = await loginForm({ token: tokens.token.viewer, next: '/' }, {}, '10.9.9.9');
    // The remembered-token shortcut lets a token verified recently through; an unknown one is 429.
    const unknown = await loginForm({ token: 'another-wrong-token-0000000000000' }, {}, '10.9.9.9');
    expect(unknown.statusCode).toBe(429);
    expect(unknown.body).toContain('Too many failed sign-ins');
    expect([303, 429]).toContain(limited.statusCode);
  });

  it('next never leaves the site', async () => {
    for (const next of [
      'https://evil.example/',
      '//evil.example/x',
      '/\\evil.example',
      'javascript:alert(1)',
      '/login?next=/',
    ]) {
      const res = await loginForm({ token: tokens.token.viewer, next });
      expect([res.statusCode, res.headers.location], next).toEqual([303, '/']);
    }
  });

  it('a sign-in posted from another site is refused', async () => {
    const res = await loginForm({ token: tokens.token.viewer, next: '/' }, { origin: 'https://evil.example' });
    expect(res.statusCode).toBe(403);
    expect(res.headers['set-cookie']).toBeUndefined();
    const fetchSite = await loginForm({ token: tokens.token.viewer }, { origin: '', 'sec-fetch-site': 'cross-site' });
    expect(fetchSite.statusCode).toBe(403);
    // A browser's own form post may say `Origin: null`; its Sec-Fetch-Site still says where it came from.
    const own = await loginForm(
      { token: tokens.token.viewer, next: '/' },
      { origin: 'null', 'sec-fetch-site': 'same-origin' },
    );
    expect(own.statusCode).toBe(303);
    const nullOnly = await loginForm({ token: tokens.token.viewer, next: '/' }, { origin: 'null' });
    expect(nullOnly.statusCode).toBe(403);
  });
});

describe('signing out', () => {
  it('needs the CSRF token; then the session is gone from Redis and the cookie cleared', async () => {
    const cookie = await ui.signIn('viewer');
    const page = await ui.get('/login?next=/', cookie);
    expect(page.statusCode).toBe(303);
    const shell = await ui.get('/assets/none', cookie);
    expect(shell.statusCode).toBe(404);
    // The CSRF token is on every signed-in page (the sign-out form); take it from the 403 page's shell.
    const refused = await ui.post('/logout', cookie, { _csrf: 'not-the-token' });
    expect(refused.statusCode).toBe(403);
    const csrf = csrfOf(refused.body);
    expect(
      (await ui.post('/logout', cookie, { _csrf: csrf }, { headers: { origin: 'https://evil.example' } })).statusCode,
    ).toBe(403);
    const out = await ui.post('/logout', cookie, { _csrf: csrf });
    expect([out.statusCode, out.headers.location]).toEqual([303, '/login']);
    expect(String(out.headers['set-cookie'])).toMatch(/^cw_session=; Path=\/; HttpOnly; SameSite=Strict; Max-Age=0$/);
    expect((await ui.get('/findings', cookie)).statusCode).toBe(303); // back to the login form
  });
});

describe('sessions expire', () => {
  it('after the idle time without a request, and never outlive the maximum', async () => {
    let now = Date.parse('2026-12-01T00:00:00Z');
    const store = new SessionStore(r.redis, `${r.prefix}-expiry`, { idleSeconds: 2, maxSeconds: 3600 }, () => now);
    const { id } = await store.create({ subject: 'viewer', roles: ['viewer'] });
    expect((await store.get(id))?.subject).toBe('viewer');
    const key = (await keysOf(r.redis, `${r.prefix}-expiry:ui:session:*`))[0]!;
    expect(await r.redis.ttl(key)).toBeLessThanOrEqual(2);
    await new Promise((res) => setTimeout(res, 2300));
    expect(await store.get(id)).toBeNull(); // idle: Redis expired it
    const second = await store.create({ subject: 'viewer', roles: ['viewer'] });
    now += 3601_000;
    expect(await store.get(second.id)).toBeNull(); // past the maximum age, however active
    expect(await store.get('x'.repeat(43))).toBeNull();
    expect(await store.get('../../etc')).toBeNull();
  });
});

describe('headers and assets', () => {
  it('every dashboard response forbids inline script and framing, and pages are not cached', async () => {
    const cookie = await ui.signIn('viewer');
    for (const url of ['/login', '/findings']) {
      const res = await ui.get(url, url === '/login' ? null : cookie);
      expect(res.headers['content-security-policy'], url).toBe(DASHBOARD_CSP);
      expect(res.headers['cache-control'], url).toBe('no-store');
      // Not helmet's no-referrer: under it a browser posts this site's own forms with `Origin: null`.
      expect(res.headers['referrer-policy'], url).toBe('same-origin');
    }
    expect(DASHBOARD_CSP).toContain("script-src 'self'");
    expect(DASHBOARD_CSP).not.toContain('unsafe-inline');
    const login = await ui.get('/login', null);
    expect(login.body).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/); // no inline script
    expect(login.body).not.toMatch(/\sstyle=|\son[a-z]+=/i); // no inline style or handler
  });

  it('assets are served under content-hashed names, immutable, and total at most 300 kB gzipped', async () => {
    const assets = new Assets();
    const login = (await ui.get('/login', null)).body;
    for (const file of ['app.css', 'app.js']) {
      const url = assets.url(file);
      expect(url).toMatch(/^\/assets\/app\.[0-9a-f]{10}\.(css|js)$/);
      expect(login).toContain(url);
      const res = await ui.get(url, null);
      expect(res.statusCode).toBe(200);
      expect(res.headers['cache-control']).toBe('public, max-age=31536000, immutable');
      expect(res.headers['content-type']).toMatch(file.endsWith('.css') ? /^text\/css/ : /^text\/javascript/);
    }
    const gz = assets.all().reduce((n, a) => n + gzipSync(a.body).length, 0);
    expect(gz).toBeGreaterThan(1000);
    expect(gz).toBeLessThanOrEqual(300 * 1024);
    expect((await ui.get('/assets/app.0000000000.css', null)).statusCode).toBe(404);
  });

  it('the JSON API is untouched: a session cookie authorises no API route; unknown API paths stay JSON', async () => {
    const cookie = await ui.signIn('admin-a');
    const api = await ui.api.server.inject({ method: 'GET', url: '/api/v1/findings', headers: { cookie } });
    expect(api.statusCode).toBe(401);
    const missing = await ui.api.server.inject({
      method: 'GET',
      url: '/api/v1/nope',
      headers: { accept: 'text/html' },
    });
    expect([missing.statusCode, missing.json().error.code]).toEqual([404, 'CW_ERR_NOT_FOUND']);
    const page = await ui.get('/no-such-page', null);
    expect(page.statusCode).toBe(404);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
  });
});
