/**
 * The 10,000-credential estate the API and dashboard benchmarks read (bench:api, bench:dashboard),
 * and the API server over it in a child process.
 *
 * - `buildEstate`: seeds N Vault tokens into the Vault double with a mix of policies the default
 *   packs find (path "*", sudo on sys/audit and auth/token/create, kv/*, secret-ID minting,
 *   periodic orphans, non-renewable tokens about to expire, narrow ones), half attributed to 20
 *   registered agents (a few ownerless) and half agent-looking but unregistered. A real App on a
 *   temp config (random Redis prefix, the double, the default packs, the given `api.tokens`) scans
 *   it in process (runInProcess), evaluates the scan and plans remediation, as the evaluate job
 *   does: Redis then holds the inventory, findings and scores as production writes them. The App
 *   and the double are closed before it returns; the prefix, the temp dir and the Redis connection
 *   are released with `releases`.
 * - `startServer` / `serveChild`: the benchmark script forked with `--child <config>` runs
 *   buildApp + createApi (the per-subject rate limit raised; it still counts in Redis) + listen on
 *   127.0.0.1 at a free port, request logging at the given level into `<dir>/server.log`. It
 *   reports its address and, on any message, its CPU time.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { openSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { createApi, listen } from '../../src/api/serve.js';
import { createLogger } from '../../src/logger.js';
import { buildApp } from '../../src/main.js';
import type { Finding } from '../../src/model/finding.js';
import type { RunSummary } from '../../src/remediation/service.js';
import { scannerPolicy } from '../../test/fixtures/vault-estate.js';
import { startVaultDouble, type TokenSpec, type VaultDouble } from '../../test/support/vault-double/index.js';
import * as S from './support.js';

export type Release = () => Promise<unknown>;

/** `fn` run at most once; later calls get the first call's promise. */
export const once = (fn: () => Promise<unknown>) => {
  let p: Promise<unknown> | undefined;
  return () => (p ??= fn());
};

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];

// ------------------------------------------------------------------------------------------------
// The estate.

export const POLICIES: Record<string, string> = {
  'credwarden-scanner': scannerPolicy(),
  agent: 'path "secret/data/agents/*" { capabilities = ["read"] }',
  everything: 'path "*" { capabilities = ["create", "read", "update", "delete", "list"] }',
  'sudo-ops': `path "sys/audit/*" { capabilities = ["update", "sudo"] }
path "auth/token/create" { capabilities = ["update", "sudo"] }`,
  'kv-all': 'path "kv/*" { capabilities = ["read", "list"] }',
  minter: 'path "auth/approle/role/+/secret-id" { capabilities = ["update"] }',
};
/** The token mix: [share out of 20, label, what those tokens get]. Attribution is by `meta.agent`. */
export const MIX: [number, string, Omit<TokenSpec, 'meta' | 'displayName'>][] = [
  [1, 'path "*"', { policies: ['everything'], ttl: '720h' }],
  [1, 'sudo on sys/audit/* and auth/token/create', { policies: ['sudo-ops'], ttl: '720h' }],
  [2, 'kv/* read', { policies: ['kv-all'], ttl: '720h' }],
  [1, 'secret-ID minting', { policies: ['minter'], ttl: '720h' }],
  [2, 'periodic orphan (never expires)', { policies: ['agent'], orphan: true, period: '24h' }],
  [2, 'non-renewable, expires in 48 h', { policies: ['agent'], ttl: '48h', renewable: false }],
  [11, 'narrow secret/data/agents/*', { policies: ['agent'], ttl: '720h' }],
];
export const REGISTERED = 20;

export function seedDouble(double: VaultDouble, n: number): { scanner: string; mix: Record<string, number> } {
  for (const [name, text] of Object.entries(POLICIES)) double.putPolicy('', name, text);
  const scanner = double.createToken({ policies: ['credwarden-scanner'], displayName: 'credwarden', ttl: '768h' });
  const slots = MIX.flatMap(([share, label, spec]) => Array.from({ length: share }, () => [label, spec] as const));
  const mix: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const [label, spec] = slots[i % slots.length]!;
    mix[label] = (mix[label] ?? 0) + 1;
    double.createToken({ ...spec, displayName: `agent-${i}`, meta: { agent: `bench-agent-${i % (2 * REGISTERED)}` } });
  }
  return { scanner: scanner.token, mix };
}

