/**
 * `credwarden evidence verify` and the standalone verify.mjs on the audit chain proof: an event
 * edited (in the pack: its digest; before packing, the manifest signed over it: the slice, the
 * links or the checkpoint, depending on how much was re-hashed), the slice cut short, a link
 * removed, a checkpoint from another key or chain; an HMAC chain (linkage only, said so); and bad
 * input (exit 2, not a verdict). Each verified three ways that must agree (evidence-verdict.ts).
 */
import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildChain, type Chain, checkpoint, packOf, proofOf, rewrite, sliceText } from '../support/evidence-pack.js';
import { edited, expectFailure, type Harness, harness } from '../support/evidence-verdict.js';

let h: Harness;
beforeAll(async () => {
  h = await harness();
});
afterAll(() => h.close());

describe('evidence verify fails on the audit chain, naming the cause', () => {
  it('an audit event edited in the pack: its digest', async () => {
    const p = await rewrite(h.good, h.next('edit-in-place'), (es) =>
      es.map((e) =>
        e.path === 'audit/slice.jsonl'
          ? { path: e.path, data: Buffer.from(sliceText(edited(h.chain, 5, 'none'), 3, 9)) }
          : e,
      ),
    );
    expectFailure(await h.verdict(p, h.keyAFile), 'subjects', /sha256/, 'audit/slice.jsonl');
  });

  it('an audit event edited before packing (the manifest signed over it): the chain', async () => {
    const sign = (c: Chain, name: string, proof = proofOf(c, h.proof)) =>
      packOf(h.dir, name, sliceText(c, 3, 9), proof, h.keyA);
    const notRehashed = await sign(edited(h.chain, 5, 'none'), 'ed-none');
    expectFailure(await h.verdict(notRehashed, h.keyAFile), 'slice', /line 3: seq 5: hash does not match its content/);
    const rehashed = await sign(edited(h.chain, 5, 'one'), 'ed-one');
    expectFailure(await h.verdict(rehashed, h.keyAFile), 'slice', /line 4: seq 6: prevHash is not the hash of seq 5/);
    const last = edited(h.chain, 9, 'one');
    const lastProof = { ...proofOf(h.chain, h.proof), sliceLastHash: last.events[8]!.hash };
    expectFailure(
      await h.verdict(await sign(last, 'ed-last', lastProof), h.keyAFile),
      'links',
      /link 0: seq 10's prevHash/,
    );
    const unlinked = await sign(last, 'ed-last-unlinked', proofOf(h.chain, h.proof));
    expectFailure(await h.verdict(unlinked, h.keyAFile), 'slice', /seq 9's hash is not the proof's sliceLastHash/);
    const rest = edited(h.chain, 5, 'rest');
    const restProof = { ...proofOf(rest, h.proof), checkpoint: checkpoint(h.chain, 12, h.keyA) };
    expectFailure(
      await h.verdict(await sign(rest, 'ed-rest', restProof), h.keyAFile),
      'checkpoint',
      /the proof reaches seq 12/,
    );
  });

  it('the slice cut short (last line removed, proof unchanged), or its first line removed', async () => {
    const proof = proofOf(h.chain, h.proof);
    const short = await packOf(h.dir, 'short', sliceText(h.chain, 3, 8), proof, h.keyA);
    expectFailure(await h.verdict(short, h.keyAFile), 'slice', /the slice ends at seq 8, the proof says 9/);
    const late = await packOf(h.dir, 'late', sliceText(h.chain, 4, 9), proof, h.keyA);
    expectFailure(await h.verdict(late, h.keyAFile), 'slice', /the slice starts at seq 4, the proof says 3/);
  });

  it('a link removed (in the middle: links; the last: the checkpoint)', async () => {
    const proof = proofOf(h.chain, h.proof);
    const middle = { ...proof, links: proof.links.filter((l) => l.seq !== 11) };
    expectFailure(
      await h.verdict(await packOf(h.dir, 'link-mid', sliceText(h.chain, 3, 9), middle, h.keyA), h.keyAFile),
      'links',
      /link 1: seq 12 does not follow seq 10/,
    );
    const lastOff = { ...proof, links: proof.links.slice(0, -1) };
    expectFailure(
      await h.verdict(await packOf(h.dir, 'link-last', sliceText(h.chain, 3, 9), lastOff, h.keyA), h.keyAFile),
      'checkpoint',
      /checkpoint is at seq 12 .*reaches seq 11/,
    );
  });

  it('a checkpoint signed with another key, or for another chain', async () => {
    const proof = { ...proofOf(h.chain, h.proof), checkpoint: checkpoint(h.chain, 12, h.keyB) };
    const p = await packOf(h.dir, 'cp-other-key', sliceText(h.chain, 3, 9), proof, h.keyA);
    expectFailure(await h.verdict(p, h.keyAFile), 'checkpoint', /checkpoint's signature does not verify with --key/);
    const other = { ...proofOf(h.chain, h.proof), checkpoint: checkpoint(h.chain, 12, h.keyA, 'd'.repeat(64)) };
    const q = await packOf(h.dir, 'cp-other-chain', sliceText(h.chain, 3, 9), other, h.keyA);
    expectFailure(await h.verdict(q, h.keyAFile), 'checkpoint', /the checkpoint is for chain d{64}/);
  });
});

describe('evidence verify on an HMAC chain', () => {
  it('checks linkage only and says that content rests on the signature', async () => {
    const hmac = buildChain(12, { hmacKey: 'k3y' });
    const proof = proofOf(hmac, { ...h.proof, hashAlgorithm: 'hmac-sha256' });
    const r = await h.verdict(await packOf(h.dir, 'hmac', sliceText(hmac, 3, 9), proof, h.keyA), h.keyAFile);
    expect(r.ok).toBe(true);
    expect(r.checks.find((c) => c.name === 'slice')!.detail).toMatch(/hmac-sha256: .*linkage only.*manifest signature/);
    const cut = await packOf(h.dir, 'hmac-cut', sliceText(hmac, 3, 8), proof, h.keyA);
    expectFailure(await h.verdict(cut, h.keyAFile), 'slice', /ends at seq 8/);
  });
});

describe('evidence verify: bad input is exit 2, not a verdict', () => {
  it('a missing pack, an unreadable key, a key that is not an Ed25519 public key, bad usage', async () => {
    const rsa = join(h.dir, 'rsa.pem');
    writeFileSync(
      rsa,
      generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'pem' }),
    );
    const notPem = join(h.dir, 'not.pem');
    writeFileSync(notPem, 'hello');
    const cases: [string[], RegExp][] = [
      [[join(h.dir, 'missing.tar.gz')], /cannot read .*missing\.tar\.gz/],
      [[h.good, '--key', join(h.dir, 'missing.pem')], /missing\.pem/],
      [[h.good, '--key', notPem], /--key: not a public key/],
      [[h.good, '--key', rsa], /--key: an rsa key/],
      [[h.dir], /is not a file/],
    ];
    for (const [args, why] of cases) {
      const c = await h.cli(['evidence', 'verify', ...args]);
      expect(c.code, args.join(' ')).toBe(2);
      expect(c.err).toMatch(why);
      const s = await h.standalone(args);
      expect(s.code, args.join(' ')).toBe(2);
      expect(s.err).toMatch(why);
    }
    expect((await h.cli(['evidence', 'verify'])).code).toBe(2);
    expect((await h.standalone([])).code).toBe(2);
    expect((await h.standalone([h.good, h.good])).code).toBe(2);
  });
});
