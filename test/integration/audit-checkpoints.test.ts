/**
 * Anchored checkpoints close the tail gap (issue 13). A checkpoint written with
 * `credwarden audit checkpoint` lands in the JSONL mirror (an `audit.checkpoint` event), in a file
 * sink outside the data directory and at a Standard Webhooks receiver; `audit verify` (CLI and API)
 * names it and passes. Then an attacker who can write Redis and the audit file: cuts the tail, or
 * rewrites an old event and re-hashes the rest (no HMAC key: the chain alone verifies, and does),
 * or swaps the mirror for another chain's file: each is detected only thanks to the checkpoint,
 * and the break names it (seq, time, where it was read). A checkpoint signed by another key is
 * ignored and reported; without evidence.signingKey there are no checkpoints and verify says so.
 */

import { mkdtempSync } from 'node:fs';
import { copyFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendCheckpointLine, makeCheckpoint, readCheckpoint, recordOf } from '../../src/audit/checkpoint.js';
import { verifyCopies } from '../../src/audit/verify-copies.js';
import { signingKeyFrom } from '../../src/evidence/signing.js';
import { createLogger } from '../../src/logger.js';
import { buildApp } from '../../src/main.js';
import { type TestApi, testApi, testTokens } from '../support/api.js';
import { lineSink } from '../support/capture.js';
import {
  cli,
  copy,
  cutTail,
  eventInput,
  fileLines,
  hookSecret,
  makeChain,
  makeKey,
  rewriteFrom,
  type TestChain,
  type TestKey,
  verifyJson,
} from '../support/checkpoint-chain.js';
import type { Receiver } from '../support/receivers/server.js';
import { startWebhookReceiver, type WebhookReceived } from '../support/receivers/webhook.js';
import { testKeyPrefix, useRedis } from '../support/redis.js';

const ctx = useRedis('audit-ckpt');
const keysDir = mkdtempSync(join(tmpdir(), 'cw-keys-'));
let key: TestKey;
let other: TestKey;
let hook: Receiver<WebhookReceived>;
const chains: TestChain[] = [];
let n = 0;

beforeAll(async () => {
  key = makeKey(keysDir, 'evidence');
  other = makeKey(keysDir, 'other');
  hook = await startWebhookReceiver({ secrets: [hookSecret()] });
});
afterAll(async () => {
  for (const c of chains) await c.app.close();
  await hook.close();
  await rm(keysDir, { recursive: true, force: true });
});

async function chain(label: string, o: { signed?: boolean; extra?: Record<string, unknown> } = {}): Promise<TestChain> {
  const c = await makeChain(ctx.redis, {
    prefix: `${ctx.prefix}-${label}-${++n}`,
    key: o.signed === false ? null : key,
    hookUrl: hook.url,
    ...(o.extra ? { extra: o.extra } : {}),
  });
  chains.push(c);
  return c;
}

/** 30 events, a checkpoint of seq 30 (its event is seq 31), then 5 more events. */
async function checkpointed(label: string, extra?: Record<string, unknown>) {
  const c = await chain(label, extra ? { extra } : {});
  const r = await cli(c.files.configPath, 'audit', 'checkpoint');
  expect(r.err).toBe('');
  expect(r.code).toBe(0);
  const [e] = await c.log.read(31, 1);
  expect(e).toMatchObject({ type: 'audit.checkpoint', data: { seq: 30 } });
  await c.app.audit.appendMany([32, 33, 34, 35, 36].map(eventInput));
  return { c, time: (e!.data as { time: string }).time };
}

