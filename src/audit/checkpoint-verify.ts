/**
 * Holding the chain against the newest signed checkpoint (checkpoint.ts has the format), as
 * `credwarden audit verify` and `GET /api/v1/audit/verify` do (verify-copies.ts).
 *
 * Checkpoints are read from the file sinks (`evidence.checkpoints.sinks` of type file) and from
 * the JSONL mirror's `audit.checkpoint` events, never from Redis: whoever can rewrite the chain in
 * Redis can rewrite a checkpoint kept there too. Each one's signature is checked with the public
 * key of `evidence.signingKey` (or a key given by a person); one that fails is ignored and
 * reported as invalid. The newest valid one (by its signed time, then seq) is the one checked:
 * each copy (Redis, the file) must hold an event at its seq whose hash is its hash, in a chain
 * whose seq 1 has its chainId. A copy shorter than the checkpoint ('checkpoint-missing': the tail
 * was cut), or with another hash there or another chain ('checkpoint-mismatch': rewritten and
 * re-hashed, or swapped), is broken, and the break names the checkpoint: its seq, time and source.
 * No checkpoint at all is not an error; the report says so.
 * Memory stays flat: the files are streamed.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { open } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { LoadedConfig } from '../config/load.js';
import { CwError, ErrorCodes } from '../errors.js';
import { keyIdOf, loadSigningKey } from '../evidence/signing.js';
import { type CheckpointPayload, checkpointName, inspectCheckpoint, readCheckpointFile } from './checkpoint.js';
import type { AuditEvent } from './event.js';
import { readJsonl } from './jsonl-mirror.js';
import type { ChainBreak, VerifyResult } from './verify.js';

/** Where to look for checkpoints, and the key to check them with (null: checkpoints cannot be checked). */
export interface CheckpointSources {
  publicKey: KeyObject | null;
  /** File sinks (absolute paths). */
  files: string[];
  /** Why there is no key, for the report. */
  noKeyReason?: string;
}

export interface FoundCheckpoint extends Omit<CheckpointPayload, '_type'> {
  /** Where it was read: `file sink <path>:<line>` or `mirror <path>:<line>`. */
  source: string;
}

/** What was found, everywhere it was looked for. */
export interface CheckpointSummary {
  /** The newest valid checkpoint: the one the copies are held against. Null: "no checkpoint". */
  checked: FoundCheckpoint | null;
  /** Valid checkpoints read (all sources). */
  valid: number;
  /** Checkpoints that were found and ignored (a signature that fails, a malformed one): the first 50. */
  invalid: { source: string; reason: string }[];
  invalidCount: number;
  /** The sources read, in order. */
  sources: string[];
  /** The key they were checked with (its keyid), when there is one. */
  keyid: string | null;
  /** One line for people: which checkpoint, or why none. */
  note: string;
}

/** The summary, as one copy's result reports it, with whether that copy holds the checkpoint. */
export interface CopyCheckpoint extends CheckpointSummary {
  /** True when the copy holds it; false when not; null when there is none to hold. */
  holds: boolean | null;
  detail: string;
}

const MAX_INVALID = 50;
const short = (h: string | undefined): string => (h ? `${h.slice(0, 12)}…` : 'none');

/** The sources of a loaded config: its file sinks and its signing key's public half, or `publicKey` given by a person. */
export function checkpointSources(
  config: Pick<LoadedConfig, 'evidence' | 'baseDir'>,
  publicKey?: KeyObject,
): CheckpointSources {
  const files = config.evidence.checkpoints.sinks.flatMap((s) =>
    s.type === 'file' ? [resolve(config.baseDir, s.path)] : [],
  );
  if (publicKey) return { publicKey, files };
  const key = loadSigningKey(config.evidence.signingKey, config.baseDir);
  return key
    ? { publicKey: key.publicKey, files }
    : { publicKey: null, files, noKeyReason: 'evidence.signingKey is not set (checkpoints are off)' };
}

