/**
 * Signed audit checkpoints: the head of the chain (seq, hash) at a time, signed with the evidence
 * key and kept outside Redis, so an attacker who can rewrite Redis and the JSONL mirror cannot
 * drop the tail of the chain, or rewrite and re-hash it, unseen ("the tail gap").
 *
 * Format (version 1). A checkpoint is a DSSE envelope (evidence/signing.ts):
 *
 *   { "payload": "<base64 of BODY>",
 *     "payloadType": "application/vnd.credwarden.checkpoint+json",
 *     "signatures": [ { "keyid": "<hex sha256 of the public key's SPKI DER>",
 *                       "sig": "<base64 Ed25519 signature over PAE(payloadType, BODY)>" } ] }
 *
 *   PAE(type, body) = "DSSEv1" SP len(type) SP type SP len(body) SP body (lengths: ASCII decimal
 *   byte counts). BODY is the UTF-8 canonical JSON (event.ts canonicalJson: sorted keys, no
 *   whitespace) of
 *
 *   { "_type": "https://credwarden.dev/checkpoint/v1",
 *     "chainId": "<64 lowercase hex: the hash of the chain's seq 1>",
 *     "hash": "<64 lowercase hex: the hash of event `seq`>",
 *     "seq": <integer >= 1: the head the checkpoint covers>,
 *     "time": "<ISO 8601 UTC, e.g. 2026-01-02T03:04:05.678Z: when it was signed>" }
 *
 * readCheckpoint accepts an envelope only when, in this order: it is an object whose `payload`
 * and `payloadType` are strings and `signatures` an array; `payloadType` is exactly
 * CHECKPOINT_PAYLOAD_TYPE; at least one signature's `sig` verifies under the given public key
 * (the keyid is a hint, never trusted); and the decoded payload is a JSON object with exactly the
 * five keys above, `_type` equal to CHECKPOINT_TYPE, `chainId` and `hash` 64 lowercase hex
 * digits, `seq` a safe integer >= 1, and `time` matching YYYY-MM-DDTHH:MM:SS[.fraction]Z. The
 * payload need not be re-checked for canonical form (the signature covers its exact bytes).
 *
 * Where checkpoints are kept (audit/checkpoints.ts writes them, checkpoint-verify.ts reads them):
 * - the JSONL mirror: an `audit.checkpoint` event whose data is
 *   `{ envelope, seq, hash, chainId, time, keyid }` (the event itself is at a later seq);
 * - a file sink: one line per checkpoint, canonical JSON `{ chainId, envelope, hash, seq, time }`;
 * - a webhook sink: the envelope as the JSON body (Standard Webhooks signed).
 * The fields beside the envelope are for people; a reader trusts only the signed payload.
 */
import type { KeyObject } from 'node:crypto';
import { type FileHandle, mkdir, open } from 'node:fs/promises';
import { dirname } from 'node:path';
import { CwError, ErrorCodes } from '../errors.js';
import { type DsseEnvelope, dsseSign, dsseVerify, type SigningKey } from '../evidence/signing.js';
import { type AuditHead, canonicalJson } from './event.js';

export const CHECKPOINT_PAYLOAD_TYPE = 'application/vnd.credwarden.checkpoint+json';
export const CHECKPOINT_TYPE = 'https://credwarden.dev/checkpoint/v1';

export interface CheckpointPayload {
  _type: typeof CHECKPOINT_TYPE;
  chainId: string;
  seq: number;
  hash: string;
  time: string;
}

/** One line of a file sink, and the data of an `audit.checkpoint` event (plus `keyid` there). */
export interface CheckpointRecord {
  envelope: DsseEnvelope;
  chainId: string;
  seq: number;
  hash: string;
  time: string;
}

const HEX64 = /^[0-9a-f]{64}$/;
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;
const PAYLOAD_KEYS = ['_type', 'chainId', 'hash', 'seq', 'time'];

/** Signs a checkpoint of `head` (which must be a real event, seq >= 1) of chain `chainId`. */
export function makeCheckpoint(head: AuditHead, chainId: string, key: SigningKey, now: Date): DsseEnvelope {
  if (!Number.isSafeInteger(head.seq) || head.seq < 1 || !HEX64.test(head.hash) || !HEX64.test(chainId)) {
    throw new CwError(ErrorCodes.AUDIT, `cannot checkpoint head #${head.seq}: not a recorded event of a chain`);
  }
  const payload: CheckpointPayload = {
    _type: CHECKPOINT_TYPE,
    chainId,
    seq: head.seq,
    hash: head.hash,
    time: now.toISOString(),
  };
  return dsseSign(CHECKPOINT_PAYLOAD_TYPE, Buffer.from(canonicalJson(payload), 'utf8'), key);
}

