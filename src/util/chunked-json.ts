/**
 * A large computed record (a scan's evaluation) stored as a Redis hash of JSON chunks instead of
 * one string: one string of a 40,000-credential evaluation is ~590 MB, past V8's longest string
 * (~537 MB) and Redis's 512 MB value limit, and one write of it would block Redis for seconds.
 *
 * Layout of `key`: `<list>:<n>` fields hold up to `perChunk` items of each list as a JSON array;
 * `meta` holds the rest of the record plus each list's chunk count, and is written LAST. So a
 * record without `meta` is incomplete (its writer died mid-way) and reads as absent; every write
 * is fenced by the writer's lease, and the first write deletes whatever an earlier writer left.
 * A key still holding the old single JSON string is read as it is.
 */
import type { RedisClient } from '../queue/connection.js';
import type { Effect } from './effects.js';
import type { Lease } from './lease.js';

/** Items per chunk, and the bytes one fenced write carries at most (one Lua call). */
const PER_CHUNK = 500;
const WRITE_BYTES = 4 * 1024 * 1024;
const READ_FIELDS = 16;

export interface ChunkedRecord<L extends string> {
  meta: Record<string, unknown>;
  lists: Record<L, unknown[]>;
}

export async function writeChunked<L extends string>(
  lease: Lease,
  key: string,
  record: ChunkedRecord<L>,
  ttlSeconds: number,
): Promise<void> {
  await lease.write([{ op: 'del', key }]);
  const counts: Record<string, number> = {};
  let batch: Effect[] = [];
  let bytes = 0;
  for (const [name, items] of Object.entries(record.lists) as [L, unknown[]][]) {
    counts[name] = Math.ceil(items.length / PER_CHUNK);
    for (let i = 0; i * PER_CHUNK < items.length; i++) {
      const value = JSON.stringify(items.slice(i * PER_CHUNK, (i + 1) * PER_CHUNK));
      if (bytes + value.length > WRITE_BYTES && batch.length) {
        await lease.write(batch);
        batch = [];
        bytes = 0;
      }
      batch.push({ op: 'hset', key, field: `${name}:${i}`, value });
      bytes += value.length;
    }
  }
  if (batch.length) await lease.write(batch);
  await lease.write([
    { op: 'hset', key, field: 'meta', value: JSON.stringify({ ...record.meta, chunks: counts }) },
    { op: 'expire', key, seconds: ttlSeconds },
  ]);
}

/**
 * The record, or null when absent or incomplete. `only` reads just those lists (the others come
 * back empty). A legacy string value is parsed whole and split by `legacy`.
 */
export async function readChunked<L extends string>(
  redis: RedisClient,
  key: string,
  names: readonly L[],
  legacy: (value: Record<string, unknown>) => ChunkedRecord<L>,
  only: readonly L[] = names,
): Promise<ChunkedRecord<L> | null> {
  const type = await redis.type(key);
  if (type === 'none') return null;
  if (type === 'string') {
    const raw = await redis.get(key);
    return raw ? legacy(JSON.parse(raw) as Record<string, unknown>) : null;
  }
  const rawMeta = await redis.hget(key, 'meta');
  if (rawMeta === null) return null;
  const { chunks, ...meta } = JSON.parse(rawMeta) as Record<string, unknown> & { chunks: Record<string, number> };
  const lists = Object.fromEntries(names.map((n) => [n, [] as unknown[]])) as Record<L, unknown[]>;
  for (const name of only) {
    const fields = Array.from({ length: chunks[name] ?? 0 }, (_x, i) => `${name}:${i}`);
    for (let i = 0; i < fields.length; i += READ_FIELDS) {
      const part = await redis.hmget(key, ...fields.slice(i, i + READ_FIELDS));
      for (const [j, raw] of part.entries()) {
        if (raw === null) throw new Error(`${key}: chunk ${fields[i + j]} is missing from a complete record`);
        for (const item of JSON.parse(raw) as unknown[]) lists[name].push(item);
      }
    }
  }
  return { meta, lists };
}
