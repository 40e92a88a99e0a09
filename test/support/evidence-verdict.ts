/**
 * The three ways an evidence pack is verified, held to the same answer: verifyPack in-process,
 * the CLI (`credwarden --json evidence verify`, its exit code) and the verify.mjs extracted from
 * the pack, run with plain `node` in an empty temp dir (no node_modules anywhere above it, only
 * PATH in its environment). A harness builds a good pack from a real 12-event chain (slice 3..9,
 * links 10..12, checkpoint at 12 signed with key A) and keeps key B for the wrong-key cases.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { buildEvent, prepareForAppend } from '../../src/audit/event.js';
import { run } from '../../src/cli/main.js';
import type { SigningKey } from '../../src/evidence/signing.js';
import { type VerifyReport, verifyPack } from '../../src/evidence/verifier.js';
import {
  buildChain,
  type Chain,
  newKey,
  type ProofOptions,
  packOf,
  proofOf,
  readAll,
  sliceText,
} from './evidence-pack.js';

export interface Outcome {
  code: number;
  out: string;
  err: string;
}

export interface Harness {
  dir: string;
  keyA: SigningKey;
  keyB: SigningKey;
  keyAFile: string;
  keyBFile: string;
  chain: Chain;
  proof: ProofOptions;
  good: string;
  /** A fresh pack path in the harness's directory. */
  next(what: string): string;
  cli(args: string[]): Promise<Outcome>;
  standalone(args: string[]): Promise<Outcome>;
  /** The report, after checking that the CLI and the standalone verify.mjs say exactly the same. */
  verdict(pack: string, keyFile?: string): Promise<VerifyReport>;
  close(): void;
}

export async function harness(): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'cw-evverify-'));
  const alone = mkdtempSync(join(tmpdir(), 'cw-verify-mjs-'));
  const keyA = newKey();
  const keyB = newKey();
  const chain = buildChain(12);
  const proof: ProofOptions = { fromSeq: 3, toSeq: 9, checkpointSeq: 12, key: keyA };
  const good = await packOf(dir, 'good', sliceText(chain, 3, 9), proofOf(chain, proof), keyA);
  const keyAFile = join(dir, 'a.pem');
  const keyBFile = join(dir, 'b.pem');
  writeFileSync(keyAFile, keyA.publicPem);
  writeFileSync(keyBFile, keyB.publicPem);
  writeFileSync(join(alone, 'verify.mjs'), (await readAll(good)).find((e) => e.path === 'verify.mjs')!.data);
  let n = 0;

  const cli = async (args: string[]): Promise<Outcome> => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await run(args, { out: (s) => out.push(s), err: (s) => err.push(s), stderrIsTty: false });
    return { code, out: out.join('\n'), err: err.join('\n') };
  };
  const standalone = (args: string[]): Promise<Outcome> =>
    new Promise((done) => {
      const opts = { cwd: alone, env: { PATH: process.env.PATH ?? '' } };
      execFile(process.execPath, ['verify.mjs', ...args], opts, (e, out, err) =>
        done({ code: e ? (typeof e.code === 'number' ? e.code : -1) : 0, out, err }),
      );
    });
  const verdict = async (pack: string, keyFile?: string): Promise<VerifyReport> => {
    const keyArgs = keyFile ? ['--key', keyFile] : [];
    const api = await verifyPack(pack, keyFile ? { publicKeyPem: readFileSync(keyFile, 'utf8') } : {});
    const [c, s] = await Promise.all([
      cli(['--json', 'evidence', 'verify', pack, ...keyArgs]),
      standalone([pack, '--json', ...keyArgs]),
    ]);
    const code = api.ok ? 0 : 1;
    expect({ code: c.code, report: JSON.parse(c.out) }).toEqual({ code, report: api });
    expect({ code: s.code, report: JSON.parse(s.out), err: s.err }).toEqual({ code, report: api, err: '' });
    return api;
  };
  return {
    dir,
    keyA,
    keyB,
    keyAFile,
    keyBFile,
    chain,
    proof,
    good,
    next: (what) => join(dir, `${++n}-${what.replace(/[^a-z0-9]+/gi, '-')}.tar.gz`),
    cli,
    standalone,
    verdict,
    close: () => {
      rmSync(dir, { recursive: true, force: true });
      rmSync(alone, { recursive: true, force: true });
    },
  };
}

/** A failed report whose last check (and only that one) failed, as `check` (or one of them). */
export function expectFailure(r: VerifyReport, check: string | string[], detail?: RegExp, file?: string): void {
  expect(r.ok).toBe(false);
  expect([check].flat()).toContain(r.failure?.check);
  if (detail) expect(r.failure?.detail).toMatch(detail);
  if (file) expect(r.failure?.file).toBe(file);
  expect(r.checks.at(-1)).toEqual({ name: r.failure!.check, ok: false, detail: r.failure!.detail });
  expect(r.checks.slice(0, -1).every((c) => c.ok)).toBe(true);
}

/** `chain` with event `seq` edited (data.n changed): the text only, re-hashed alone, or the rest re-hashed too. */
export function edited(chain: Chain, seq: number, rehash: 'none' | 'one' | 'rest'): Chain {
  const c: Chain = { events: [...chain.events], texts: [...chain.texts] };
  for (let s = seq; s <= (rehash === 'rest' ? c.events.length : seq); s++) {
    const e = c.events[s - 1]!;
    if (rehash === 'none') {
      c.texts[s - 1] = c.texts[s - 1]!.replace(`"n":${seq},`, '"n":4242,');
      continue;
    }
    const data = s === seq ? { ...e.data, n: 4242 } : e.data;
    const p = prepareForAppend({ type: e.type, actor: e.actor, subject: e.subject, data });
    const b = buildEvent(p, s, e.time, rehash === 'one' || s === 1 ? e.prevHash : c.events[s - 2]!.hash);
    c.events[s - 1] = b.event;
    c.texts[s - 1] = b.text;
  }
  return c;
}
