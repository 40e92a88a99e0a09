/**
 * Vault-shaped values for the double: identifiers (base62, UUID), Go time formatting
 * (RFC 3339 with nanoseconds and the process's local offset, Go's zero time), ParseBool,
 * and coercion of request fields the way Vault's framework.FieldData reads them.
 */
import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import { parseDurationSeconds } from '../../../src/sources/vault/acl-policy.js';

const BASE62 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

export function base62(len: number): string {
  let out = '';
  while (out.length < len) {
    for (const b of randomBytes(len * 2)) {
      if (b >= 248) continue;
      out += BASE62[b % 62];
      if (out.length === len) break;
    }
  }
  return out;
}

export const uuid = (): string => randomUUID();

/** A moment as Vault stores it: epoch milliseconds plus the sub-millisecond nanoseconds Go keeps. */
export interface Instant {
  ms: number;
  subNs: number;
}

export function instant(at: Date): Instant {
  return { ms: at.getTime(), subNs: randomInt(1, 1_000_000) };
}

export function addSeconds(t: Instant, seconds: number): Instant {
  return { ms: t.ms + seconds * 1000, subNs: t.subNs };
}

/** Go's `time.Time.Format(time.RFC3339Nano)` in the local zone: trailing zeros trimmed, `Z` for UTC. */
export function rfc3339Nano(t: Instant): string {
  const offsetMin = -new Date(t.ms).getTimezoneOffset();
  const local = new Date(t.ms + offsetMin * 60_000);
  const base = local.toISOString().slice(0, 19);
  const nanos = (((t.ms % 1000) + 1000) % 1000) * 1_000_000 + t.subNs;
  const frac = nanos === 0 ? '' : `.${String(nanos).padStart(9, '0').replace(/0+$/, '')}`;
  if (offsetMin === 0) return `${base}${frac}Z`;
  const sign = offsetMin > 0 ? '+' : '-';
  const abs = Math.abs(offsetMin);
  return `${base}${frac}${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}

export const GO_ZERO_TIME = '0001-01-01T00:00:00Z';

export const unixSeconds = (ms: number): number => Math.floor(ms / 1000);

/**
 * Whole seconds left until `deadlineMs`, as OpenBao's leaseEntry.ttl() computes it:
 * `int64(expire.Sub(time.Now().Round(time.Second)).Seconds())`, i.e. "now" rounded to the nearest
 * second, then truncated. (1.1 s into a 1 h lease that is 3599, not 3598.)
 */
export function secondsLeft(deadlineMs: number, nowMs: number): number {
  return Math.max(0, Math.trunc((deadlineMs - Math.round(nowMs / 1000) * 1000) / 1000));
}

/** A moment on a whole second (batch tokens carry Unix-second times only). */
export function wholeSecond(at: Date): Instant {
  return { ms: Math.floor(at.getTime() / 1000) * 1000, subNs: 0 };
}

/** A random base64url string of `bytes` random bytes. */
export const base64url = (bytes: number): string => randomBytes(bytes).toString('base64url');

/** Go's strconv.ParseBool. */
export function parseBool(v: string): boolean | null {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(v)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(v)) return false;
  return null;
}

export class FieldError extends Error {}

export function fieldString(body: Record<string, unknown>, key: string): string {
  const v = body[key];
  if (v === undefined || v === null) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  throw new FieldError(`error converting input for field "${key}"`);
}

export function fieldBool(body: Record<string, unknown>, key: string, dflt: boolean): boolean {
  const v = body[key];
  if (v === undefined || v === null || v === '') return dflt;
  if (typeof v === 'boolean') return v;
  const parsed = parseBool(String(v));
  if (parsed === null) throw new FieldError(`error converting input ${String(v)} for field "${key}"`);
  return parsed;
}

export function fieldInt(body: Record<string, unknown>, key: string, dflt: number): number {
  const v = body[key];
  if (v === undefined || v === null || v === '') return dflt;
  const n = typeof v === 'number' ? v : Number(v);
  if (!Number.isInteger(n)) throw new FieldError(`error converting input ${String(v)} for field "${key}"`);
  return n;
}

/** A TTL field: seconds as a number or a Go duration string. */
export function fieldDuration(body: Record<string, unknown>, key: string, dflt: number): number {
  const v = body[key];
  if (v === undefined || v === null || v === '') return dflt;
  const secs = parseDurationSeconds(v);
  if (secs === null) throw new FieldError(`error converting input ${String(v)} for field "${key}"`);
  return secs;
}

/** A string slice field: a JSON array or a comma-separated string. */
export function fieldStrings(body: Record<string, unknown>, key: string): string[] {
  const v = body[key];
  if (v === undefined || v === null || v === '') return [];
  if (Array.isArray(v))
    return v
      .map(String)
      .map((s) => s.trim())
      .filter(Boolean);
  if (typeof v === 'string')
    return v
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  throw new FieldError(`error converting input for field "${key}"`);
}

export function fieldMap(body: Record<string, unknown>, key: string): Record<string, string> | null {
  const v = body[key];
  if (v === undefined || v === null) return null;
  if (typeof v !== 'object' || Array.isArray(v)) throw new FieldError(`error converting input for field "${key}"`);
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, String(x)]));
}

/** Does an IPv4 address fall inside a CIDR block (or equal a bare address)? */
export function ipInCidr(ip: string, cidr: string): boolean {
  const addr = ip.replace(/^::ffff:/, '');
  const [net, bitsRaw] = cidr.split('/');
  const bits = bitsRaw === undefined ? 32 : Number(bitsRaw);
  const toInt = (s: string): number | null => {
    const p = s.split('.').map(Number);
    if (p.length !== 4 || p.some((x) => !Number.isInteger(x) || x < 0 || x > 255)) return null;
    return ((p[0]! << 24) | (p[1]! << 16) | (p[2]! << 8) | p[3]!) >>> 0;
  };
  const a = toInt(addr);
  const b = toInt(net ?? '');
  if (a === null || b === null || !(bits >= 0 && bits <= 32)) return false;
  const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
  return (a & mask) === (b & mask);
}
