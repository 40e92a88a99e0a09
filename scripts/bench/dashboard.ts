/**
 * Dashboard first-paint benchmark: `npm run bench:dashboard` (issue 14: "first paint is under 1 s
 * on a 10,000-credential inventory"). A measurement; it exits 1 only when a page does not answer
 * 200 or fails to render (no first contentful paint, or not the page's heading).
 *
 * 1. The estate of bench:api (vault-estate.ts): N Vault tokens (--credentials, default 10,000)
 *    seeded, scanned in process, evaluated and planned by a real App, so Redis holds the inventory,
 *    findings, scores and remediation plans as production writes them. Not part of the numbers.
 * 2. The API server (createApi, which serves the dashboard on the same port) runs in a CHILD
 *    process (this script with --child; request logging at --log-level, default info, into a file).
 *    Its token has the `admin` role, so every page (compliance needs audit:read) is allowed.
 * 3. Chromium (Debian's, CHROMIUM_PATH or /usr/bin/chromium, driven by playwright-core, headless,
 *    the flags of test/support/browser.ts) signs in through the login form once; that sign-in lands
 *    on the overview and is reported as its own line. Then a cold overview: a fresh context (empty
 *    cache) with the session cookie. Then each page --runs times (default 5), each run a fresh
 *    navigation in a new tab of the signed-in context (its cache warm: the assets are immutable).
 *    Per load: server time to first byte (Navigation Timing responseStart - requestStart),
 *    first-contentful-paint, DOMContentLoaded (domContentLoadedEventEnd), the HTML transferred
 *    (transferSize: the server does not compress), and the server child's CPU per load.
 * 4. Prints the machine (cores, 1-min load average before and after), a table per page (median and
 *    max FCP, median TTFB and DOMContentLoaded, HTML kB) and the assets' gzipped total.
 * Options: --credentials N, --runs R, --log-level L, --json (one JSON line).
 * The browser, the server, the Redis prefix, the double and the temp dir are removed on exit and on Ctrl-C.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { hashToken } from '../../src/api/tokens.js';
import { Assets } from '../../src/web/assets.js';
import { CHROMIUM_ARGS } from '../../test/support/browser.js';
import * as S from './support.js';
import { buildEstate, LOG_LEVELS, type Release, runBench, serveChild, startServer } from './vault-estate.js';

const B = 'dashboard';
const logLevel = S.argValue('log-level') ?? 'info';
if (!LOG_LEVELS.includes(logLevel)) S.usage(B, `--log-level must be one of ${LOG_LEVELS.join(', ')}`);
const log = (m: string): void => void process.stderr.write(`bench:${B}: ${m}\n`);

/** A page that takes longer than this to load is a failure, not a number. */
const LOAD_TIMEOUT_MS = 120_000;

/** The fields of a PerformanceNavigationTiming entry read here (ms since navigation start, bytes). */
interface NavTiming {
  requestStart: number;
  responseStart: number;
  responseEnd: number;
  domContentLoadedEventEnd: number;
  loadEventEnd: number;
  redirectCount: number;
  transferSize: number;
  encodedBodySize: number;
}

interface Sample {
  fcp: number;
  ttfb: number;
  dcl: number;
  load: number;
  htmlBytes: number;
  bodyBytes: number;
  /** Bytes of sub-resources fetched from the network (0 when every asset came from the cache). */
  assetBytes: number;
}

const round = (v: number, d = 1) => Math.round(v * 10 ** d) / 10 ** d;
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const kB = (bytes: number) => (bytes / 1024).toFixed(1);
/** An error's first line (playwright's go on with the browser's log). */
const firstLine = (err: unknown) => (err instanceof Error ? err.message : String(err)).split('\n')[0]!;

/** The timings of the document in `page` once it has painted; throws when it does not render `heading`. */
async function measure(page: Page, heading: RegExp): Promise<Sample> {
  const fcpHandle = await page.waitForFunction(
    () => performance.getEntriesByName('first-contentful-paint')[0]?.startTime,
    undefined,
    { timeout: 15_000 },
  );
  const fcp = Number(await fcpHandle.jsonValue());
  await page.waitForLoadState('load');
  // A string: Node's typings (no DOM library here) do not know the 'navigation' entry type.
  const nav = (await page.evaluate("performance.getEntriesByType('navigation')[0].toJSON()")) as NavTiming;
  const assetBytes = (await page.evaluate(() =>
    performance
      .getEntriesByType('resource')
      .reduce((n, e) => n + ((e.toJSON() as { transferSize?: number }).transferSize ?? 0), 0),
  )) as number;
  const h1 = ((await page.locator('h1').first().textContent({ timeout: 5_000 })) ?? '').trim();
  if (!heading.test(h1)) throw new Error(`rendered, but its heading is "${h1}", not ${heading}`);
  return {
    fcp: round(fcp),
    ttfb: round(nav.responseStart - nav.requestStart),
    dcl: round(nav.domContentLoadedEventEnd),
    load: round(nav.loadEventEnd),
    htmlBytes: nav.transferSize,
    bodyBytes: nav.encodedBodySize,
    assetBytes,
  };
}

