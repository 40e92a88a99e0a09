/**
 * The evidence pack's tar container (src/evidence/tar.ts, tar-reader.ts): a round trip with many
 * files (sizes around the 512-byte block, empty, a 5 MB file streamed from disk, long paths through
 * the ustar prefix, unicode), read back by our reader and by GNU tar; and the refusals: bad paths
 * at write, and at read a traversal, an absolute path, a duplicate, a symlink, a hard link, a
 * directory crafted by hand, truncation at every level, a bad checksum, trailing data, non-gzip.
 * And writePack around it: the manifest's statement, and no pack left under its name on failure.
 */
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writePack } from '../../src/evidence/pack.js';
import { readTarGz, TarError, TarGzWriter, ustarHeader } from '../../src/evidence/tar.js';
import { buildChain, metaOf, newKey, packOf, proofOf, readAll, sliceText } from '../support/evidence-pack.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'cw-tar-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function readBack(path: string): Promise<{ path: string; data: Buffer; mtime: number }[]> {
  const out: { path: string; data: Buffer; mtime: number }[] = [];
  for await (const e of readTarGz(path)) {
    const parts: Buffer[] = [];
    for await (const c of e.body) parts.push(c);
    out.push({ path: e.path, data: Buffer.concat(parts), mtime: e.mtime });
  }
  return out;
}

const LONG_SPLIT = `${'deep/'.repeat(25)}file-name.json`; // 139 bytes: prefix + name
const LONGEST = `${'p'.repeat(150)}/${'n'.repeat(100)}`; // 251 bytes: the 155/100 limits
const EXACT_100 = `${'x'.repeat(96)}.txt`;
const UNICODE = 'données/évidence ☃ 𝄞.json';

describe('TarGzWriter → readTarGz', () => {
  it('round-trips many files byte for byte with their sha256, and GNU tar reads the same archive', async () => {
    const big = randomBytes(5 * 1024 * 1024);
    const bigFile = join(dir, 'big.bin');
    writeFileSync(bigFile, big);
    const files: { path: string; data: Buffer; onDisk?: boolean }[] = [];
    for (const [i, size] of [0, 1, 511, 512, 513, 1023, 1024, 1025, 4096, 70_000].entries())
      files.push({ path: `sizes/${i}-${size}.bin`, data: randomBytes(size) });
    for (let i = 0; i < 40; i++) files.push({ path: `many/f${i}.txt`, data: Buffer.from(`file ${i}\n`.repeat(i)) });
    files.push({ path: LONG_SPLIT, data: Buffer.from('long') });
    files.push({ path: LONGEST, data: Buffer.from('longest') });
    files.push({ path: EXACT_100, data: Buffer.from('exactly 100') });
    files.push({ path: UNICODE, data: Buffer.from('{"é":"☃"}') });
    files.push({ path: 'big/slice.jsonl', data: big, onDisk: true });
    const out = join(dir, 'round.tar.gz');
    const mtime = new Date('2026-04-01T12:00:00Z');
    const w = new TarGzWriter(out, mtime);
    for (const f of files) {
      const r = await w.add(f.path, f.onDisk ? { file: bigFile } : { data: f.data });
      expect(r).toEqual({ path: f.path, size: f.data.length, sha256: sha(f.data) });
    }
    const done = await w.finish();
    const gz = readFileSync(out);
    expect(done).toEqual({ bytes: gz.length, sha256: sha(gz) });

    const back = await readBack(out);
    expect(back.map((e) => e.path)).toEqual(files.map((f) => f.path));
    for (const [i, e] of back.entries()) {
      expect(e.data.equals(files[i]!.data), e.path).toBe(true);
      expect(e.mtime).toBe(mtime.getTime() / 1000);
    }

    const tar = spawnSync('tar', ['-tzf', out], { encoding: 'utf8' });
    if (tar.error) return; // no tar on this machine: our own reader above is the check
    expect(tar.stdout.trim().split('\n')).toEqual(files.map((f) => f.path));
    const x = join(dir, 'extracted');
    mkdirSync(x);
    expect(spawnSync('tar', ['-xzf', out, '-C', x]).status).toBe(0);
    expect(readFileSync(join(x, 'big/slice.jsonl')).equals(big)).toBe(true);
    expect(readFileSync(join(x, LONGEST), 'utf8')).toBe('longest');
    expect(readFileSync(join(x, UNICODE), 'utf8')).toBe('{"é":"☃"}');
  });

  it.each([
    ['../escape', /path traversal/],
    ['a/../../b', /path traversal/],
    ['/etc/passwd', /absolute path/],
    ['C:/windows', /absolute path/],
    ['a//b', /empty or "\." path segment/],
    ['./a', /empty or "\." path segment/],
    ['a/', /empty or "\." path segment/],
    ['a\\b', /backslash/],
    ['', /empty path/],
    [`${'n'.repeat(101)}`, /too long for a ustar header/],
    [`dir/${'n'.repeat(101)}`, /too long for a ustar header/],
    [`${'p'.repeat(156)}/name`, /too long for a ustar header/],
  ])('refuses to write %j', async (path, why) => {
    const w = new TarGzWriter(join(dir, 'refused.tar.gz'));
    await expect(w.add(path, { data: Buffer.from('x') })).rejects.toThrow(why);
    await w.abort();
  });

  it('refuses duplicates, a file that is also a directory, and a source that is not a regular file', async () => {
    const w = new TarGzWriter(join(dir, 'dups.tar.gz'));
    await w.add('a/b', { data: Buffer.from('1') });
    await expect(w.add('a/b', { data: Buffer.from('2') })).rejects.toThrow(/twice/);
    await expect(w.add('a', { data: Buffer.from('3') })).rejects.toThrow(/twice/);
    await w.add('c', { data: Buffer.from('4') });
    await expect(w.add('c/d', { data: Buffer.from('5') })).rejects.toThrow(/both a file and a directory/);
    await expect(w.add('e', { file: dir })).rejects.toThrow(/not a regular file/);
    await w.abort();
  });
});

