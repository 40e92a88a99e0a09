/**
 * Per-action flags of one permission set, stored compactly: most agent credentials are granted a
 * few dozen actions, some (`*`, `s3:*`) thousands, and thousands of distinct sets stay cached. A
 * set is built in a shared scratch array (the evaluator is synchronous, so one is enough) and then
 * frozen as a dense copy or as sorted (id, flags) pairs, whichever is smaller.
 */

/** Granted by an unconditional statement whose resource is `*` (or NotResource). */
export const STAR_UNCOND = 1;
export const STAR_COND = 2;
/** Granted by an unconditional statement scoped to specific ARNs. */
export const SCOPED_UNCOND = 4;
export const SCOPED_COND = 8;
/** Granted by identity policies but outside the permissions boundary. */
export const BLOCKED = 16;

export const UNCOND = STAR_UNCOND | SCOPED_UNCOND;
export const STAR = STAR_UNCOND | STAR_COND;

export class FlagBuilder {
  private static scratch = new Uint8Array(0);
  private readonly touched: number[] = [];
  private readonly buf: Uint8Array;

  constructor(private readonly size: number) {
    if (FlagBuilder.scratch.length < size) FlagBuilder.scratch = new Uint8Array(size);
    this.buf = FlagBuilder.scratch;
  }

  or(id: number, bits: number): void {
    if (this.buf[id] === 0) this.touched.push(id);
    this.buf[id]! |= bits;
  }

  get(id: number): number {
    return this.buf[id]!;
  }

  /** Freezes the flags and clears the scratch for the next build. */
  freeze(): ActionFlags {
    const ids = Int32Array.from(this.touched).sort();
    let out: ActionFlags;
    if (ids.length * 5 > this.size) out = new ActionFlags(ids, this.buf.slice(0, this.size), null);
    else
      out = new ActionFlags(
        ids,
        null,
        Uint8Array.from(ids, (id) => this.buf[id]!),
      );
    for (const id of this.touched) this.buf[id] = 0;
    this.touched.length = 0;
    return out;
  }
}

export class ActionFlags {
  constructor(
    /** Every id with non-zero flags, ascending. */
    readonly ids: Int32Array,
    private readonly dense: Uint8Array | null,
    private readonly sparse: Uint8Array | null,
  ) {}

  get(id: number): number {
    if (this.dense) return this.dense[id] ?? 0;
    let lo = 0;
    let hi = this.ids.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const v = this.ids[mid]!;
      if (v === id) return this.sparse![mid]!;
      if (v < id) lo = mid + 1;
      else hi = mid - 1;
    }
    return 0;
  }

  /** Ascending ids with their flags. */
  *entries(): IterableIterator<[number, number]> {
    for (let i = 0; i < this.ids.length; i++) {
      const id = this.ids[i]!;
      yield [id, this.dense ? this.dense[id]! : this.sparse![i]!];
    }
  }
}

/** Binary search in an ascending Int32Array. */
export function sortedHas(ids: Int32Array, id: number): boolean {
  let lo = 0;
  let hi = ids.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const v = ids[mid]!;
    if (v === id) return true;
    if (v < id) lo = mid + 1;
    else hi = mid - 1;
  }
  return false;
}