describe('writing a checkpoint', () => {
  let c: TestChain;
  let time: string;
  let api: TestApi;

  beforeAll(async () => {
    const tokens = await testTokens();
    ({ c, time } = await checkpointed('write', { api: { tokens: tokens.config } }));
    api = await testApi(c.app, tokens);
  });
  afterAll(async () => {
    await api.close();
  });

  it('goes to the mirror, the file sink and the webhook, each a valid signed envelope of seq 30', async () => {
    const head30 = (await c.log.read(30, 1))[0]!;
    const chainId = (await c.log.read(1, 1))[0]!.hash;
    const want = { seq: 30, hash: head30.hash, chainId, time };
    // The mirror: the event, as written to the file.
    const mirrored = JSON.parse((await fileLines(c.auditFile))[30]!);
    expect(mirrored).toMatchObject({ seq: 31, type: 'audit.checkpoint', data: { ...want } });
    expect(readCheckpoint(mirrored.data.envelope, key.publicKey)).toMatchObject(want);
    // The file sink: one line, outside the data directory.
    const lines = (await fileLines(c.anchor)).map((l) => JSON.parse(l));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject(want);
    expect(readCheckpoint(lines[0].envelope, key.publicKey)).toMatchObject(want);
    // The webhook: the envelope, Standard Webhooks signed, under a stable id.
    const got = hook.requests.filter((r) => r.headers['webhook-id'] === `checkpoint-${chainId.slice(0, 16)}-30`);
    expect(got).toHaveLength(1);
    expect(got[0]!.verified).toBe(true);
    expect(got[0]!.json).toEqual(lines[0].envelope);
    // Redis keeps the newest one for the API.
    expect(await c.app.checkpoints.latest()).toMatchObject(want);
  });

  it('audit verify (CLI and API) passes and names the checkpoint it checked', async () => {
    const { code, entries } = await verifyJson(c.files.configPath);
    expect(code).toBe(0);
    for (const where of [`redis ${testKeyPrefix(c.prefix)}:audit`, c.auditFile]) {
      expect(copy(entries, where)).toMatchObject({
        ok: true,
        checkpoint: {
          holds: true,
          valid: 2,
          invalidCount: 0,
          checked: { seq: 30, time, source: `file sink ${c.anchor}:1` },
        },
      });
    }
    const text = await cli(c.files.configPath, 'audit', 'verify');
    expect(text.out).toContain(`checkpoint: checkpoint #30 of ${time}`);
    expect(text.out).toContain(
      `read from file sink ${c.anchor}:1: held by redis ${testKeyPrefix(c.prefix)}:audit and ${c.auditFile}`,
    );
    // An auditor's key given by hand checks the same.
    expect((await verifyJson(c.files.configPath, '--key', key.pubPath)).code).toBe(0);
    // Offline, the file alone, without Redis.
    const offline = await verifyJson(c.files.configPath, '--file-only', '--key', key.pubPath);
    expect(offline.code).toBe(0);
    expect(offline.entries).toMatchObject([{ where: c.auditFile, result: { ok: true, checkpoint: { holds: true } } }]);
    const res = await api.call('GET', '/api/v1/audit/verify', { as: 'auditor' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ ok: true, breaks: [], checkpoint: { checked: { seq: 30, time } } });
  });

  it('ignores, and reports, a checkpoint signed by another key, even a newer one', async () => {
    const chainId = (await c.log.read(1, 1))[0]!.hash;
    const forger = signingKeyFrom(other.privatePem, 'other');
    const env = makeCheckpoint({ seq: 999, hash: 'f'.repeat(64) }, chainId, forger, new Date(Date.now() + 3_600_000));
    await appendCheckpointLine(c.anchor, recordOf(env, readCheckpoint(env, other.publicKey)!));
    const { code, entries } = await verifyJson(c.files.configPath);
    expect(code).toBe(0);
    const cp = copy(entries, `redis ${testKeyPrefix(c.prefix)}:audit`).checkpoint!;
    expect(cp.checked).toMatchObject({ seq: 30 });
    expect(cp.invalid).toEqual([
      { source: `file sink ${c.anchor}:2`, reason: expect.stringMatching(/no signature verifies/) },
    ]);
    const text = await cli(c.files.configPath, 'audit', 'verify');
    expect(text.out).toContain(`checkpoint: ignored file sink ${c.anchor}:2: no signature verifies under the key`);
    // Checked with the other key instead, ours are the invalid ones, and the forged one is read:
    // a chain shorter than it is an error naming it.
    const forged = await verifyJson(c.files.configPath, '--key', other.pubPath);
    expect(forged.code).toBe(1);
    expect(copy(forged.entries, c.auditFile).firstBroken).toMatchObject({ reason: 'checkpoint-missing', seq: 999 });
  });
});

