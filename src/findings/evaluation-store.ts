/**
 * Where a scan's evaluation is kept before it is applied: `P:eval:<scanId>`, a hash of JSON chunks
 * (util/chunked-json.ts) with `meta` written last, fenced by the inventory lease. A retry reads
 * back exactly what was computed; an incomplete record (its writer died mid-way) reads as absent
 * and is computed again, which is safe because nothing of it was applied yet.
 */
import type { RedisClient } from '../queue/connection.js';
import { type ChunkedRecord, readChunked, writeChunked } from '../util/chunked-json.js';
import type { Lease } from '../util/lease.js';
import type { StoredEvaluation } from './evaluation.js';
import type { Transition } from './transitions.js';

const LISTS = ['transitions', 'changed'] as const;
type List = (typeof LISTS)[number];

/** An evaluation stored by an earlier version, as one JSON string. */
function legacy(v: Record<string, unknown>): ChunkedRecord<List> {
  const { transitions, changed, ...meta } = v;
  return { meta, lists: { transitions: (transitions ?? []) as unknown[], changed: (changed ?? []) as unknown[] } };
}

export async function readEvaluation(redis: RedisClient, key: string): Promise<StoredEvaluation | null> {
  const r = await readChunked(redis, key, LISTS, legacy);
  return r ? ({ ...r.meta, ...r.lists } as unknown as StoredEvaluation) : null;
}

export async function readTransitions(redis: RedisClient, key: string): Promise<Transition[]> {
  const r = await readChunked(redis, key, LISTS, legacy, ['transitions']);
  return (r?.lists.transitions ?? []) as Transition[];
}

export function writeEvaluation(
  lease: Lease,
  key: string,
  stored: StoredEvaluation,
  ttlSeconds: number,
): Promise<void> {
  const { transitions, changed, ...meta } = stored;
  return writeChunked(lease, key, { meta, lists: { transitions, changed } }, ttlSeconds);
}
