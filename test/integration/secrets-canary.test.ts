/**
 * DESIGN invariant 1: no secret value (AWS secret key, session token, external id, audit HMAC key)
 * is ever in Redis, the audit log (Redis stream and JSONL file), job data, CLI output or logs.
 *
 * Canaries planted:
 * - every SecretAccessKey seedEstate created in moto (the estate the scanner inventories);
 * - the scanner's own default-chain secret (AWS_SECRET_ACCESS_KEY, random for this file);
 * - every SecretAccessKey and SessionToken STS handed out during the scans, read off the wire by
 *   a recording proxy in front of moto (so the CLI's own clients are covered too) and, for the
 *   buildApp runs, also from the credential providers credwarden gave its IAM clients;
 * - an account's externalId (`${env:CW_CANARY_EXTERNAL_ID}`) and audit.hmacKey (`${env:CW_CANARY_HMAC}`).
 *
 * - the HTTP API's bearer token (its config holds only the scrypt hash);
 * - the evidence signing key (`${env:CW_CANARY_EVIDENCE_KEY}`, an Ed25519 PKCS#8 PEM): its PEM body
 *   and its raw 32-byte private scalar.
 *
 * Paths driven: CLI `scan --once --json`, `inventory --json`, `audit verify` (in-process run(),
 * captured Io); the CLI as a process with --debug (its own pino logger on stderr); buildApp with a
 * trace-level logger into a captured stream, both in-process and through the queues (with one
 * account that fails, so error and warning paths log too); the HTTP API (every GET route, writes,
 * /metrics, /openapi.json, with a trace logger); `audit checkpoint` and `evidence export`, with
 * every file inside the evidence pack unpacked and searched (the pack is for auditors: it leaves
 * the estate). Then everything under the Redis prefix
 * (every key type, BullMQ job hashes included), every file in the config directory (the JSONL
 * mirror), all CLI output and all log lines are searched for every canary, in raw, URL-encoded,
 * JSON-escaped, base64 and hex form. Positive controls show the dump holds what a scan writes.
 */
import { execFile } from 'node:child_process';
import { createPrivateKey, generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { IAMClient } from '@aws-sdk/client-iam';
import { STSClient } from '@aws-sdk/client-sts';
import type { AwsCredentialIdentity } from '@smithy/types';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { startWorkers } from '../../jobs/workers.js';
import { routes } from '../../src/api/routes/index.js';
import { createApi } from '../../src/api/serve.js';
import { hashToken } from '../../src/api/tokens.js';
import { run } from '../../src/cli/main.js';
import { readTarGz } from '../../src/evidence/tar-reader.js';
import { createLogger } from '../../src/logger.js';
import { buildApp } from '../../src/main.js';
import { ids, JobNames } from '../../src/queue/names.js';
import { closeQueues, createQueues } from '../../src/queue/runtime.js';
import type { AwsSdkFactories } from '../../src/sources/aws/client-pool.js';
import { ACCOUNT_A, ACCOUNT_B, registry, type SeededEstate, seedEstate } from '../fixtures/aws-estate.js';
import { type TestAppFiles, useMotoCredentialsEnv } from '../support/app.js';
import {
  filesUnder,
  type RecordingProxy,
  startRecordingProxy,
  waitForSummary,
  wireSecrets,
} from '../support/canary-capture.js';
import { type Canary, captureIo, dumpRedisPrefix, findLeaks, type Haystack, lineSink } from '../support/capture.js';
import { useMoto } from '../support/moto.js';
import { testQueueKey, testRedisConfig, useRedis } from '../support/redis.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const moto = useMoto();
const r = useRedis('canary');

/** An account whose role lands in another account: a failed unit, so warning and error paths run. */
const MISMATCHED = { id: '444444444444', roleArn: 'arn:aws:iam::333333333333:role/credwarden-reader' };

/** The API bearer token of this file's admin subject: a secret like the others. */
const API_TOKEN = `cwcanary-api-${randomBytes(24).toString('base64url')}`;

const canaryEnv = {
  CW_CANARY_EXTERNAL_ID: `cwcanary-ext-${randomUUID()}`,
  CW_CANARY_HMAC: `cwcanary-hmac-${randomBytes(16).toString('hex')}`,
  AWS_SECRET_ACCESS_KEY: `cwcanary-base-${randomBytes(20).toString('base64url')}`,
  CW_CANARY_EVIDENCE_KEY: generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
};
/** The evidence key's secrets: the PEM's base64 body (one line) and the private scalar (JWK `d`). */
const evidenceKeySecrets = (() => {
  const key = createPrivateKey(canaryEnv.CW_CANARY_EVIDENCE_KEY);
  const d = Buffer.from(key.export({ format: 'jwk' }).d!, 'base64url');
  const body = canaryEnv.CW_CANARY_EVIDENCE_KEY.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, '');
  return { body, scalar: d };
})();

