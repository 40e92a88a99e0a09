/**
 * The dashboard in a real browser for tests: Debian's Chromium (CHROMIUM_PATH, else
 * /usr/bin/chromium; scripts/ensure-chromium.sh installs it) driven by playwright-core, which
 * downloads no browser of its own.
 *
 * - One browser per test file (`launchBrowser`), a new context per signed-in subject: each context
 *   is a fresh profile (its own cookies, storage and cache), so sessions never leak between them.
 * - Every request that is not to the test server's origin is aborted and recorded, as is every
 *   console error, uncaught page error and Content-Security-Policy violation (the
 *   `securitypolicyviolation` event, reported through an exposed binding, besides Chromium's own
 *   console error for it): `problems` holds them all, so a test can assert that the dashboard
 *   fetched nothing from a CDN or a font service and broke no rule of its own CSP.
 * - `signIn` goes through the real login form; `screenshot` writes .cw/screenshots/<name>.png;
 *   `axeCheck` runs axe-core on the page as served and returns its serious and critical violations.
 *
 * axe-core is evaluated with `page.evaluate(source)` (the DevTools protocol's evaluation, which the
 * page's CSP does not govern), never added as a <script> (the CSP forbids inline script) and never
 * with `bypassCSP`: the page is checked under the very policy it is served with.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Result as AxeResult } from 'axe-core';
import {
  type Browser,
  type BrowserContext,
  type BrowserContextOptions,
  chromium,
  type Page,
  type Response,
} from 'playwright-core';

// Browser globals, for the callbacks that run in the page (the test tsconfig has no DOM library).
declare const window: object;
declare const document: {
  addEventListener(
    type: 'securitypolicyviolation',
    fn: (e: { violatedDirective: string; blockedURI: string; sourceFile: string; lineNumber: number }) => void,
  ): void;
};

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const SCREENSHOTS_DIR = join(ROOT, '.cw', 'screenshots');

/** Quiet, offline, reproducible: no GPU, no QUIC, no first-run, sync, component or background fetches. */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
] as const;

export const chromiumPath = (): string => process.env.CHROMIUM_PATH || '/usr/bin/chromium';

export interface Problem {
  kind: 'external-request' | 'console-error' | 'page-error' | 'csp-violation';
  text: string;
  /** The page's URL when it happened. */
  url: string;
}

export interface BrowserHarness {
  browser: Browser;
  /** The test server's origin, e.g. http://127.0.0.1:41234. */
  origin: string;
  /** Everything that went wrong, in every context, in order. */
  problems: Problem[];
  /** Requests to the origin that went through (so a check of `problems` is never vacuous). */
  sameOriginRequests(): number;
  /** A new context (fresh profile) with the guards installed; closed with the harness. */
  newContext(o?: BrowserContextOptions): Promise<BrowserContext>;
  close(): Promise<void>;
}

const origins = new WeakMap<BrowserContext, string>();

export async function launchBrowser(origin: string): Promise<BrowserHarness> {
  const base = new URL(origin).origin;
  const executablePath = chromiumPath();
  if (!existsSync(executablePath))
    throw new Error(
      `no Chromium at ${executablePath}: run \`bash scripts/ensure-chromium.sh\` (npm test does) or set CHROMIUM_PATH`,
    );
  const browser = await chromium.launch({ executablePath, headless: true, args: [...CHROMIUM_ARGS] });
  const problems: Problem[] = [];
  const contexts: BrowserContext[] = [];
  let sameOrigin = 0;

  const watchPage = (page: Page) => {
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push({ kind: 'console-error', text: m.text(), url: page.url() });
    });
    page.on('pageerror', (e) => problems.push({ kind: 'page-error', text: String(e), url: page.url() }));
    page.on('websocket', (ws) =>
      problems.push({ kind: 'external-request', text: `websocket ${ws.url()}`, url: page.url() }),
    );
  };

  return {
    browser,
    origin: base,
    problems,
    sameOriginRequests: () => sameOrigin,
    async newContext(o = {}) {
      const context = await browser.newContext({ ...o, serviceWorkers: 'block' });
      contexts.push(context);
      // A local server answers at once: a missing element or a hung page fails in seconds, not at the test's timeout.
      context.setDefaultTimeout(5_000);
      context.setDefaultNavigationTimeout(15_000);
      origins.set(context, base);
      await context.route('**/*', (route) => {
        const url = route.request().url();
        if (sameOriginAs(url, base)) return route.continue();
        return route.abort('blockedbyclient');
      });
      context.on('request', (req) => {
        const url = req.url();
        if (!/^(https?|wss?|ftp):/i.test(url)) return; // data:, blob:, about:
        if (sameOriginAs(url, base)) sameOrigin++;
        else problems.push({ kind: 'external-request', text: `${req.method()} ${url}`, url: req.frame()?.url() ?? '' });
      });
      await context.exposeBinding('__cwCspViolation', ({ page }, v: unknown) => {
        problems.push({ kind: 'csp-violation', text: JSON.stringify(v), url: page?.url() ?? '' });
      });
      await context.addInitScript(() => {
        const report = (window as unknown as { __cwCspViolation(v: unknown): void }).__cwCspViolation;
        document.addEventListener('securitypolicyviolation', (e) =>
          report({ directive: e.violatedDirective, blocked: e.blockedURI, source: e.sourceFile, line: e.lineNumber }),
        );
      });
      context.on('page', watchPage);
      return context;
    },
    async close() {
      for (const c of contexts) await c.close().catch(() => {});
      await browser.close();
    },
  };
}

