/**
 * `credwarden evidence verify` and the standalone verify.mjs on packs built by writePack from a
 * real audit chain (test/support/evidence-verdict.ts): a good pack passes; it fails, naming the
 * check, after one byte changed in any file (each file, at its first, middle and last byte; and
 * every byte of the manifest outside its payload and of public-key.pem), a file removed (each), a
 * file added, a wrong key, and truncation. Every case is verified three ways that must agree on the
 * whole report: verifyPack, the CLI, and the pack's own verify.mjs run alone with plain node.
 * The audit-chain cases are in evidence-verify-chain.test.ts.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyPack } from '../../src/evidence/verifier.js';
import { packOf, proofOf, readAll, rewrite, sliceText } from '../support/evidence-pack.js';
import { expectFailure, type Harness, harness } from '../support/evidence-verdict.js';

const FILES = [
  'verify.mjs',
  'public-key.pem',
  'population.json',
  'controls/CC6.1.json',
  'report/report.html',
  'report/findings.csv',
  'audit/slice.jsonl',
  'audit/proof.json',
  'manifest.intoto.dsse.json',
];
let h: Harness;
beforeAll(async () => {
  h = await harness();
});
afterAll(() => h.close());

describe('evidence verify: a good pack', () => {
  it('passes every check, with --key and with the key the pack carries (saying which)', async () => {
    expect((await readAll(h.good)).map((e) => e.path)).toEqual(FILES);
    const withKey = await h.verdict(h.good, h.keyAFile);
    expect(withKey.ok).toBe(true);
    expect(withKey.checks.map((c) => c.name)).toEqual([
      'archive',
      'manifest',
      'signature',
      'statement',
      'subjects',
      'proof',
      'slice',
      'links',
      'checkpoint',
    ]);
    expect(withKey.checks.find((c) => c.name === 'signature')!.detail).toMatch(/verifies with --key .*the same key/);
    expect(withKey.checks.find((c) => c.name === 'slice')!.detail).toMatch(
      /7 events, seq 3\.\.9 .*recomputed \(sha256\)/,
    );
    const own = await h.verdict(h.good);
    expect(own.ok).toBe(true);
    expect(own.checks.find((c) => c.name === 'signature')!.detail).toMatch(/the pack's own public-key\.pem/);
  });

  it('prints one line per check and the verdict, the same through the CLI and verify.mjs', async () => {
    const bad = await rewrite(h.good, h.next('added'), (es) => [...es, { path: 'x.txt', data: Buffer.from('x') }]);
    for (const p of [h.good, bad]) {
      const [c, s] = await Promise.all([h.cli(['evidence', 'verify', p]), h.standalone([p])]);
      expect(c.out.split('\n')).toEqual(s.out.trimEnd().split('\n'));
      expect(c.code).toBe(s.code);
    }
    const s = await h.standalone([bad]);
    expect(s.out).toMatch(/^FAIL subjects: x\.txt is not in the manifest\nFAILED at subjects \(x\.txt\)\n$/m);
  });

  it('verifies an empty slice (no events in the period) and a slice from seq 1 (the genesis link)', async () => {
    const empty = proofOf(h.chain, { ...h.proof, fromSeq: 10, toSeq: 9 });
    expect((await h.verdict(await packOf(h.dir, 'empty', '', empty, h.keyA), h.keyAFile)).ok).toBe(true);
    const fromOne = proofOf(h.chain, { ...h.proof, fromSeq: 1, toSeq: 12 });
    const r = await h.verdict(await packOf(h.dir, 'from1', sliceText(h.chain, 1, 12), fromOne, h.keyA), h.keyAFile);
    expect(r.ok).toBe(true);
    expect(r.checks.find((c) => c.name === 'links')!.detail).toBe('no links needed');
  });
});

describe('evidence verify fails, naming the cause', () => {
  const flip = (b: Buffer, at: number) => {
    const c = Buffer.from(b);
    c[at] = c[at]! ^ 0x01;
    return c;
  };
  it.each(FILES)('one byte changed in %s (first, middle, last; with and without --key)', async (name) => {
    for (const where of ['first', 'middle', 'last'] as const) {
      const p = await rewrite(h.good, h.next(`${name}-${where}`), (es) =>
        es.map((e) => {
          if (e.path !== name) return e;
          const at = where === 'first' ? 0 : where === 'last' ? e.data.length - 1 : e.data.length >> 1;
          return { path: e.path, data: flip(e.data, at) };
        }),
      );
      for (const key of [h.keyAFile, undefined]) {
        const r = await h.verdict(p, key);
        if (name === 'manifest.intoto.dsse.json') expectFailure(r, ['manifest', 'signature']);
        else if (name === 'public-key.pem') expectFailure(r, ['signature', 'subjects']);
        else expectFailure(r, 'subjects', /sha256 .*the manifest says/, name);
      }
    }
  });

  it('every byte of the manifest outside its payload, and of public-key.pem, changed (in-process)', async () => {
    const entries = await readAll(h.good);
    const manifest = entries.find((e) => e.path === 'manifest.intoto.dsse.json')!.data;
    const tail = manifest.indexOf('","payloadType"');
    const positions = [...manifest.keys()].filter((i) => i < 40 || i >= tail - 40 || i % 29 === 0);
    const pem = entries.find((e) => e.path === 'public-key.pem')!.data;
    const cases = [
      ...positions.map((at) => ['manifest.intoto.dsse.json', at] as const),
      ...[...pem.keys()].map((at) => ['public-key.pem', at] as const),
    ];
    const out = join(h.dir, 'every-byte.tar.gz');
    for (const [name, at] of cases) {
      await rewrite(h.good, out, (es) => es.map((e) => (e.path === name ? { path: name, data: flip(e.data, at) } : e)));
      for (const key of [h.keyA.publicPem, undefined]) {
        const r = await verifyPack(out, key ? { publicKeyPem: key } : {});
        expect(r.ok, `${name} byte ${at} ${key ? 'with --key' : 'own key'}`).toBe(false);
      }
    }
    expect(cases.length).toBeGreaterThan(300);
  }, 60_000);

  it.each(FILES)('a file removed: %s', async (name) => {
    const p = await rewrite(h.good, h.next(`rm-${name}`), (es) => es.filter((e) => e.path !== name));
    for (const key of [h.keyAFile, undefined]) {
      const r = await h.verdict(p, key);
      if (name === 'manifest.intoto.dsse.json') expectFailure(r, 'manifest', /the pack has no manifest/);
      else if (name === 'public-key.pem' && !key) expectFailure(r, 'signature', /no public-key\.pem, and no --key/);
      else expectFailure(r, 'subjects', /in the manifest but not in the pack/, name);
    }
  });

  it('a file added', async () => {
    const p = await rewrite(h.good, h.next('add'), (es) => [
      ...es.slice(0, 3),
      { path: 'report/extra.html', data: Buffer.from('<p>not signed</p>') },
      ...es.slice(3),
    ]);
    expectFailure(
      await h.verdict(p, h.keyAFile),
      'subjects',
      /report\/extra\.html is not in the manifest/,
      'report/extra.html',
    );
  });

  it('a wrong key: --key of another key, and a pack re-signed with another key checked with the right --key', async () => {
    expectFailure(await h.verdict(h.good, h.keyBFile), 'signature', /does not verify with --key .*is a different key/);
    const resignedProof = proofOf(h.chain, { ...h.proof, key: h.keyB });
    const resigned = await packOf(h.dir, 'resigned', sliceText(h.chain, 3, 9), resignedProof, h.keyB);
    expectFailure(
      await h.verdict(resigned, h.keyAFile),
      'signature',
      /does not verify with --key .*is a different key/,
    );
    // Consistent in itself: only --key tells the auditor who signed it.
    expect((await h.verdict(resigned)).ok).toBe(true);
  });

  it('a pack whose public-key.pem is not the --key, though the signature verifies with it', async () => {
    const p = await rewrite(h.good, h.next('other-pem'), (es) =>
      es.map((e) => (e.path === 'public-key.pem' ? { path: e.path, data: Buffer.from(h.keyB.publicPem) } : e)),
    );
    expectFailure(
      await h.verdict(p, h.keyAFile),
      'signature',
      /verifies with --key; the pack's public-key\.pem is a different key/,
    );
  });

  it('a truncated pack', async () => {
    const gz = readFileSync(h.good);
    const p = h.next('truncated');
    writeFileSync(p, gz.subarray(0, gz.length - 100));
    expectFailure(await h.verdict(p, h.keyAFile), 'archive', /truncated archive/);
  });
});
