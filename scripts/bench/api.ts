/**
 * API read benchmark: `npm run bench:api`. A measurement; it fails only when the routes do not answer 2xx.
 *
 * Steps 1-3 are vault-estate.ts, shared with bench:dashboard.
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
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { hashToken } from '../../src/api/tokens.js';
import * as S from './support.js';
import { buildEstate, LOG_LEVELS, type Release, runBench, serveChild, startServer } from './vault-estate.js';

const B = 'api';
const logLevel = S.argValue('log-level') ?? 'info';
if (!LOG_LEVELS.includes(logLevel)) S.usage(B, `--log-level must be one of ${LOG_LEVELS.join(', ')}`);
const log = (m: string): void => void process.stderr.write(`bench:${B}: ${m}\n`);

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

async function main(releases: Release[], setCannon: (c?: { stop?: () => void }) => void) {
  S.checkFlags(B, ['credentials', 'duration', 'connections', 'log-level', 'json']);
  const n = S.intArg(B, 'credentials', 10_000);
  const duration = S.intArg(B, 'duration', 10);
  const connections = S.intArg(B, 'connections', 10);

  // 1. The inventory: seed, scan, evaluate, plan (timed, not measured).
  const bearer = randomBytes(32).toString('base64url');
  const tokens = [{ subject: 'viewer', roles: ['viewer'], hash: await hashToken(bearer) }];
  const estate = await buildEstate({ bench: B, n, tokens, releases, log });
  const { seeded, ids, plan, setup } = estate;
  const findings = estate.findings.length;

  // 2. The server, in a child process.
  const script = fileURLToPath(import.meta.url);
  const { base, pid, cpu: serverCpu } = await startServer({ ...estate, script, logLevel, releases });

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
  log(`server at ${base} (child pid ${pid}); 1-min load average ${load} on ${cpus().length} cores`);
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

if (S.hasFlag('child')) await serveChild(S.argValue('child') ?? '', logLevel);
else {
  let cannon: { stop?: () => void } | undefined;
  await runBench(
    log,
    (releases) =>
      main(releases, (c) => {
        cannon = c;
      }),
    () => cannon?.stop?.(),
  );
}
