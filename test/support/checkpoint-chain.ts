/**
 * Audit chains with signed checkpoints for the checkpoint tests: an Ed25519 evidence key made with
 * node:crypto, a config whose checkpoints go to a file sink outside the data directory and to a
 * local Standard Webhooks receiver, a real App on real Redis, and the attacks: a cut tail, an old
 * event rewritten and every later one re-hashed (no HMAC key, so the chain alone still verifies),
 * and a mirror swapped for another chain's file.
 */
import { generateKeyPairSync, type KeyObject, randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AppendInput, type AuditEvent, canonicalJson, hashEvent, RedisAuditLog } from '../../src/audit/index.js';
import type { AuditCheck, CopyResult } from '../../src/audit/verify-copies.js';
import { run } from '../../src/cli/main.js';
import { systemClock } from '../../src/clock.js';
import type { App } from '../../src/main.js';
import type { RedisClient } from '../../src/queue/connection.js';
import { type TestAppFiles, testApp, writeTestFiles } from './app.js';
import { captureIo } from './capture.js';
import { testKeyPrefix } from './redis.js';

export interface TestKey {
  /** The PKCS#8 private key file (what evidence.signingKey names). */
  path: string;
  /** The SPKI public key file (what `--key` takes). */
  pubPath: string;
  publicKey: KeyObject;
  privatePem: string;
}

export function makeKey(dir: string, name: string): TestKey {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const privatePem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const path = join(dir, `${name}.key`);
  const pubPath = join(dir, `${name}.pub`);
  writeFileSync(path, privatePem, { mode: 0o600 });
  writeFileSync(pubPath, publicKey.export({ type: 'spki', format: 'pem' }).toString());
  return { path, pubPath, publicKey, privatePem };
}

export const HOOK_SECRET_ENV = 'CW_TEST_CHECKPOINT_HOOK';

/** A whsec_ secret for the receiver, set in the environment the config refers to. */
export function hookSecret(): string {
  const secret = `whsec_${randomBytes(32).toString('base64')}`;
  process.env[HOOK_SECRET_ENV] = secret;
  return secret;
}

export interface TestChain {
  prefix: string;
  files: TestAppFiles;
  app: App;
  /** The JSONL mirror (audit.file). */
  auditFile: string;
  /** The checkpoint file sink, in a directory of its own. */
  anchor: string;
  /** A log on the test connection, for reading and tampering. */
  log: RedisAuditLog;
}

export interface ChainOptions {
  prefix: string;
  key: TestKey | null;
  hookUrl: string;
  events?: number;
  /** More config (merged at the top level). */
  extra?: Record<string, unknown>;
}

export const eventInput = (i: number): AppendInput => ({
  type: 'action.intent',
  actor: 'worker/w0',
  subject: `aws/123456789012/access-key/AKIAEXAMPLE${i}`,
  data: { i, reason: 'stale-key' },
});

/** A config with checkpoints (when `key` is given) and `events` events appended through its App. */
export async function makeChain(redis: RedisClient, o: ChainOptions): Promise<TestChain> {
  const anchor = join(mkdtempSync(join(tmpdir(), 'cw-anchor-')), 'checkpoints.jsonl');
  const files = writeTestFiles(
    {
      redis: { prefix: o.prefix },
      alerts: { sinks: [{ name: 'anchor', type: 'webhook', url: o.hookUrl, secrets: [`\${env:${HOOK_SECRET_ENV}}`] }] },
      ...(o.key
        ? {
            evidence: {
              signingKey: o.key.path,
              checkpoints: {
                sinks: [
                  { type: 'file', path: anchor },
                  { type: 'webhook', sink: 'anchor' },
                ],
              },
            },
          }
        : {}),
      ...o.extra,
    },
    { agents: [] },
  );
  const app = await testApp(files);
  const n = o.events ?? 30;
  if (n > 0) await app.audit.appendMany(Array.from({ length: n }, (_, i) => eventInput(i + 1)));
  const log = new RedisAuditLog(redis, { prefix: testKeyPrefix(o.prefix), clock: systemClock });
  return { prefix: o.prefix, files, app, auditFile: app.config.audit.file, anchor, log };
}

export async function cli(configPath: string, ...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = captureIo();
  const code = await run(['--config', configPath, ...args], io);
  return { code, out: io.stdout.join('\n'), err: io.stderr.join('\n') };
}

/** `audit verify --json`: the exit code and the entries. */
export async function verifyJson(
  configPath: string,
  ...args: string[]
): Promise<{ code: number; entries: AuditCheck[] }> {
  const r = await cli(configPath, 'audit', 'verify', '--json', ...args);
  if (r.err) throw new Error(`audit verify wrote to stderr: ${r.err}`);
  return { code: r.code, entries: JSON.parse(r.out) as AuditCheck[] };
}

export const copy = (entries: AuditCheck[], where: string): CopyResult => {
  const e = entries.find((x) => x.where === where);
  if (!e) throw new Error(`no entry for ${where}: ${entries.map((x) => x.where).join(', ')}`);
  return e.result as CopyResult;
};

export async function fileLines(path: string): Promise<string[]> {
  return (await readFile(path, 'utf8')).split('\n').filter((l) => l.length > 0);
}

/** Attack (a): everything after seq `keep` removed from Redis (the head record made to agree) and from the file. */
export async function cutTail(redis: RedisClient, c: TestChain, keep: number): Promise<void> {
  const all = await c.log.read(1);
  for (const e of all.filter((x) => x.seq > keep)) await redis.xdel(c.log.eventsKey, `${e.seq}-0`);
  await redis.hset(c.log.headKey, 'seq', String(keep), 'hash', all[keep - 1]!.hash);
  const lines = await fileLines(c.auditFile);
  await writeFile(c.auditFile, `${lines.slice(0, keep).join('\n')}\n`);
}

/**
 * Attack (b): event `seq` edited and it and every later event re-hashed, consistently, in Redis (the
 * stream written anew, the head record made to agree) and in the file.
 */
export async function rewriteFrom(redis: RedisClient, c: TestChain, seq: number): Promise<AuditEvent[]> {
  const all = await c.log.read(1);
  let prev = all[seq - 2]!.hash;
  const out = all.map((e) => {
    if (e.seq < seq) return e;
    const data = e.seq === seq ? { ...e.data, reason: 'nothing to see here' } : e.data;
    const x = { ...e, data, prevHash: prev };
    const hashed = { ...x, hash: hashEvent(x) };
    prev = hashed.hash;
    return hashed;
  });
  await redis.del(c.log.eventsKey);
  for (const e of out) await redis.xadd(c.log.eventsKey, `${e.seq}-0`, 'e', canonicalJson(e));
  await redis.hset(c.log.headKey, 'seq', String(out.length), 'hash', out.at(-1)!.hash);
  await writeFile(c.auditFile, `${out.map((e) => canonicalJson(e)).join('\n')}\n`);
  return out;
}
