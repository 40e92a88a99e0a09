/**
 * The events one log instance just appended, as stored (the script appended exactly these texts at
 * exactly these seqs), so that instance's own mirror sync copies them without reading them back
 * from Redis. A contiguous run of seqs, the newest `max`; a gap (another writer appended in
 * between) starts a new run.
 */
import type { AuditEvent } from './event.js';

export type Entry = { event: AuditEvent; text: string };

export class RecentEntries {
  private run: Entry[] = [];

  constructor(private readonly max = 4096) {}

  /** The entries from `fromSeq` on (at most `count`), or null when `fromSeq` is not held here. */
  from(fromSeq: number, count: number): Entry[] | null {
    const first = this.run[0]?.event.seq;
    if (first === undefined || fromSeq < first || fromSeq > first + this.run.length - 1) return null;
    return this.run.slice(fromSeq - first, fromSeq - first + count);
  }

  remember(events: readonly AuditEvent[], texts: readonly string[]): void {
    const last = this.run.at(-1)?.event.seq;
    if (last !== undefined && last + 1 !== events[0]?.seq) this.run = [];
    for (const [i, event] of events.entries()) this.run.push({ event, text: texts[i]! });
    if (this.run.length > this.max) this.run.splice(0, this.run.length - this.max);
  }
}
