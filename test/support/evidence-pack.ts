/**
 * Synthetic evidence-pack content for the container and verifier tests: a real audit chain built
 * with src/audit/event.ts (prepareForAppend + buildEvent, so hashes are what the log writes), the
 * slice and proof cut from it, a checkpoint signed over a later head, and pack rewrites (a byte
 * changed, a file dropped or added) done with the pack's own tar reader and writer.
 */
import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type AuditEvent, buildEvent, GENESIS_HASH, prepareForAppend } from '../../src/audit/event.js';
import { type PackFile, type PackMeta, writePack } from '../../src/evidence/pack.js';
import { dsseSign, type SigningKey, signingKeyFrom } from '../../src/evidence/signing.js';
import { readTarGz, TarGzWriter } from '../../src/evidence/tar.js';
import { CHECKPOINT_PAYLOAD_TYPE, CHECKPOINT_TYPE } from '../../src/evidence/verifier.js';

export function newKey(): SigningKey {
  const { privateKey } = generateKeyPairSync('ed25519');
  return signingKeyFrom(privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), 'test key');
}

export interface Chain {
  events: AuditEvent[];
  texts: string[];
}

/** n events, seq 1..n, with data exercising canonicalJson (unicode, numbers, nesting). */
export function buildChain(n: number, opts: { hmacKey?: string; pad?: number } = {}): Chain {
  const events: AuditEvent[] = [];
  const texts: string[] = [];
  let prev = GENESIS_HASH;
  const t0 = Date.parse('2026-03-01T00:00:00Z');
  for (let seq = 1; seq <= n; seq++) {
    const p = prepareForAppend({
      type: seq % 3 ? 'finding.opened' : 'action.approved',
      actor: seq % 2 ? 'alice@example.com' : 'ünïcødé-bot ☃',
      subject: `cred-${seq}`,
      data: {
        n: seq,
        ratio: seq / 7,
        big: 1e21 * seq,
        small: 5e-7 / seq,
        neg: -seq,
        text: `line ${seq} "quoted" \\ tab\t é 𝄞 \u2028`,
        nested: { z: [1, 'two', null, true, { b: 2, a: 1 }], a: {} },
        ...(opts.pad ? { pad: 'x'.repeat(opts.pad) } : {}),
      },
    });
    const { event, text } = buildEvent(p, seq, new Date(t0 + seq * 60_000).toISOString(), prev, opts.hmacKey);
    events.push(event);
    texts.push(text);
    prev = event.hash;
  }
  return { events, texts };
}

export const CHAIN_ID = 'c'.repeat(64);

export function checkpoint(chain: Chain, seq: number, key: SigningKey, chainId = CHAIN_ID) {
  const e = chain.events[seq - 1]!;
  const payload = { _type: CHECKPOINT_TYPE, chainId, seq, hash: e.hash, time: e.time };
  return dsseSign(CHECKPOINT_PAYLOAD_TYPE, Buffer.from(JSON.stringify(payload)), key);
}

export interface ProofOptions {
  fromSeq: number;
  toSeq: number;
  checkpointSeq: number;
  key: SigningKey;
  hashAlgorithm?: 'sha256' | 'hmac-sha256';
}

export function proofOf(chain: Chain, o: ProofOptions) {
  const links = chain.events
    .filter((e) => e.seq > o.toSeq && e.seq <= o.checkpointSeq)
    .map((e) => ({ seq: e.seq, prevHash: e.prevHash, hash: e.hash }));
  return {
    hashAlgorithm: o.hashAlgorithm ?? 'sha256',
    chainId: CHAIN_ID,
    fromSeq: o.fromSeq,
    toSeq: o.toSeq,
    sliceLastHash: chain.events[o.toSeq - 1]!.hash,
    links,
    checkpoint: checkpoint(chain, o.checkpointSeq, o.key),
  };
}

export const sliceText = (chain: Chain, from: number, to: number): string =>
  chain.texts
    .slice(from - 1, to)
    .map((t) => `${t}\n`)
    .join('');

export function metaOf(p: { fromSeq: number; toSeq: number; hashAlgorithm: 'sha256' | 'hmac-sha256' }): PackMeta {
  return {
    framework: 'soc2',
    from: '2026-03-01T00:00:00.000Z',
    to: '2026-03-31T23:59:59.999Z',
    configSha256: 'a'.repeat(64),
    credwardenVersion: '0.1.0',
    audit: { fromSeq: p.fromSeq, toSeq: p.toSeq, hashAlgorithm: p.hashAlgorithm },
  };
}

/** A pack from a slice text and a proof object, with a few report files; the slice goes as a file source. */
export async function packOf(
  dir: string,
  name: string,
  slice: string,
  proof: ReturnType<typeof proofOf>,
  key: SigningKey,
): Promise<string> {
  const slicePath = join(dir, `${name}.slice.jsonl`);
  writeFileSync(slicePath, slice);
  const files: PackFile[] = [
    { path: 'population.json', source: { data: Buffer.from('{"credentials":[{"id":"cred-1","owner":"alice"}]}\n') } },
    { path: 'controls/CC6.1.json', source: { data: Buffer.from('{"control":"CC6.1","status":"pass"}\n') } },
    { path: 'report/report.html', source: { data: Buffer.from('<!doctype html><title>SOC 2 – évidence</title>\n') } },
    { path: 'report/findings.csv', source: { data: Buffer.from('fingerprint,opened,resolved\nabc,2026-03-02,\n') } },
    { path: 'audit/slice.jsonl', source: { file: slicePath } },
    { path: 'audit/proof.json', source: { data: Buffer.from(`${JSON.stringify(proof, null, 2)}\n`) } },
  ];
  const out = join(dir, `${name}.tar.gz`);
  await writePack(files, metaOf(proof), key, out, new Date('2026-04-01T00:00:00Z'));
  return out;
}

export async function readAll(pack: string): Promise<{ path: string; data: Buffer }[]> {
  const out: { path: string; data: Buffer }[] = [];
  for await (const e of readTarGz(pack)) {
    const parts: Buffer[] = [];
    for await (const c of e.body) parts.push(c);
    out.push({ path: e.path, data: Buffer.concat(parts) });
  }
  return out;
}

/** The pack's entries rewritten by `edit` into a new archive (headers fresh, nothing re-signed). */
export async function rewrite(
  pack: string,
  out: string,
  edit: (entries: { path: string; data: Buffer }[]) => { path: string; data: Buffer }[],
): Promise<string> {
  const w = new TarGzWriter(out, new Date('2026-04-01T00:00:00Z'));
  for (const e of edit(await readAll(pack))) await w.add(e.path, { data: e.data });
  await w.finish();
  return out;
}
