/**
 * API authentication foundations (issue 12): token hashes (scrypt, node:crypto), the verifier a
 * server checks bearer tokens with, the role table, the `api` config section (a literal token is
 * refused with its key) and `credwarden api token-hash`.
 */
import { describe, expect, it } from 'vitest';
import { listenAddress } from '../../src/api/config.js';
import { can, mayApprove, PERMISSIONS, ROLES } from '../../src/api/roles.js';
import { hashProblem, hashToken, TokenVerifier, tokenMatches } from '../../src/api/tokens.js';
import { run } from '../../src/cli/main.js';
import { loadConfigText } from '../../src/config/load.js';
import { CwError, ErrorCodes } from '../../src/errors.js';
import { captureIo } from '../support/capture.js';

const TOKEN_A = 'cw_alice_0123456789abcdefghijklmnop';
const TOKEN_B = 'cw_bob_zyxwvutsrqponmlkjihgfedcba98';
const FAST = { N: 1 << 14, r: 8, p: 1 };

describe('token hashes', () => {
  it('hash to the documented format and verify only the same token', async () => {
    const h = await hashToken(TOKEN_A);
    expect(h).toMatch(/^scrypt\$32768\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    expect(hashProblem(h)).toBeNull();
    expect(await tokenMatches(TOKEN_A, h)).toBe(true);
    expect(await tokenMatches(TOKEN_B, h)).toBe(false);
    expect(await tokenMatches(`${TOKEN_A}x`, h)).toBe(false);
    // A fresh salt each time: the same token never hashes the same twice.
    expect(await hashToken(TOKEN_A)).not.toBe(h);
  });

  it.each([
    ['a pasted token', TOKEN_A, /never the token/],
    ['a bcrypt hash', '$2b$12$abcdefghijklmnopqrstuuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ01', /not a token hash/],
    ['N not a power of two', `scrypt$30000$8$1$${'a'.repeat(22)}$${'b'.repeat(43)}`, /power of two/],
    ['N too small', `scrypt$1024$8$1$${'a'.repeat(22)}$${'b'.repeat(43)}`, /2\^14/],
    ['r too small', `scrypt$16384$1$1$${'a'.repeat(22)}$${'b'.repeat(43)}`, /r or p/],
  ])('refuse %s', (_name, value, message) => {
    expect(hashProblem(value)).toMatch(message);
  });
});

describe(TokenVerifier.name, () => {
  it('maps a token to its subject and roles, and anything else to null', async () => {
    const v = new TokenVerifier([
      { subject: 'alice', roles: ['oncall'], hash: await hashToken(TOKEN_A, FAST) },
      { subject: 'bob', roles: ['viewer', 'auditor'], hash: await hashToken(TOKEN_B, FAST) },
    ]);
    expect(await v.verify(TOKEN_A)).toEqual({ subject: 'alice', roles: ['oncall'], via: 'token' });
    expect(await v.verify(TOKEN_B)).toEqual({ subject: 'bob', roles: ['viewer', 'auditor'], via: 'token' });
    for (const bad of ['', 'x', TOKEN_A.slice(0, -1), TOKEN_A.toUpperCase(), 'y'.repeat(5000)])
      expect(await v.verify(bad)).toBeNull();
  });

  it('remembers a verified token for five minutes, then checks it again', async () => {
    let now = 1_000_000;
    const v = new TokenVerifier(
      [{ subject: 'alice', roles: ['admin'], hash: await hashToken(TOKEN_A, FAST) }],
      () => now,
    );
    await v.verify(TOKEN_A);
    expect(v.hashesComputed).toBe(1);
    expect(await v.verify(TOKEN_A)).toMatchObject({ subject: 'alice' });
    expect(v.hashesComputed).toBe(1);
    now += 5 * 60_000 + 1;
    expect(await v.verify(TOKEN_A)).toMatchObject({ subject: 'alice' });
    expect(v.hashesComputed).toBe(2);
    // A wrong token is never remembered as anything.
    expect(await v.verify(TOKEN_B)).toBeNull();
    expect(await v.verify(TOKEN_B)).toBeNull();
    expect(v.hashesComputed).toBe(4);
  });

  it('refuses to start on a config entry that is not a hash', () => {
    expect(() => new TokenVerifier([{ subject: 'a', roles: ['viewer'], hash: TOKEN_A }])).toThrow(CwError);
  });
});

describe('roles', () => {
  it('grant what the issue lists, and admin everything', () => {
    const table = Object.fromEntries(ROLES.map((r) => [r, PERMISSIONS.filter((p) => can([r], p))]));
    expect(table).toEqual({
      viewer: ['posture:read'],
      auditor: ['posture:read', 'audit:read', 'evidence:read'],
      oncall: ['posture:read', 'actions:decide', 'silences:write', 'remediation:pause'],
      admin: [...PERMISSIONS],
    });
    expect(can(['viewer', 'auditor'], 'audit:read')).toBe(true);
    expect(can([], 'posture:read')).toBe(false);
    expect(mayApprove(['auditor'])).toBe(false);
    expect(mayApprove(['oncall'])).toBe(true);
    expect(mayApprove(['admin'])).toBe(true);
  });
});

describe('the api config section', () => {
  const FILE = '/srv/credwarden/credwarden.yaml';
  const err = (text: string): CwError => {
    try {
      loadConfigText(FILE, text, {});
    } catch (e) {
      expect(e).toBeInstanceOf(CwError);
      return e as CwError;
    }
    throw new Error('expected the config to be refused');
  };

  it('defaults to loopback with no tokens', () => {
    expect(loadConfigText(FILE, '', {}).api).toEqual({
      listen: '127.0.0.1:8080',
      tokens: [],
      rateLimit: { perMinute: 600 },
    });
    expect(listenAddress('127.0.0.1:8080')).toEqual({ host: '127.0.0.1', port: 8080 });
    expect(listenAddress('[::1]:9000')).toEqual({ host: '::1', port: 9000 });
  });

  it('accepts a hashed token', async () => {
    const hash = await hashToken(TOKEN_A, FAST);
    const c = loadConfigText(FILE, `api:\n  tokens:\n    - { subject: alice, roles: [oncall], hash: "${hash}" }\n`, {});
    expect(c.api.tokens).toEqual([{ subject: 'alice', roles: ['oncall'], hash }]);
  });

  it('refuses a literal token, naming the key and the line, with exit code 2', () => {
    const e = err(`api:\n  tokens:\n    - subject: alice\n      roles: [oncall]\n      hash: ${TOKEN_A}\n`);
    expect(e.code).toBe(ErrorCodes.CONFIG);
    expect(e.exitCode).toBe(2);
    expect(e.message).toContain('api.tokens[0].hash');
    expect(e.message).toMatch(/credwarden\.yaml:5 /);
    expect(e.message).toMatch(/never the token/);
    // The refused value is not echoed back.
    expect(e.message).not.toContain(TOKEN_A);
  });

  it.each([
    ['an unknown role', 'api:\n  tokens:\n    - { subject: a, roles: [root], hash: x }\n', 'api.tokens[0].roles[0]'],
    ['no roles', 'api:\n  tokens:\n    - { subject: a, roles: [], hash: x }\n', 'api.tokens[0].roles'],
    ['a bad listen', 'api:\n  listen: "8080"\n', 'api.listen'],
    ['a port out of range', 'api:\n  listen: "127.0.0.1:70000"\n', 'api.listen'],
    ['an unknown key', 'api:\n  listn: "127.0.0.1:1"\n', 'api'],
  ])('refuses %s, naming %s', (_n, text, key) => {
    expect(err(text).message).toContain(key);
  });

  it('refuses two entries for one subject', async () => {
    const h = await hashToken(TOKEN_A, FAST);
    const e = err(
      `api:\n  tokens:\n    - { subject: a, roles: [viewer], hash: "${h}" }\n    - { subject: a, roles: [admin], hash: "${h}" }\n`,
    );
    expect(e.message).toContain('api.tokens[1].subject');
  });
});

describe('credwarden api token-hash', () => {
  const cli = async (stdin: string) => {
    const io = { ...captureIo(), readStdin: async () => stdin };
    const code = await run(['api', 'token-hash'], io);
    return { code, out: io.stdout.join(''), err: io.stderr.join('') };
  };

  it('prints a hash of the token on stdin (one trailing newline is not part of it)', async () => {
    const r = await cli(`${TOKEN_A}\n`);
    expect(r.code).toBe(0);
    expect(await tokenMatches(TOKEN_A, r.out.trim())).toBe(true);
    expect(r.out).not.toContain(TOKEN_A);
  });

  it.each([
    ['an empty stdin', ''],
    ['a short token', 'short-token\n'],
    ['two lines', `${TOKEN_A}\n${TOKEN_B}\n`],
    ['a token with a space', `${TOKEN_A} ${TOKEN_B}`],
  ])('refuses %s with one line and exit 2', async (_n, stdin) => {
    const r = await cli(stdin);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toMatch(/^credwarden: CW_ERR_INPUT: stdin: /);
    expect(r.err.trim().split('\n')).toHaveLength(1);
  });
});
