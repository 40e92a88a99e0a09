/**
 * The AuditEvent noun and the pure functions the chain rests on.
 *
 * Contract:
 * - An event is `{seq, time, type, actor, subject, data, prevHash, hash}`. `seq` starts at 1 and
 *   grows by exactly 1; `prevHash` is the previous event's `hash` (GENESIS_HASH for seq 1).
 * - `hash` = hex SHA-256 (or HMAC-SHA256 with the configured key) of canonicalJson of the event
 *   without `hash`. With a key, someone who can write Redis or the file but lacks the key cannot
 *   re-forge a consistent chain after editing it.
 * - canonicalJson is JSON with object keys sorted by UTF-16 code units, no whitespace, and
 *   ECMAScript number formatting (the RFC 8785 rules), so it is stable across a JSON round trip.
 * - Audit data never carries a secret value (DESIGN invariant 1): see assertNoSecrets.
 *
 * No I/O here. Storage lives in redis-audit-log.ts (Redis) and jsonl-mirror.ts (file copy).
 */
import { createHash, createHmac } from 'node:crypto';
import { CwError, ErrorCodes } from '../errors.js';
import { SECRET_FIELDS } from '../logger.js';
import type { Effect } from '../util/effects.js';

export interface AuditEventInput {
  type: string;
  actor: string;
  subject: string;
  data: Record<string, unknown>;
}

export interface AuditEvent extends AuditEventInput {
  seq: number;
  /** ISO 8601 UTC, from the writer's Clock. Not guaranteed monotonic across writers. */
  time: string;
  prevHash: string;
  hash: string;
}

/** What callers pass to append: the actor may come from the log's default. */
export type AppendInput = Omit<AuditEventInput, 'actor'> & {
  actor?: string;
  /**
   * Records the event at most once per key, whatever retries or replays happen (DESIGN invariant
   * 6): a second append with the same key returns the event already recorded. Not part of the
   * event or its hash.
   */
  idempotencyKey?: string;
  /** State writes committed atomically with the event, only if it is newly recorded (effects.ts). */
  effects?: readonly Effect[];
};

export interface AuditHead {
  seq: number;
  hash: string;
}

/** What a mirror needs from a log: events in seq order starting at `fromSeq`. */
export interface AuditReader {
  read(fromSeq: number, count?: number): Promise<AuditEvent[]>;
  /** The current head, read fresh. */
  head?(): Promise<AuditHead>;
  /** Events with their stored text (canonical JSON), so a copy need not encode them again. */
  readEntries?(fromSeq: number, count: number): Promise<{ event: AuditEvent; text: string }[]>;
}

/** A secondary copy of the chain, brought up to date after each append. Returns events written. */
export interface AuditMirror {
  sync(log: AuditReader): Promise<number>;
  /**
   * Called before each append against `head` (the Redis head the append builds on): throws a
   * non-retryable CwError when the copy holds events Redis does not (Redis lost data, or the copy
   * belongs to another chain), so nothing is appended to a chain that diverged from its copy.
   */
  assertConsistent?(log: AuditReader, head: AuditHead): Promise<void>;
}

export const GENESIS_HASH = '0'.repeat(64);

const EVENT_FIELDS = ['seq', 'time', 'type', 'actor', 'subject', 'data', 'prevHash', 'hash'] as const;
const HEX64 = /^[0-9a-f]{64}$/;

