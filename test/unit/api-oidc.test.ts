/**
 * OIDC bearer JWTs (issue 12): `api.oidc` config, OidcVerifier against a real JWKS server on
 * 127.0.0.1 (keys from jose generateKeyPair, tokens from SignJWT), and looksLikeJwt.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, exportSPKI, generateKeyPair, type JWK, type JWTPayload, SignJWT } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ApiSchema } from '../../src/api/config.js';
import { looksLikeJwt, OidcVerifier } from '../../src/api/oidc.js';
import { loadConfigText } from '../../src/config/load.js';
import { CwError } from '../../src/errors.js';

const ISS = 'https://login.example.com/';
const AUD = 'credwarden';
const ROLE_MAP = { 'sec-oncall': 'oncall', 'sec-oncall-2': 'oncall', 'sec-admins': 'admin', auditors: 'auditor' };

type Pair = Awaited<ReturnType<typeof generateKeyPair>>;
interface Key {
  pair: Pair;
  kid: string;
  alg: string;
  jwk: JWK;
}

async function makeKey(alg: string, kid: string): Promise<Key> {
  const pair = await generateKeyPair(alg, { extractable: true });
  return { pair, kid, alg, jwk: { ...(await exportJWK(pair.publicKey)), kid, alg, use: 'sig' } };
}

/** The JWKS endpoint: serves `keys`, or 503 while `down`; counts requests. */
const jwks = { keys: [] as JWK[], down: false, hits: 0 };
let server: Server;
let jwksUrl: string;
let rsa: Key;
let ec: Key;

