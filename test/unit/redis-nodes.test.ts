/**
 * The worker's start-up check of `maxmemory-policy` (README "Scale-out"): one warning per master
 * whose policy is not noeviction, naming the node and the policy; none for noeviction, for a
 * server that does not say, or when INFO is refused (the worker starts either way).
 */
import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import type { RedisClient } from '../../src/queue/connection.js';
import { infoField, warnIfEvicting } from '../../src/queue/redis-nodes.js';
import { lineSink } from '../support/capture.js';

/** A stand-in for one Redis: INFO answers `text` (or throws), at host:port. */
const server = (text: string | Error, port = 6379): RedisClient =>
  ({
    options: { host: 'cache.internal', port },
    info: async () => {
      if (text instanceof Error) throw text;
      return text;
    },
  }) as unknown as Redis;

const memory = (policy: string) => `# Memory\r\nused_memory:1024\r\nmaxmemory_policy:${policy}\r\n`;

async function warnings(client: RedisClient): Promise<Record<string, unknown>[]> {
  const sink = lineSink();
  await warnIfEvicting(client, createLogger({ level: 'debug', destination: sink }));
  return sink.lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.level === 40);
}

describe('warnIfEvicting', () => {
  it('warns once for a server that may evict, naming the node and its policy', async () => {
    const w = await warnings(server(memory('allkeys-lru')));
    expect(w).toHaveLength(1);
    expect(w[0]).toMatchObject({ node: 'cache.internal:6379', maxmemoryPolicy: 'allkeys-lru' });
    expect(String(w[0]!.msg)).toMatch(/^redis maxmemory-policy is not noeviction: .*set maxmemory-policy noeviction$/);
  });

  it('is quiet for noeviction, for a server that does not say, and when INFO is refused', async () => {
    expect(await warnings(server(memory('noeviction')))).toEqual([]);
    expect(await warnings(server('# Memory\r\nused_memory:1\r\n'))).toEqual([]);
    expect(await warnings(server(new Error('ERR unknown command')))).toEqual([]);
  });

  it('reads a field from INFO', async () => {
    expect(await infoField(server(memory('volatile-lru'), 7001), 'memory', 'maxmemory_policy')).toEqual([
      { node: 'cache.internal:7001', value: 'volatile-lru' },
    ]);
  });
});
