/**
 * Dashboard sessions. Signing in exchanges an API token (or nothing else: the same tokens and roles
 * as the API) for a session id in an HttpOnly, SameSite=Strict cookie; the token itself is never
 * stored. The id is 32 random bytes; Redis holds only its sha256, so a copy of Redis cannot be
 * replayed as a cookie.
 *
 *   P:ui:session:<sha256(id)>  String: JSON {subject, roles, csrf, createdAt}; expires after
 *                              `idleSeconds` without a request, and never outlives `maxSeconds`
 *
 * Every form that changes state carries the session's CSRF token (`_csrf`), compared in constant
 * time; the cookie alone never authorises a write.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Role } from '../api/roles.js';
import type { RedisClient } from '../queue/connection.js';

export interface Session {
  subject: string;
  roles: Role[];
  csrf: string;
  /** Epoch ms. */
  createdAt: number;
}

export interface SessionLimits {
  idleSeconds: number;
  maxSeconds: number;
}

export const DEFAULT_SESSION_LIMITS: SessionLimits = { idleSeconds: 30 * 60, maxSeconds: 12 * 3600 };

export const SESSION_COOKIE = 'cw_session';
/** The cookie name over HTTPS: `__Host-` binds it to this origin, path / and Secure. */
export const SECURE_SESSION_COOKIE = '__Host-cw_session';

const digest = (id: string) => createHash('sha256').update(id).digest('hex');

export class SessionStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
    private readonly limits: SessionLimits = DEFAULT_SESSION_LIMITS,
    private readonly now: () => number = Date.now,
  ) {}

  private key(id: string): string {
    return `${this.prefix}:ui:session:${digest(id)}`;
  }

  /** A new session for a signed-in principal: its id (for the cookie) and the session. */
  async create(p: { subject: string; roles: readonly Role[] }): Promise<{ id: string; session: Session }> {
    const id = randomBytes(32).toString('base64url');
    const session: Session = {
      subject: p.subject,
      roles: [...p.roles],
      csrf: randomBytes(32).toString('base64url'),
      createdAt: this.now(),
    };
    await this.redis.set(this.key(id), JSON.stringify(session), 'EX', this.limits.idleSeconds);
    return { id, session };
  }

  /** The session of a cookie value, its idle expiry renewed; null when unknown, expired or malformed. */
  async get(id: string | undefined): Promise<Session | null> {
    if (!id || !/^[A-Za-z0-9_-]{43}$/.test(id)) return null;
    const key = this.key(id);
    const text = await this.redis.get(key);
    if (!text) return null;
    let s: Session;
    try {
      s = JSON.parse(text) as Session;
    } catch {
      return null;
    }
    const left = Math.floor((s.createdAt + this.limits.maxSeconds * 1000 - this.now()) / 1000);
    if (left <= 0) {
      await this.redis.del(key);
      return null;
    }
    await this.redis.expire(key, Math.min(this.limits.idleSeconds, left));
    return s;
  }

  async destroy(id: string | undefined): Promise<void> {
    if (id && /^[A-Za-z0-9_-]{43}$/.test(id)) await this.redis.del(this.key(id));
  }
}

/** Whether a submitted CSRF token is the session's (constant time). */
export function csrfMatches(session: Session, submitted: unknown): boolean {
  if (typeof submitted !== 'string') return false;
  const a = Buffer.from(session.csrf);
  const b = Buffer.from(submitted);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The value of one cookie from a Cookie header. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