/** A public key (SPKI PEM, or a private key PEM whose public half is taken) from a file, for `--key`. */
export async function readPublicKey(path: string): Promise<KeyObject> {
  let key: KeyObject;
  try {
    const fh = await open(path, 'r');
    try {
      key = createPublicKey(await fh.readFile('utf8'));
    } finally {
      await fh.close();
    }
  } catch (err) {
    throw new CwError(ErrorCodes.INPUT, `--key ${path}: not a readable PEM key (${(err as Error).message})`);
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new CwError(ErrorCodes.INPUT, `--key ${path}: not an Ed25519 key`);
  return key;
}

const newer = (a: FoundCheckpoint, b: FoundCheckpoint | null): boolean => {
  if (!b) return true;
  const d = Date.parse(a.time) - Date.parse(b.time);
  return d > 0 || (d === 0 && a.seq > b.seq);
};

/** Reads every checkpoint in the file sinks and the mirror and picks the newest valid one. */
export async function collectCheckpoints(src: CheckpointSources, mirror: string): Promise<CheckpointSummary> {
  const sum: CheckpointSummary = {
    checked: null,
    valid: 0,
    invalid: [],
    invalidCount: 0,
    sources: [...src.files.map((f) => `file sink ${f}`), `mirror ${mirror}`],
    keyid: src.publicKey ? keyIdOf(src.publicKey) : null,
    note: '',
  };
  const key = src.publicKey;
  if (!key) {
    sum.note = `no checkpoint checked: ${src.noKeyReason ?? 'no public key to check checkpoints with'}`;
    return sum;
  }
  const consider = (source: string, envelope: unknown) => {
    const r = inspectCheckpoint(envelope, key);
    if ('problem' in r) {
      sum.invalidCount++;
      if (sum.invalid.length < MAX_INVALID) sum.invalid.push({ source, reason: r.problem });
      return;
    }
    sum.valid++;
    const { _type, ...p } = r.payload;
    const found: FoundCheckpoint = { ...p, source };
    if (newer(found, sum.checked)) sum.checked = found;
  };
  for (const file of src.files) {
    for await (const l of readCheckpointFile(file)) {
      const source = `file sink ${file}:${l.line}`;
      if ('problem' in l) {
        sum.invalidCount++;
        if (sum.invalid.length < MAX_INVALID) sum.invalid.push({ source, reason: l.problem });
      } else consider(source, l.envelope);
    }
  }
  for await (const e of mirrorCheckpoints(mirror)) consider(`mirror ${mirror}:${e.line}`, e.envelope);
  const c = sum.checked;
  sum.note = c
    ? `${checkpointName(c)} (seq ${c.seq}, ${short(c.hash)}, chain ${short(c.chainId)}), read from ${c.source}`
    : `no checkpoint: none found in ${sum.sources.join(', ')}${sum.invalidCount ? ` (${sum.invalidCount} invalid ignored)` : ''}; the chain's tail is not anchored`;
  return sum;
}

/**
 * The `audit.checkpoint` events of a JSONL mirror (only lines that name the type are parsed). A
 * missing file yields nothing; a line that is not JSON is skipped (the file's own verify names it).
 */
async function* mirrorCheckpoints(path: string): AsyncGenerator<{ line: number; envelope: unknown }> {
  let fh: Awaited<ReturnType<typeof open>>;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new CwError(ErrorCodes.AUDIT, `cannot read audit file ${path}: ${(err as Error).message}`);
  }
  try {
    let line = 0;
    for await (const text of fh.readLines({ encoding: 'utf8' })) {
      line++;
      if (!text.includes('"type":"audit.checkpoint"')) continue;
      try {
        const e = JSON.parse(text) as { type?: unknown; data?: { envelope?: unknown } };
        if (e.type === 'audit.checkpoint') yield { line, envelope: e.data?.envelope };
      } catch {
        // not JSON: the file's own verify reports it
      }
    }
  } finally {
    await fh.close().catch(() => undefined);
  }
}

/** What a copy holds where the checkpoint looks: its seq 1, its event at the checkpoint's seq, where it ends. */
export interface CopyView {
  first: AuditEvent | undefined;
  at: AuditEvent | undefined;
  /** The last seq read (the copy's end when shorter than the checkpoint). */
  lastSeq: number;
  /** Set when the copy could not be read up to the checkpoint. */
  unreadable?: string;
}