function sameOriginAs(url: string, origin: string): boolean {
  try {
    return new URL(url).origin === origin;
  } catch {
    return false;
  }
}

const originOf = (page: Page): string => {
  const o = origins.get(page.context());
  if (!o) throw new Error('a page of a context the harness did not make (use harness.newContext)');
  return o;
};

/**
 * Signs in through the real login form: on it already (e.g. after a redirect from a page that
 * needs a session) or at /login. Fills the API token and clicks "Sign in" (`keyboard`: presses
 * Enter in the field instead, the form's implicit submission). Resolves on the page signed in to;
 * a refused sign-in throws at once with the status and the form's message.
 */
export async function signIn(page: Page, token: string, o: { keyboard?: boolean } = {}): Promise<void> {
  const origin = originOf(page);
  if (new URL(page.url() === 'about:blank' ? origin : page.url()).pathname !== '/login')
    await page.goto(`${origin}/login`);
  const field = page.getByLabel('API token');
  await field.fill(token);
  const answered = page.waitForResponse(
    (r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/login',
  );
  if (o.keyboard) await field.press('Enter');
  else await page.getByRole('button', { name: 'Sign in' }).click();
  await expectSignedIn(page, await answered);
}

/** After the login form's POST: its 303 and the page it led to, else an error naming what the form said. */
export async function expectSignedIn(page: Page, res: Response): Promise<void> {
  if (res.status() !== 303) {
    await page.waitForLoadState('load');
    const said = await page
      .locator('[role="alert"]')
      .allInnerTexts()
      .catch(() => []);
    throw new Error(`sign-in refused: POST /login answered ${res.status()}${said.length ? `: ${said.join(' ')}` : ''}`);
  }
  await page.waitForURL((u) => u.pathname !== '/login', { waitUntil: 'load' });
}

/** A full-page PNG at .cw/screenshots/<name>.png; its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOTS_DIR, { recursive: true });
  const path = join(SCREENSHOTS_DIR, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/**
 * The document's scroll width against the viewport's (wider means the body scrolls sideways), and
 * the elements that stick out past the viewport's right edge (outside any scrolling box), widest first.
 */
export function horizontalOverflow(
  page: Page,
): Promise<{ scrollWidth: number; innerWidth: number; offenders: string[] }> {
  return page.evaluate(`(() => {
    const out = [];
    for (const el of document.body.querySelectorAll('*')) {
      const right = el.getBoundingClientRect().right;
      if (right <= window.innerWidth) continue;
      let clipped = false;
      for (let p = el.parentElement; p && p !== document.body; p = p.parentElement)
        if (getComputedStyle(p).overflowX !== 'visible') { clipped = true; break; }
      if (clipped) continue;
      const cls = el.getAttribute('class');
      out.push({ right, what: el.tagName.toLowerCase() + (cls ? '.' + cls.split(/\\s+/).join('.') : '') + ' right=' + right.toFixed(1) });
    }
    out.sort((a, b) => b.right - a.right);
    return { scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth, offenders: out.slice(0, 5).map((o) => o.what) };
  })()`);
}

/** The first-contentful-paint entry's start time (ms since navigation start), waiting up to 5 s for it. */
export async function firstContentfulPaint(page: Page): Promise<number> {
  const handle = await page.waitForFunction(
    () => performance.getEntriesByName('first-contentful-paint')[0]?.startTime,
    undefined,
    { timeout: 5_000 },
  );
  return Number(await handle.jsonValue());
}

export interface AxeViolation {
  id: string;
  impact: string;
  help: string;
  nodes: { target: string; html: string; summary: string }[];
}

let axeSource: string | undefined;
const AXE_FILE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

/** axe-core over the whole page: its violations of impact serious or critical. */
export async function axeCheck(page: Page): Promise<AxeViolation[]> {
  axeSource ??= readFileSync(AXE_FILE, 'utf8');
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(`${axeSource};void 0`);
  const violations = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(ctx: unknown, o: object): Promise<{ violations: AxeResult[] }> } })
      .axe;
    const r = await axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({
      id: v.id,
      impact: v.impact ?? '',
      help: v.help,
      nodes: v.nodes.map((n) => ({
        target: n.target.join(' '),
        html: n.html.slice(0, 200),
        summary: n.failureSummary ?? '',
      })),
    }));
  });
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}