beforeAll(async () => {
  [rsa, ec] = await Promise.all([makeKey('RS256', 'rsa-1'), makeKey('ES256', 'ec-1')]);
  server = createServer((req, res) => {
    jwks.hits++;
    if (jwks.down || req.url !== '/jwks.json') {
      res.writeHead(503).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: jwks.keys }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  jwksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));
afterEach(() => {
  vi.useRealTimers();
  jwks.keys = [rsa.jwk, ec.jwk];
  jwks.down = false;
  jwks.hits = 0;
});

const config = (over: Record<string, unknown> = {}) =>
  ApiSchema.parse({ oidc: { issuer: ISS, jwksUrl, audience: AUD, roleMap: ROLE_MAP, ...over } }).oidc!;

function verifier(over: Record<string, unknown> = {}) {
  jwks.keys = [rsa.jwk, ec.jwk];
  const onError = vi.fn<(reason: string) => void>();
  return { v: new OidcVerifier(config(over), { onError }), onError };
}

const now = () => Math.floor(Date.now() / 1000);

/** A token signed with `key`: the usual claims, `claims` over them (undefined removes one). */
function sign(key: Key, claims: Record<string, unknown> = {}, header: Record<string, unknown> = {}) {
  const base: JWTPayload = { iss: ISS, aud: AUD, sub: 'alice', iat: now(), exp: now() + 300, groups: ['sec-oncall'] };
  const payload = Object.fromEntries(Object.entries({ ...base, ...claims }).filter(([, v]) => v !== undefined));
  return new SignJWT(payload).setProtectedHeader({ alg: key.alg, kid: key.kid, ...header }).sign(key.pair.privateKey);
}

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

describe(OidcVerifier.name, () => {
  it('verifies RS256 and ES256 tokens to the subject and mapped roles', async () => {
    const { v, onError } = verifier();
    expect(await v.verify(await sign(rsa))).toEqual({ subject: 'alice', roles: ['oncall'], via: 'oidc' });
    const multi = await sign(ec, { sub: 'bob', groups: ['sec-admins', 'x', 'sec-oncall', 'sec-oncall-2', 'auditors'] });
    // Deduplicated, unknown values ignored, in ROLES order.
    expect(await v.verify(multi)).toEqual({ subject: 'bob', roles: ['auditor', 'oncall', 'admin'], via: 'oidc' });
    expect(await v.verify(await sign(rsa, { aud: ['other', AUD] }))).toMatchObject({ subject: 'alice' });
    expect(jwks.hits).toBe(1);
    expect(onError).not.toHaveBeenCalled();
  });

  it('takes a roles claim that is one string, and the configured claim names', async () => {
    const { v } = verifier();
    expect(await v.verify(await sign(rsa, { groups: 'sec-admins' }))).toMatchObject({ roles: ['admin'] });
    const custom = verifier({ subjectClaim: 'email', rolesClaim: 'https://example.com/roles' }).v;
    const t = await sign(rsa, {
      email: 'carol@example.com',
      groups: undefined,
      'https://example.com/roles': ['auditors'],
    });
    expect(await custom.verify(t)).toEqual({ subject: 'carol@example.com', roles: ['auditor'], via: 'oidc' });
    expect(await custom.verify(await sign(rsa))).toBeNull(); // no email claim
  });

  it.each<[string, Record<string, unknown>]>([
    ['no mapped group', { groups: ['engineering', 'sec-oncall-old'] }],
    ['no groups claim', { groups: undefined }],
    ['a groups claim of another type', { groups: { 'sec-oncall': true } }],
    ['non-string groups only', { groups: [1, null, ['sec-oncall']] }],
    ['no sub', { sub: undefined }],
    ['a sub that is not a string', { sub: 42 }],
    ['a sub with a control character', { sub: 'alice\u001b[31m' }],
    ['a sub with a space', { sub: 'alice admin' }],
    ['no exp', { exp: undefined }],
    ['the issuer without its trailing slash', { iss: 'https://login.example.com' }],
    ['another issuer', { iss: 'https://evil.example.com/' }],
    ['another audience', { aud: 'other' }],
    ['no audience', { aud: undefined }],
  ])('refuses a token with %s', async (_n, claims) => {
    const { v } = verifier();
    expect(await v.verify(await sign(rsa, claims))).toBeNull();
  });

  it('allows clockToleranceSeconds of skew on exp, and none past it; refuses a future nbf', async () => {
    const { v } = verifier();
    expect(await v.verify(await sign(rsa, { iat: now() - 400, exp: now() - 20 }))).toMatchObject({ subject: 'alice' });
    expect(await v.verify(await sign(rsa, { iat: now() - 400, exp: now() - 60 }))).toBeNull();
    expect(await v.verify(await sign(rsa, { nbf: now() + 120 }))).toBeNull();
    expect(await v.verify(await sign(rsa, { nbf: now() + 10 }))).toMatchObject({ subject: 'alice' });
    const strict = verifier({ clockToleranceSeconds: 0 }).v;
    expect(await strict.verify(await sign(rsa, { exp: now() - 20 }))).toBeNull();
  });

  it('refuses a token signed by another key under a known kid', async () => {
    const { v } = verifier();
    const impostor = await makeKey('RS256', 'rsa-1');
    expect(await v.verify(await sign(impostor))).toBeNull();
    expect(await v.verify(await sign({ ...impostor, kid: 'ec-1', alg: 'RS256' }))).toBeNull();
  });

  it('refuses 50 unknown-kid tokens with one JWKS fetch (the cooldown), and never throws', async () => {
    const { v, onError } = verifier();
    const stranger = await makeKey('ES256', 'who-1');
    const tokens = await Promise.all(Array.from({ length: 50 }, (_, i) => sign({ ...stranger, kid: `who-${i}` })));
    expect(await Promise.all(tokens.map((t) => v.verify(t)))).toEqual(Array(50).fill(null));
    for (const t of tokens.slice(0, 10)) expect(await v.verify(t)).toBeNull();
    expect(jwks.hits).toBe(1);
    expect(onError).not.toHaveBeenCalled();
    expect(await v.verify(await sign(rsa))).toMatchObject({ subject: 'alice' });
    expect(jwks.hits).toBe(1);
  });

  it('refuses alg none and HS256 keyed with the public key', async () => {
    const { v } = verifier();
    const claims = { iss: ISS, aud: AUD, sub: 'alice', exp: now() + 300, groups: ['sec-admins'] };
    const none = `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.`;
    expect(looksLikeJwt(none)).toBe(true);
    expect(await v.verify(none)).toBeNull();
    expect(await v.verify(`${b64({ alg: 'none', kid: 'rsa-1' })}.${b64(claims)}.${b64('x')}`)).toBeNull();
    const pem = new TextEncoder().encode(await exportSPKI(rsa.pair.publicKey));
    const hs = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256', kid: 'rsa-1' }).sign(pem);
    expect(await v.verify(hs)).toBeNull();
    const nBytes = Buffer.from(rsa.jwk.n!, 'base64url');
    expect(await v.verify(await new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).sign(nBytes))).toBeNull();
    // An allowed alg outside the configured list is refused too.
    expect(await verifier({ algorithms: ['ES256'] }).v.verify(await sign(rsa))).toBeNull();
  });

  it('picks up a rotated key once the cooldown has passed', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const { v } = verifier();
    expect(await v.verify(await sign(rsa))).not.toBeNull();
    const next = await makeKey('RS256', 'rsa-2');
    jwks.keys = [next.jwk, ec.jwk];
    const rotated = await sign(next);
    expect(await v.verify(rotated)).toBeNull(); // within the cooldown: not fetched
    expect(jwks.hits).toBe(1);
    vi.setSystemTime(Date.now() + 31_000);
    expect(await v.verify(rotated)).toEqual({ subject: 'alice', roles: ['oncall'], via: 'oidc' });
    expect(jwks.hits).toBe(2);
  });

  it('reports an unreachable JWKS once, and answers null without throwing', async () => {
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const { v, onError } = verifier({ jwksUrl: `http://127.0.0.1:${port}/jwks.json` });
    const token = await sign(rsa);
    expect(await v.verify(token)).toBeNull();
    expect(await v.verify(token)).toBeNull();
    expect(onError).toHaveBeenCalledTimes(1);
    const reason = onError.mock.calls[0]![0];
    expect(reason).toMatch(/^JWKS unreachable \(http:\/\/127\.0\.0\.1:\d+\/jwks\.json\): .*ECONNREFUSED/);
    expect(reason).not.toContain(token.split('.')[1]!);
    expect(v.jwksFailures).toBe(1); // the second token did not fetch again (backing off)
  });

  it('keeps using cached keys through an outage, backs off, and reports the next outage', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const { v, onError } = verifier();
    const good = await sign(rsa);
    expect(await v.verify(good)).not.toBeNull();
    const next = await makeKey('ES256', 'ec-2');
    const rotated = await sign(next);
    jwks.down = true;
    vi.setSystemTime(Date.now() + 31_000);
    expect(await v.verify(rotated)).toBeNull(); // unknown kid, cooldown over: fetch -> 503
    expect(jwks.hits).toBe(2);
    expect(onError).toHaveBeenCalledTimes(1);
    expect(onError.mock.calls[0]![0]).toMatch(/^JWKS unreachable .*200 OK/);
    expect(await v.verify(good)).not.toBeNull(); // the cached key still works
    for (let i = 0; i < 20; i++) expect(await v.verify(rotated)).toBeNull();
    expect(jwks.hits).toBe(2); // backing off: no fetch per token
    // After the back-off it tries again: still down, still the same outage (no second report).
    vi.setSystemTime(Date.now() + 11_000);
    expect(await v.verify(rotated)).toBeNull();
    expect(jwks.hits).toBe(3);
    expect(onError).toHaveBeenCalledTimes(1);
    // Back up: after the back-off the rotated key is fetched and verifies.
    jwks.down = false;
    jwks.keys = [rsa.jwk, next.jwk];
    vi.setSystemTime(Date.now() + 11_000);
    expect(await v.verify(rotated)).toMatchObject({ subject: 'alice' });
    expect(jwks.hits).toBe(4);
    // A new outage is a new report.
    jwks.down = true;
    vi.setSystemTime(Date.now() + 31_000);
    expect(await v.verify(await sign({ ...next, kid: 'ec-3' }))).toBeNull();
    expect(onError).toHaveBeenCalledTimes(2);
  });
});

