/**
 * What the standalone verifier reads and recomputes: one streaming pass over the pack (every file's
 * sha256, the few small files kept, the audit slice scanned line by line), canonical JSON, the audit
 * chain's event shape and hash, and DSSE envelopes opened with Ed25519.
 *
 * canonicalJson is src/audit/event.ts's algorithm (object keys sorted by UTF-16 code units, no
 * whitespace, ECMAScript number formatting, undefined properties omitted), restricted to parsed
 * JSON values; test/unit/evidence-canonical.test.ts pins the two together.
 *
 * Part of the standalone verifier (verify-script.ts joins it into `verify.mjs`): imports nothing
 * but `node:*` and the parts before it (tar-reader.ts).
 */
import { createHash, verify as edVerify, type KeyObject } from 'node:crypto';
import { readTarGz, TarError } from './tar-reader.js';

export type Json = Record<string, unknown>;
export const HEX64 = /^[0-9a-f]{64}$/;
/** The most the verifier holds in memory for one file (manifest, key, proof) or one slice line. */
export const MAX_KEPT = 64 * 1024 * 1024;

export function canonicalJson(v: unknown): string {
  if (typeof v === 'number' && !Number.isFinite(v)) throw new Error('canonicalJson: non-finite number');
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map((x) => canonicalJson(x)).join(',')}]`;
  const o = v as Json;
  const keys = Object.keys(o)
    .sort()
    .filter((k) => o[k] !== undefined);
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`).join(',')}}`;
}

export const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
export const isSeq = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const EVENT_KEYS = ['seq', 'time', 'type', 'actor', 'subject', 'data', 'prevHash', 'hash'];

/** Why `e` is not an audit event (src/audit/event.ts eventShapeProblem), or null. */
export function eventProblem(e: unknown): string | null {
  if (!isObj(e)) return 'not a JSON object';
  const extra = Object.keys(e).find((k) => !EVENT_KEYS.includes(k));
  if (extra) return `unexpected field "${extra}" (not covered by the hash)`;
  if (!isSeq(e.seq) || e.seq < 1) return 'seq is not a positive integer';
  for (const k of ['time', 'type', 'actor', 'subject']) if (typeof e[k] !== 'string') return `${k} is not a string`;
  if (!isObj(e.data)) return 'data is not an object';
  if (typeof e.prevHash !== 'string' || !HEX64.test(e.prevHash)) return 'prevHash is not 64 hex digits';
  if (typeof e.hash !== 'string' || !HEX64.test(e.hash)) return 'hash is not 64 hex digits';
  return null;
}

/** Hex SHA-256 of canonicalJson of the event without `hash` (event.ts hashEvent, no HMAC key). */
export function sha256OfEvent(e: Json): string {
  const { hash: _, ...rest } = e;
  return createHash('sha256').update(canonicalJson(rest), 'utf8').digest('hex');
}

export interface LineProblem {
  line: number;
  detail: string;
}

/**
 * The slice, checked as it streams, one line per event: shape, seq contiguous, each prevHash the
 * previous hash (`problem`, after which the rest is not read); and the first line whose hash is
 * not the sha256 of its content (`badHash`: only a failure when the chain is not HMAC'd).
 */
export class SliceScan {
  lines = 0;
  first: { seq: number; prevHash: string } | undefined;
  last: { seq: number; hash: string } | undefined;
  problem: LineProblem | undefined;
  badHash: LineProblem | undefined;
  private tail: Buffer[] = [];
  private tailLen = 0;

  push(chunk: Buffer): void {
    let start = 0;
    for (let i = chunk.indexOf(10); i !== -1 && !this.problem; i = chunk.indexOf(10, start)) {
      this.line(Buffer.concat([...this.tail, chunk.subarray(start, i)]));
      this.tail = [];
      this.tailLen = 0;
      start = i + 1;
    }
    if (this.problem || start === chunk.length) return;
    this.tail.push(chunk.subarray(start));
    this.tailLen += chunk.length - start;
    if (this.tailLen > MAX_KEPT) this.problem = { line: this.lines + 1, detail: 'a line longer than 64 MiB' };
  }

  end(): void {
    if (this.tailLen && !this.problem) this.line(Buffer.concat(this.tail));
  }

  private line(b: Buffer): void {
    const line = ++this.lines;
    const problem = this.lineProblem(b, line);
    if (problem) this.problem = { line, detail: `line ${line}: ${problem}` };
  }

  private lineProblem(b: Buffer, line: number): string | null {
    let e: Json;
    try {
      e = JSON.parse(b.toString('utf8'));
    } catch {
      return b.length ? 'not valid JSON' : 'an empty line';
    }
    const shape = eventProblem(e);
    if (shape) return shape;
    const { seq, prevHash, hash } = e as { seq: number; prevHash: string; hash: string };
    const last = this.last;
    if (!last) this.first = { seq, prevHash };
    else if (seq !== last.seq + 1) return `seq ${seq} follows seq ${last.seq} (expected ${last.seq + 1})`;
    else if (prevHash !== last.hash) return `seq ${seq}: prevHash is not the hash of seq ${last.seq}`;
    if (!this.badHash) {
      let same = false;
      try {
        same = sha256OfEvent(e) === hash;
      } catch {
        // a number JSON cannot carry back (1e400 parses to Infinity): not the hash of anything
      }
      if (!same) this.badHash = { line, detail: `line ${line}: seq ${seq}: hash does not match its content (sha256)` };
    }
    this.last = { seq, hash };
    return null;
  }
}

/**
 * Why `v` is not a DSSE envelope of `payloadType` as credwarden writes them, or null: exactly
 * {payload, payloadType, signatures: [{keyid, sig}]}, base64 in canonical form. Nothing in it goes
 * unchecked, so no byte of a manifest can change without the verifier noticing.
 */
export function envelopeProblem(v: unknown, payloadType: string): string | null {
  const b64 = (s: unknown) => typeof s === 'string' && Buffer.from(s, 'base64').toString('base64') === s;
  const keys = (o: Json) => Object.keys(o).sort().join(',');
  if (!isObj(v) || keys(v) !== 'payload,payloadType,signatures') return 'not {payload, payloadType, signatures}';
  if (v.payloadType !== payloadType) return `payloadType is ${JSON.stringify(v.payloadType)}, expected ${payloadType}`;
  if (!b64(v.payload)) return 'payload is not canonical base64';
  if (!Array.isArray(v.signatures) || v.signatures.length === 0) return 'no signatures';
  for (const s of v.signatures)
    if (!isObj(s) || keys(s) !== 'keyid,sig' || typeof s.keyid !== 'string' || !b64(s.sig))
      return 'a signature is not {keyid, sig} with sig in canonical base64';
  return null;
}

/** DSSE PAE: "DSSEv1" SP len(type) SP type SP len(body) SP body (src/evidence/signing.ts pae). */
function paeOf(type: string, body: Buffer): Buffer {
  const t = Buffer.from(type, 'utf8');
  return Buffer.concat([Buffer.from(`DSSEv1 ${t.length} `), t, Buffer.from(` ${body.length} `), body]);
}

/** The payload when one of the envelope's signatures verifies under `key` (Ed25519), else null. */
export function dsseOpen(env: Json, key: KeyObject): Buffer | null {
  const body = Buffer.from(env.payload as string, 'base64');
  const msg = paeOf(env.payloadType as string, body);
  const sigs = env.signatures as Json[];
  return sigs.some((s) => edVerify(null, msg, key, Buffer.from(s.sig as string, 'base64'))) ? body : null;
}

export const spkiDer = (k: KeyObject): Buffer => k.export({ type: 'spki', format: 'der' });
/** sha256 of the SPKI DER, hex (src/evidence/signing.ts keyIdOf). */
export const keyIdOf = (k: KeyObject): string => createHash('sha256').update(spkiDer(k)).digest('hex');

export interface PackScan {
  files: Map<string, { sha256: string; size: number }>;
  /** The files named in `keep`, whole, when at most MAX_KEPT bytes. */
  kept: Map<string, Buffer>;
  slice: SliceScan;
  /** Why the archive could not be read to its end (TarError), if it could not. */
  archiveError?: string;
}

/** One pass over the .tar.gz: each file hashed as it streams, `slicePath` scanned as it streams. */
export async function scanPack(path: string, keep: Set<string>, slicePath: string): Promise<PackScan> {
  const scan: PackScan = { files: new Map(), kept: new Map(), slice: new SliceScan() };
  try {
    for await (const e of readTarGz(path)) {
      const h = createHash('sha256');
      const parts = keep.has(e.path) && e.size <= MAX_KEPT ? ([] as Buffer[]) : undefined;
      for await (const c of e.body) {
        h.update(c);
        parts?.push(c);
        if (e.path === slicePath) scan.slice.push(c);
      }
      if (e.path === slicePath) scan.slice.end();
      scan.files.set(e.path, { sha256: h.digest('hex'), size: e.size });
      if (parts) scan.kept.set(e.path, Buffer.concat(parts));
    }
  } catch (err) {
    if (!(err instanceof TarError)) throw err;
    scan.archiveError = err.message;
  }
  return scan;
}
