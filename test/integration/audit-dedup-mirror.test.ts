/**
 * A deduplicated append (a retried job's) resolves only once its event is in the mirror file too:
 * a writer that died between the Redis commit and its file sync leaves the event in Redis only,
 * and the retry, whose appends are all deduplicated, must not act before the file has it (found
 * by the remediation fault trials: an action reached AWS while its `action.checked` was in Redis
 * but not yet in the file).
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { JsonlMirror } from '../../src/audit/jsonl-mirror.js';
import { RedisAuditLog } from '../../src/audit/redis-audit-log.js';
import { systemClock } from '../../src/clock.js';
import { useRedis } from '../support/redis.js';

const r = useRedis('audit-dedup');

describe('deduplicated appends and the mirror', () => {
  it('a retry whose appends are all deduplicated resolves only once the file holds them', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'cw-dedup-')), 'audit.jsonl');
    const lines = () => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean).length : 0);
    const mirror = () => new JsonlMirror(r.redis, { prefix: r.keyPrefix, path: file });
    const intent = {
      type: 'action.intent' as const,
      actor: 'credwarden',
      subject: 's',
      data: { planId: 'p' },
      idempotencyKey: 'p/intent/1',
    };
    const checked = {
      type: 'action.checked' as const,
      actor: 'credwarden',
      subject: 's',
      data: { planId: 'p' },
      idempotencyKey: 'p/checked/1',
    };
    await new RedisAuditLog(r.redis, { prefix: r.keyPrefix, clock: systemClock, mirror: mirror() }).append(intent);
    // The dying writer: its event reaches Redis, never the file.
    await new RedisAuditLog(r.redis, { prefix: r.keyPrefix, clock: systemClock }).append(checked);
    expect(lines()).toBe(1);
    const retry = new RedisAuditLog(r.redis, { prefix: r.keyPrefix, clock: systemClock, mirror: mirror() });
    expect((await retry.record(intent)).appended).toBe(false);
    const again = await retry.record(checked);
    expect([again.appended, again.event.seq]).toEqual([false, 2]);
    expect(lines()).toBe(2);
  });
});
