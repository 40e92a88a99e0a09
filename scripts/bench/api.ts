/**
 * API read benchmark: `npm run bench:api`. A measurement; it fails only when the routes do not answer 2xx.
 *
 * 1. Seeds N Vault tokens (--credentials, default 10,000) into the Vault double with a mix of
 *    policies the default packs find (path "*", sudo on sys/audit and auth/token/create, kv/*,
 *    secret-ID minting, periodic orphans, non-renewable tokens about to expire, narrow ones), half
 *    attributed to 20 registered agents (a few ownerless) and half agent-looking but unregistered.
 * 2. A real App on a temp config (random Redis prefix, the double, the default packs) scans it in
 *    process (runInProcess), evaluates the scan and plans remediation, as the evaluate job does: Redis
 *    then holds the inventory, findings and scores as production writes them. Not part of the numbers.
 * 3. Process layout: the API runs in a CHILD process (this script with --child: buildApp +
 *    createApi + listen on 127.0.0.1, a free port; request logging at --log-level, default info as
 *    `credwarden serve`, into a file). autocannon runs in this process, so the load generator and the
 *    server do not share an event loop; on a 2-core machine they and redis-server share the cores.
 *    The per-subject rate limit (600/min, not configurable in config) is raised through createApi's
 *    perMinute; it still counts every request in Redis, as in production.
 * 4. Checks each route once (200 and the expected shape; else exit 1), warms it up for 2 s, then
 *    drives it for --duration s with --connections: the findings list, a credential page rotating
 *    over every credential id, and the inventory list. Any non-2xx or error makes the exit code 1.
 * Options: --credentials N, --duration S, --connections C, --log-level L, --json (one JSON line).
 * The Redis prefix, the double, the server and the temp dir are removed on exit and on Ctrl-C.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { openSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { createApi, listen } from '../../src/api/serve.js';
import { hashToken } from '../../src/api/tokens.js';
import { createLogger } from '../../src/logger.js';
import { buildApp } from '../../src/main.js';
import { scannerPolicy } from '../../test/fixtures/vault-estate.js';
import { startVaultDouble, type TokenSpec, type VaultDouble } from '../../test/support/vault-double/index.js';
import * as S from './support.js';

const B = 'api';
const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];
const logLevel = S.argValue('log-level') ?? 'info';
if (!LEVELS.includes(logLevel)) S.usage(B, `--log-level must be one of ${LEVELS.join(', ')}`);
const log = (m: string): void => void process.stderr.write(`bench:${B}: ${m}\n`);
/** `fn` run at most once; later calls get the first call's promise. */
const once = (fn: () => Promise<unknown>) => {
  let p: Promise<unknown> | undefined;
  return () => (p ??= fn());
};

// ------------------------------------------------------------------------------------------------
// The server child: `--child <config>`. Reports its address and, on any message, its CPU time.

type FromChild = { type: 'listening'; address: string } | { type: 'cpu'; micros: number };

