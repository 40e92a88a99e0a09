/**
 * Child process for test/integration/evidence-pack-memory.test.ts: writes a pack around a large
 * audit slice (a file source) and verifies it, sampling this process's RSS every few milliseconds
 * during each. Prints one JSON line. Run: node --expose-gc --import tsx evidence-memory.ts DIR
 * (DIR holds slice.jsonl, proof.json and key.pem, written by the test).
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { writePack } from '../../src/evidence/pack.js';
import { signingKeyFrom } from '../../src/evidence/signing.js';
import { verifyPack } from '../../src/evidence/verifier.js';
import { metaOf } from './evidence-pack.js';

const dir = process.argv[2]!;
const key = signingKeyFrom(readFileSync(join(dir, 'key.pem'), 'utf8'), 'test key');
const proofText = readFileSync(join(dir, 'proof.json'));
const meta = metaOf(JSON.parse(proofText.toString('utf8')));
const rss = () => process.memoryUsage.rss();
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});

async function peakDuring<T>(fn: () => Promise<T>): Promise<{ value: T; base: number; peak: number; ms: number }> {
  gc();
  const base = rss();
  let peak = base;
  const timer = setInterval(() => {
    peak = Math.max(peak, rss());
  }, 5);
  const t0 = Date.now();
  try {
    const value = await fn();
    peak = Math.max(peak, rss());
    return { value, base, peak, ms: Date.now() - t0 };
  } finally {
    clearInterval(timer);
  }
}

// Warm up (modules, the embedded verify.mjs, zlib): a pack with an empty slice, then its check.
const warm = join(dir, 'warm.tar.gz');
await writePack(
  [
    { path: 'audit/slice.jsonl', source: { data: Buffer.alloc(0) } },
    { path: 'audit/proof.json', source: { data: proofText } },
  ],
  meta,
  key,
  warm,
);
await verifyPack(warm, { publicKeyPem: key.publicPem });

const out = join(dir, 'big.tar.gz');
const files = [
  { path: 'audit/slice.jsonl', source: { file: join(dir, 'slice.jsonl') } },
  { path: 'audit/proof.json', source: { data: proofText } },
];
const write = await peakDuring(() => writePack(files, meta, key, out));
const verify = await peakDuring(() => verifyPack(out, { publicKeyPem: key.publicPem }));
process.stdout.write(
  `${JSON.stringify({
    sliceBytes: statSync(join(dir, 'slice.jsonl')).size,
    packBytes: write.value.bytes,
    write: { base: write.base, peak: write.peak, ms: write.ms },
    verify: { base: verify.base, peak: verify.peak, ms: verify.ms, ok: verify.value.ok, failure: verify.value.failure },
  })}\n`,
);
