/**
 * Commands that name no key run on one node only: on a Redis Cluster, SCAN, KEYS and INFO must go
 * to every master (`cluster.nodes('master')`), and their answers be put together here.
 */
import { Cluster, type Redis } from 'ioredis';
import type { Logger } from '../logger.js';
import type { RedisClient } from './connection.js';

/** The masters of a client: every master of a Cluster, or the one Redis itself. */
export function masters(client: RedisClient): Redis[] {
  return client instanceof Cluster ? client.nodes('master') : [client];
}

/** `host:port` of one node, for messages (never its password). */
export function nodeName(node: Redis): string {
  return `${node.options.host ?? '127.0.0.1'}:${node.options.port ?? 6379}`;
}

/** Every key matching `pattern`, SCANned on every master. */
export async function scanAll(client: RedisClient, pattern: string, count = 1000): Promise<string[]> {
  const out: string[] = [];
  for (const node of masters(client)) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', count);
      cursor = next;
      out.push(...keys);
    } while (cursor !== '0');
  }
  return out;
}

/** One INFO field from every master (`INFO <section>` then `<field>:<value>`), null where absent. */
export async function infoField(
  client: RedisClient,
  section: string,
  field: string,
): Promise<{ node: string; value: string | null }[]> {
  return Promise.all(
    masters(client).map(async (node) => {
      const text = await node.info(section);
      const line = text.split(/\r?\n/).find((l) => l.startsWith(`${field}:`));
      return { node: nodeName(node), value: line ? line.slice(field.length + 1).trim() : null };
    }),
  );
}

/**
 * Warns once per master whose maxmemory-policy is not noeviction: an evicting Redis may drop a
 * BullMQ key or a key of the audit chain under memory pressure, and neither comes back. A server
 * that does not say (INFO refused) is not warned about. Never throws: the worker starts either way.
 */
export async function warnIfEvicting(client: RedisClient, log: Logger): Promise<void> {
  const policies = await infoField(client, 'memory', 'maxmemory_policy').catch((err: Error) => {
    log.debug({ err: err.message }, 'could not read maxmemory-policy');
    return [];
  });
  for (const { node, value } of policies) {
    if (value !== null && value !== 'noeviction')
      log.warn(
        { node, maxmemoryPolicy: value },
        'redis maxmemory-policy is not noeviction: under memory pressure Redis may evict BullMQ jobs and audit chain keys; set maxmemory-policy noeviction',
      );
  }
}