/** One fresh navigation to `url` in a new tab of `context`. */
async function loadOnce(context: BrowserContext, url: string, heading: RegExp): Promise<Sample> {
  const page = await context.newPage();
  try {
    const res = await page.goto(url, { waitUntil: 'domcontentloaded', timeout: LOAD_TIMEOUT_MS });
    const at = new URL(page.url());
    if (res?.status() !== 200)
      throw new Error(
        `HTTP ${res?.status() ?? 'no response'}${at.pathname !== new URL(url).pathname ? ` at ${at.pathname}` : ''}`,
      );
    if (at.pathname !== new URL(url).pathname) throw new Error(`redirected to ${at.pathname}${at.search}`);
    return await measure(page, heading);
  } finally {
    await page.close().catch(() => undefined);
  }
}

async function main(releases: Release[], signal: AbortSignal): Promise<number> {
  S.checkFlags(B, ['credentials', 'runs', 'log-level', 'json']);
  const n = S.intArg(B, 'credentials', 10_000);
  const runs = S.intArg(B, 'runs', 5);
  const executablePath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
  if (!existsSync(executablePath))
    S.usage(B, `no Chromium at ${executablePath}: run \`bash scripts/ensure-chromium.sh\` or set CHROMIUM_PATH`);

  // 1. The inventory (timed, not measured).
  const bearer = randomBytes(32).toString('base64url');
  const tokens = [{ subject: 'bench-admin', roles: ['admin'], hash: await hashToken(bearer) }];
  const estate = await buildEstate({ bench: B, n, tokens, releases, log });
  const { ids, findings, plan, setup } = estate;
  // The credential page of the credential with the most findings (then the first id): the fullest page.
  const perCredential = new Map<string, number>();
  for (const f of findings) perCredential.set(f.credentialId, (perCredential.get(f.credentialId) ?? 0) + 1);
  const [credentialId, credentialFindings] = [...perCredential].sort(
    (a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1),
  )[0]!;

  // 2. The server, in a child process.
  const script = fileURLToPath(import.meta.url);
  const server = await startServer({ ...estate, script, logLevel, releases });
  const { base } = server;

  // 3. The browser.
  const browser = await chromium.launch({
    executablePath,
    headless: true,
    args: [...CHROMIUM_ARGS],
    handleSIGINT: false,
    handleSIGTERM: false,
    handleSIGHUP: false,
  });
  releases.push(() => browser.close());
  const load = loadavg()[0]!.toFixed(2);
  log(
    `server at ${base} (child pid ${server.pid}); Chromium ${browser.version()}; 1-min load average ${load} on ${cpus().length} cores`,
  );

  const failures: { page: string; error: string }[] = [];
  const context = await browser.newContext({ serviceWorkers: 'block' });
  context.setDefaultTimeout(LOAD_TIMEOUT_MS);

  // Sign in through the form; it lands on the overview (the server's first page: its snapshots are cold).
  let signIn: (Sample & { status: number }) | null = null;
  {
    const page = await context.newPage();
    await page.goto(`${base}/login`, { timeout: LOAD_TIMEOUT_MS });
    await page.getByLabel('API token').fill(bearer);
    const answered = page.waitForResponse(
      (r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/login',
    );
    await page.getByRole('button', { name: 'Sign in' }).click();
    const res = await answered;
    if (res.status() !== 303) throw new Error(`sign-in refused: POST /login answered ${res.status()}`);
    await page.waitForURL((u) => u.pathname === '/', { waitUntil: 'domcontentloaded', timeout: LOAD_TIMEOUT_MS });
    try {
      signIn = { ...(await measure(page, /^Overview$/)), status: res.status() };
    } catch (err) {
      if (signal.aborted) return 130;
      failures.push({ page: 'sign-in → overview', error: firstLine(err) });
    }
    await page.close();
  }

  // The cold overview: a fresh context (empty cache), the session's cookie.
  let cold: Sample | null = null;
  {
    const fresh = await browser.newContext({ serviceWorkers: 'block' });
    fresh.setDefaultTimeout(LOAD_TIMEOUT_MS);
    await fresh.addCookies(await context.cookies());
    try {
      cold = await loadOnce(fresh, `${base}/`, /^Overview$/);
    } catch (err) {
      if (signal.aborted) return 130;
      failures.push({ page: 'overview (cold)', error: firstLine(err) });
    }
    await fresh.close();
  }

  const pages = [
    { page: 'overview', path: '/', heading: /^Overview$/ },
    { page: 'findings', path: '/findings', heading: /^Findings$/ },
    {
      page: `credential (${credentialFindings} findings)`,
      path: `/credentials/${encodeURIComponent(credentialId)}`,
      heading: /^Credential /,
    },
    { page: 'agents', path: '/agents', heading: /^Agents$/ },
    { page: 'actions', path: '/actions', heading: /^Actions$/ },
    { page: 'compliance', path: '/compliance', heading: /^Compliance$/ },
  ];
  const results = [];
  for (const p of pages) {
    const samples: Sample[] = [];
    const cpu0 = await server.cpu();
    for (let i = 0; i < runs; i++) {
      try {
        samples.push(await loadOnce(context, base + p.path, p.heading));
      } catch (err) {
        if (signal.aborted) return 130;
        failures.push({ page: p.page, error: `run ${i + 1}: ${firstLine(err)}` });
        break;
      }
    }
    if (signal.aborted) return 130;
    const cpuMs = ((await server.cpu()) - cpu0) * 1000;
    log(`${p.page}: ${samples.length} loads, FCP ${samples.map((s) => s.fcp).join(', ')} ms`);
    if (samples.length === 0) continue;
    const of = (k: keyof Sample) => samples.map((s) => s[k]);
    results.push({
      page: p.page,
      path: p.path,
      fcp: { median: round(median(of('fcp'))), max: Math.max(...of('fcp')) },
      ttfb: { median: round(median(of('ttfb'))), max: Math.max(...of('ttfb')) },
      dcl: { median: round(median(of('dcl'))), max: Math.max(...of('dcl')) },
      htmlBytes: median(of('htmlBytes')),
      serverCpuMsPerLoad: Math.round(cpuMs / samples.length),
      samples,
    });
  }
  await context.close();
  const loadAfter = loadavg()[0]!.toFixed(2);

  // 4. Report.
  const assets = new Assets().all().map((a) => ({ name: a.name, bytes: a.body.length, gzip: gzipSync(a.body).length }));
  const gzipTotal = assets.reduce((t, a) => t + a.gzip, 0);
  const line = (label: string, s: Sample) =>
    `${label}: FCP ${s.fcp} ms, TTFB ${s.ttfb} ms, DOMContentLoaded ${s.dcl} ms, HTML ${kB(s.htmlBytes)} kB, assets fetched ${kB(s.assetBytes)} kB`;
  console.log(
    [
      `credentials: ${ids.length} (${n} seeded tokens + root + scanner); findings ${findings.length}; remediation plans ${plan.plans}`,
      `setup (not measured): seeding ${setup.seed} s, scan ${setup.scan} s, evaluation + planning ${setup.evaluate} s`,
      `layout: API + dashboard in a child process (log level ${logLevel}), headless Chromium ${browser.version()} driven from this one, Redis local; ${cpus().length} cores, 1-min load average ${load} before the loads, ${loadAfter} after`,
      `each page: ${runs} fresh navigations in a new tab of one signed-in context (cache warm), subject bench-admin (admin)`,
      signIn ? line('sign-in form → overview (first page the server renders)', signIn) : 'sign-in → overview: failed',
      cold ? line('overview, cold (fresh context, empty cache)', cold) : 'overview, cold: failed',
      '',
      '| page | FCP median / max (ms) | TTFB median (ms) | DOMContentLoaded median (ms) | HTML kB | server CPU per load (ms) |',
      '|---|---|---|---|---|---|',
      ...results.map(
        (r) =>
          `| ${r.page} | ${r.fcp.median} / ${r.fcp.max} | ${r.ttfb.median} | ${r.dcl.median} | ${kB(r.htmlBytes)} | ${r.serverCpuMsPerLoad} |`,
      ),
      '',
      `assets: ${assets.map((a) => `${a.name} ${kB(a.bytes)} kB (gzip ${kB(a.gzip)} kB)`).join(', ')}; gzipped total ${kB(gzipTotal)} kB`,
      ...failures.map((f) => `FAILED ${f.page}: ${f.error}`),
    ].join('\n'),
  );
  if (S.hasFlag('json')) {
    const out = { bench: B, node: process.version, chromium: browser.version(), credentials: ids.length };
    const run = {
      findings: findings.length,
      setupSeconds: setup,
      cores: cpus().length,
      loadAverage: [+load, +loadAfter],
    };
    const assetsOut = { files: assets, gzipTotal };
    console.log(JSON.stringify({ ...out, ...run, runs, signIn, cold, pages: results, assets: assetsOut, failures }));
  }
  return failures.length > 0 ? 1 : 0;
}

if (S.hasFlag('child')) await serveChild(S.argValue('child') ?? '', logLevel);
else await runBench(log, main);
