#!/usr/bin/env node
/**
 * The standalone evidence-pack verifier: `node verify.mjs PACK.tar.gz [--key PUBLIC.pem] [--json]`,
 * exit 0 verified, 1 a check failed (named), 2 bad usage (no such pack, an unreadable key).
 * `credwarden evidence verify` runs this same code; every pack ships it as `verify.mjs`.
 *
 * It and its parts (tar-reader.ts, verify-chain.ts) import nothing but `node:*`: verify-script.ts
 * joins the three into one dependency-free ES module. Keep it that way (no project imports).
 *
 * One streaming pass over the archive hashes every file and scans the audit slice line by line;
 * then the checks run in order and stop at the first failure: archive, manifest, signature,
 * statement, subjects, proof, slice, links, checkpoint.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync, realpathSync, statSync } from 'node:fs';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import { archivePathProblem } from './tar-reader.js';
import {
  canonicalJson,
  dsseOpen,
  envelopeProblem,
  HEX64,
  isObj,
  isSeq,
  type Json,
  keyIdOf,
  scanPack,
  spkiDer,
} from './verify-chain.js';

export const MANIFEST = 'manifest.intoto.dsse.json';
export const PUBLIC_KEY = 'public-key.pem';
export const VERIFY_SCRIPT = 'verify.mjs';
export const SLICE = 'audit/slice.jsonl';
export const PROOF = 'audit/proof.json';
export const IN_TOTO_TYPE = 'application/vnd.in-toto+json';
export const STATEMENT_TYPE = 'https://in-toto.io/Statement/v1';
export const PREDICATE_TYPE = 'https://credwarden.dev/evidence-pack/v1';
export const CHECKPOINT_PAYLOAD_TYPE = 'application/vnd.credwarden.checkpoint+json';
export const CHECKPOINT_TYPE = 'https://credwarden.dev/checkpoint/v1';
const GENESIS = '0'.repeat(64);
const KEEP = new Set([MANIFEST, PUBLIC_KEY, PROOF]);

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}
export interface VerifyReport {
  ok: boolean;
  checks: Check[];
  failure?: { check: string; file?: string; detail: string };
}
/** Bad input rather than a verdict: the pack cannot be read, the --key is not an Ed25519 public key. */
export class VerifyInputError extends Error {
  override name = 'VerifyInputError';
}
class Failed extends Error {
  constructor(
    readonly detail: string,
    readonly file?: string,
  ) {
    super(detail);
  }
}
function no(detail: string, file?: string): never {
  throw new Failed(detail, file);
}
const parseJson = (b: Buffer | undefined, file: string, files: Map<string, unknown>): unknown => {
  if (!files.has(file)) no(`the pack has no ${file}`, file);
  if (!b) no(`${file} is larger than 64 MiB`, file);
  try {
    return JSON.parse(b!.toString('utf8'));
  } catch {
    return no(`${file} is not valid JSON`, file);
  }
};

function readKey(pem: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch (err) {
    throw new VerifyInputError(`--key: not a public key in PEM (${(err as Error).message})`);
  }
  if (key.asymmetricKeyType !== 'ed25519')
    throw new VerifyInputError(`--key: an ${key.asymmetricKeyType} key; evidence packs are signed with Ed25519`);
  return key;
}