export const registry = {
  agents: Array.from({ length: REGISTERED }, (_, k) => ({
    id: `bench-agent-${k}`,
    name: `Bench agent ${k}`,
    ...(k % 5 === 4 ? {} : { owner: { team: `team-${k % 4}`, contact: `team-${k % 4}@example.com` } }),
    version: '1.0.0',
    environment: k % 2 === 0 ? 'prod' : 'staging',
    scopes: { vault: [{ path: 'secret/data/agents/*', capabilities: ['read'] }] },
    selectors: { vault: { meta: { agent: `bench-agent-${k}` } } },
  })),
  unregistered: { vault: { meta: ['agent'], displayNamePatterns: [], policyPatterns: [] } },
};

/** An `api.tokens` entry of the config. */
export interface ApiToken {
  subject: string;
  roles: string[];
  hash: string;
}

export interface Estate {
  redis: Redis;
  prefix: string;
  dir: string;
  configPath: string;
  seeded: { scanner: string; mix: Record<string, number> };
  /** The current inventory's credential ids. */
  ids: string[];
  findings: Finding[];
  plan: RunSummary;
  /** Seconds: seeding, the scan, evaluation + planning. */
  setup: { seed: number; scan: number; evaluate: number };
}

/**
 * Seeds `n` tokens, scans, evaluates and plans (timed, not measured); logs one line of what it
 * built. Throws when the inventory is not the one the benchmarks need.
 */
