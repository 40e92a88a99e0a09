/**
 * Chain verification: pure, streaming, no I/O.
 *
 * Contract: a valid chain starts at seq 1 with prevHash GENESIS_HASH, each next event has seq + 1
 * and prevHash equal to the previous hash, and each hash matches its content (hashEvent, with the
 * same hmacKey the writer used). The result names the FIRST broken link:
 * - `position` is the 0-based index in the input (for a JSONL file, line = position + 1);
 * - `seq` is the seq of the event at that position (the expected seq if it has none, and the head
 *   seq for 'head-mismatch', whose position is one past the last event);
 * - `count`, `headSeq` and `headHash` describe the verified prefix before the break.
 * Each event is checked in this order: shape ('malformed'), seq ('duplicate-seq', 'seq-gap' or,
 * when a missing seq shows up later in the input, 'seq-out-of-order'), content ('hash-mismatch'),
 * link ('prev-hash-mismatch'). So an edited event fails at itself, an edited-and-rehashed one at
 * the next event, a deleted one at the next event ('seq-gap'), a deleted head at position 0.
 * With `expectedHead` (the log's head record) a chain that ends elsewhere is a 'head-mismatch':
 * that is how a deleted tail shows, which the links alone cannot reveal.
 * 'checkpoint-missing' and 'checkpoint-mismatch' are never set here: checkpoint-verify.ts sets them
 * on a copy that does not hold the newest signed checkpoint (cut short, rewritten, or swapped).
 */
import { CwError, ErrorCodes } from '../errors.js';
import { type AuditEvent, type AuditHead, eventShapeProblem, GENESIS_HASH, hashEvent } from './event.js';

export type BreakReason =
  | 'hash-mismatch'
  | 'prev-hash-mismatch'
  | 'seq-gap'
  | 'seq-out-of-order'
  | 'duplicate-seq'
  | 'malformed'
  | 'head-mismatch'
  | 'checkpoint-missing'
  | 'checkpoint-mismatch';

export interface ChainBreak {
  seq: number;
  position: number;
  reason: BreakReason;
  detail: string;
}

export interface VerifyResult {
  ok: boolean;
  count: number;
  headSeq: number;
  headHash: string;
  firstBroken?: ChainBreak;
}

export interface VerifyOptions {
  hmacKey?: string;
  /** The head the chain must end at (from the log's head record). */
  expectedHead?: AuditHead;
}

const short = (h: string): string => `${h.slice(0, 12)}…`;

/** Incremental verifier: push events in order, then read result(). */
export class ChainVerifier {
  private count = 0;
  private headSeq = 0;
  private headHash = GENESIS_HASH;
  private position = 0;
  private broken: ChainBreak | undefined;
  private missing: { from: number; to: number } | undefined;
  private finished = false;

  constructor(private readonly opts: VerifyOptions = {}) {}

  push(e: unknown): void {
    const position = this.position++;
    if (this.broken) {
      this.refineGap(e, position);
      return;
    }
    const expected = this.headSeq + 1;
    const problem = eventShapeProblem(e);
    if (problem) {
      const seq = (e as { seq?: unknown } | null)?.seq;
      this.fail(typeof seq === 'number' ? seq : expected, position, 'malformed', problem);
      return;
    }
    const ev = e as AuditEvent;
    if (ev.seq < expected) {
      this.fail(ev.seq, position, 'duplicate-seq', `seq ${ev.seq} was already verified at position ${ev.seq - 1}`);
      return;
    }
    if (ev.seq > expected) {
      const range = ev.seq - 1 === expected ? `seq ${expected} is` : `seqs ${expected}..${ev.seq - 1} are`;
      const link = ev.prevHash === this.headHash ? '' : `; prevHash ${short(ev.prevHash)} does not link either`;
      this.missing = { from: expected, to: ev.seq - 1 };
      this.fail(ev.seq, position, 'seq-gap', `expected seq ${expected}, found ${ev.seq}: ${range} missing${link}`);
      return;
    }
    let actual: string;
    try {
      actual = hashEvent(ev, this.opts.hmacKey);
    } catch (err) {
      this.fail(ev.seq, position, 'malformed', err instanceof Error ? err.message : String(err));
      return;
    }
    if (actual !== ev.hash) {
      const algo = this.opts.hmacKey === undefined ? 'sha256' : 'hmac-sha256';
      this.fail(ev.seq, position, 'hash-mismatch', `stored hash ${short(ev.hash)} does not match content (${algo})`);
      return;
    }
    if (ev.prevHash !== this.headHash) {
      this.fail(
        ev.seq,
        position,
        'prev-hash-mismatch',
        `prevHash ${short(ev.prevHash)} does not match the hash of seq ${this.headSeq} (${short(this.headHash)})`,
      );
      return;
    }
    this.count++;
    this.headSeq = ev.seq;
    this.headHash = ev.hash;
  }

