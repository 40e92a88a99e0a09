/**
 * Where every Redis key of credwarden lives: the one place key prefixes are derived from
 * `redis.prefix` (the bare name the user writes, e.g. `credwarden`).
 *
 * - One Redis: credwarden's own keys are `<prefix>:…` and BullMQ's `<prefix>:bull:<queue>:…`, as
 *   they always were, so an existing deployment keeps its data.
 * - A Redis Cluster (`redis.cluster: true`): credwarden's own keys are `{<prefix>}:…`. The one hash
 *   tag puts the store, audit chain, locks, leases, sessions, scores and rate limits in one slot,
 *   so every multi-key Lua script, MULTI and pipeline stays in that slot. Each BullMQ queue gets
 *   its own tag, `{<prefix>:<queue>}:bull:<queue>:…`: every key of one queue is in one slot (its
 *   scripts need that) and the queues spread over the masters. No script of credwarden's mixes a
 *   BullMQ key with one of its own.
 *
 * Names that are not Redis keys (the default audit file `.cw/<prefix>.audit.jsonl`, metric labels)
 * keep the bare name.
 */

/** The part of the redis config that names keys. */
export interface RedisKeySpace {
  prefix: string;
  cluster?: boolean;
}

/** The prefix of credwarden's own keys: `P`, or `{P}` on a cluster. */
export function keyPrefix(r: RedisKeySpace): string {
  return r.cluster ? `{${r.prefix}}` : r.prefix;
}

/** BullMQ's `prefix` option for one queue: `P:bull`, or `{P:<queue>}:bull` on a cluster. */
export function queuePrefix(r: RedisKeySpace, queue: string): string {
  return r.cluster ? `{${r.prefix}:${queue}}:bull` : `${r.prefix}:bull`;
}

/** The hash tag a key is placed by (the text between its first `{` and the next `}`), or null. */
export function hashTagOf(key: string): string | null {
  const open = key.indexOf('{');
  if (open < 0) return null;
  const close = key.indexOf('}', open + 1);
  return close > open + 1 ? key.slice(open + 1, close) : null;
}
