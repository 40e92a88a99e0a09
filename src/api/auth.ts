/**
 * Who a request comes from. A bearer token is an OIDC JWT (when `api.oidc` is configured and the
 * token looks like one) or an API token checked against the scrypt hashes in config.
 *
 * Verifying an unknown API token costs one scrypt per configured hash (about 250 ms of CPU each),
 * so fresh verifications are bounded before any of that work starts:
 * - a token verified in the last five minutes is let through at once (TokenVerifier.remembered);
 * - each client address may fail `failuresPerWindow` verifications per window; after that it gets
 *   429 without any hashing until the window passes;
 * - at most `concurrent` verifications run at once, and at most `queued` wait; beyond that 429.
 *
 * The answer never says which tokens exist: an unknown token, a malformed header and a valid JWT
 * with no mapped role all get the same 401.
 */
import type { Principal } from './tokens.js';

export interface BearerVerifier {
  verify(token: string): Promise<Principal | null>;
  remembered?(token: string): Principal | null;
}

export interface AuthLimits {
  failuresPerWindow: number;
  windowMs: number;
  concurrent: number;
  queued: number;
}

export const DEFAULT_AUTH_LIMITS: AuthLimits = { failuresPerWindow: 20, windowMs: 60_000, concurrent: 2, queued: 32 };

export type AuthOutcome = { ok: true; principal: Principal } | { ok: false; status: 401 | 429; reason: string };

/** The token of an `Authorization: Bearer …` header, or null. */
export function bearerOf(header: string | undefined): string | null {
  if (!header) return null;
  const m = /^Bearer[ \t]+([^\s]+)[ \t]*$/i.exec(header);
  return m ? m[1]! : null;
}

export class Authenticator {
  private readonly failures = new Map<string, { count: number; since: number }>();
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    private readonly tokens: BearerVerifier,
    private readonly oidc: { verifier: BearerVerifier; looksLikeJwt(token: string): boolean } | null,
    private readonly limits: AuthLimits = DEFAULT_AUTH_LIMITS,
    private readonly now: () => number = Date.now,
  ) {}

  async authenticate(header: string | undefined, address: string): Promise<AuthOutcome> {
    const token = bearerOf(header);
    if (!token) return { ok: false, status: 401, reason: 'no bearer token' };
    const jwt = this.oidc?.looksLikeJwt(token) ?? false;
    const remembered = jwt ? null : (this.tokens.remembered?.(token) ?? null);
    if (remembered) return { ok: true, principal: remembered };
    if (this.failing(address)) return { ok: false, status: 429, reason: 'too many failed authentications' };
    if (this.running >= this.limits.concurrent && this.waiting.length >= this.limits.queued)
      return { ok: false, status: 429, reason: 'too many authentications in flight' };
    await this.slot();
    let principal: Principal | null;
    try {
      principal = jwt && this.oidc ? await this.oidc.verifier.verify(token) : await this.tokens.verify(token);
    } finally {
      this.release();
    }
    if (principal) return { ok: true, principal };
    this.fail(address);
    return { ok: false, status: 401, reason: 'unknown or invalid token' };
  }

  private failing(address: string): boolean {
    const f = this.failures.get(address);
    if (!f) return false;
    if (this.now() - f.since > this.limits.windowMs) {
      this.failures.delete(address);
      return false;
    }
    return f.count >= this.limits.failuresPerWindow;
  }

  private fail(address: string): void {
    const now = this.now();
    const f = this.failures.get(address);
    if (!f || now - f.since > this.limits.windowMs) {
      // Bounded memory under a spray from many addresses: drop the oldest entry.
      if (this.failures.size >= 10_000) this.failures.delete(this.failures.keys().next().value!);
      this.failures.set(address, { count: 1, since: now });
    } else f.count++;
  }

  private slot(): Promise<void> {
    if (this.running < this.limits.concurrent) {
      this.running++;
      return Promise.resolve();
    }
    return new Promise((resolve) =>
      this.waiting.push(() => {
        this.running++;
        resolve();
      }),
    );
  }

  private release(): void {
    this.running--;
    this.waiting.shift()?.();
  }
}
