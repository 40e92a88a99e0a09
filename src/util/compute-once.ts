/**
 * Compute once, then everyone reads the same value: a scan's drift, its evaluation, its alert plan.
 *
 * Each of them is computed from state that later steps change (applying the drift changes the
 * inventory it was diffed against), so a retry or a second worker must never recompute it: it must
 * re-use what the first one stored. The contract:
 * - if `key` holds a value, that value is returned (`fresh: false`) and `compute` is not called;
 * - otherwise `compute` runs and `persist` stores its JSON; when `persist` reports it lost a race
 *   (another writer stored first), the stored value wins and is returned instead of ours;
 * - the value returned is always the one in Redis, so every reader acts on the same thing.
 * `persist` decides how the write is guarded: fenced by a held lease (`fencedBy`), or first writer
 * wins (`firstWriterWins`, SET NX).
 */
import type { RedisClient } from '../queue/connection.js';
import type { Effect } from './effects.js';
import type { Lease } from './lease.js';

export type Persist = (json: string) => Promise<boolean>;

export async function computeOnce<T>(
  redis: RedisClient,
  key: string,
  compute: () => Promise<T> | T,
  persist: Persist,
): Promise<{ value: T; fresh: boolean }> {
  const prior = await redis.get(key);
  if (prior !== null) return { value: JSON.parse(prior) as T, fresh: false };
  const value = await compute();
  if (await persist(JSON.stringify(value))) return { value, fresh: true };
  const winner = await redis.get(key);
  if (winner === null) throw new Error(`${key}: another writer stored this value first, but it is gone`);
  return { value: JSON.parse(winner) as T, fresh: false };
}

/** Store under a held lease (fenced: a writer that lost its lease writes nothing), with `also` in the same write. */
export function fencedBy(lease: Lease, key: string, also: readonly Effect[] = []): Persist {
  return async (json) => {
    await lease.write([{ op: 'set', key, value: json }, ...also]);
    return true;
  };
}

/** Store only if nothing is there yet (SET NX), with a TTL; false when another writer was first. */
export function firstWriterWins(redis: RedisClient, key: string, ttlSeconds: number): Persist {
  return async (json) => (await redis.set(key, json, 'EX', ttlSeconds, 'NX')) === 'OK';
}
