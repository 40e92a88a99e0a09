/**
 * Results that are expensive to compute and change only when the audit chain does (the controls
 * of an evidence view of a period, the audit verification), kept per dashboard and versioned by
 * the audit head seq: the same key at the same head is the kept result; at any other head it is
 * computed again. One computation per key runs at a time (others wait for it); a failed one is
 * not kept. A key that also depends on the clock carries a time bucket in the key.
 */
interface Entry {
  value: unknown;
  seq: number;
}

export class HeadCache {
  private readonly kept = new Map<string, Entry>();
  private readonly running = new Map<string, { seq: number; p: Promise<unknown> }>();

  constructor(private readonly maxEntries = 32) {}

  async get<T>(key: string, seq: number, fn: () => Promise<T>): Promise<T> {
    const e = this.kept.get(key);
    if (e && e.seq === seq) return e.value as T;
    const busy = this.running.get(key);
    if (busy && busy.seq === seq) return busy.p as Promise<T>;
    const p = fn().then((value) => {
      this.kept.delete(key);
      this.kept.set(key, { value, seq });
      while (this.kept.size > this.maxEntries) this.kept.delete(this.kept.keys().next().value as string);
      return value;
    });
    const mine = { seq, p };
    this.running.set(key, mine);
    void p
      .finally(() => {
        if (this.running.get(key) === mine) this.running.delete(key);
      })
      .catch(() => undefined);
    return p;
  }
}