/** A .tar.gz from raw 512-byte blocks: the end marker appended unless `end` is false. */
function crafted(name: string, blocks: Buffer[], end = true): string {
  const p = join(dir, name);
  writeFileSync(p, gzipSync(Buffer.concat([...blocks, ...(end ? [Buffer.alloc(1024)] : [])])));
  return p;
}
const T = 1_775_000_000;
const dataBlock = (s: string) => Buffer.concat([Buffer.from(s), Buffer.alloc(512 - s.length)]);
const file = (path: string, content = 'x') => [ustarHeader(path, content.length, T), dataBlock(content)];

describe('readTarGz refuses', () => {
  it.each([
    ['a ".." traversal', () => crafted('trav.tgz', file('../../etc/cron.d/evil')), /path traversal/],
    [
      'a traversal in the prefix field',
      () => crafted('trav2.tgz', file(`${'../'.repeat(40)}x/${'y'.repeat(90)}`)),
      /traversal/,
    ],
    ['an absolute path', () => crafted('abs.tgz', file('/etc/passwd')), /absolute path/],
    ['a duplicate name', () => crafted('dup.tgz', [...file('same.json'), ...file('same.json')]), /duplicate name/],
    [
      'a symlink crafted by hand',
      () => crafted('sym.tgz', [ustarHeader('link', 0, T, { typeflag: '2', linkname: '/etc/passwd' })]),
      /"link" is a symlink, not a regular file/,
    ],
    [
      'a hard link',
      () => crafted('hard.tgz', [ustarHeader('hard', 0, T, { typeflag: '1', linkname: 'x' })]),
      /hard link/,
    ],
    ['a directory', () => crafted('dir.tgz', [ustarHeader('d', 0, T, { typeflag: '5' })]), /a directory/],
    ['a pax header', () => crafted('pax.tgz', [ustarHeader('p', 0, T, { typeflag: 'x' })]), /pax header/],
    ['no end-of-archive marker', () => crafted('noend.tgz', file('a'), false), /without the end-of-archive marker/],
    [
      'half an end-of-archive marker',
      () => crafted('halfend.tgz', [...file('a'), Buffer.alloc(512)], false),
      /end-of-archive marker is cut short/,
    ],
    [
      "a file's data cut short",
      () => crafted('cutdata.tgz', [ustarHeader('a', 2000, T), Buffer.alloc(512, 0x61)], false),
      /"a" ends early/,
    ],
    [
      'a bad header checksum',
      () => {
        const h = ustarHeader('a', 1, T);
        h[0] = 'b'.charCodeAt(0);
        return crafted('sum.tgz', [h, dataBlock('x')]);
      },
      /checksum does not match/,
    ],
    [
      'a GNU (not POSIX) header',
      () => {
        const h = ustarHeader('a', 1, T);
        h.write('ustar  \0', 257, 8, 'latin1');
        h.write('000000\0 ', 148, 8, 'ascii');
        let s = 0;
        for (let i = 0; i < 512; i++) s += i >= 148 && i < 156 ? 0x20 : h[i]!;
        h.write(`${s.toString(8).padStart(6, '0')}\0 `, 148, 8, 'ascii');
        return crafted('gnu.tgz', [h, dataBlock('x')]);
      },
      /not a POSIX ustar archive/,
    ],
    [
      'data after the end-of-archive marker',
      () => crafted('trail.tgz', [...file('a'), Buffer.alloc(1024), dataBlock('junk')], false),
      /data after the end-of-archive marker/,
    ],
    [
      'a gzip stream cut short',
      () => {
        const p = join(dir, 'cutgz.tgz');
        const gz = gzipSync(Buffer.concat([...file('a', 'y'.repeat(400)), ...file('b', 'z'.repeat(300))]));
        writeFileSync(p, gz.subarray(0, gz.length - 12));
        return p;
      },
      /truncated archive/,
    ],
    [
      'a file that is not gzip',
      () => {
        const p = join(dir, 'plain.tar');
        writeFileSync(p, Buffer.concat([...file('a'), Buffer.alloc(1024)]));
        return p;
      },
      /not a readable gzip stream/,
    ],
  ])('%s', async (_what, make, why) => {
    const err = await readBack(make()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TarError);
    expect((err as Error).message).toMatch(why);
  });

  it('a real pack cut at any point is refused as truncated, never read as complete', async () => {
    const out = join(dir, 'cut-src.tar.gz');
    const w = new TarGzWriter(out);
    for (let i = 0; i < 5; i++) await w.add(`f${i}`, { data: randomBytes(3000) });
    await w.finish();
    const gz = readFileSync(out);
    for (const at of [10, 100, Math.floor(gz.length / 2), gz.length - 30, gz.length - 1]) {
      const p = join(dir, `cut-${at}.tgz`);
      writeFileSync(p, gz.subarray(0, at));
      const err = await readBack(p).catch((e: unknown) => e);
      expect(err, `cut at ${at}`).toBeInstanceOf(TarError);
      expect((err as Error).message).toMatch(/truncated|not a readable gzip/);
    }
  });
});

