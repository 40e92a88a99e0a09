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
 * Paths driven: CLI `scan --once --json`, `inventory --json`, `audit verify` (in-process run(),
 * captured Io); the CLI as a process with --debug (its own pino logger on stderr); buildApp with a
 * trace-level logger into a captured stream, both in-process and through the queues (with one
 * account that fails, so error and warning paths log too). Then everything under the Redis prefix
 * (every key type, BullMQ job hashes included), every file in the config directory (the JSONL
 * mirror), all CLI output and all log lines are searched for every canary, in raw, URL-encoded,
 * JSON-escaped, base64 and hex form. Positive controls show the dump holds what a scan writes.
 */
import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, request, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { IAMClient } from '@aws-sdk/client-iam';
import { STSClient } from '@aws-sdk/client-sts';
import type { AwsCredentialIdentity } from '@smithy/types';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { startWorkers } from '../../jobs/workers.js';
import { run } from '../../src/cli/main.js';
import type { ScanSummary } from '../../src/inventory/summary.js';
import { createLogger } from '../../src/logger.js';
import { buildApp } from '../../src/main.js';
import { ids, JobNames } from '../../src/queue/names.js';
import { closeQueues, createQueues } from '../../src/queue/runtime.js';
import type { AwsSdkFactories } from '../../src/sources/aws/client-pool.js';
import { ACCOUNT_A, ACCOUNT_B, registry, type SeededEstate, seedEstate } from '../fixtures/aws-estate.js';
import { type TestAppFiles, useMotoCredentialsEnv } from '../support/app.js';
import { type Canary, captureIo, dumpRedisPrefix, findLeaks, type Haystack, lineSink } from '../support/capture.js';
import { useMoto } from '../support/moto.js';
import { useRedis } from '../support/redis.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const moto = useMoto();
const r = useRedis('canary');

/** An account whose role lands in another account: a failed unit, so warning and error paths run. */
const MISMATCHED = { id: '444444444444', roleArn: 'arn:aws:iam::333333333333:role/credwarden-reader' };

const canaryEnv = {
  CW_CANARY_EXTERNAL_ID: `cwcanary-ext-${randomUUID()}`,
  CW_CANARY_HMAC: `cwcanary-hmac-${randomBytes(16).toString('hex')}`,
  AWS_SECRET_ACCESS_KEY: `cwcanary-base-${randomBytes(20).toString('base64url')}`,
};

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

interface RecordingProxy {
  endpoint: string;
  /** Every response body moto sent back. */
  bodies: string[];
  close(): Promise<void>;
}

/** An HTTP proxy in front of moto that keeps every response body (to learn the STS credentials). */
async function startRecordingProxy(target: string): Promise<RecordingProxy> {
  const t = new URL(target);
  const bodies: string[] = [];
  const server: Server = createServer((req, res) => {
    const up = request(
      { host: t.hostname, port: t.port, path: req.url, method: req.method, headers: req.headers },
      (upRes: IncomingMessage) => {
        const chunks: Buffer[] = [];
        upRes.on('data', (c: Buffer) => chunks.push(c));
        upRes.on('end', () => {
          const raw = Buffer.concat(chunks);
          const gz = upRes.headers['content-encoding'] === 'gzip';
          bodies.push((gz ? gunzipSync(raw) : raw).toString('utf8'));
          res.writeHead(upRes.statusCode ?? 502, upRes.headers);
          res.end(raw);
        });
      },
    );
    up.on('error', (err) => {
      res.writeHead(502);
      res.end(String(err));
    });
    req.pipe(up);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    endpoint: `http://127.0.0.1:${port}`,
    bodies,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const xmlText = (s: string) =>
  s
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');

/** SecretAccessKey and SessionToken values in the recorded STS responses. */
function wireSecrets(bodies: string[]): { secretAccessKeys: string[]; sessionTokens: string[] } {
  const all = (tag: string) =>
    [
      ...new Set(bodies.flatMap((b) => [...b.matchAll(new RegExp(`<${tag}>([^<]+)</${tag}>`, 'g'))].map((m) => m[1]!))),
    ].map(xmlText);
  return { secretAccessKeys: all('SecretAccessKey'), sessionTokens: all('SessionToken') };
}

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

function filesUnder(dir: string): Haystack[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((rel) => join(dir, rel))
    .filter((p) => statSync(p).isFile())
    .map((p) => ({ where: `file ${p}`, text: readFileSync(p, 'utf8') }));
}

async function waitForSummary(get: () => Promise<ScanSummary | null>, timeoutMs: number): Promise<ScanSummary> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = await get();
    if (s && s.status !== 'running') return s;
    if (Date.now() > deadline) throw new Error(`scan did not finish within ${timeoutMs} ms`);
    await new Promise((res) => setTimeout(res, 100));
  }
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
      redis: { url: r.url, prefix: r.prefix },
      aws: { endpoint: proxy.endpoint, accounts, maxAttempts: 1 },
      scan: { timeoutSeconds: 60 },
      worker: { shutdownTimeoutSeconds: 10 },
      audit: { file: 'audit.jsonl', hmacKey: envRef('CW_CANARY_HMAC') },
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

  it('CLI audit verify (chain HMACed with the canary key)', async () => {
    const res = await cli('audit', 'verify', '--json');
    expect(res.code).toBe(0);
    const results = JSON.parse(res.out) as { where: string; result: { ok: boolean; count?: number } }[];
    expect(results.map((x) => x.where === 'cross-check')).toEqual([false, false, true]);
    expect(results.every((x) => x.result.ok && (x.where === 'cross-check' || (x.result.count ?? 0) > 0))).toBe(true);
  }, 30_000);

  it('no canary occurs in Redis, the audit file, job data, CLI output or logs', async () => {
    // The canaries, each non-trivial.
    const wire = wireSecrets(proxy.bodies);
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
    expect(redisDump.some((h) => h.where.includes(`${r.prefix}:bull:discover:`) && h.text.includes('unitKey'))).toBe(
      true,
    );
    expect(redisDump.some((h) => h.where.endsWith(`${r.prefix}:audit:events`))).toBe(true);
    expect(readFileSync(join(files.dir, 'audit.jsonl'), 'utf8').split('\n').length).toBeGreaterThan(10);
    expect(logLines.lines.length).toBeGreaterThan(0);
    expect(outputs.find((o) => o.where === 'cli process stderr')?.text).toBeDefined();
    // The search itself finds a planted canary in every form it looks for.
    const probe = canaries.find((c) => c.label === 'externalId')!;
    for (const form of [probe.value, Buffer.from(probe.value).toString('base64'), encodeURIComponent(probe.value)]) {
      expect(findLeaks([probe], [{ where: 'probe', text: `x${form}y` }])).toHaveLength(1);
    }

    expect(findLeaks(canaries, haystacks)).toEqual([]);
  }, 30_000);
});