export async function buildEstate(o: {
  bench: string;
  n: number;
  tokens: ApiToken[];
  releases: Release[];
  log: (m: string) => void;
}): Promise<Estate> {
  const { bench, n, releases, log } = o;
  const redis = new Redis(S.REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  redis.on('error', () => undefined);
  await redis.connect();
  releases.push(async () => redis.disconnect());
  const prefix = S.randomPrefix(bench);
  const dir = await mkdtemp(join(tmpdir(), `cwbench-${bench}-`));
  releases.push(() => rm(dir, { recursive: true, force: true }));
  releases.push(async () => log(`deleted ${await S.deletePrefix(redis, prefix)} Redis keys under ${prefix}:`));

  const double = await startVaultDouble();
  const closeDouble = once(() => double.close());
  releases.push(closeDouble);
  const t0 = performance.now();
  const seeded = seedDouble(double, n);
  const seedMs = performance.now() - t0;
  const tokenVar = `CW_BENCH_${bench.toUpperCase()}_VAULT_TOKEN`;
  process.env[tokenVar] = seeded.scanner; // the server child inherits it
  const config = {
    redis: { url: S.REDIS_URL, prefix },
    vault: [{ name: 'bench', address: double.address, token: ['$', `{env:${tokenVar}}`].join(''), approleMounts: [] }],
    registry: 'agents.yaml',
    audit: { file: 'audit.jsonl' },
    api: { tokens: o.tokens },
  };
  const configPath = join(dir, 'credwarden.yaml');
  await writeFile(join(dir, 'agents.yaml'), JSON.stringify(registry)); // JSON is YAML
  await writeFile(configPath, JSON.stringify(config));
  const app = await buildApp({ configPath, log: createLogger({ level: 'warn' }) });
  const closeApp = once(() => app.close());
  releases.push(closeApp);
  app.remediation.setEnqueue(async () => {});
  const scanId = `bench-${bench}-${Date.now()}`;
  const t1 = performance.now();
  const units = app.orchestrator.units();
  const scan = await app.orchestrator.runInProcess(scanId, 'bench', units, app.config.worker.discoverConcurrency);
  const t2 = performance.now();
  const evaluation = await app.findings.evaluateScan(scanId);
  const plan = await app.remediation.planScan(scanId);
  const t3 = performance.now();
  const ids = (await app.scans.currentInventory()).map((c) => c.id);
  const findings = await app.findings.all();
  await closeApp();
  await closeDouble();
  const setup = { seed: +S.seconds(seedMs), scan: +S.seconds(t2 - t1), evaluate: +S.seconds(t3 - t2) };
  log(
    `seeded ${n} tokens in ${setup.seed} s; scan ${scan.status} (${ids.length} credentials) in ${setup.scan} s; ` +
      `evaluation + planning ${setup.evaluate} s: ${findings.length} findings, ${plan.plans} remediation plans`,
  );
  if (scan.status !== 'complete' || ids.length < n || findings.length === 0 || evaluation.held)
    throw new Error(`not the inventory the benchmark needs: scan ${scan.status}, ${ids.length} credentials`);
  return { redis, prefix, dir, configPath, seeded, ids, findings, plan, setup };
}

// ------------------------------------------------------------------------------------------------
// The server child: `<script> --child <config> --log-level L`.

type FromChild = { type: 'listening'; address: string } | { type: 'cpu'; micros: number };

/** The child's side: run from the benchmark script when it was forked with --child. */
export async function serveChild(configPath: string, logLevel: string): Promise<void> {
  const app = await buildApp({ configPath, redisProfile: 'producer', defaultLogLevel: logLevel });
  const api = await createApi(app, { perMinute: 1_000_000_000 });
  const address = await listen(api, '127.0.0.1:0');
  const stop = once(async () => {
    await api.close().catch(() => undefined);
    await app.close().catch(() => undefined);
    process.exit(0);
  });
  for (const sig of ['SIGINT', 'SIGTERM', 'disconnect'] as const) process.once(sig, () => void stop());
  process.on('message', () => {
    const u = process.cpuUsage();
    process.send?.({ type: 'cpu', micros: u.user + u.system } satisfies FromChild);
  });
  process.send?.({ type: 'listening', address } satisfies FromChild);
}

export interface Server {
  /** e.g. http://127.0.0.1:41234 */
  base: string;
  pid: number | undefined;
  /** The child's CPU time so far, seconds. */
  cpu(): Promise<number>;
}

/** Forks `script --child <config> --log-level L` and waits for it to listen; stopped with `releases`. */
export async function startServer(o: {
  script: string;
  configPath: string;
  logLevel: string;
  dir: string;
  releases: Release[];
}): Promise<Server> {
  const serverLog = join(o.dir, 'server.log');
  const server: ChildProcess = fork(o.script, ['--child', o.configPath, '--log-level', o.logLevel], {
    stdio: ['ignore', 'ignore', openSync(serverLog, 'a'), 'ipc'],
  });
  const exited = new Promise<void>((resolve) => server.once('exit', () => resolve()));
  o.releases.push(async () => {
    if (server.exitCode === null && server.signalCode === null) server.kill('SIGTERM');
    const t = setTimeout(() => server.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(t);
  });
  const tail = () => readFileSync(serverLog, 'utf8').trim().split('\n').slice(-10).join('\n');
  const base = await new Promise<string>((resolve, reject) => {
    server.on('message', (m: FromChild) => m.type === 'listening' && resolve(m.address));
    void exited.then(() => reject(new Error(`the server exited before listening:\n${tail()}`)));
  });
  const cpu = () =>
    new Promise<number>((resolve, reject) => {
      const on = (m: FromChild) => {
        if (m.type !== 'cpu') return;
        server.off('message', on);
        resolve(m.micros / 1e6);
      };
      server.on('message', on);
      server.send('cpu');
      setTimeout(() => reject(new Error('the server did not report its CPU time')), 5000).unref();
    });
  return { base, pid: server.pid, cpu };
}

/**
 * The main-process wrapper both benchmarks use: runs `main` with a list of releases, runs them
 * (newest first) on exit and on SIGINT/SIGTERM (exit 130), and exits with main's code (1 on a throw).
 * `signal` is aborted when the clean-up begins, so `main` can stop measuring what is being torn down.
 */
export async function runBench(
  log: (m: string) => void,
  main: (releases: Release[], signal: AbortSignal) => Promise<number>,
  before?: () => void,
): Promise<never> {
  const releases: Release[] = [];
  const stopping = new AbortController();
  const cleanup = once(async () => {
    stopping.abort();
    before?.();
    for (const r of releases.reverse()) await r().catch((err: Error) => log(`cleanup: ${err.message}`));
  });
  for (const sig of ['SIGINT', 'SIGTERM'] as const)
    process.once(sig, () => {
      log(`${sig}: cleaning up`);
      void cleanup().finally(() => process.exit(130));
    });
  let code = 1;
  try {
    code = await main(releases, stopping.signal);
  } catch (err) {
    if (!stopping.signal.aborted) log(`failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  } finally {
    await cleanup();
  }
  process.exit(code);
}