/** Why `payload` (parsed JSON) is not a v1 checkpoint payload, or null when it is one. */
export function checkpointPayloadProblem(v: unknown): string | null {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'the payload is not a JSON object';
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o).sort();
  if (keys.join(',') !== PAYLOAD_KEYS.join(',')) return `the payload has keys ${keys.join(', ') || 'none'}`;
  if (o._type !== CHECKPOINT_TYPE) return `the payload's _type is not ${CHECKPOINT_TYPE}`;
  if (typeof o.chainId !== 'string' || !HEX64.test(o.chainId)) return 'chainId is not 64 hex digits';
  if (typeof o.hash !== 'string' || !HEX64.test(o.hash)) return 'hash is not 64 hex digits';
  if (typeof o.seq !== 'number' || !Number.isSafeInteger(o.seq) || o.seq < 1) return 'seq is not a positive integer';
  if (typeof o.time !== 'string' || !ISO_UTC.test(o.time) || Number.isNaN(Date.parse(o.time)))
    return 'time is not an ISO 8601 UTC timestamp';
  return null;
}

/** readCheckpoint with the reason it refused: the payload, or what is wrong. */
export function inspectCheckpoint(
  envelope: unknown,
  publicKey: KeyObject,
): { payload: CheckpointPayload } | { problem: string } {
  if (typeof envelope !== 'object' || envelope === null || Array.isArray(envelope))
    return { problem: 'not a DSSE envelope (not a JSON object)' };
  const env = envelope as Partial<DsseEnvelope>;
  if (typeof env.payload !== 'string' || typeof env.payloadType !== 'string' || !Array.isArray(env.signatures))
    return { problem: 'not a DSSE envelope (payload, payloadType or signatures missing)' };
  if (env.payloadType !== CHECKPOINT_PAYLOAD_TYPE) return { problem: `payloadType is not ${CHECKPOINT_PAYLOAD_TYPE}` };
  let body: Buffer | null;
  try {
    body = dsseVerify(env as DsseEnvelope, publicKey);
  } catch {
    body = null;
  }
  if (!body) return { problem: 'no signature verifies under the key (signed by another key, or altered)' };
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return { problem: 'the signed payload is not JSON' };
  }
  const problem = checkpointPayloadProblem(parsed);
  return problem ? { problem } : { payload: parsed as CheckpointPayload };
}

/** The checkpoint's payload when its signature verifies under `publicKey` and it is well formed; null otherwise. */
export function readCheckpoint(envelope: unknown, publicKey: KeyObject): CheckpointPayload | null {
  const r = inspectCheckpoint(envelope, publicKey);
  return 'payload' in r ? r.payload : null;
}

/** The record kept beside an envelope (file sink line, audit event data). */
export function recordOf(envelope: DsseEnvelope, p: CheckpointPayload): CheckpointRecord {
  return { envelope, chainId: p.chainId, seq: p.seq, hash: p.hash, time: p.time };
}

/** A checkpoint's short name for messages: `#<seq> of <time>`. */
export function checkpointName(p: { seq: number; time: string }): string {
  return `checkpoint #${p.seq} of ${p.time}`;
}

// ---------------------------------------------------------------------------------------------
// File sinks: one canonical-JSON CheckpointRecord per line.

/** Appends one record as a line and fsyncs; creates the directory and the file (0640) when missing. */
export async function appendCheckpointLine(path: string, record: CheckpointRecord): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const fh = await open(path, 'a', 0o640);
  try {
    await fh.appendFile(`${canonicalJson(record)}\n`, 'utf8');
    await fh.datasync();
  } finally {
    await fh.close();
  }
}

/** Whether one of the last lines of the file (its last 64 KiB) is a checkpoint of this chain and seq. */
export async function fileHasCheckpoint(path: string, chainId: string, seq: number): Promise<boolean> {
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
  try {
    const size = (await fh.stat()).size;
    const start = Math.max(0, size - 64 * 1024);
    const buf = Buffer.alloc(size - start);
    await fh.read(buf, 0, buf.length, start);
    const lines = buf.toString('utf8').split('\n');
    if (start > 0) lines.shift(); // a partial first line
    return lines.some((l) => {
      try {
        const r = JSON.parse(l) as Partial<CheckpointRecord>;
        return r.chainId === chainId && r.seq === seq;
      } catch {
        return false;
      }
    });
  } finally {
    await fh.close();
  }
}

/** One line of a checkpoint source: the envelope it holds, or why it holds none. */
export type SourceLine = { line: number; envelope: unknown } | { line: number; problem: string };

/** The lines of a file sink, in order. A missing file yields nothing; other read errors throw. */
export async function* readCheckpointFile(path: string): AsyncGenerator<SourceLine> {
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new CwError(ErrorCodes.AUDIT, `cannot read checkpoint file ${path}: ${(err as Error).message}`);
  }
  try {
    let line = 0;
    for await (const text of fh.readLines({ encoding: 'utf8' })) {
      line++;
      if (text.trim() === '') continue;
      let v: unknown;
      try {
        v = JSON.parse(text);
      } catch {
        yield { line, problem: 'not valid JSON' };
        continue;
      }
      const envelope = (v as { envelope?: unknown } | null)?.envelope;
      yield envelope === undefined ? { line, problem: 'no envelope' } : { line, envelope };
    }
  } finally {
    await fh.close().catch(() => undefined);
  }
}