describe('each attack is detected, naming the checkpoint', () => {
  it('(a) the tail cut below the checkpoint in Redis and the file', async () => {
    const { c, time } = await checkpointed('cut');
    await cutTail(ctx.redis, c, 20);
    await ctx.redis.del(`${testKeyPrefix(c.prefix)}:audit:checkpoint`); // the attacker cleans Redis of it too
    // Without the checkpoint it all holds: both copies verify and agree.
    const plain = await verifyCopies(c.log, { file: c.auditFile, redisLabel: 'redis' });
    expect(plain.every((x) => x.result.ok)).toBe(true);
    const { code, entries } = await verifyJson(c.files.configPath);
    expect(code).toBe(1);
    for (const where of [`redis ${testKeyPrefix(c.prefix)}:audit`, c.auditFile]) {
      const r = copy(entries, where);
      expect(r.firstBroken).toMatchObject({ reason: 'checkpoint-missing', seq: 30 });
      expect(r.firstBroken!.detail).toContain(
        `ends at seq 20, short of checkpoint #30 of ${time} (read from file sink ${c.anchor}:1), which covers seq 30: seqs 21..30 are missing`,
      );
    }
    expect(entries.at(-1)).toMatchObject({ where: 'cross-check', result: { ok: true } });
  });

  it('(b) an old event rewritten and every later one re-hashed, in Redis and the file', async () => {
    const { c, time } = await checkpointed('rehash');
    const before = (await c.log.read(30, 1))[0]!.hash;
    const out = await rewriteFrom(ctx.redis, c, 10);
    expect(out[29]!.hash).not.toBe(before);
    // No HMAC key: the rewritten chain verifies on its own, in both copies, and they agree.
    const plain = await verifyCopies(c.log, { file: c.auditFile, redisLabel: 'redis' });
    expect(plain.map((x) => x.result.ok)).toEqual([true, true, true]);
    const { code, entries } = await verifyJson(c.files.configPath);
    expect(code).toBe(1);
    for (const where of [`redis ${testKeyPrefix(c.prefix)}:audit`, c.auditFile]) {
      const r = copy(entries, where);
      expect(r.firstBroken).toMatchObject({ reason: 'checkpoint-mismatch', seq: 30, position: 29 });
      expect(r.firstBroken!.detail).toContain(
        `seq 30 is ${out[29]!.hash.slice(0, 12)}… but checkpoint #30 of ${time} (read from file sink ${c.anchor}:1) says ${before.slice(0, 12)}…`,
      );
    }
    const text = await cli(c.files.configPath, 'audit', 'verify');
    expect(text.out).toContain(`BROKEN at event #30 (position 29): checkpoint-mismatch:`);
    expect(text.out).toContain('NOT HELD by');
  });

  it('(c) the mirror swapped for another chain’s file', async () => {
    const { c, time } = await checkpointed('swap');
    const b = await chain('other', { signed: false });
    await copyFile(b.auditFile, c.auditFile);
    const { code, entries } = await verifyJson(c.files.configPath);
    expect(code).toBe(1);
    expect(copy(entries, `redis ${testKeyPrefix(c.prefix)}:audit`)).toMatchObject({
      ok: true,
      checkpoint: { holds: true },
    });
    const f = copy(entries, c.auditFile);
    expect(f.ok).toBe(false);
    expect(f.firstBroken).toMatchObject({ reason: 'checkpoint-mismatch', seq: 1, position: 0 });
    expect(f.firstBroken!.detail).toContain(
      `${c.auditFile} is another chain: its seq 1 is ${(await b.log.read(1, 1))[0]!.hash.slice(0, 12)}… but checkpoint #30 of ${time} (read from file sink ${c.anchor}:1)`,
    );
  });
});

describe('without evidence.signingKey', () => {
  it('writes no checkpoint, says so once at info, and verify reports "no checkpoint"', async () => {
    const c = await chain('nokey', { signed: false });
    const r = await cli(c.files.configPath, 'audit', 'checkpoint');
    expect(r.code).toBe(2);
    expect(r.err).toContain('no evidence.signingKey: audit checkpoints are off');
    const sink = lineSink();
    const app = await buildApp({
      configPath: c.files.configPath,
      log: createLogger({ level: 'info', destination: sink }),
    });
    try {
      expect(await app.checkpoints.checkpointNow()).toMatchObject({ status: 'off' });
      expect(await app.checkpoints.checkpointNow()).toMatchObject({ status: 'off' });
    } finally {
      await app.close();
    }
    expect(sink.lines.filter((l) => l.includes('audit checkpoints are off'))).toHaveLength(1);
    expect((await c.log.read(1)).some((e) => e.type === 'audit.checkpoint')).toBe(false);
    const { code, entries } = await verifyJson(c.files.configPath);
    expect(code).toBe(0);
    expect(copy(entries, c.auditFile).checkpoint).toMatchObject({
      checked: null,
      holds: null,
      note: expect.stringContaining('evidence.signingKey is not set'),
    });
    const text = await cli(c.files.configPath, 'audit', 'verify');
    expect(text.out).toContain(
      'checkpoint: no checkpoint checked: evidence.signingKey is not set (checkpoints are off)',
    );
  });
});