describe('writePack', () => {
  const key = newKey();
  const chain = buildChain(5);
  const proof = proofOf(chain, { fromSeq: 2, toSeq: 4, checkpointSeq: 5, key });

  it('signs an in-toto statement over every other file, with the predicate the pack format names', async () => {
    const pack = await packOf(dir, 'stmt', sliceText(chain, 2, 4), proof, key);
    const entries = await readAll(pack);
    const envelope = JSON.parse(entries.at(-1)!.data.toString('utf8'));
    expect(entries.at(-1)!.path).toBe('manifest.intoto.dsse.json');
    expect(envelope.payloadType).toBe('application/vnd.in-toto+json');
    expect(envelope.signatures).toEqual([{ keyid: key.keyid, sig: expect.any(String) }]);
    const st = JSON.parse(Buffer.from(envelope.payload, 'base64').toString('utf8'));
    expect(st._type).toBe('https://in-toto.io/Statement/v1');
    expect(st.predicateType).toBe('https://credwarden.dev/evidence-pack/v1');
    expect(st.subject).toEqual(entries.slice(0, -1).map((e) => ({ name: e.path, digest: { sha256: sha(e.data) } })));
    expect(st.predicate).toEqual({
      framework: 'soc2',
      period: { from: '2026-03-01T00:00:00.000Z', to: '2026-03-31T23:59:59.999Z' },
      configSha256: 'a'.repeat(64),
      credwardenVersion: '0.1.0',
      generatedAt: '2026-04-01T00:00:00.000Z',
      files: entries.length - 1,
      audit: { fromSeq: 2, toSeq: 4, hashAlgorithm: 'sha256' },
    });
    expect(entries.find((e) => e.path === 'public-key.pem')!.data.toString()).toBe(key.publicPem);
  });

  it('leaves nothing under the final name (nor a partial) when it fails, and refuses reserved or missing files', async () => {
    const out = join(dir, 'failed.tar.gz');
    const proofFile = { path: 'audit/proof.json', source: { data: Buffer.from(JSON.stringify(proof)) } };
    const cases = [
      [[{ path: 'audit/slice.jsonl', source: { file: join(dir, 'no-such-file') } }, proofFile], /ENOENT/],
      [
        [
          { path: 'audit/slice.jsonl', source: { data: Buffer.alloc(0) } },
          proofFile,
          { path: '../x', source: { data: Buffer.alloc(1) } },
        ],
        /path traversal/,
      ],
      [[{ path: 'audit/slice.jsonl', source: { data: Buffer.alloc(0) } }, proofFile, proofFile], /twice/],
      [[proofFile], /audit\/slice\.jsonl is missing/],
      [[{ path: 'verify.mjs', source: { data: Buffer.alloc(1) } }, proofFile], /written by the pack itself/],
    ] as const;
    for (const [files, why] of cases) {
      await expect(writePack([...files], metaOf(proof), key, out)).rejects.toThrow(why);
      expect(existsSync(out)).toBe(false);
      expect(existsSync(`${out}.partial`)).toBe(false);
    }
  });
});