  /** Records a failure of the input itself (unreadable line or entry) at the current position. */
  failSource(detail: string): void {
    if (!this.broken) this.fail(this.headSeq + 1, this.position, 'malformed', detail);
  }

  result(): VerifyResult {
    if (!this.finished) {
      this.finished = true;
      this.checkHead();
    }
    const r: VerifyResult = { ok: !this.broken, count: this.count, headSeq: this.headSeq, headHash: this.headHash };
    if (this.broken) r.firstBroken = { ...this.broken };
    return r;
  }

  private fail(seq: number, position: number, reason: BreakReason, detail: string): void {
    this.broken = { seq, position, reason, detail };
  }

  /** A seq reported missing that appears later means the input was reordered, not truncated. */
  private refineGap(e: unknown, position: number): void {
    const b = this.broken;
    if (b?.reason !== 'seq-gap' || !this.missing) return;
    const seq = (e as { seq?: unknown } | null)?.seq;
    if (typeof seq !== 'number' || seq < this.missing.from || seq > this.missing.to) return;
    b.reason = 'seq-out-of-order';
    b.detail = `expected seq ${this.missing.from}, found ${b.seq}; seq ${seq} appears later at position ${position}`;
    this.missing = undefined;
  }

  private checkHead(): void {
    const want = this.opts.expectedHead;
    if (this.broken || !want || (want.seq === this.headSeq && want.hash === this.headHash)) return;
    const detail =
      want.seq > this.headSeq
        ? `chain ends at seq ${this.headSeq} but the head record says ${want.seq}: the tail is missing`
        : want.seq < this.headSeq
          ? `chain runs to seq ${this.headSeq} but the head record says ${want.seq}`
          : `head record hash ${short(want.hash)} differs from seq ${want.seq}'s hash ${short(this.headHash)}`;
    this.fail(want.seq, this.position, 'head-mismatch', detail);
  }
}

export function verifyChain(events: Iterable<AuditEvent>, opts: VerifyOptions = {}): VerifyResult {
  const v = new ChainVerifier(opts);
  for (const e of events) v.push(e);
  return v.result();
}

/**
 * verifyChain over a stream (Redis, a JSONL file). A source that throws CwError(AUDIT_TAMPERED)
 * for an unreadable entry yields a 'malformed' break at that position; any other error (Redis
 * down, file missing) is rethrown, since it says nothing about the chain.
 */
export async function verifyChainAsync(
  events: AsyncIterable<AuditEvent> | Iterable<AuditEvent>,
  opts: VerifyOptions = {},
): Promise<VerifyResult> {
  const v = new ChainVerifier(opts);
  try {
    for await (const e of events) v.push(e);
  } catch (err) {
    if (!(err instanceof CwError) || err.code !== ErrorCodes.AUDIT_TAMPERED) throw err;
    v.failSource(err.message);
  }
  return v.result();
}
