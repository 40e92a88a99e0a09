/**
 * Small helpers shared by the audit and end-to-end benchmarks: argument parsing that fails with
 * one clear line (exit 2), random key prefixes, and deleting a Redis prefix afterwards.
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

export function usage(bench: string, message: string): never {
  console.error(`bench:${bench}: ${message}`);
  process.exit(2);
}

/** The value after `--name`, or undefined when the flag is absent. */
export function argValue(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  if (i === -1) return undefined;
  const v = process.argv[i + 1];
  return v === undefined || v.startsWith('--') ? '' : v;
}

export function hasFlag(name: string): boolean {
  return process.argv.includes(`--${name}`);
}

export function intArg(bench: string, name: string, fallback: number, min = 1): number {
  const raw = argValue(name);
  if (raw === undefined) return fallback;
  const v = Number(raw);
  if (!Number.isSafeInteger(v) || v < min) usage(bench, `--${name} needs an integer >= ${min}, got "${raw}"`);
  return v;
}

/** Rejects flags the benchmark does not know, so a typo does not silently run the defaults. */
export function checkFlags(bench: string, known: readonly string[]): void {
  for (const a of process.argv.slice(2)) {
    if (a.startsWith('--') && !known.includes(a.slice(2))) {
      usage(bench, `unknown option ${a} (known: ${known.map((k) => `--${k}`).join(', ')})`);
    }
  }
}

/** A fresh prefix such as `cwbench-audit-3f9a1c2e`: letters, digits and dashes, as redis.prefix requires. */
export function randomPrefix(kind: string): string {
  return `cwbench-${kind}-${randomBytes(4).toString('hex')}`;
}

/** Deletes every key under `<prefix>:`; returns how many were deleted. */
export async function deletePrefix(redis: Redis, prefix: string): Promise<number> {
  let cursor = '0';
  let deleted = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) deleted += await redis.unlink(...keys);
  } while (cursor !== '0');
  return deleted;
}

export const seconds = (ms: number): string => (ms / 1000).toFixed(2);
export const perSecond = (n: number, ms: number): number => (ms > 0 ? Math.round(n / (ms / 1000)) : 0);
