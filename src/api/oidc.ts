/**
 * OpenID Connect bearer JWTs (the optional `api.oidc` config section), verified with jose against
 * the issuer's JWKS. A verified token is `{ subject, roles, via: 'oidc' }`; anything else is null,
 * never an exception, with no hint of why.
 *
 * - Checked: the signature (an `algorithms` entry, never HS* or `none`: the config refuses them and
 *   jose is told the list, so an HS256 token "signed" with the public key is refused before any
 *   key is looked up), `iss` exactly, `aud` containing `audience`, `exp` required, `nbf`, both
 *   with `clockToleranceSeconds`, and the subject claim present.
 * - Subject: the `subjectClaim` value as is (no prefix), 1..256 characters with no control,
 *   format or space characters. An OIDC subject equal to an `api.tokens[]` subject is the same
 *   person, for four-eyes approval too: name token subjects so that they cannot collide.
 * - Roles: every `rolesClaim` value (one string, or an array whose non-strings are ignored) that
 *   `roleMap` maps, deduplicated, in ROLES order; unmapped values are ignored. A valid token with
 *   no mapped role is null (401): an identity without a role has no access.
 * - Keys: jose's remote JWKS cache. Keys are fetched on first use and kept up to 10 minutes; a
 *   token whose `kid` is not in the set refetches only once the 30 s cooldown after the last
 *   successful fetch has passed (a flood of unknown kids costs one fetch per cooldown; a rotated
 *   key is picked up after it). A fetch times out after 5 s.
 * - An unreachable or unusable JWKS endpoint makes every token that needs a fetch null and calls
 *   `onError(reason)` once per outage (the reason names the URL and the failure, never a token).
 *   After a failure nothing is fetched for 10 s: tokens are checked against the keys still
 *   cached (while fresh), so a down IdP is not hammered by each request.
 */
import {
  type CryptoKey,
  createLocalJWKSet,
  createRemoteJWKSet,
  errors,
  type FlattenedJWSInput,
  type JWSHeaderParameters,
  type JWTPayload,
  jwtVerify,
} from 'jose';
import type { OidcConfig } from './config.js';
import { ROLES, type Role } from './roles.js';
import type { Principal } from './tokens.js';

/** A bearer longer than this is not looked at (big group claims stay well below it). */
export const MAX_JWT_LENGTH = 16_384;
const JWKS_TIMEOUT_MS = 5_000;
const JWKS_COOLDOWN_MS = 30_000;
const JWKS_MAX_AGE_MS = 10 * 60_000;
/** After a failed JWKS fetch, how long to check against cached keys only. */
const JWKS_RETRY_MS = 10_000;

const SEGMENTS_RE = /^([A-Za-z0-9_-]+)\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;
const SUBJECT_RE = /^[^\p{C}\p{Z}]{1,256}$/u;

/**
 * Whether a bearer is shaped like a JWT (three base64url segments, the first a JSON header with
 * a string `alg`), so a server can send it to OidcVerifier instead of trying scrypt on it. Only
 * the shape: an API token (base64 or hex) is never one, and a JWT is not trusted for passing.
 */
export function looksLikeJwt(token: string): boolean {
  if (typeof token !== 'string' || token.length > MAX_JWT_LENGTH) return false;
  const m = SEGMENTS_RE.exec(token);
  if (!m) return false;
  try {
    const header: unknown = JSON.parse(Buffer.from(m[1]!, 'base64url').toString('utf8'));
    return (
      typeof header === 'object' &&
      header !== null &&
      !Array.isArray(header) &&
      typeof (header as { alg?: unknown }).alg === 'string'
    );
  } catch {
    return false;
  }
}

export interface OidcVerifierOptions {
  /**
   * Called once per JWKS outage with a reason such as `JWKS unreachable (https://…): fetch
   * failed (ECONNREFUSED)`; again only after a fetch has succeeded and a later one fails.
   */
  onError?: (reason: string) => void;
}

/** Errors from the key lookup that are the token's fault (its kid or alg), not the endpoint's. */
const TOKEN_FAULTS = [errors.JWKSNoMatchingKey, errors.JWKSMultipleMatchingKeys, errors.JOSENotSupported];

type KeyLookup = (header: JWSHeaderParameters, token: FlattenedJWSInput) => Promise<CryptoKey>;

function own(payload: JWTPayload, claim: string): unknown {
  return Object.hasOwn(payload, claim) ? payload[claim] : undefined;
}

