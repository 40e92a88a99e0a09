/**
 * API bearer tokens, kept in config only as scrypt hashes (node:crypto): `credwarden api
 * token-hash` prints the hash of a token read on stdin. A verified token is its configured
 * subject and roles; anything else is `null`, with no hint of which tokens exist.
 *
 * The hash format is `scrypt$<N>$<r>$<p>$<salt b64url>$<key b64url>` (N a power of two). scrypt
 * at N=2^15 costs tens of milliseconds, on purpose, so a verified token is remembered for a short
 * while under an HMAC of the token with a key of this process (never the token itself): a busy
 * client does not pay the work factor per request, and a token removed from config stops working
 * when the config is reloaded (a new verifier, an empty cache).
 */
import { createHmac, randomBytes, scrypt as scryptCb, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import { CwError, ErrorCodes } from '../errors.js';
import type { Role } from './roles.js';

const scrypt = promisify(scryptCb) as (
  password: string | Buffer,
  salt: Buffer,
  keylen: number,
  options: { N: number; r: number; p: number; maxmem: number },
) => Promise<Buffer>;

const DEFAULT = { N: 1 << 15, r: 8, p: 1 } as const;
const KEY_LEN = 32;
const SALT_LEN = 16;
/** A token shorter than this is refused by `token-hash`: a bearer token is a secret, not a password. */
export const MIN_TOKEN_LENGTH = 24;
const HASH_RE = /^scrypt\$(\d{1,7})\$(\d{1,2})\$(\d{1,2})\$([A-Za-z0-9_-]{16,88})\$([A-Za-z0-9_-]{43})$/;

export interface ScryptParams {
  N: number;
  r: number;
  p: number;
}

interface ParsedHash extends ScryptParams {
  salt: Buffer;
  key: Buffer;
}

const maxmem = (q: ScryptParams) => 128 * q.N * q.r * 2 + 1024 * 1024;

/** Why `hash` is not a token hash this build can check, or null when it is one. */
export function hashProblem(hash: string): string | null {
  const m = HASH_RE.exec(hash);
  if (!m)
    return 'is not a token hash (scrypt$N$r$p$salt$key): put `credwarden api token-hash` output here, never the token';
  const N = Number(m[1]);
  const r = Number(m[2]);
  const p = Number(m[3]);
  if (N < 1 << 14 || N > 1 << 20 || (N & (N - 1)) !== 0)
    return 'has an scrypt N that is not a power of two in 2^14..2^20';
  if (r < 8 || r > 32 || p < 1 || p > 16) return 'has scrypt r or p out of range (r 8..32, p 1..16)';
  return null;
}

function parse(hash: string): ParsedHash {
  const problem = hashProblem(hash);
  if (problem) throw new CwError(ErrorCodes.CONFIG, `token hash ${problem}`);
  const [, n, r, p, salt, key] = HASH_RE.exec(hash)!;
  return {
    N: Number(n),
    r: Number(r),
    p: Number(p),
    salt: Buffer.from(salt!, 'base64url'),
    key: Buffer.from(key!, 'base64url'),
  };
}

export async function hashToken(token: string, params: ScryptParams = DEFAULT): Promise<string> {
  const salt = randomBytes(SALT_LEN);
  const key = await scrypt(token, salt, KEY_LEN, { ...params, maxmem: maxmem(params) });
  return `scrypt$${params.N}$${params.r}$${params.p}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

/** Whether `token` hashes to `hash`, compared in constant time. */
export async function tokenMatches(token: string, hash: string): Promise<boolean> {
  const h = parse(hash);
  const key = await scrypt(token, h.salt, h.key.length, { N: h.N, r: h.r, p: h.p, maxmem: maxmem(h) });
  return timingSafeEqual(key, h.key);
}

export interface ApiTokenConfig {
  subject: string;
  roles: readonly Role[];
  hash: string;
}

export interface Principal {
  subject: string;
  roles: readonly Role[];
  via: 'token' | 'oidc';
}

/** How long a verified token is remembered, and how many at most. */
const CACHE_MS = 5 * 60_000;
const CACHE_MAX = 1000;

export class TokenVerifier {
  private readonly entries: readonly (ApiTokenConfig & { parsed: ParsedHash })[];
  private readonly cacheKey = randomBytes(32);
  private readonly cache = new Map<string, { index: number; until: number }>();
  /** scrypt computations so far (for metrics, and to see the cache work). */
  hashesComputed = 0;

  constructor(
    tokens: readonly ApiTokenConfig[],
    private readonly now: () => number = Date.now,
  ) {
    this.entries = tokens.map((t) => ({ ...t, parsed: parse(t.hash) }));
  }

  get size(): number {
    return this.entries.length;
  }

  /**
   * The principal a bearer token stands for, or null. Every configured hash is tried (no early
   * exit on a match), so the time taken does not say which entry matched.
   */
  async verify(token: string): Promise<Principal | null> {
    if (!token || token.length > 4096) return null;
    const cached = this.remembered(token);
    if (cached) return cached;
    const tag = this.tag(token);
    const now = this.now();
    let found = -1;
    for (let i = 0; i < this.entries.length; i++) {
      const e = this.entries[i]!.parsed;
      this.hashesComputed++;
      const key = await scrypt(token, e.salt, e.key.length, { N: e.N, r: e.r, p: e.p, maxmem: maxmem(e) });
      if (timingSafeEqual(key, e.key) && found < 0) found = i;
    }
    if (found < 0) return null;
    if (this.cache.size >= CACHE_MAX) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(tag, { index: found, until: now + CACHE_MS });
    return this.principal(found);
  }

  /**
   * The principal of a token verified in the last five minutes, or null, with no scrypt work: the
   * server lets remembered tokens through before any per-address limit on fresh verifications.
   */
  remembered(token: string): Principal | null {
    if (!token || token.length > 4096) return null;
    const tag = this.tag(token);
    const hit = this.cache.get(tag);
    if (hit && hit.until > this.now()) return this.principal(hit.index);
    if (hit) this.cache.delete(tag);
    return null;
  }

  private tag(token: string): string {
    return createHmac('sha256', this.cacheKey).update(token).digest('base64url');
  }

  private principal(i: number): Principal {
    const e = this.entries[i]!;
    return { subject: e.subject, roles: e.roles, via: 'token' };
  }
}
