/**
 * A streaming POSIX ustar writer piped through gzip to a file, and (re-exported from
 * tar-reader.ts, which the standalone verifier carries too) the streaming reader.
 *
 * Writer contract:
 * - regular files only, mode 0644, uid/gid 0, one mtime for the whole archive; no directory
 *   entries (a reader creates parents);
 * - paths relative POSIX, no `..`, no `.` or empty segments, no duplicates, no file that is also
 *   a directory of another; a path over 100 bytes is split into the ustar prefix (≤ 155 bytes) at a
 *   `/`, and one that cannot be is refused (CwError INPUT) rather than written with a GNU or pax
 *   extension a plain ustar reader would misread;
 * - each file's sha256 is computed while it streams; a file source is read in chunks, never whole,
 *   and must keep the size it had when its header was written (else: refused, it changed);
 * - backpressure end to end: a chunk is handed to gzip only when gzip has room.
 */
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { CwError, ErrorCodes } from '../errors.js';
import { archivePathProblem, headerChecksum } from './tar-reader.js';

export { archivePathProblem, readTarGz, type TarEntry, TarError, tarEntries } from './tar-reader.js';

export type PackSource = { data: Buffer } | { file: string };

/** The ustar size field: 11 octal digits. */
export const MAX_TAR_FILE = 8 ** 11 - 1;

const inputError = (message: string) => new CwError(ErrorCodes.INPUT, message);

/** name (≤ 100 bytes) and prefix (≤ 155 bytes) for a ustar header; throws when `path` fits neither way. */
export function splitUstarPath(path: string): { name: string; prefix: string } {
  if (Buffer.byteLength(path) <= 100) return { name: path, prefix: '' };
  for (let i = path.indexOf('/'); i !== -1; i = path.indexOf('/', i + 1)) {
    const prefix = path.slice(0, i);
    const name = path.slice(i + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(name) <= 100 && name) return { name, prefix };
  }
  throw inputError(
    `evidence pack path is too long for a ustar header: ${JSON.stringify(path)} (the last 100 bytes after a "/" hold the name, at most 155 bytes before it)`,
  );
}

function octal(h: Buffer, off: number, len: number, v: number): void {
  h.write(`${v.toString(8).padStart(len - 1, '0')}\0`, off, len, 'ascii');
}

/** A 512-byte ustar header. `typeflag`/`linkname` exist so tests can craft what the writer never writes. */
export function ustarHeader(
  path: string,
  size: number,
  mtimeSec: number,
  opts: { typeflag?: string; linkname?: string } = {},
): Buffer {
  const { name, prefix } = splitUstarPath(path);
  const h = Buffer.alloc(512);
  h.write(name, 0, 100, 'utf8');
  octal(h, 100, 8, 0o644);
  octal(h, 108, 8, 0);
  octal(h, 116, 8, 0);
  octal(h, 124, 12, size);
  octal(h, 136, 12, mtimeSec);
  h.write(opts.typeflag ?? '0', 156, 1, 'latin1');
  if (opts.linkname) h.write(opts.linkname, 157, 100, 'utf8');
  h.write('ustar\u000000', 257, 8, 'latin1');
  octal(h, 329, 8, 0);
  octal(h, 337, 8, 0);
  h.write(prefix, 345, 155, 'utf8');
  h.write(`${headerChecksum(h).toString(8).padStart(6, '0')}\0 `, 148, 8, 'ascii');
  return h;
}

export interface TarFileWritten {
  path: string;
  size: number;
  sha256: string;
}

/** One .tar.gz being written: add() files in order, then finish(); abort() on failure. */
export class TarGzWriter {
  private readonly gzip = createGzip();
  private readonly gzHash = createHash('sha256');
  private bytes = 0;
  private readonly done: Promise<void>;
  private failure: Error | undefined;
  private readonly files = new Set<string>();
  private readonly dirs = new Set<string>();
  private readonly mtime: number;

  constructor(
    readonly outPath: string,
    mtime: Date = new Date(),
  ) {
    this.mtime = Math.floor(mtime.getTime() / 1000);
    const tap = new Transform({
      transform: (chunk: Buffer, _enc, cb) => {
        this.gzHash.update(chunk);
        this.bytes += chunk.length;
        cb(null, chunk);
      },
    });
    this.done = pipeline(this.gzip, tap, createWriteStream(outPath, { flush: true }));
    this.done.catch((err: Error) => {
      this.failure ??= err;
    });
  }

  private async push(b: Buffer): Promise<void> {
    if (this.failure) throw this.failure;
    if (!this.gzip.write(b)) await once(this.gzip, 'drain');
  }

  private claim(path: string): void {
    const problem = archivePathProblem(path);
    if (problem) throw inputError(`evidence pack path ${JSON.stringify(path)}: ${problem}`);
    if (this.files.has(path) || this.dirs.has(path))
      throw inputError(`evidence pack path ${JSON.stringify(path)} is there twice`);
    const parts = path.split('/');
    const parents = parts.slice(0, -1).map((_, i) => parts.slice(0, i + 1).join('/'));
    const clash = parents.find((d) => this.files.has(d));
    if (clash) throw inputError(`evidence pack path ${JSON.stringify(clash)} is both a file and a directory`);
    splitUstarPath(path);
    this.files.add(path);
    for (const d of parents) this.dirs.add(d);
  }

  async add(path: string, source: PackSource): Promise<TarFileWritten> {
    this.claim(path);
    const h = createHash('sha256');
    let size: number;
    if ('data' in source) {
      size = source.data.length;
      if (size > MAX_TAR_FILE) throw inputError(`evidence pack file ${path} is larger than ustar allows (8 GiB)`);
      await this.push(ustarHeader(path, size, this.mtime));
      h.update(source.data);
      if (size) await this.push(source.data);
    } else {
      const st = await stat(source.file);
      if (!st.isFile()) throw inputError(`evidence pack file ${path}: ${source.file} is not a regular file`);
      size = st.size;
      if (size > MAX_TAR_FILE) throw inputError(`evidence pack file ${path} is larger than ustar allows (8 GiB)`);
      await this.push(ustarHeader(path, size, this.mtime));
      let read = 0;
      if (size > 0)
        for await (const chunk of createReadStream(source.file, { start: 0, end: size - 1 })) {
          read += (chunk as Buffer).length;
          h.update(chunk as Buffer);
          await this.push(chunk as Buffer);
        }
      if (read !== size)
        throw inputError(
          `evidence pack file ${path}: ${source.file} changed while being packed (${read} of ${size} bytes)`,
        );
    }
    if (size % 512) await this.push(Buffer.alloc(512 - (size % 512)));
    return { path, size, sha256: h.digest('hex') };
  }

  /** The end-of-archive marker, then gzip's end; the .tar.gz's size and sha256. */
  async finish(): Promise<{ bytes: number; sha256: string }> {
    await this.push(Buffer.alloc(1024));
    this.gzip.end();
    await this.done;
    return { bytes: this.bytes, sha256: this.gzHash.digest('hex') };
  }

  /** Stops writing (the file is left as it is: the caller removes it). */
  async abort(): Promise<void> {
    this.gzip.destroy();
    await this.done.catch(() => {});
  }
}