function auditError(message: string): CwError {
  return new CwError(ErrorCodes.AUDIT, message);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** Where encode() is, kept as a stack of segments and joined only for an error message. */
type PathStack = (string | number)[];
const pathOf = (p: PathStack): string =>
  p.map((x, i) => (typeof x === 'number' ? `[${x}]` : i === 0 ? x : `.${x}`)).join('');

/**
 * Canonical encoding; with `secrets` set it also refuses what assertNoSecrets refuses, in the same
 * pass (the stored form is what is checked, so a toJSON() cannot smuggle a secret field past it).
 */
function encode(v: unknown, path: PathStack, stack: Set<object>, secrets: boolean): string {
  if (v === null) return 'null';
  switch (typeof v) {
    case 'string':
      if (secrets && looksLikeVaultToken(v)) {
        throw auditError(`audit data must not carry secrets: the value at ${pathOf(path)} looks like a Vault token`);
      }
      return JSON.stringify(v);
    case 'boolean':
      return v ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(v)) throw auditError(`canonicalJson: non-finite number at ${pathOf(path)}`);
      return JSON.stringify(v);
    case 'object':
      break;
    default:
      throw auditError(`canonicalJson: unsupported ${typeof v} at ${pathOf(path)}`);
  }
  const obj = v as object;
  if (stack.has(obj)) throw auditError(`canonicalJson: circular reference at ${pathOf(path)}`);
  stack.add(obj);
  try {
    if (Array.isArray(obj)) {
      let out = '[';
      for (let i = 0; i < obj.length; i++) {
        path.push(i);
        out += (i ? ',' : '') + encode(obj[i], path, stack, secrets);
        path.pop();
      }
      return `${out}]`;
    }
    if (!isPlainObject(obj)) {
      const toJSON = (obj as { toJSON?: unknown }).toJSON;
      if (typeof toJSON === 'function') return encode(toJSON.call(obj), path, stack, secrets);
      throw auditError(`canonicalJson: unsupported object type ${obj.constructor?.name ?? '?'} at ${pathOf(path)}`);
    }
    let out = '{';
    let first = true;
    for (const k of Object.keys(obj).sort()) {
      const x = (obj as Record<string, unknown>)[k];
      // Omitted, as JSON.stringify does, so the encoding survives a parse round trip.
      if (x === undefined) continue;
      path.push(k);
      if (secrets && SECRET_KEYS.has(k.toLowerCase())) {
        throw auditError(`audit data must not carry secrets: field ${pathOf(path)} is a secret field name`);
      }
      out += `${first ? '' : ','}${JSON.stringify(k)}:${encode(x, path, stack, secrets)}`;
      path.pop();
      first = false;
    }
    return `${out}}`;
  } finally {
    stack.delete(obj);
  }
}

/**
 * Deterministic JSON: sorted keys, no whitespace. Throws CwError(AUDIT) on non-finite numbers,
 * cycles, bigint/function/symbol, `undefined` outside an object property, and non-plain objects
 * without toJSON (Map, Set), which JSON.stringify would silently drop or mangle.
 */
export function canonicalJson(v: unknown): string {
  return encode(v, ['$'], new Set(), false);
}

/** Hex SHA-256 of the event's canonical form, or HMAC-SHA256 when `hmacKey` is given. */
export function hashEvent(e: Omit<AuditEvent, 'hash'>, hmacKey?: string): string {
  const body = canonicalJson({
    seq: e.seq,
    time: e.time,
    type: e.type,
    actor: e.actor,
    subject: e.subject,
    data: e.data,
    prevHash: e.prevHash,
  });
  return hashText(body, hmacKey);
}

function hashText(body: string, hmacKey?: string): string {
  if (hmacKey === undefined) return createHash('sha256').update(body, 'utf8').digest('hex');
  if (hmacKey.length === 0) throw auditError('audit hmacKey is empty');
  return createHmac('sha256', hmacKey).update(body, 'utf8').digest('hex');
}

/** An input ready to append: validated, its data encoded once (and snapshotted). */
export interface PreparedInput extends AuditEventInput {
  /** canonicalJson(data), reused for the hash and the stored text. */
  dataJson: string;
}

/**
 * Builds an event from a prepared input: its hash and its stored text (canonicalJson of the
 * event), assembled from the pre-encoded data in the canonical key order, so each event is encoded
 * once. Equal, byte for byte, to canonicalJson and hashEvent (pinned by a unit test).
 */
export function buildEvent(
  p: PreparedInput,
  seq: number,
  time: string,
  prevHash: string,
  hmacKey?: string,
): { event: AuditEvent; text: string } {
  const a = JSON.stringify(p.actor);
  const tail = `"prevHash":${JSON.stringify(prevHash)},"seq":${seq},"subject":${JSON.stringify(p.subject)},"time":${JSON.stringify(time)},"type":${JSON.stringify(p.type)}}`;
  const hash = hashText(`{"actor":${a},"data":${p.dataJson},${tail}`, hmacKey);
  const text = `{"actor":${a},"data":${p.dataJson},"hash":"${hash}",${tail}`;
  const event: AuditEvent = {
    seq,
    time,
    type: p.type,
    actor: p.actor,
    subject: p.subject,
    data: p.data,
    prevHash,
    hash,
  };
  return { event, text };
}

const SECRET_KEYS = new Set(SECRET_FIELDS.map((f) => f.toLowerCase()));

/**
 * Vault token formats: `hvs.`/`hvb.`/`hvr.` (Vault 1.10+) and the legacy `s.`/`b.`/`r.` followed
 * by exactly 24 characters. AWS access key ids (AKIA…/ASIA…) are identifiers, not secrets, and
 * pass; AWS secret keys have no recognisable shape, so they are caught by field name only.
 */
const VAULT_TOKEN_VALUE = [/^hv[sbr]\.[A-Za-z0-9_-]{20,}$/, /^[sbr]\.[A-Za-z0-9]{24}$/];