describe('looksLikeJwt', () => {
  it('tells JWTs from API tokens by shape', async () => {
    expect(looksLikeJwt(await sign(rsa))).toBe(true);
    expect(looksLikeJwt(await sign(ec))).toBe(true);
    for (const t of [
      randomBytes(32).toString('base64'), // openssl rand -base64 32
      randomBytes(32).toString('base64url'),
      randomBytes(32).toString('hex'),
      'cw_alice_0123456789abcdefghijklmnop',
      '',
      'a.b.c',
      `${b64({ alg: 'RS256' })}.${b64({})}`,
      `${b64({ typ: 'JWT' })}.${b64({})}.sig`,
      `${b64([{ alg: 'RS256' }])}.${b64({})}.sig`,
      `${b64({ alg: 7 })}.${b64({})}.sig`,
      `${b64({ alg: 'RS256' })}.${b64({})}.sig+/=`,
      `${b64({ alg: 'RS256' })}.${'a'.repeat(17_000)}.sig`,
    ])
      expect(looksLikeJwt(t), t.slice(0, 40)).toBe(false);
  });
});

describe('the api.oidc config section', () => {
  const FILE = '/srv/credwarden/credwarden.yaml';
  const yaml = (lines: string[]) => `api:\n  oidc:\n${lines.map((l) => `    ${l}\n`).join('')}`;
  const BASE = [`issuer: ${ISS}`, 'jwksUrl: https://login.example.com/.well-known/jwks.json', `audience: ${AUD}`];
  const MAP = 'roleMap: { sec-oncall: oncall }';
  const err = (text: string): string => {
    try {
      loadConfigText(FILE, text, {});
    } catch (e) {
      expect(e).toBeInstanceOf(CwError);
      return (e as CwError).message;
    }
    throw new Error('expected the config to be refused');
  };

  it('fills the documented defaults', () => {
    expect(loadConfigText(FILE, yaml([...BASE, MAP]), {}).api.oidc).toEqual({
      issuer: ISS,
      jwksUrl: 'https://login.example.com/.well-known/jwks.json',
      audience: AUD,
      subjectClaim: 'sub',
      rolesClaim: 'groups',
      roleMap: { 'sec-oncall': 'oncall' },
      algorithms: ['RS256', 'ES256', 'EdDSA'],
      clockToleranceSeconds: 30,
    });
    expect(loadConfigText(FILE, '', {}).api.oidc).toBeUndefined();
  });

  it.each(['http://127.0.0.1:8443/jwks', 'http://[::1]/jwks', 'http://localhost:9000/jwks'])(
    'accepts the loopback http JWKS URL %s',
    (url) => {
      const text = yaml([`issuer: ${ISS}`, `jwksUrl: "${url}"`, `audience: ${AUD}`, MAP]);
      expect(loadConfigText(FILE, text, {}).api.oidc?.jwksUrl).toBe(url);
    },
  );

  it('refuses an http JWKS URL off loopback, naming the key and its line', () => {
    const m = err(yaml([`issuer: ${ISS}`, 'jwksUrl: http://login.example.com/jwks.json', `audience: ${AUD}`, MAP]));
    expect(m).toMatch(/credwarden\.yaml:4 api\.oidc\.jwksUrl: must be https \(http only for a loopback host/);
  });

  it.each([
    ['no roleMap', [...BASE], 'api.oidc.roleMap: is required'],
    ['an empty roleMap', [...BASE, 'roleMap: {}'], 'api.oidc.roleMap: must map at least one'],
    ['a roleMap to an unknown role', [...BASE, 'roleMap: { g: root }'], 'api.oidc.roleMap.g'],
    ['algorithms with HS256', [...BASE, MAP, 'algorithms: [RS256, HS256]'], 'api.oidc.algorithms[1]: HS256 is refused'],
    ['algorithms with none', [...BASE, MAP, 'algorithms: [none]'], 'api.oidc.algorithms[0]: none is refused'],
    ['an unknown algorithm', [...BASE, MAP, 'algorithms: [RS1]'], 'api.oidc.algorithms[0]: must be one of'],
    ['empty algorithms', [...BASE, MAP, 'algorithms: []'], 'api.oidc.algorithms'],
    ['a tolerance over 300', [...BASE, MAP, 'clockToleranceSeconds: 301'], 'api.oidc.clockToleranceSeconds'],
    ['no issuer', [BASE[1]!, BASE[2]!, MAP], 'api.oidc.issuer: is required'],
    ['no audience', [BASE[0]!, BASE[1]!, MAP], 'api.oidc.audience: is required'],
    ['a JWKS URL with credentials', [BASE[0]!, 'jwksUrl: https://u:p@x.example/j', BASE[2]!, MAP], 'api.oidc.jwksUrl'],
    ['an unknown key', [...BASE, MAP, 'secret: x'], 'api.oidc.secret'],
  ])('refuses %s, naming the key', (_n, lines, expected) => {
    expect(err(yaml(lines))).toContain(expected);
  });
});