async function child(configPath: string): Promise<void> {
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

// ------------------------------------------------------------------------------------------------
// autocannon (CommonJS, no bundled types): the part of its programmatic API used here.

type Histogram = { average: number; p50: number; p99: number; total: number };
interface CannonResult {
  requests: Histogram;
  latency: Histogram;
  non2xx: number;
  errors: number;
  timeouts: number;
  duration: number;
  statusCodeStats: Record<string, { count: number }>;
}
type CannonRequest = { method: string; path: string; headers: Record<string, string> };
type Cannon = (opts: Record<string, unknown>) => Promise<CannonResult> & { stop?: () => void };
const autocannon = createRequire(import.meta.url)('autocannon') as Cannon;

// ------------------------------------------------------------------------------------------------
// The estate.

const POLICIES: Record<string, string> = {
  'credwarden-scanner': scannerPolicy(),
  agent: 'path "secret/data/agents/*" { capabilities = ["read"] }',
  everything: 'path "*" { capabilities = ["create", "read", "update", "delete", "list"] }',
  'sudo-ops': `path "sys/audit/*" { capabilities = ["update", "sudo"] }
path "auth/token/create" { capabilities = ["update", "sudo"] }`,
  'kv-all': 'path "kv/*" { capabilities = ["read", "list"] }',
  minter: 'path "auth/approle/role/+/secret-id" { capabilities = ["update"] }',
};
/** The token mix: [share out of 20, label, what those tokens get]. Attribution is by `meta.agent`. */
const MIX: [number, string, Omit<TokenSpec, 'meta' | 'displayName'>][] = [
  [1, 'path "*"', { policies: ['everything'], ttl: '720h' }],
  [1, 'sudo on sys/audit/* and auth/token/create', { policies: ['sudo-ops'], ttl: '720h' }],
  [2, 'kv/* read', { policies: ['kv-all'], ttl: '720h' }],
  [1, 'secret-ID minting', { policies: ['minter'], ttl: '720h' }],
  [2, 'periodic orphan (never expires)', { policies: ['agent'], orphan: true, period: '24h' }],
  [2, 'non-renewable, expires in 48 h', { policies: ['agent'], ttl: '48h', renewable: false }],
  [11, 'narrow secret/data/agents/*', { policies: ['agent'], ttl: '720h' }],
];
const REGISTERED = 20;

function seedDouble(double: VaultDouble, n: number): { scanner: string; mix: Record<string, number> } {
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

const registry = {
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

async function main(releases: (() => Promise<unknown>)[], setCannon: (c?: { stop?: () => void }) => void) {
  S.checkFlags(B, ['credentials', 'duration', 'connections', 'log-level', 'json']);
  const n = S.intArg(B, 'credentials', 10_000);
  const duration = S.intArg(B, 'duration', 10);
  const connections = S.intArg(B, 'connections', 10);
  const redis = new Redis(S.REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  redis.on('error', () => undefined);
  await redis.connect();
  releases.push(async () => redis.disconnect());
  const prefix = S.randomPrefix('api');
  const dir = await mkdtemp(join(tmpdir(), 'cwbench-api-'));
  releases.push(() => rm(dir, { recursive: true, force: true }));
  releases.push(async () => log(`deleted ${await S.deletePrefix(redis, prefix)} Redis keys under ${prefix}:`));

  // 1. The inventory: seed, scan, evaluate, plan (timed, not measured).
  const double = await startVaultDouble();
  const closeDouble = once(() => double.close());
  releases.push(closeDouble);
  const t0 = performance.now();
  const seeded = seedDouble(double, n);
  const seedMs = performance.now() - t0;
  process.env.CW_BENCH_API_VAULT_TOKEN = seeded.scanner;
  const bearer = randomBytes(32).toString('base64url');
  const config = {
    redis: { url: S.REDIS_URL, prefix },
    vault: [
      {
        name: 'bench',
        address: double.address,
        token: ['$', '{env:CW_BENCH_API_VAULT_TOKEN}'].join(''),
        approleMounts: [],
      },
    ],
    registry: 'agents.yaml',
    audit: { file: 'audit.jsonl' },
    api: { tokens: [{ subject: 'viewer', roles: ['viewer'], hash: await hashToken(bearer) }] },
  };
  const configPath = join(dir, 'credwarden.yaml');
  await writeFile(join(dir, 'agents.yaml'), JSON.stringify(registry)); // JSON is YAML
  await writeFile(configPath, JSON.stringify(config));
  const app = await buildApp({ configPath, log: createLogger({ level: 'warn' }) });
  const closeApp = once(() => app.close());
  releases.push(closeApp);
  app.remediation.setEnqueue(async () => {});
  const scanId = `bench-api-${Date.now()}`;
  const t1 = performance.now();
  const units = app.orchestrator.units();
  const scan = await app.orchestrator.runInProcess(scanId, 'bench', units, app.config.worker.discoverConcurrency);
  const t2 = performance.now();
  const evaluation = await app.findings.evaluateScan(scanId);
  const plan = await app.remediation.planScan(scanId);
  const t3 = performance.now();
  const ids = (await app.scans.currentInventory()).map((c) => c.id);
  const findings = (await app.findings.all()).length;
  await closeApp();
  await closeDouble();
  const setup = { seed: +S.seconds(seedMs), scan: +S.seconds(t2 - t1), evaluate: +S.seconds(t3 - t2) };
  log(
    `seeded ${n} tokens in ${setup.seed} s; scan ${scan.status} (${ids.length} credentials) in ${setup.scan} s; ` +
      `evaluation + planning ${setup.evaluate} s: ${findings} findings, ${plan.plans} remediation plans`,
  );
  if (scan.status !== 'complete' || ids.length < n || findings === 0 || evaluation.held)
    throw new Error(`not the inventory the benchmark needs: scan ${scan.status}, ${ids.length} credentials`);

  // 2. The server, in a child process.
  const serverLog = join(dir, 'server.log');
  const server: ChildProcess = fork(fileURLToPath(import.meta.url), ['--child', configPath, '--log-level', logLevel], {
    stdio: ['ignore', 'ignore', openSync(serverLog, 'a'), 'ipc'],
  });
  const exited = new Promise<void>((resolve) => server.once('exit', () => resolve()));
  releases.push(async () => {
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
  const serverCpu = () =>
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

  // 3. Check each route once, then drive it.
  const headers = { authorization: `Bearer ${bearer}` };
  const credPath = (id: string) => `/api/v1/credentials/${encodeURIComponent(id)}`;
  type Check = (b: Record<string, unknown>) => boolean;
  const list: Check = (b) => Array.isArray(b.items) && b.items.length > 0 && typeof b.total === 'number';
  const routes: { name: string; path: string; check: Check; rotate?: boolean }[] = [
    { name: 'GET /api/v1/findings?limit=100', path: '/api/v1/findings?limit=100', check: list },
    {
      name: `GET /api/v1/credentials/:id (${ids.length} ids in turn)`,
      path: credPath(ids[0]!),
      rotate: true,
      check: (b) => (b.credential as { id?: string })?.id === ids[0] && 'score' in b && Array.isArray(b.findings),
    },
    {
      name: 'GET /api/v1/inventory?limit=100',
      path: '/api/v1/inventory?limit=100',
      check: (b) => list(b) && b.total === ids.length,
    },
  ];
  for (const r of routes) {
    const res = await fetch(base + r.path, { headers });
    const text = await res.text();
    let ok = res.status === 200;
    try {
      ok &&= r.check(JSON.parse(text) as Record<string, unknown>);
    } catch {
      ok = false;
    }
    if (!ok) throw new Error(`${r.name}: HTTP ${res.status}, not the expected body: ${text.slice(0, 300)}`);
  }
  const load = loadavg()[0]!.toFixed(2);
  log(`server at ${base} (child pid ${server.pid}); 1-min load average ${load} on ${cpus().length} cores`);
  const results = [];
  for (const r of routes) {
    let next = 0;
    const rotate = (req: CannonRequest) => ({ ...req, path: credPath(ids[next++ % ids.length]!) });
    const opts = {
      url: base,
      connections,
      headers,
      requests: [r.rotate ? { setupRequest: rotate } : { path: r.path }],
    };
    const warm = autocannon({ ...opts, duration: 2 });
    setCannon(warm);
    await warm;
    const cpu0 = await serverCpu();
    log(`${r.name}: ${duration} s, ${connections} connections`);
    const run = autocannon({ ...opts, duration });
    setCannon(run);
    const res = await run;
    const cpu = (await serverCpu()) - cpu0;
    results.push({
      route: r.name,
      rps: Math.round(res.requests.average),
      p50: res.latency.p50,
      p99: res.latency.p99,
      total: res.requests.total,
      non2xx: res.non2xx,
      errors: res.errors + res.timeouts,
      statusCodes: Object.fromEntries(Object.entries(res.statusCodeStats).map(([k, v]) => [k, Number(v.count)])),
      serverCpuPercent: Math.round((cpu / res.duration) * 100),
    });
  }
  setCannon(undefined);
  const loadAfter = loadavg()[0]!.toFixed(2);

  // 4. Report.
  const mix = Object.entries(seeded.mix).map(([k, v]) => `${k} ${v}`);
  console.log(
    [
      `credentials: ${ids.length} (${n} seeded tokens + root + scanner); findings ${findings}; remediation plans ${plan.plans}`,
      `token mix: ${mix.join('; ')}`,
      `setup (not measured): seeding ${setup.seed} s, scan ${setup.scan} s, evaluation + planning ${setup.evaluate} s`,
      `layout: API in a child process (log level ${logLevel}), autocannon in this one, Redis local; ${cpus().length} cores, 1-min load average ${load} before the runs, ${loadAfter} after`,
      `each route: 2 s warm-up, then ${duration} s with ${connections} connections, bearer token of subject viewer`,
      '',
      '| route | requests/s (mean) | latency p50 / p99 (ms) | total requests | non-2xx | server CPU |',
      '|---|---|---|---|---|---|',
      ...results.map(
        (x) =>
          `| ${x.route} | ${x.rps} | ${x.p50} / ${x.p99} | ${x.total} | ${x.non2xx}${x.errors ? ` (+${x.errors} errors)` : ''} | ${x.serverCpuPercent}% |`,
      ),
    ].join('\n'),
  );
  if (S.hasFlag('json')) {
    const out = { bench: B, node: process.version, credentials: ids.length, findings, setupSeconds: setup };
    const run = { layout: 'server-child', logLevel, cores: cpus().length, loadAverage: [+load, +loadAfter] };
    console.log(JSON.stringify({ ...out, ...run, duration, connections, routes: results }));
  }
  return results.some((x) => x.non2xx > 0 || x.errors > 0) ? 1 : 0;
}

if (S.hasFlag('child')) await child(S.argValue('child') ?? '');
else {
  const releases: (() => Promise<unknown>)[] = [];
  let cannon: { stop?: () => void } | undefined;
  const cleanup = once(async () => {
    cannon?.stop?.();
    for (const r of releases.reverse()) await r().catch((err: Error) => log(`cleanup: ${err.message}`));
  });
  for (const sig of ['SIGINT', 'SIGTERM'] as const)
    process.once(sig, () => {
      log(`${sig}: cleaning up`);
      void cleanup().finally(() => process.exit(130));
    });
  let code = 1;
  try {
    code = await main(releases, (c) => {
      cannon = c;
    });
  } catch (err) {
    log(`failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  } finally {
    await cleanup();
  }
  process.exit(code);
}