/** A `${env:NAME}` reference, as a config file spells it. */
const envRef = (name: string) => `\${env:${name}}`;

/** Everything collected along the way; searched at the end. */
const outputs: Haystack[] = [];
const logLines = lineSink();
let estate: SeededEstate;
let files: TestAppFiles;
let failingConfig: string;
let proxy: RecordingProxy;
const providerCreds: AwsCredentialIdentity[] = [];
const savedEnv: Record<string, string | undefined> = {};

/** The SDK factories credwarden would use, but recording what each IAM client's credential provider yields. */
const recordingSdk: AwsSdkFactories = {
  iam: (config) => {
    const provider = config.credentials;
    if (typeof provider !== 'function') return new IAMClient(config);
    return new IAMClient({
      ...config,
      credentials: async (...args: Parameters<typeof provider>) => {
        const creds = await provider(...args);
        providerCreds.push(creds);
        return creds;
      },
    });
  },
  sts: (config) => new STSClient(config),
};

async function cli(...args: string[]) {
  const io = captureIo();
  const code = await run(['--config', files.configPath, ...args], io);
  const label = args.join(' ');
  outputs.push({ where: `cli stdout: ${label}`, text: io.stdout.join('\n') });
  outputs.push({ where: `cli stderr: ${label}`, text: io.stderr.join('\n') });
  return { code, out: io.stdout.join('\n'), err: io.stderr.join('\n') };
}

