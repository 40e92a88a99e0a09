/**
 * collect.ts streams: memory follows what the period holds (credentials, findings, actions), not
 * how many events the chain has. Two chains written with the real RedisAuditLog appendMany over 30
 * days of hourly scans of 2,000 credentials hold the same content (the same findings, churn and
 * actions); the second has 150,000 more events (quiet status flips). Collecting each, the RSS
 * growth stays under a generous bound, and the 200,000-event chain grows no more than a little
 * over the 50,000-event one. The numbers are printed.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeCheckpoint } from '../../src/audit/checkpoint.js';
import { RedisAuditLog } from '../../src/audit/index.js';
import { ManualClock } from '../../src/clock.js';
import { type Collected, collect } from '../../src/evidence/collect.js';
import { signingKeyFrom } from '../../src/evidence/signing.js';
import { writeHistory } from '../support/evidence-history.js';
import { testKeyPrefix, useRedis } from '../support/redis.js';

const r = useRedis('evidence-memory');
const MB = 1024 * 1024;
const DAY = 86_400_000;
const START = new Date('2026-06-01T00:00:00.000Z');
const CONTENT = 40_000;
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const key = signingKeyFrom(
  generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  'test key',
);

async function measure(
  events: number,
): Promise<{ growth: number; out: Collected; seconds: number; sliceLines: number }> {
  const clock = new ManualClock(START);
  const log = new RedisAuditLog(r.redis, { prefix: testKeyPrefix(`${r.prefix}-${events}`), clock });
  const facts = await writeHistory(log, clock, {
    credentials: 2000,
    events,
    contentEvents: CONTENT,
    days: 30,
    accounts: 3,
    start: START,
  });
  expect(facts.events).toBe(events);
  const inventory = facts.alive.map((c) => ({ ...c, owner: null, lastUsed: c.lastUsed?.at ?? null }));
  const dir = mkdtempSync(join(tmpdir(), 'cw-evmem-'));
  dirs.push(dir);
  const baseline = process.memoryUsage().rss;
  let peak = baseline;
  const sample = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 10);
  const t = performance.now();
  const out = await collect(
    {
      audit: log,
      inventory: () => inventory,
      ownerOf: () => null,
      units: facts.units,
      exceptions: [],
      approvers: 2,
      checkpoint: (head, chainId) => makeCheckpoint(head, chainId, key, clock.now()),
      now: clock.now(),
    },
    { framework: 'soc2', from: new Date(START.getTime() + 5 * DAY), to: new Date(START.getTime() + 25 * DAY) },
    dir,
  );
  const seconds = (performance.now() - t) / 1000;
  clearInterval(sample);
  peak = Math.max(peak, process.memoryUsage().rss);
  const sliceLines = readFileSync(out.slice, 'utf8').split('\n').length - 1;
  const ev = out.evidence;
  console.log(
    `evidence collect over ${events} events: ${seconds.toFixed(2)} s; RSS ${(baseline / MB).toFixed(0)} MB before, ` +
      `peak ${(peak / MB).toFixed(0)} MB, growth ${((peak - baseline) / MB).toFixed(1)} MB; slice ${sliceLines} events; ` +
      `population ${ev.population.length}, findings ${ev.findings.length}, actions ${ev.actions.length}, scans ${ev.coverage.scans.length}`,
  );
  return { growth: (peak - baseline) / MB, out, seconds, sliceLines };
}

describe('collect streams the chain', () => {
  it('200,000 events: the same content costs the same memory as 50,000', async () => {
    const small = await measure(50_000);
    const large = await measure(200_000);
    for (const m of [small, large]) {
      expect(m.sliceLines).toBe(m.out.evidence.chain.toSeq - m.out.evidence.chain.fromSeq + 1);
      // 20 days of hourly scans (one in 25 partial), and the scan that ends on the last hour.
      expect(m.out.evidence.coverage.scans).toHaveLength(20 * 24 + 1);
    }
    expect(large.out.evidence.chain.eventsRead).toBe(200_000);
    // The same content: the quiet events add nothing to it.
    const size = (m: typeof small) => [
      m.out.evidence.population.length,
      m.out.evidence.findings.length,
      m.out.evidence.actions.length,
    ];
    expect(size(large)).toEqual(size(small));
    expect(large.growth).toBeLessThan(150);
    expect(large.growth).toBeLessThan(small.growth + 60);
  }, 300_000);
});
