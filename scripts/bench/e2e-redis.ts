/**
 * bench:e2e's view of Redis, a single server or a Redis Cluster (`--redis-cluster <seed url>`):
 * `INFO memory` used_memory and `INFO cpu` summed over every master; the keys of one bench prefix
 * found by SCAN on every master, their `MEMORY USAGE` (SAMPLES 0: every element counted, not an
 * estimate) in total and by key group; and deleting exactly those keys.
 *
 * The prefix is random (`cwbench-e2e-<8 hex>`), so one pattern, `*<prefix>*`, finds its keys in
 * every layout credwarden uses: `P:…` and `P:bull:…` on a single server; `{P}:…` (the hash-tagged
 * prefix) and the queues' `{P:<queue>}:bull…` keys in a cluster. Nothing else matches it.
 */
import { Cluster, Redis } from 'ioredis';

export interface RedisTarget {
  /** For keyed commands (a cluster client routes them by slot). */
  client: Redis | Cluster;
  cluster: boolean;
  /** Every master (the one server when not a cluster). */
  masters(): Redis[];
  close(): void;
}

export async function openRedis(url: string, cluster: boolean): Promise<RedisTarget> {
  if (!cluster) {
    const r = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
    r.on('error', () => undefined);
    await r.connect();
    await r.ping();
    return { client: r, cluster: false, masters: () => [r], close: () => r.disconnect() };
  }
  const u = new URL(url);
  const c = new Cluster([{ host: u.hostname, port: Number(u.port || 6379) }], {
    lazyConnect: true,
    redisOptions: {
      maxRetriesPerRequest: 1,
      ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
      ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
      ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
    },
  });
  c.on('error', () => undefined);
  await c.connect();
  await c.ping();
  return { client: c, cluster: true, masters: () => c.nodes('master'), close: () => c.disconnect() };
}

const infoField = (info: string, name: string): number =>
  Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? Number.NaN);

/** used_memory summed over the masters, in bytes. */
export async function usedMemory(t: RedisTarget): Promise<number> {
  const infos = await Promise.all(t.masters().map((m) => m.info('memory')));
  return infos.reduce((s, i) => s + infoField(i, 'used_memory'), 0);
}

/** used_cpu_user + used_cpu_sys summed over the masters, in seconds (the server's whole CPU, every client's). */
export async function redisCpuS(t: RedisTarget): Promise<number> {
  const infos = await Promise.all(t.masters().map((m) => m.info('cpu')));
  return infos.reduce((s, i) => s + infoField(i, 'used_cpu_user') + infoField(i, 'used_cpu_sys'), 0);
}

async function scanNode(node: Redis, prefix: string, each: (keys: string[]) => Promise<void>): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await node.scan(cursor, 'MATCH', `*${prefix}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await each(keys);
  } while (cursor !== '0');
}

/** The key's group for the breakdown: the prefix and hash tags dropped, ids replaced by `*`. */
export function keyGroup(key: string, prefix: string): string {
  const rest = key.slice(key.indexOf(prefix) + prefix.length).replace(/[{}]/g, '');
  const s = rest.split(':').filter(Boolean);
  const b = s.indexOf('bull');
  if (b !== -1) return `bull:${(b === 0 ? s[1] : s[0]) ?? '?'}`;
  if (s[0] === 'act' && s[1] !== 'live') return s.length > 2 ? `act:*:${s[2]}` : 'act:*';
  if (s[0] === 'scan' && s[1] !== 'last-complete') return s.length > 2 ? `scan:*:${s[2]}` : 'scan:*';
  if (s[0] === 'rem' && s[1] === 'run') return 'rem:run:*';
  if (s[0] === 'eval' && s[1] !== 'pending') return 'eval:*';
  if (s[0] === 'alerts' && (s[1] === 'plan' || s[1] === 'n')) return `alerts:${s[1]}:*`;
  return s.slice(0, 2).join(':') || '(prefix itself)';
}

export interface PrefixUsage {
  keys: number;
  bytes: number;
  /** group → keys and bytes, largest first. */
  groups: Record<string, { keys: number; bytes: number }>;
}

/** MEMORY USAGE (SAMPLES 0) of every key of the prefix, on every master. */
export async function prefixUsage(t: RedisTarget, prefix: string): Promise<PrefixUsage> {
  const out: PrefixUsage = { keys: 0, bytes: 0, groups: {} };
  for (const node of t.masters()) {
    await scanNode(node, prefix, async (keys) => {
      const p = node.pipeline();
      for (const k of keys) p.memory('USAGE', k, 'SAMPLES', 0);
      const res = (await p.exec()) ?? [];
      for (const [i, k] of keys.entries()) {
        const bytes = Number(res[i]?.[1] ?? 0);
        const g = keyGroup(k, prefix);
        const e = out.groups[g] ?? { keys: 0, bytes: 0 };
        out.groups[g] = e;
        e.keys++;
        e.bytes += bytes;
        out.keys++;
        out.bytes += bytes;
      }
    });
  }
  out.groups = Object.fromEntries(Object.entries(out.groups).sort((a, b) => b[1].bytes - a[1].bytes));
  return out;
}

/** Deletes every key of the prefix (one UNLINK per key, so no command spans two slots); returns how many. */
export async function deletePrefixKeys(t: RedisTarget, prefix: string): Promise<number> {
  let deleted = 0;
  for (const node of t.masters()) {
    await scanNode(node, prefix, async (keys) => {
      const p = node.pipeline();
      for (const k of keys) p.unlink(k);
      for (const [err, n] of (await p.exec()) ?? []) if (!err) deleted += Number(n);
    });
  }
  return deleted;
}