describe('invariant 1: no secret value reaches any output', () => {
  beforeAll(async () => {
    useMotoCredentialsEnv();
    for (const [k, v] of Object.entries(canaryEnv)) {
      savedEnv[k] = process.env[k];
      process.env[k] = v;
    }
    estate = await seedEstate(moto.endpoint);
    proxy = await startRecordingProxy(moto.endpoint);
    const accounts = [
      {
        id: ACCOUNT_A,
        roleArn: `arn:aws:iam::${ACCOUNT_A}:role/credwarden-reader`,
        externalId: envRef('CW_CANARY_EXTERNAL_ID'),
      },
      { id: ACCOUNT_B, roleArn: `arn:aws:iam::${ACCOUNT_B}:role/credwarden-reader` },
    ];
    const dir = mkdtempSync(join(tmpdir(), 'cw-canary-'));
    writeFileSync(join(dir, 'agents.yaml'), stringify(registry));
    const config = {
      registry: 'agents.yaml',
      redis: testRedisConfig({ prefix: r.prefix }),
      aws: { endpoint: proxy.endpoint, accounts, maxAttempts: 1 },
      scan: { timeoutSeconds: 60 },
      worker: { shutdownTimeoutSeconds: 10 },
      audit: { file: 'audit.jsonl', hmacKey: envRef('CW_CANARY_HMAC') },
      api: { tokens: [{ subject: 'canary-admin', roles: ['admin'], hash: await hashToken(API_TOKEN) }] },
      evidence: { signingKey: envRef('CW_CANARY_EVIDENCE_KEY') },
    };
    files = { dir, configPath: join(dir, 'credwarden.yaml') };
    writeFileSync(files.configPath, stringify(config));
    failingConfig = join(dir, 'with-failing-account.yaml');
    writeFileSync(
      failingConfig,
      stringify({
        ...config,
        aws: { ...config.aws, accounts: [...accounts, { ...MISMATCHED, externalId: envRef('CW_CANARY_EXTERNAL_ID') }] },
      }),
    );
  });

  afterAll(async () => {
    await proxy?.close();
    for (const [k, v] of Object.entries(savedEnv)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });

  it('CLI scan --once --json (queues, in-process worker)', async () => {
    const res = await cli('scan', '--once', '--json');
    expect(res.err).toBe('');
    expect(res.code).toBe(0);
    expect(JSON.parse(res.out)).toMatchObject({ status: 'complete', counts: { credentials: 8 } });
  }, 60_000);

  it('CLI inventory --json', async () => {
    const res = await cli('inventory', '--json');
    expect(res.code).toBe(0);
    expect(JSON.parse(res.out)).toHaveLength(8);
  }, 60_000);

  it('CLI as a process with --debug: stdout and its own logger on stderr', async () => {
    const { stdout, stderr } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', '--config', files.configPath, '--debug', 'scan', '--once', '--json'],
      { cwd: ROOT, env: { ...process.env }, timeout: 60_000, maxBuffer: 64 * 1024 * 1024 },
    );
    outputs.push({ where: 'cli process stdout', text: stdout }, { where: 'cli process stderr', text: stderr });
    expect(JSON.parse(stdout)).toMatchObject({ status: 'complete' });
  }, 90_000);

  it('buildApp with a trace logger: in-process and through the queues, one account failing', async () => {
    const log = createLogger({ level: 'trace', destination: logLines });
    const app = await buildApp({ configPath: failingConfig, log, awsSdk: recordingSdk });
    try {
      const units = app.orchestrator.units();
      const inProcess = await app.orchestrator.runInProcess(`canary-inproc-${randomUUID()}`, 'test', units, 2);
      expect(inProcess.status).toBe('partial');

      const queues = createQueues(app);
      const workers = startWorkers(app, queues);
      try {
        const scanId = `canary-queue-${randomUUID()}`;
        await queues.scan.add(
          JobNames.startScan,
          { trigger: 'cli', scanId, units: units.map((u) => u.key) },
          { jobId: ids.startScan(scanId), attempts: 3 },
        );
        const summary = await waitForSummary(() => app.scans.summary(scanId), 45_000);
        expect(summary.status).toBe('partial');
        expect(JSON.stringify(summary.units)).toContain(MISMATCHED.id);
      } finally {
        await workers.close(10_000);
        await closeQueues(queues);
      }
    } finally {
      await app.close();
    }
    expect(logLines.lines.some((l) => l.includes('"level":40'))).toBe(true); // the failing account warned
  }, 90_000);

  it('the HTTP API: every GET route, a write, /metrics and /openapi.json, with a trace logger', async () => {
    const log = createLogger({ level: 'trace', destination: logLines });
    const app = await buildApp({ configPath: files.configPath, log });
    const api = await createApi(app, { sharedRateLimit: false });
    try {
      const credential = (await app.scans.currentInventory())[0]!.id;
      const finding = (await app.findings.all())[0]?.fingerprint ?? 'none';
      const scan = (await app.scans.recent(1))[0]!.id;
      const fill: Record<string, string> = { id: credential, fingerprint: finding };
      const headers = { authorization: `Bearer ${API_TOKEN}` };
      let gets = 0;
      for (const route of routes) {
        if (route.method !== 'GET') continue;
        const id = route.url.startsWith('/api/v1/scans/') ? scan : undefined;
        const url = route.url.replace(/:([A-Za-z]+)/g, (_, k: string) => encodeURIComponent(id ?? fill[k] ?? 'x'));
        const res = await api.server.inject({ method: 'GET', url, headers });
        expect(res.statusCode, `${url}: ${res.body.slice(0, 200)}`).toBeLessThan(500);
        outputs.push({ where: `api GET ${url}`, text: `${JSON.stringify(res.headers)}\n${res.body}` });
        gets++;
      }
      expect(gets).toBeGreaterThan(15);
      for (const [url, body] of [
        ['/api/v1/remediation/pause', { reason: 'canary' }],
        ['/api/v1/remediation/resume', {}],
        ['/api/v1/scans', { account: 'no-such-account' }],
      ] as const) {
        const res = await api.server.inject({ method: 'POST', url, headers, payload: body });
        outputs.push({ where: `api POST ${url}`, text: `${JSON.stringify(res.headers)}\n${res.body}` });
      }
      const cred = await api.server.inject({
        method: 'GET',
        url: `/api/v1/credentials/${encodeURIComponent(credential)}`,
        headers,
      });
      expect(cred.statusCode).toBe(200);
      expect(cred.body).toContain(credential.split('/').at(-1));
    } finally {
      await api.close();
      await app.close();
    }
  }, 60_000);

  it('CLI audit verify (chain HMACed with the canary key)', async () => {
    const res = await cli('audit', 'verify', '--json');
    expect(res.code).toBe(0);
    const results = JSON.parse(res.out) as { where: string; result: { ok: boolean; count?: number } }[];
    expect(results.map((x) => x.where === 'cross-check')).toEqual([false, false, true]);
    expect(results.every((x) => x.result.ok && (x.where === 'cross-check' || (x.result.count ?? 0) > 0))).toBe(true);
  }, 30_000);

  it('audit checkpoint and evidence export: every file of the pack, unpacked', async () => {
    const cp = await cli('audit', 'checkpoint');
    expect(cp.code, cp.err).toBe(0);
    const out = join(mkdtempSync(join(tmpdir(), 'cw-canary-pack-')), 'pack.tar.gz');
    const today = new Date().toISOString().slice(0, 10);
    const res = await cli('evidence', 'export', '--framework', 'soc2', '--from', today, '--to', today, '--out', out);
    expect(res.code, res.err).toBe(0);
    const names: string[] = [];
    for await (const entry of readTarGz(out)) {
      const parts: Buffer[] = [];
      for await (const b of entry.body) parts.push(b);
      names.push(entry.path);
      outputs.push({ where: `evidence pack ${entry.path}`, text: Buffer.concat(parts).toString('utf8') });
    }
    expect(names).toEqual(expect.arrayContaining(['report.html', 'audit/slice.jsonl', 'public-key.pem', 'verify.mjs']));
    const verified = await cli('evidence', 'verify', out);
    expect(verified.code, verified.out).toBe(0);
  }, 60_000);

  it('no canary occurs in Redis, the audit file, job data, CLI output or logs', async () => {
    // The canaries, each non-trivial.
    const wire = wireSecrets(proxy.exchanges.map((x) => x.res));
    const seeded = Object.values(estate.keys).flat();
    const canaries: Canary[] = [
      ...seeded.map((k) => ({ label: `seeded secret key of ${k.user}/${k.accessKeyId}`, value: k.secretAccessKey })),
      ...wire.secretAccessKeys.map((v, i) => ({ label: `assumed-role secret key #${i}`, value: v })),
      ...wire.sessionTokens.map((v, i) => ({ label: `assumed-role session token #${i}`, value: v })),
      ...providerCreds.flatMap((c, i) => [
        { label: `provider secret key #${i}`, value: c.secretAccessKey },
        ...(c.sessionToken ? [{ label: `provider session token #${i}`, value: c.sessionToken }] : []),
      ]),
      { label: 'externalId', value: canaryEnv.CW_CANARY_EXTERNAL_ID },
      { label: 'audit hmacKey', value: canaryEnv.CW_CANARY_HMAC },
      { label: 'default-chain secret key', value: canaryEnv.AWS_SECRET_ACCESS_KEY },
      { label: 'API bearer token', value: API_TOKEN },
      { label: 'evidence key PEM body', value: evidenceKeySecrets.body },
      { label: 'evidence key private scalar (base64)', value: evidenceKeySecrets.scalar.toString('base64') },
      { label: 'evidence key private scalar (base64url)', value: evidenceKeySecrets.scalar.toString('base64url') },
      { label: 'evidence key private scalar (hex)', value: evidenceKeySecrets.scalar.toString('hex') },
    ];
    // seedEstate creates 5 keys; the scans assumed roles in A and B every run, and 333… in the buildApp run.
    expect(seeded.length).toBe(5);
    expect(wire.sessionTokens.length).toBeGreaterThanOrEqual(3);
    expect(providerCreds.length).toBeGreaterThan(0);
    // The wire capture saw the very credentials credwarden's providers yielded.
    for (const c of providerCreds) {
      expect(wire.secretAccessKeys).toContain(c.secretAccessKey);
      expect(wire.sessionTokens).toContain(c.sessionToken);
    }

    const redisDump = await dumpRedisPrefix(r.redis, r.prefix);
    const haystacks = [
      ...redisDump,
      ...filesUnder(files.dir),
      ...outputs,
      ...logLines.lines.map((l, i) => ({ where: `log line ${i}`, text: l })),
    ];

    // Positive controls: the dump holds what the scans wrote, so a clean result is meaningful.
    const all = haystacks.map((h) => h.text).join('\n');
    for (const k of [...estate.keys['svc-invoice-bot']!, ...estate.keys['svc-etl-bot']!]) {
      expect(all).toContain(k.accessKeyId);
    }
    const types = new Set(redisDump.map((h) => h.where.split(' ')[1]));
    expect([...types]).toEqual(expect.arrayContaining(['hash', 'zset', 'stream', 'string']));
    expect(
      redisDump.some((h) => h.where.includes(`${testQueueKey(r.prefix, 'discover')}:`) && h.text.includes('unitKey')),
    ).toBe(true);
    expect(redisDump.some((h) => h.where.endsWith(`${r.keyPrefix}:audit:events`))).toBe(true);
    expect(readFileSync(join(files.dir, 'audit.jsonl'), 'utf8').split('\n').length).toBeGreaterThan(10);
    expect(logLines.lines.length).toBeGreaterThan(0);
    expect(outputs.find((o) => o.where === 'cli process stderr')?.text).toBeDefined();
    expect(outputs.filter((o) => o.where.startsWith('api ')).length).toBeGreaterThan(15);
    // The pack holds the period's audit slice, with the checkpoint and the export of this very run.
    const slice = outputs.find((o) => o.where === 'evidence pack audit/slice.jsonl')!.text;
    expect(slice).toContain('"type":"audit.checkpoint"');
    expect(slice).toContain('"type":"scan.finished"');
    // The search itself finds a planted canary in every form it looks for.
    const probe = canaries.find((c) => c.label === 'externalId')!;
    for (const form of [probe.value, Buffer.from(probe.value).toString('base64'), encodeURIComponent(probe.value)]) {
      expect(findLeaks([probe], [{ where: 'probe', text: `x${form}y` }])).toHaveLength(1);
    }

    // …and the evidence key, had its PEM (or its JWK) been written anywhere.
    const jwk = JSON.stringify(createPrivateKey(canaryEnv.CW_CANARY_EVIDENCE_KEY).export({ format: 'jwk' }));
    for (const text of [
      canaryEnv.CW_CANARY_EVIDENCE_KEY,
      JSON.stringify({ key: canaryEnv.CW_CANARY_EVIDENCE_KEY }),
      jwk,
    ])
      expect(findLeaks(canaries, [{ where: 'probe', text }]).length).toBeGreaterThan(0);

    expect(findLeaks(canaries, haystacks)).toEqual([]);
  }, 30_000);
});
