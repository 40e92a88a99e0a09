/**
 * The ustar reader (gunzip → POSIX ustar entries), streaming: a file's bytes are handed on in
 * pieces, never held whole. It refuses anything but regular files, path traversal, absolute paths,
 * duplicate names, bad header checksums and truncated archives, each with a TarError naming why.
 *
 * Part of the standalone verifier (verify-script.ts joins it into `verify.mjs`): imports nothing
 * but `node:*` (the parts after it import from it by name).
 */
import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';

export class TarError extends Error {
  override name = 'TarError';
}

/** Why `p` cannot be a file's path in a pack (relative POSIX, no `..`), or null. */
export function archivePathProblem(p: string): string | null {
  if (p.length === 0) return 'an empty path';
  if (/[\0\\]/.test(p)) return 'a NUL byte or backslash in the path';
  if (p.startsWith('/') || /^[A-Za-z]:/.test(p)) return 'an absolute path';
  for (const s of p.split('/')) {
    if (s === '..') return 'path traversal (a ".." segment)';
    if (s === '' || s === '.') return 'an empty or "." path segment';
  }
  return null;
}

/** A gzip error (the stream cut or corrupt) as a TarError; anything else (an I/O error) as it is. */
function asTarError(err: unknown): never {
  const code = (err as { code?: string }).code ?? '';
  if (code === 'Z_BUF_ERROR') throw new TarError('truncated archive: the gzip stream ends early');
  if (code.startsWith('Z_')) throw new TarError(`not a readable gzip stream: ${(err as Error).message}`);
  throw err;
}

/** Bytes from a stream of chunks; errors from the stream surface here, in the body or the headers alike. */
class ByteSource {
  private buf: Buffer = Buffer.alloc(0);
  constructor(private readonly it: AsyncIterator<Buffer>) {}
  /** Up to `max` bytes; empty only at the end of the input. */
  async piece(max: number): Promise<Buffer> {
    if (this.buf.length === 0) {
      const r = await this.it.next().catch(asTarError);
      if (r.done) return Buffer.alloc(0);
      this.buf = r.value;
    }
    const out = this.buf.subarray(0, max);
    this.buf = this.buf.subarray(out.length);
    return out;
  }
  async exact(n: number, what: string): Promise<Buffer> {
    const parts: Buffer[] = [];
    for (let got = 0; got < n; ) {
      const p = await this.piece(n - got);
      if (p.length === 0) throw new TarError(`truncated archive: ${what}`);
      parts.push(p);
      got += p.length;
    }
    return Buffer.concat(parts);
  }
}

const headerText = (h: Buffer, off: number, len: number): string => {
  const s = h.subarray(off, off + len);
  const z = s.indexOf(0);
  return (z === -1 ? s : s.subarray(0, z)).toString('utf8');
};
const headerOctal = (h: Buffer, off: number, len: number, what: string): number => {
  const s = headerText(h, off, len).trim();
  if (!/^[0-7]{1,12}$/.test(s)) throw new TarError(`corrupt archive: a header's ${what} field is not octal`);
  return Number.parseInt(s, 8);
};

/** The ustar header checksum: the sum of its bytes, the checksum field counted as spaces. */
export function headerChecksum(h: Buffer): number {
  let sum = 8 * 0x20;
  for (let i = 0; i < 512; i++) if (i < 148 || i >= 156) sum += h[i]!;
  return sum;
}

const ENTRY_KINDS: Record<string, string> = {
  '1': 'a hard link',
  '2': 'a symlink',
  '3': 'a character device',
  '4': 'a block device',
  '5': 'a directory',
  '6': 'a FIFO',
  x: 'a pax header',
  g: 'a pax global header',
  L: 'a GNU long name',
};

export interface TarEntry {
  path: string;
  size: number;
  mtime: number;
  /** The file's bytes; read them before asking for the next entry (what is left is skipped). */
  body: AsyncIterable<Buffer>;
}

/** POSIX ustar entries from a byte stream. Throws TarError on anything but well-formed regular files. */
export async function* tarEntries(input: AsyncIterable<Buffer>): AsyncGenerator<TarEntry> {
  const src = new ByteSource(input[Symbol.asyncIterator]());
  const seen = new Set<string>();
  for (;;) {
    const h = await src.exact(512, 'it ends without the end-of-archive marker');
    if (h.every((b) => b === 0)) {
      await src.exact(512, 'the end-of-archive marker is cut short');
      for (let p = await src.piece(65536); p.length > 0; p = await src.piece(65536))
        if (!p.every((b) => b === 0)) throw new TarError('corrupt archive: data after the end-of-archive marker');
      return;
    }
    if (headerOctal(h, 148, 8, 'checksum') !== headerChecksum(h))
      throw new TarError('corrupt archive: a header checksum does not match');
    if (h.subarray(257, 265).toString('latin1') !== 'ustar\u000000')
      throw new TarError('not a POSIX ustar archive (unexpected header magic)');
    const prefix = headerText(h, 345, 155);
    const path = prefix ? `${prefix}/${headerText(h, 0, 100)}` : headerText(h, 0, 100);
    const type = String.fromCharCode(h[156]!);
    if (type !== '0' && type !== '\0')
      throw new TarError(
        `${JSON.stringify(path)} is ${ENTRY_KINDS[type] ?? `an entry of type "${type}"`}, not a regular file`,
      );
    const problem = archivePathProblem(path) ?? (seen.has(path) ? 'a duplicate name' : null);
    if (problem) throw new TarError(`${JSON.stringify(path)}: ${problem}`);
    seen.add(path);
    const size = headerOctal(h, 124, 12, 'size');
    let left = size;
    const cut = () => new TarError(`truncated archive: ${JSON.stringify(path)} ends early`);
    const body = (async function* () {
      while (left > 0) {
        const p = await src.piece(Math.min(left, 65536));
        if (p.length === 0) throw cut();
        left -= p.length;
        yield p;
      }
    })();
    yield { path, size, mtime: headerOctal(h, 136, 12, 'mtime'), body };
    while (left > 0) {
      const p = await src.piece(Math.min(left, 65536));
      if (p.length === 0) throw cut();
      left -= p.length;
    }
    if (size % 512) await src.exact(512 - (size % 512), `${JSON.stringify(path)} ends early`);
  }
}

/** tarEntries over a .tar.gz file; a cut or corrupt gzip stream becomes a TarError. */
export async function* readTarGz(path: string): AsyncGenerator<TarEntry> {
  const gunzip = createGunzip();
  const raw = createReadStream(path);
  raw.on('error', (err) => gunzip.destroy(err));
  raw.pipe(gunzip);
  try {
    yield* tarEntries(gunzip);
  } finally {
    raw.destroy();
    gunzip.destroy();
  }
}
