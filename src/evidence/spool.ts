/**
 * A buffered file that can be cut back: text is written in chunks (never held whole), `mark()`
 * remembers the current end, and `close()` truncates the file to the last mark. `reset()` starts
 * the file over. collect.ts streams the audit slice through one (the slice ends at the last event
 * of the period, known only once a later one is read) and the proof's links through another (the
 * links start after that same event).
 */
import { type FileHandle, open } from 'node:fs/promises';

const CHUNK = 256 * 1024;

export class Spool {
  private fh: FileHandle | null = null;
  private parts: string[] = [];
  private buffered = 0;
  /** Bytes flushed to the file. */
  private flushed = 0;
  private marked = 0;
  /** Items written since the last reset (for separators). */
  count = 0;

  private constructor(readonly path: string) {}

  static async create(path: string): Promise<Spool> {
    const s = new Spool(path);
    s.fh = await open(path, 'w+', 0o600);
    return s;
  }

  /** Bytes written so far. */
  get size(): number {
    return this.flushed + this.buffered;
  }

  async write(text: string): Promise<void> {
    this.parts.push(text);
    this.buffered += Buffer.byteLength(text, 'utf8');
    this.count++;
    if (this.buffered >= CHUNK) await this.flush();
  }

  mark(): void {
    this.marked = this.size;
  }

  /** Drops everything written: the file starts over (empty) at the next write. */
  reset(): void {
    this.parts = [];
    this.buffered = 0;
    this.flushed = 0;
    this.marked = 0;
    this.count = 0;
  }

  private async flush(): Promise<void> {
    if (this.buffered === 0 || !this.fh) return;
    const buf = Buffer.from(this.parts.join(''), 'utf8');
    this.parts = [];
    this.buffered = 0;
    let off = 0;
    while (off < buf.length) {
      const { bytesWritten } = await this.fh.write(buf, off, buf.length - off, this.flushed + off);
      off += bytesWritten;
    }
    this.flushed += buf.length;
  }

  /** Flushes, truncates to the last mark (or keeps everything with `keepAll`) and closes. Returns the size. */
  async close(keepAll = false): Promise<number> {
    if (!this.fh) return this.marked;
    await this.flush();
    const size = keepAll ? this.flushed : this.marked;
    await this.fh.truncate(size);
    await this.fh.close();
    this.fh = null;
    return size;
  }

  /** Closes without keeping anything meaningful (on failure). */
  async abort(): Promise<void> {
    await this.fh?.close().catch(() => undefined);
    this.fh = null;
  }
}