/** The file's seq 1, its event at `seq`, and where it ends when shorter; streamed, stops at `seq`. */
export async function fileView(path: string, seq: number): Promise<CopyView> {
  const view: CopyView = { first: undefined, at: undefined, lastSeq: 0 };
  try {
    for await (const e of readJsonl(path)) {
      if (!view.first) view.first = e;
      view.lastSeq = e.seq;
      if (e.seq === seq) view.at = e;
      if (e.seq >= seq) break;
    }
  } catch (err) {
    if (!(err instanceof CwError)) throw err;
    view.unreadable = err.message;
  }
  return view;
}

/** Redis's seq 1, its event at `seq`, and its head. */
export async function redisView(
  log: { read(fromSeq: number, count?: number): Promise<AuditEvent[]>; head(): Promise<{ seq: number }> },
  seq: number,
): Promise<CopyView> {
  try {
    const [first] = await log.read(1, 1);
    const [at] = await log.read(seq, 1);
    return { first, at: at?.seq === seq ? at : undefined, lastSeq: (await log.head()).seq };
  } catch (err) {
    if (!(err instanceof CwError) || err.code !== ErrorCodes.AUDIT_TAMPERED) throw err;
    return { first: undefined, at: undefined, lastSeq: 0, unreadable: err.message };
  }
}

/** Holds one copy (`where`) against the summary's checkpoint. */
export function holdAgainst(
  sum: CheckpointSummary,
  where: string,
  view: CopyView | null,
): { report: CopyCheckpoint; broken?: ChainBreak } {
  const c = sum.checked;
  if (!c || !view) return { report: { ...sum, holds: null, detail: sum.note } };
  const name = `${checkpointName(c)} (read from ${c.source})`;
  const fail = (b: Omit<ChainBreak, 'detail'>, detail: string) => ({
    report: { ...sum, holds: false, detail },
    broken: { ...b, detail },
  });
  if (view.unreadable)
    return fail(
      { seq: c.seq, position: view.lastSeq, reason: 'checkpoint-missing' },
      `${where} cannot be read up to ${name}: ${view.unreadable}`,
    );
  if (view.first && view.first.hash !== c.chainId) {
    return fail(
      { seq: 1, position: 0, reason: 'checkpoint-mismatch' },
      `${where} is another chain: its seq 1 is ${short(view.first.hash)} but ${name} is of chain ${short(c.chainId)} (a swapped copy, or a chain written anew)`,
    );
  }
  if (!view.at) {
    const end = view.first ? `ends at seq ${view.lastSeq}` : 'is empty';
    const gone = view.lastSeq + 1 === c.seq ? `seq ${c.seq} is` : `seqs ${view.lastSeq + 1}..${c.seq} are`;
    return fail(
      { seq: c.seq, position: view.lastSeq, reason: 'checkpoint-missing' },
      `${where} ${end}, short of ${name}, which covers seq ${c.seq}: ${gone} missing (the tail was cut)`,
    );
  }
  if (view.at.hash !== c.hash) {
    return fail(
      { seq: c.seq, position: c.seq - 1, reason: 'checkpoint-mismatch' },
      `${where} seq ${c.seq} is ${short(view.at.hash)} but ${name} says ${short(c.hash)}: the chain was rewritten at or before seq ${c.seq}`,
    );
  }
  return { report: { ...sum, holds: true, detail: `holds ${name}: seq ${c.seq} is ${short(c.hash)}` } };
}

/** A copy's verify result with its checkpoint part: a failed hold is its first break, unless the chain broke first. */
export function withCheckpoint<R extends VerifyResult>(
  result: R,
  held: { report: CopyCheckpoint; broken?: ChainBreak },
): R & { checkpoint: CopyCheckpoint } {
  const out = { ...result, checkpoint: held.report };
  if (held.broken && result.ok) {
    out.ok = false;
    out.firstBroken = held.broken;
  }
  return out;
}