function looksLikeVaultToken(v: string): boolean {
  // Cheap pre-check: every token shape starts with "hv" or with one of s/b/r and a dot.
  if (v.charCodeAt(0) !== 0x68 && v.charCodeAt(1) !== 0x2e) return false;
  return VAULT_TOKEN_VALUE.some((re) => re.test(v));
}

/**
 * Throws CwError(AUDIT) when `data` holds, at any depth (arrays included):
 * - an object key that is one of logger SECRET_FIELDS, compared case-insensitively, whatever its
 *   value (a field named `password` has no business in an audit event, even if null); or
 * - a string value shaped like a Vault token.
 * The message names the path, never the value.
 */
export function assertNoSecrets(data: unknown): void {
  const seen = new Set<object>();
  const walk = (v: unknown, path: string): void => {
    if (typeof v === 'string') {
      if (VAULT_TOKEN_VALUE.some((re) => re.test(v))) {
        throw auditError(`audit data must not carry secrets: the value at ${path} looks like a Vault token`);
      }
      return;
    }
    if (typeof v !== 'object' || v === null || seen.has(v)) return;
    seen.add(v);
    if (Array.isArray(v)) {
      for (const [i, x] of v.entries()) walk(x, `${path}[${i}]`);
      return;
    }
    for (const [k, x] of Object.entries(v)) {
      if (SECRET_KEYS.has(k.toLowerCase())) {
        throw auditError(`audit data must not carry secrets: field ${path}.${k} is a secret field name`);
      }
      walk(x, `${path}.${k}`);
    }
  };
  walk(data, '$');
}

/**
 * Validates an append input and returns it in stored form: data is a snapshot through
 * canonicalJson, so a caller mutating it later cannot change what was hashed. Throws CwError(AUDIT).
 */
export function prepareInput(input: AppendInput, defaultActor?: string): AuditEventInput {
  const { dataJson: _, ...prepared } = prepareForAppend(input, defaultActor);
  return prepared;
}

/** prepareInput, keeping the encoded data for buildEvent. */
export function prepareForAppend(input: AppendInput, defaultActor?: string): PreparedInput {
  const actor = input.actor ?? defaultActor;
  for (const [k, v] of [
    ['type', input.type],
    ['actor', actor],
    ['subject', input.subject],
  ] as const) {
    if (typeof v !== 'string' || v.length === 0) throw auditError(`audit event ${k} is required`);
    if (looksLikeVaultToken(v)) {
      throw auditError(`audit data must not carry secrets: the value at $.${k} looks like a Vault token`);
    }
  }
  if (!isPlainObject(input.data)) throw auditError('audit event data must be a plain object');
  // Encoded and checked in stored form in one pass, so a toJSON() cannot smuggle a secret past the check.
  const dataJson = encode(input.data, ['$', 'data'], new Set(), true);
  const data = JSON.parse(dataJson) as Record<string, unknown>;
  return { type: input.type, actor: actor as string, subject: input.subject, data, dataJson };
}

/** Why `v` is not a well-formed AuditEvent, or null if it is. Checks shape only, not hashes. */
export function eventShapeProblem(v: unknown): string | null {
  if (!isPlainObject(v)) return 'not a JSON object';
  for (const k of Object.keys(v)) {
    if (!(EVENT_FIELDS as readonly string[]).includes(k)) return `unexpected field "${k}" (not covered by the hash)`;
  }
  const seq = v.seq;
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 1) return 'seq is not a positive integer';
  if (typeof v.time !== 'string' || Number.isNaN(Date.parse(v.time))) return 'time is not an ISO timestamp';
  for (const k of ['type', 'actor', 'subject'] as const) {
    if (typeof v[k] !== 'string') return `${k} is not a string`;
  }
  if (!isPlainObject(v.data)) return 'data is not an object';
  if (typeof v.prevHash !== 'string' || !HEX64.test(v.prevHash)) return 'prevHash is not 64 hex digits';
  if (typeof v.hash !== 'string' || !HEX64.test(v.hash)) return 'hash is not 64 hex digits';
  return null;
}

/**
 * Parses one stored event (a stream entry's `e` field or a JSONL line). Throws
 * CwError(AUDIT_TAMPERED) naming `where` when the text is not a well-formed event.
 */
export function parseEvent(text: string, where: string): AuditEvent {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new CwError(ErrorCodes.AUDIT_TAMPERED, `${where}: not valid JSON`);
  }
  const problem = eventShapeProblem(v);
  if (problem) throw new CwError(ErrorCodes.AUDIT_TAMPERED, `${where}: ${problem}`);
  return v as AuditEvent;
}
