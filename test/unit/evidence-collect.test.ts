/**
 * collect.ts's slice and proof on an in-memory chain (events built as RedisAuditLog builds them),
 * each packed with writePack and checked by the pack verifier: a plain period; a later event that
 * carries an earlier time (writers' clocks differ) extends the slice; a period with no events;
 * pages smaller than the chain; and a broken chain, which is refused.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeCheckpoint } from '../../src/audit/checkpoint.js';
import { type AuditEvent, buildEvent, GENESIS_HASH, prepareForAppend } from '../../src/audit/event.js';
import { type ChainSource, collect, PROOF_PATH, SLICE_PATH } from '../../src/evidence/collect.js';
import { writePack } from '../../src/evidence/pack.js';
import { signingKeyFrom } from '../../src/evidence/signing.js';
import { verifyPack } from '../../src/evidence/verifier.js';

const key = signingKeyFrom(
  generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  'test key',
);
const H = (h: number) => `2026-03-01T${String(h).padStart(2, '0')}:00:00.000Z`;

function chain(hours: number[]): { event: AuditEvent; text: string }[] {
  const out: { event: AuditEvent; text: string }[] = [];
  let prev = GENESIS_HASH;
  hours.forEach((h, i) => {
    const p = prepareForAppend({ type: 'scan.requested', actor: 'user:a', subject: `s-${i}`, data: { n: i } });
    const e = buildEvent(p, i + 1, H(h), prev);
    prev = e.event.hash;
    out.push(e);
  });
  return out;
}

function source(entries: { event: AuditEvent; text: string }[]): ChainSource {
  const last = entries.at(-1)!.event;
  return {
    head: async () => ({ seq: last.seq, hash: last.hash }),
    chainId: async () => entries[0]!.event.hash,
    readEntries: async (from, count) => entries.slice(from - 1, from - 1 + count),
  };
}

async function run(entries: { event: AuditEvent; text: string }[], from: number, to: number, pageSize = 1000) {
  const dir = mkdtempSync(join(tmpdir(), 'cw-collect-'));
  const out = await collect(
    {
      audit: source(entries),
      inventory: () => [],
      ownerOf: () => null,
      units: [],
      exceptions: [],
      approvers: 2,
      checkpoint: (head, chainId) => makeCheckpoint(head, chainId, key, new Date(H(23))),
      now: new Date(H(23)),
      pageSize,
    },
    { framework: 'soc2', from: new Date(H(from)), to: new Date(H(to)) },
    dir,
  );
  const proof = JSON.parse(readFileSync(out.proof, 'utf8'));
  const slice = readFileSync(out.slice, 'utf8');
  const pack = join(dir, 'pack.tar.gz');
  const c = out.evidence.chain;
  await writePack(
    [
      { path: SLICE_PATH, source: { file: out.slice } },
      { path: PROOF_PATH, source: { file: out.proof } },
    ],
    {
      framework: 'soc2',
      from: H(from),
      to: H(to),
      configSha256: '0'.repeat(64),
      credwardenVersion: 'test',
      audit: { fromSeq: c.fromSeq, toSeq: c.toSeq, hashAlgorithm: c.hashAlgorithm },
    },
    key,
    pack,
  );
  const verified = await verifyPack(pack, { publicKeyPem: key.publicPem });
  return { proof, slice, verified, chain: c };
}

describe('collect: the slice and its proof', () => {
  it('a plain period: the events inside, hashes-only links to the signed head', async () => {
    const entries = chain([1, 2, 3, 4, 5, 6]);
    const r = await run(entries, 2, 4, 2);
    expect([r.chain.fromSeq, r.chain.toSeq, r.chain.eventsRead]).toEqual([2, 4, 6]);
    expect(r.slice).toBe(
      `${entries
        .slice(1, 4)
        .map((e) => e.text)
        .join('\n')}\n`,
    );
    expect(r.proof.links).toEqual(
      entries.slice(4).map(({ event: e }) => ({ seq: e.seq, prevHash: e.prevHash, hash: e.hash })),
    );
    expect(r.proof).toMatchObject({
      hashAlgorithm: 'sha256',
      chainId: entries[0]!.event.hash,
      sliceLastHash: entries[3]!.event.hash,
    });
    expect(r.verified.failure).toBeUndefined();
  });

  it("a later event with an earlier time (another writer's clock) extends the slice to it", async () => {
    const entries = chain([1, 2, 5, 3, 6, 7]); // seq 4 is at 03:00, after seq 3 at 05:00
    const r = await run(entries, 2, 4);
    expect([r.chain.fromSeq, r.chain.toSeq]).toEqual([2, 4]);
    expect(r.slice.split('\n')).toHaveLength(4);
    expect(r.proof.links.map((l: { seq: number }) => l.seq)).toEqual([5, 6]);
    expect(r.verified.ok).toBe(true);
  });

  it('no event in the period: an empty slice after the last earlier event, links from there', async () => {
    const entries = chain([1, 2, 8, 9]);
    const r = await run(entries, 4, 6);
    expect([r.chain.fromSeq, r.chain.toSeq, r.chain.sliceLastHash]).toEqual([3, 2, entries[1]!.event.hash]);
    expect(r.slice).toBe('');
    expect(r.proof.links.map((l: { seq: number }) => l.seq)).toEqual([3, 4]);
    expect(r.verified.ok).toBe(true);
    // Before the first event: the slice would start at seq 1, after the genesis hash.
    const early = await run(entries, 0, 0);
    expect([early.chain.fromSeq, early.chain.toSeq, early.chain.sliceLastHash]).toEqual([1, 0, GENESIS_HASH]);
    expect(early.verified.ok).toBe(true);
  });

  it('a broken chain is refused, naming the event', async () => {
    const entries = chain([1, 2, 3]);
    const bad = { ...entries[1]!, event: { ...entries[1]!.event, data: { n: 99 } } };
    await expect(run([entries[0]!, bad, entries[2]!], 1, 3)).rejects.toThrow(
      /the audit chain is broken at event #2 \(hash-mismatch/,
    );
  });
});