export class OidcVerifier {
  private readonly remote: ReturnType<typeof createRemoteJWKSet>;
  private readonly roleMap: ReadonlyMap<string, Role>;
  private readonly onError: ((reason: string) => void) | undefined;
  /** When the last JWKS fetch failed, while no fetch has succeeded since. */
  private failedAt: number | null = null;
  /** The cached keys, used without fetching while backing off after a failure. */
  private fallback: KeyLookup | null = null;
  /** Failed JWKS fetches so far (for metrics). */
  jwksFailures = 0;

  constructor(
    private readonly config: OidcConfig,
    options: OidcVerifierOptions = {},
  ) {
    this.remote = createRemoteJWKSet(new URL(config.jwksUrl), {
      timeoutDuration: JWKS_TIMEOUT_MS,
      cooldownDuration: JWKS_COOLDOWN_MS,
      cacheMaxAge: JWKS_MAX_AGE_MS,
    });
    this.roleMap = new Map(Object.entries(config.roleMap));
    this.onError = options.onError;
  }

  /** The principal a JWT stands for, or null for any token that is not valid and mapped. */
  async verify(jwt: string): Promise<Principal | null> {
    if (!looksLikeJwt(jwt)) return null;
    const c = this.config;
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(jwt, this.key, {
        issuer: c.issuer,
        audience: c.audience,
        algorithms: c.algorithms,
        clockTolerance: c.clockToleranceSeconds,
        requiredClaims: ['exp', c.subjectClaim],
      }));
    } catch {
      return null;
    }
    const subject = own(payload, c.subjectClaim);
    if (typeof subject !== 'string' || !SUBJECT_RE.test(subject)) return null;
    const roles = this.rolesOf(own(payload, c.rolesClaim));
    return roles.length > 0 ? { subject, roles, via: 'oidc' } : null;
  }

  private rolesOf(claim: unknown): Role[] {
    const values = typeof claim === 'string' ? [claim] : Array.isArray(claim) ? claim : [];
    const found = new Set<Role>();
    for (const v of values) {
      const role = typeof v === 'string' ? this.roleMap.get(v) : undefined;
      if (role) found.add(role);
    }
    return ROLES.filter((r) => found.has(r));
  }

  /** jose's key lookup, with the failure bookkeeping around it. */
  private readonly key: KeyLookup = async (header, token) => {
    if (this.failedAt !== null && Date.now() - this.failedAt < JWKS_RETRY_MS) {
      const cached = this.remote.fresh ? this.remote.jwks() : undefined;
      if (!cached) throw new errors.JOSEError('JWKS unavailable (backing off after a failed fetch)');
      this.fallback ??= createLocalJWKSet(cached);
      return this.fallback(header, token);
    }
    try {
      const key = await this.remote(header, token);
      this.recovered();
      return key;
    } catch (err) {
      if (TOKEN_FAULTS.some((E) => err instanceof E)) {
        this.recovered();
        throw err;
      }
      this.failed(err);
      throw err;
    }
  };

  /**
   * A lookup succeeded (or failed for the token's sake): if it came after a failed fetch, the
   * outage is over once a fetch has succeeded since (jose's cooldown is running again: it was not
   * at the failure, since jose only fetches with the cooldown over or the cache stale).
   */
  private recovered(): void {
    if (this.failedAt !== null && this.remote.coolingDown) {
      this.failedAt = null;
      this.fallback = null;
    }
  }

  private failed(err: unknown): void {
    this.jwksFailures++;
    const first = this.failedAt === null;
    this.failedAt = Date.now();
    this.fallback = null;
    if (first) this.onError?.(describeFailure(this.config.jwksUrl, err));
  }
}

function describeFailure(url: string, err: unknown): string {
  if (err instanceof errors.JWKSInvalid || (err instanceof errors.JOSEError && /^Failed to parse/.test(err.message)))
    return `JWKS invalid (${url}): ${err.message}`;
  if (err instanceof errors.JWKSTimeout) return `JWKS unreachable (${url}): no response in ${JWKS_TIMEOUT_MS} ms`;
  const e = err as { message?: unknown; cause?: { code?: unknown; message?: unknown } };
  const cause = e.cause?.code ?? e.cause?.message;
  const message = typeof e.message === 'string' ? e.message : String(err);
  return `JWKS unreachable (${url}): ${message}${typeof cause === 'string' ? ` (${cause})` : ''}`;
}