export async function verifyPack(path: string, opts: { publicKeyPem?: string } = {}): Promise<VerifyReport> {
  const given = opts.publicKeyPem === undefined ? undefined : readKey(opts.publicKeyPem);
  try {
    if (!statSync(path).isFile()) throw new VerifyInputError(`${path} is not a file`);
  } catch (err) {
    throw err instanceof VerifyInputError
      ? err
      : new VerifyInputError(`cannot read ${path}: ${(err as Error).message}`);
  }
  const { files, kept, slice, archiveError } = await scanPack(path, KEEP, SLICE);
  const checks: Check[] = [];
  let failure: VerifyReport['failure'];
  const step = (name: string, fn: () => string): boolean => {
    try {
      checks.push({ name, ok: true, detail: fn() });
      return true;
    } catch (err) {
      if (!(err instanceof Failed)) throw err;
      checks.push({ name, ok: false, detail: err.detail });
      failure = { check: name, ...(err.file ? { file: err.file } : {}), detail: err.detail };
      return false;
    }
  };
  let env: Json = {};
  let key: KeyObject | undefined;
  let source = '';
  let st: Json = {};
  let audit: Json = {};
  let proof: Json = {};
  let end = { seq: 0, hash: '' };
  const ok =
    step('archive', () => {
      if (archiveError) no(archiveError);
      const bytes = [...files.values()].reduce((n, f) => n + f.size, 0);
      return `${files.size} regular files, ${bytes} bytes, no traversal, no duplicates, complete`;
    }) &&
    step('manifest', () => {
      env = parseJson(kept.get(MANIFEST), MANIFEST, files) as Json;
      const problem = envelopeProblem(env, IN_TOTO_TYPE);
      if (problem) no(`the DSSE envelope: ${problem}`, MANIFEST);
      if ((env.signatures as unknown[]).length !== 1) no('the envelope must carry exactly one signature', MANIFEST);
      if (!Buffer.from(`${canonicalJson(env)}\n`).equals(kept.get(MANIFEST)!))
        no('the envelope is not in canonical form (sorted keys, no whitespace): it was altered', MANIFEST);
      return `a DSSE envelope over ${IN_TOTO_TYPE}`;
    }) &&
    step('signature', () => {
      let packKey: KeyObject | undefined;
      let packProblem = `the pack has no ${PUBLIC_KEY}`;
      const pem = kept.get(PUBLIC_KEY);
      if (pem)
        try {
          packKey = createPublicKey(pem);
          if (packKey.asymmetricKeyType !== 'ed25519') packProblem = `${PUBLIC_KEY} is not an Ed25519 key`;
        } catch (err) {
          packProblem = `${PUBLIC_KEY} is not a public key (${(err as Error).message})`;
        }
      if (packKey?.asymmetricKeyType !== 'ed25519') packKey = undefined;
      key = given ?? packKey;
      source = given ? '--key' : PUBLIC_KEY;
      if (!key) return no(`${packProblem}, and no --key was given`, PUBLIC_KEY);
      const other = given && packKey && !spkiDer(given).equals(spkiDer(packKey));
      const note = other ? `; the pack's ${PUBLIC_KEY} is a different key (keyid ${keyIdOf(packKey!)})` : '';
      if (!dsseOpen(env, key))
        no(`the signature does not verify with ${source} (keyid ${keyIdOf(key)})${note}`, MANIFEST);
      const keyid = (env.signatures as Json[])[0]!.keyid;
      if (keyid !== keyIdOf(key))
        no(`the envelope names keyid ${keyid}, not the signer's ${keyIdOf(key)}: it was altered`, MANIFEST);
      if (other) no(`the signature verifies with --key${note}`, PUBLIC_KEY);
      return given
        ? `Ed25519, verifies with --key (keyid ${keyIdOf(key)})${packKey ? `, the same key as the pack's ${PUBLIC_KEY}` : ''}`
        : `Ed25519, verifies with the pack's own ${PUBLIC_KEY} (keyid ${keyIdOf(key)}); give --key to check who signed`;
    }) &&
    step('statement', () => {
      const body = Buffer.from(env.payload as string, 'base64');
      try {
        st = JSON.parse(body.toString('utf8'));
      } catch {
        no('the signed payload is not JSON', MANIFEST);
      }
      if (!isObj(st) || st._type !== STATEMENT_TYPE) no(`_type is not ${STATEMENT_TYPE}`, MANIFEST);
      if (st.predicateType !== PREDICATE_TYPE) no(`predicateType is not ${PREDICATE_TYPE}`, MANIFEST);
      if (!Array.isArray(st.subject) || st.subject.length === 0) no('the statement has no subjects', MANIFEST);
      const names = new Set<string>();
      for (const s of st.subject as Json[]) {
        const name = isObj(s) ? s.name : undefined;
        if (typeof name !== 'string' || archivePathProblem(name) || name === MANIFEST || names.has(name))
          no(`a subject's name is missing, repeated or not a pack path: ${JSON.stringify(name)}`, MANIFEST);
        if (!isObj(s.digest) || typeof s.digest.sha256 !== 'string' || !HEX64.test(s.digest.sha256))
          no(`subject ${name} has no sha256 digest`, MANIFEST);
        names.add(name as string);
      }
      const p = st.predicate;
      audit = isObj(p) && isObj(p.audit) ? p.audit : {};
      if (!isSeq(audit.fromSeq) || !isSeq(audit.toSeq) || audit.toSeq < audit.fromSeq - 1)
        no('the predicate has no valid audit.fromSeq/toSeq', MANIFEST);
      if (audit.hashAlgorithm !== 'sha256' && audit.hashAlgorithm !== 'hmac-sha256')
        no('the predicate audit.hashAlgorithm is not sha256 or hmac-sha256', MANIFEST);
      const q = p as Json;
      for (const k of ['framework', 'configSha256', 'credwardenVersion', 'generatedAt'])
        if (typeof q[k] !== 'string') no(`the predicate has no ${k}`, MANIFEST);
      if (!isObj(q.period) || typeof q.period.from !== 'string' || typeof q.period.to !== 'string')
        no('the predicate has no period {from, to}', MANIFEST);
      const period = `${(q.period as Json).from}..${(q.period as Json).to}`;
      return `${q.framework} ${period}, ${names.size} subjects, credwarden ${q.credwardenVersion}, generated ${q.generatedAt}`;
    }) &&
    step('subjects', () => {
      const subjects = st.subject as { name: string; digest: { sha256: string } }[];
      for (const s of subjects) {
        const f = files.get(s.name);
        if (!f) no(`${s.name} is in the manifest but not in the pack`, s.name);
        if (f!.sha256 !== s.digest.sha256)
          no(`${s.name}: sha256 ${f!.sha256}, the manifest says ${s.digest.sha256}`, s.name);
      }
      const names = new Set(subjects.map((s) => s.name));
      for (const name of files.keys())
        if (name !== MANIFEST && !names.has(name)) no(`${name} is not in the manifest`, name);
      for (const name of [PUBLIC_KEY, VERIFY_SCRIPT, SLICE, PROOF])
        if (!names.has(name)) no(`the manifest does not list ${name}`, name);
      if ((st.predicate as Json).files !== subjects.length)
        no(`the predicate says ${(st.predicate as Json).files} files, the manifest lists ${subjects.length}`, MANIFEST);
      return `${subjects.length} files, each sha256 matches; no file outside the manifest`;
    }) &&
    step('proof', () => {
      proof = parseJson(kept.get(PROOF), PROOF, files) as Json;
      if (!isObj(proof) || typeof proof.chainId !== 'string' || !proof.chainId) no('no chainId', PROOF);
      for (const k of ['hashAlgorithm', 'fromSeq', 'toSeq'])
        if (proof[k] !== audit[k]) no(`${k} is ${proof[k]}, the signed predicate says ${audit[k]}`, PROOF);
      if (typeof proof.sliceLastHash !== 'string' || !HEX64.test(proof.sliceLastHash))
        no('sliceLastHash is not 64 hex digits', PROOF);
      if (!Array.isArray(proof.links) || !isObj(proof.checkpoint)) no('links or checkpoint missing', PROOF);
      return `chain ${(proof.chainId as string).slice(0, 16)}, seq ${proof.fromSeq}..${proof.toSeq}, ${(proof.links as unknown[]).length} links to a checkpoint`;
    }) &&
    step('slice', () => {
      const [from, to] = [proof.fromSeq as number, proof.toSeq as number];
      const sha = proof.hashAlgorithm === 'sha256';
      const first = [slice.problem, sha ? slice.badHash : undefined]
        .filter((p) => p)
        .sort((a, b) => a!.line - b!.line)[0];
      if (first) no(first.detail, SLICE);
      if (to === from - 1) {
        if (slice.lines) no(`the proof says the slice is empty, it has ${slice.lines} lines`, SLICE);
        return 'an empty slice (no events in the period)';
      }
      if (slice.first?.seq !== from) no(`the slice starts at seq ${slice.first?.seq}, the proof says ${from}`, SLICE);
      if (slice.last?.seq !== to) no(`the slice ends at seq ${slice.last?.seq}, the proof says ${to}`, SLICE);
      if (from === 1 && slice.first.prevHash !== GENESIS) no('seq 1 does not start from the genesis hash', SLICE);
      if (slice.last.hash !== proof.sliceLastHash) no(`seq ${to}'s hash is not the proof's sliceLastHash`, SLICE);
      return sha
        ? `${to - from + 1} events, seq ${from}..${to} contiguous, each prevHash links, each hash recomputed (sha256)`
        : `${to - from + 1} events, seq ${from}..${to} contiguous, each prevHash links; hmac-sha256: hashes need the HMAC key, so linkage only, and the events' content rests on the manifest signature`;
    }) &&
    step('links', () => {
      let prev = { seq: proof.toSeq as number, hash: proof.sliceLastHash as string };
      for (const [i, l] of (proof.links as Json[]).entries()) {
        if (!isObj(l) || !isSeq(l.seq) || typeof l.hash !== 'string' || !HEX64.test(l.hash))
          no(`link ${i} is not {seq, prevHash, hash}`, PROOF);
        if (l.seq !== prev.seq + 1) no(`link ${i}: seq ${l.seq} does not follow seq ${prev.seq}`, PROOF);
        if (l.prevHash !== prev.hash)
          no(`link ${i}: seq ${l.seq}'s prevHash is not the hash of seq ${prev.seq}`, PROOF);
        prev = { seq: l.seq as number, hash: l.hash as string };
      }
      end = prev;
      const n = (proof.links as unknown[]).length;
      return n ? `${n} links, seq ${(proof.toSeq as number) + 1}..${end.seq}, each prevHash links` : 'no links needed';
    }) &&
    step('checkpoint', () => {
      const cp = proof.checkpoint as Json;
      const problem = envelopeProblem(cp, CHECKPOINT_PAYLOAD_TYPE);
      if (problem) no(`the checkpoint envelope: ${problem}`, PROOF);
      const body = dsseOpen(cp, key!);
      if (!body) no(`the checkpoint's signature does not verify with ${source} (keyid ${keyIdOf(key!)})`, PROOF);
      let c: Json = {};
      try {
        c = JSON.parse(body!.toString('utf8'));
      } catch {}
      if (!isObj(c) || c._type !== CHECKPOINT_TYPE)
        no(`the checkpoint payload's _type is not ${CHECKPOINT_TYPE}`, PROOF);
      if (c.chainId !== proof.chainId)
        no(`the checkpoint is for chain ${c.chainId}, the proof for ${proof.chainId}`, PROOF);
      if (c.seq !== end.seq || c.hash !== end.hash)
        no(`the checkpoint is at seq ${c.seq} ${c.hash}, the proof reaches seq ${end.seq} ${end.hash}`, PROOF);
      return `signed checkpoint at seq ${c.seq} (${c.time}) verifies with the same key and matches the chain`;
    });
  return { ok, checks, ...(failure ? { failure } : {}) };
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
/** Names and details come from the pack: no control or bidi character reaches the terminal. */
const safe = (s: string) => s.replace(UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
/** One line per check, then the verdict. */
export function formatReport(r: VerifyReport): string[] {
  const lines = r.checks.map((c) => `${c.ok ? 'ok  ' : 'FAIL'} ${c.name}: ${safe(c.detail)}`);
  const f = r.failure;
  lines.push(f ? `FAILED at ${f.check}${f.file ? ` (${safe(f.file)})` : ''}` : 'VERIFIED');
  return lines;
}

// ---- the command line ----------------------------------------------------------------------------

const USAGE = 'usage: node verify.mjs PACK.tar.gz [--key PUBLIC.pem] [--json]';
export async function main(argv: string[]): Promise<number> {
  let pack: string | undefined;
  let keyFile: string | undefined;
  let json = false;
  let usage = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--json') json = true;
    else if (a === '--key' && argv[i + 1] !== undefined) keyFile = argv[++i];
    else if (a.startsWith('--key=')) keyFile = a.slice(6);
    else if (a.startsWith('-') || pack !== undefined) usage = true;
    else pack = a;
  }
  if (usage || pack === undefined) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  try {
    const pem = keyFile === undefined ? undefined : readFileSync(keyFile, 'utf8');
    const report = await verifyPack(pack, pem === undefined ? {} : { publicKeyPem: pem });
    process.stdout.write(json ? `${JSON.stringify(report, null, 2)}\n` : `${formatReport(report).join('\n')}\n`);
    return report.ok ? 0 : 1;
  } catch (err) {
    process.stderr.write(`verify: ${safe((err as Error).message)}\n`);
    return 2;
  }
}

/** Run as a script (argv[1] is this file, compared by real path as src/cli/main.ts does). */
function isEntryPoint(): boolean {
  const argv1 = process.argv[1];
  if (!argv1) return false;
  try {
    const self = realpathSync(fileURLToPath(import.meta.url));
    return [argv1, `${argv1}.js`, `${argv1}.mjs`].some((c) => {
      try {
        return realpathSync(c) === self;
      } catch {
        return false;
      }
    });
  } catch {
    return false;
  }
}
if (isEntryPoint()) main(process.argv.slice(2)).then((code) => (process.exitCode = code));
