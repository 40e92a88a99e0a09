/**
 * Streaming, measured: a pack around a 200 MB audit slice (real chained events) is written and
 * verified in a child process whose RSS is sampled every 5 ms. Neither may grow the process by
 * more than 100 MB over its baseline (taken after a warm-up and a GC), whatever the slice's size:
 * the writer streams the file source through tar and gzip, and the verifier streams gunzip → tar →
 * line scan, holding one line at a time. RSS is an upper bound (freed pages may stay mapped).
 */
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { buildEvent, GENESIS_HASH, prepareForAppend } from '../../src/audit/event.js';
import { dsseSign } from '../../src/evidence/signing.js';
import { CHECKPOINT_PAYLOAD_TYPE, CHECKPOINT_TYPE } from '../../src/evidence/verifier.js';
import { CHAIN_ID, newKey } from '../support/evidence-pack.js';

const ROOT = resolve(import.meta.dirname, '../..');
const SLICE_BYTES = 200 * 1024 * 1024;
const dir = mkdtempSync(join(tmpdir(), 'cw-evmem-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Real chained events, written as they are built, until the file passes `bytes`. */
async function writeSlice(
  path: string,
  bytes: number,
): Promise<{ count: number; last: { hash: string; time: string } }> {
  const out = createWriteStream(path);
  let prev = GENESIS_HASH;
  let size = 0;
  let seq = 0;
  let time = '';
  while (size < bytes) {
    const lines: string[] = [];
    for (let i = 0; i < 1000; i++) {
      seq++;
      time = new Date(Date.parse('2026-03-01T00:00:00Z') + seq * 1000).toISOString();
      const p = prepareForAppend({
        type: 'finding.opened',
        actor: 'scanner',
        subject: `cred-${seq % 10_000}`,
        data: { seq, note: `évènement ${seq} `.repeat(20), id: (seq * 2654435761).toString(16).repeat(8) },
      });
      const { event, text } = buildEvent(p, seq, time, prev);
      prev = event.hash;
      lines.push(text);
    }
    const chunk = `${lines.join('\n')}\n`;
    size += Buffer.byteLength(chunk);
    if (!out.write(chunk)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  return { count: seq, last: { hash: prev, time } };
}

it('writing and verifying a pack with a 200 MB slice each grow RSS by under 100 MB', async () => {
  const key = newKey();
  const { count, last } = await writeSlice(join(dir, 'slice.jsonl'), SLICE_BYTES);
  const payload = { _type: CHECKPOINT_TYPE, chainId: CHAIN_ID, seq: count, hash: last.hash, time: last.time };
  const proof = {
    hashAlgorithm: 'sha256',
    chainId: CHAIN_ID,
    fromSeq: 1,
    toSeq: count,
    sliceLastHash: last.hash,
    links: [],
    checkpoint: dsseSign(CHECKPOINT_PAYLOAD_TYPE, Buffer.from(JSON.stringify(payload)), key),
  };
  writeFileSync(join(dir, 'proof.json'), JSON.stringify(proof));
  writeFileSync(join(dir, 'key.pem'), key.privateKey.export({ type: 'pkcs8', format: 'pem' }));

  const stdout = await new Promise<string>((done, fail) =>
    execFile(
      process.execPath,
      ['--expose-gc', '--import', 'tsx', join(ROOT, 'test/support/evidence-memory.ts'), dir],
      { cwd: ROOT, maxBuffer: 1 << 20, timeout: 240_000 },
      (err, out, errOut) => (err ? fail(new Error(`${err.message}\n${errOut}`)) : done(out)),
    ),
  );
  const r = JSON.parse(stdout);
  const mb = (n: number) => Math.round(n / 2 ** 20);
  console.log(
    `evidence pack: ${count} events, slice ${mb(r.sliceBytes)} MB, pack ${mb(r.packBytes)} MB; ` +
      `write ${r.write.ms} ms, RSS ${mb(r.write.base)} → peak ${mb(r.write.peak)} MB; ` +
      `verify ${r.verify.ms} ms, RSS ${mb(r.verify.base)} → peak ${mb(r.verify.peak)} MB`,
  );
  expect(r.sliceBytes).toBeGreaterThanOrEqual(SLICE_BYTES);
  expect(r.verify).toMatchObject({ ok: true });
  expect(r.write.peak - r.write.base).toBeLessThan(100 * 2 ** 20);
  expect(r.verify.peak - r.verify.base).toBeLessThan(100 * 2 ** 20);
}, 300_000);
