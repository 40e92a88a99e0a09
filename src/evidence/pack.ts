/**
 * The evidence pack's container: a .tar.gz of the content files (population, controls, reports,
 * `audit/slice.jsonl`, `audit/proof.json`), plus what makes it checkable offline:
 * - `verify.mjs`: the standalone verifier (verify-script.ts), so the auditor has it in hand;
 * - `public-key.pem`: the signing key's public half (SPKI PEM);
 * - `manifest.intoto.dsse.json`: a DSSE envelope (payloadType application/vnd.in-toto+json,
 *   Ed25519) over an in-toto Statement v1 whose subjects are every other file with its sha256, and
 *   whose predicate (https://credwarden.dev/evidence-pack/v1) names the framework, the period, the
 *   config hash, the credwarden version, the time, the file count and the audit range. The file
 *   is canonicalJson of the envelope and a newline: the verifier refuses any other spelling, so not
 *   one byte of it is outside what it checks.
 *
 * Entries: verify.mjs, public-key.pem, the content files in the order given, the manifest last
 * (its subjects are the digests computed while the others streamed). Written to `out.partial`
 * and renamed at the end: a pack under its final name is always complete; on error the partial
 * file is removed.
 */
import { rename, rm } from 'node:fs/promises';
import { CwError, ErrorCodes } from '../errors.js';
import { dsseSign, IN_TOTO_PAYLOAD_TYPE, type SigningKey } from './signing.js';
import { type PackSource, TarGzWriter } from './tar.js';
import { MANIFEST, PREDICATE_TYPE, PROOF, PUBLIC_KEY, SLICE, STATEMENT_TYPE, VERIFY_SCRIPT } from './verifier.js';
import { canonicalJson } from './verify-chain.js';
import { verifierScript } from './verify-script.js';

export { MANIFEST, PROOF, PUBLIC_KEY, SLICE, VERIFY_SCRIPT } from './verifier.js';

export interface PackFile {
  /** Relative POSIX path inside the pack. */
  path: string;
  /** Bytes in memory, or a file streamed at write time (never read whole). */
  source: PackSource;
}

export interface PackMeta {
  framework: string;
  /** The period, ISO 8601. */
  from: string;
  to: string;
  configSha256: string;
  credwardenVersion: string;
  audit: { fromSeq: number; toSeq: number; hashAlgorithm: 'sha256' | 'hmac-sha256' };
}

export interface PackWritten {
  /** Size of the .tar.gz. */
  bytes: number;
  /** Entries in the archive, the manifest included. */
  files: number;
  /** sha256 of the .tar.gz, hex. */
  sha256: string;
}

const RESERVED = new Set([MANIFEST, PUBLIC_KEY, VERIFY_SCRIPT]);

export async function writePack(
  files: PackFile[],
  meta: PackMeta,
  key: SigningKey,
  outPath: string,
  now: Date = new Date(),
): Promise<PackWritten> {
  for (const f of files)
    if (RESERVED.has(f.path))
      throw new CwError(ErrorCodes.INPUT, `evidence pack: ${f.path} is written by the pack itself, not given`);
  for (const required of [SLICE, PROOF])
    if (!files.some((f) => f.path === required))
      throw new CwError(ErrorCodes.INPUT, `evidence pack: ${required} is missing (every pack carries its audit slice)`);
  const script = await verifierScript();
  const partial = `${outPath}.partial`;
  const tar = new TarGzWriter(partial, now);
  try {
    const all: PackFile[] = [
      { path: VERIFY_SCRIPT, source: { data: script } },
      { path: PUBLIC_KEY, source: { data: Buffer.from(key.publicPem, 'utf8') } },
      ...files,
    ];
    const subject: { name: string; digest: { sha256: string } }[] = [];
    for (const f of all) {
      const w = await tar.add(f.path, f.source);
      subject.push({ name: w.path, digest: { sha256: w.sha256 } });
    }
    const statement = {
      _type: STATEMENT_TYPE,
      subject,
      predicateType: PREDICATE_TYPE,
      predicate: {
        framework: meta.framework,
        period: { from: meta.from, to: meta.to },
        configSha256: meta.configSha256,
        credwardenVersion: meta.credwardenVersion,
        generatedAt: now.toISOString(),
        files: subject.length,
        audit: { fromSeq: meta.audit.fromSeq, toSeq: meta.audit.toSeq, hashAlgorithm: meta.audit.hashAlgorithm },
      },
    };
    const envelope = dsseSign(IN_TOTO_PAYLOAD_TYPE, Buffer.from(JSON.stringify(statement), 'utf8'), key);
    await tar.add(MANIFEST, { data: Buffer.from(`${canonicalJson(envelope)}\n`, 'utf8') });
    const out = await tar.finish();
    await rename(partial, outPath);
    return { bytes: out.bytes, files: subject.length + 1, sha256: out.sha256 };
  } catch (err) {
    await tar.abort();
    await rm(partial, { force: true });
    throw err;
  }
}
