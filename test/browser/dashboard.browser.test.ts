/**
 * The dashboard in real Chromium (test/support/browser.ts) over a real API server listening on
 * 127.0.0.1, on the seeded history of test/support/evidence-scenario.ts plus, after its period:
 *
 *   agent-admin-2  a second agent user with an admin policy (lane admin) and a tag holding hostile
 *                  markup; scan-9 finds its admin key and plans detaching the policy, which waits
 *                  for two approvers: user:oncall-b has approved it, oncall-a approves in the browser
 *   agent "bot"    its name in the loaded registry holds the same markup (as agents.yaml could)
 *
 * One browser for the file, a context per signed-in subject. Every test ends with nothing fetched
 * from outside the origin, no console error and no CSP violation (afterEach).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Api, createApi, listen } from '../../src/api/serve.js';
import { loadSigningKey } from '../../src/evidence/signing.js';
import { verifyPack } from '../../src/evidence/verifier.js';
import type { App } from '../../src/main.js';
import type { Subject } from '../support/api.js';
import { createUser, seederFor } from '../support/aws-seed.js';
import {
  axeCheck,
  type BrowserHarness,
  expectSignedIn,
  firstContentfulPaint,
  horizontalOverflow,
  launchBrowser,
  screenshot,
  signIn,
} from '../support/browser.js';
import { ACCOUNT, type EvidenceScenario, iso, seedEvidenceHistory } from '../support/evidence-scenario.js';
import { useMoto } from '../support/moto.js';
import { useRedis } from '../support/redis.js';
import { drive } from '../support/remediation-env.js';

// Browser globals, for the callbacks that run in the page (the test tsconfig has no DOM library).
declare const window: Record<string, unknown>;
declare const document: { cookie: string; activeElement: { id: string; textContent: string | null } | null };

const HOSTILE = '<img src=x onerror=window.__pwned=1>';

const moto = useMoto();
const r = useRedis('web-browser');
let s: EvidenceScenario;
let app: App;
let api: Api;
let h: BrowserHarness;
let origin: string;
/** The detach of agent-admin-2's policy, held for a second approver. */
let heldId: string;
/** agent-admin-2's access key: the credential with the hostile tag. */
let hostileCredential: string;

beforeAll(async () => {
  s = await seedEvidenceHistory(moto.endpoint, r.prefix);
  app = s.app;
  const seeder = await seederFor(moto.endpoint, ACCOUNT);
  try {
    await createUser(
      seeder,
      {
        name: 'agent-admin-2',
        keys: ['used'],
        tags: { lane: 'admin', note: HOSTILE },
        managed: [`arn:aws:iam::${ACCOUNT}:policy/agent-admin`],
      },
      moto.endpoint,
    );
  } finally {
    seeder.iam.destroy();
  }
  app.registry.agents[0]!.name = `Bot ${HOSTILE}`;
  const d = drive(app, s.clock);
  await d.scan('scan-9');
  await d.plan('scan-9');
  const held = (await app.remediation.list({ state: 'awaiting-approval' })).filter(
    (a) => a.plan.target.identity.userName === 'agent-admin-2',
  );
  expect(held.map((a) => a.plan.action)).toEqual(['detach-policy']);
  heldId = held[0]!.plan.id;
  hostileCredential = held[0]!.plan.target.credentialId;
  await app.people.approve(heldId, 'user:oncall-b');

  // The process's own request limit is per address for the dashboard: every context here is 127.0.0.1.
  api = await createApi(app, { sharedRateLimit: false, perMinute: 100_000 });
  origin = await listen(api, '127.0.0.1:0');
  h = await launchBrowser(origin);
}, 180_000);

afterAll(async () => {
  await h?.close();
  await api?.close();
  await s?.app.close();
});

let mark = 0;
beforeEach(() => {
  mark = h.problems.length;
});
afterEach(() => {
  expect(h.problems.slice(mark), 'external requests, console errors, CSP violations').toEqual([]);
});

const signedIn = new Map<Subject, BrowserContext>();
/** A page in `who`'s context (signed in through the form once per subject). */
async function pageAs(who: Subject, viewport = { width: 1280, height: 900 }): Promise<Page> {
  let context = signedIn.get(who);
  if (!context) {
    context = await h.newContext({ viewport });
    const page = await context.newPage();
    await signIn(page, s.tokens.token[who]);
    await page.close();
    signedIn.set(who, context);
  }
  const page = await context.newPage();
  await page.setViewportSize(viewport);
  return page;
}

async function open(page: Page, path: string): Promise<void> {
  const res = await page.goto(`${origin}${path}`);
  expect(res?.status(), `GET ${path}`).toBe(200);
}

/** The main area's text as rendered, what a person reads (Playwright's innerText). */
// biome-ignore lint/performance/useDomNodeTextContent: rendered text is the point (escaped markup must show as text)
const mainText = (page: Page) => page.locator('main').innerText();

describe('the dashboard in Chromium', () => {
  it('a viewer signs in with the keyboard alone (Tab, Enter) and signs out', async () => {
    const context = await h.newContext();
    const page = await context.newPage();
    await page.goto(`${origin}/`);
    expect(new URL(page.url()).pathname).toBe('/login');
    const focused = () => page.evaluate(() => document.activeElement?.id || document.activeElement?.textContent || '');
    // The token field has focus on arrival (autofocus); else Tab reaches it.
    for (let i = 0; i < 5 && (await focused()) !== 'token'; i++) await page.keyboard.press('Tab');
    expect(await focused()).toBe('token');
    await page.keyboard.type(s.tokens.token.viewer);
    await page.keyboard.press('Tab');
    expect(await focused()).toBe('Sign in');
    const [res] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST' && r.url() === `${origin}/login`),
      page.keyboard.press('Enter'),
    ]);
    await expectSignedIn(page, res);
    expect(page.url()).toBe(`${origin}/`);
    await expect.poll(() => page.locator('header .who').textContent()).toContain('viewer');
    const [cookie] = await context.cookies();
    expect(cookie).toMatchObject({ name: 'cw_session', httpOnly: true, sameSite: 'Strict' });
    expect(await page.evaluate(() => document.cookie)).not.toContain('cw_session');

    // Sign out: Tab to the header's "Sign out" button, Enter.
    for (let i = 0; i < 20 && (await focused()) !== 'Sign out'; i++) await page.keyboard.press('Tab');
    expect(await focused()).toBe('Sign out');
    await Promise.all([page.waitForURL(/\/login$/), page.keyboard.press('Enter')]);
    expect(await context.cookies()).toEqual([]);
    await page.goto(`${origin}/findings`);
    expect(page.url()).toBe(`${origin}/login?next=${encodeURIComponent('/findings')}`);
    await context.close();
  });

  it('every page fits 390 px and 1280 px without sideways scrolling; screenshots at 1280 (and the overview at 390)', async () => {
    const tour = pagesToTour();
    for (const width of [390, 1280]) {
      for (const { name, path, who } of tour) {
        const page = who ? await pageAs(who, { width, height: 900 }) : await (await anonymous()).newPage();
        await page.setViewportSize({ width, height: 900 });
        await open(page, path);
        const o = await horizontalOverflow(page);
        expect(o.scrollWidth, `${name} at ${width} px: ${JSON.stringify(o)}`).toBeLessThanOrEqual(o.innerWidth);
        if (width === 1280) await screenshot(page, name);
        if (width === 390 && name === 'overview') await screenshot(page, 'overview-390');
        await page.close();
      }
    }
  });

  it("axe-core finds no serious or critical violation on any page (the held action's Approve and Deny included)", async () => {
    const found: Record<string, unknown> = {};
    for (const { name, path, who } of pagesToTour()) {
      const page = who ? await pageAs(who) : await (await anonymous()).newPage();
      await open(page, path);
      const violations = await axeCheck(page);
      if (violations.length) found[name] = violations;
      await page.close();
    }
    expect(found).toEqual({});
  });

  it('findings: a filter chosen in the form is in the URL, and that URL shows the same rows to someone else', async () => {
    const page = await pageAs('viewer');
    await open(page, '/findings');
    await page.getByLabel('Severity').selectOption('critical');
    const form = page.locator('main form[method="get" i]').first();
    await Promise.all([
      page.waitForURL((u) => u.searchParams.get('severity') === 'critical'),
      form.locator('button, input[type="submit"]').first().click(),
    ]);
    const shared = page.url();
    const rows = await page.locator('main table tbody tr').allInnerTexts();
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) expect(row).toMatch(/critical/i);
    // Both critical findings of the estate are open: agent-admin's (reopened) and agent-admin-2's.
    const critical = (await app.findings.all()).filter((f) => f.severity === 'critical' && f.state === 'open');
    expect(critical.length).toBe(2);
    expect(rows.length).toBeGreaterThanOrEqual(critical.length);

    const other = await h.newContext();
    const page2 = await other.newPage();
    await page2.goto(shared);
    expect(new URL(page2.url()).pathname).toBe('/login');
    await signIn(page2, s.tokens.token.auditor);
    expect(page2.url()).toBe(shared);
    expect(await page2.getByLabel('Severity').inputValue()).toBe('critical');
    expect(await page2.locator('main table tbody tr').allInnerTexts()).toEqual(rows);
    await other.close();
    await page.close();
  });

  it('a credential opened from the findings table explains its score', async () => {
    const page = await pageAs('viewer');
    await open(page, '/findings?severity=critical');
    const link = page.locator('main table a[href^="/credentials/"]').first();
    await Promise.all([page.waitForURL(/\/credentials\//), link.click()]);
    const id = decodeURIComponent(new URL(page.url()).pathname.slice('/credentials/'.length));
    const score = await app.findings.credentialScore(id);
    expect(score).not.toBeNull();
    const text = await mainText(page);
    expect(text).toContain(id);
    expect(text).toMatch(new RegExp(`\\b${score!.score}\\b`));
    for (const factor of score!.factors) expect(text).toContain(factor);
    expect(score!.top.length).toBeGreaterThan(0);
    for (const c of score!.top) expect(text).toContain(c.policy);
    await page.close();
  });

  it('actions: an on-call engineer approves a held action after the confirm dialog; a viewer has no Approve', async () => {
    const viewer = await pageAs('viewer');
    await open(viewer, '/actions');
    await expect.poll(() => mainText(viewer)).toContain('awaiting-approval');
    expect(await viewer.getByRole('button', { name: /approve/i }).count()).toBe(0);
    expect(await viewer.locator('form[action$="/approve"]').count()).toBe(0);
    await viewer.close();

    const page = await pageAs('oncall-a');
    await open(page, '/actions');
    const dialogs: string[] = [];
    page.on('dialog', (d) => {
      dialogs.push(`${d.type()}: ${d.message()}`);
      void d.accept();
    });
    const approve = page.locator(`form[action="/actions/${heldId}/approve"]`);
    expect(await approve.count()).toBe(1);
    await Promise.all([
      page.waitForResponse((res) => res.url().endsWith(`/actions/${heldId}/approve`) && res.status() === 303),
      approve.getByRole('button').click(),
    ]);
    await page.waitForLoadState('load');
    expect(dialogs).toHaveLength(1);
    expect(dialogs[0]).toMatch(/^confirm: ./);
    const after = await app.remediation.show(heldId);
    expect(after!.state).toBe('queued');
    expect(after!.approvals.map((a) => a.by).sort()).toEqual(['user:oncall-a', 'user:oncall-b']);
    expect(await page.locator(`form[action="/actions/${heldId}/approve"]`).count()).toBe(0);
    const row = page.locator('main tr').filter({ hasText: new RegExp(`${heldId}|agent-admin-2`) });
    await expect.poll(() => row.first().textContent()).toContain('queued');
    await page.close();
  });

  it('compliance: an auditor downloads the evidence pack, and it verifies', async () => {
    const page = await pageAs('auditor');
    await open(page, '/compliance');
    const form = page.locator('form[action^="/compliance/evidence"]').first();
    const framework = form.locator('[name="framework"]');
    if ((await framework.evaluate((e) => e.tagName)) === 'SELECT') await framework.selectOption('soc2');
    else await framework.fill('soc2');
    await fillWhen(form.locator('[name="from"]'), iso(0));
    await fillWhen(form.locator('[name="to"]'), iso(6, 12));
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      form.locator('button, input[type="submit"]').first().click(),
    ]);
    expect(download.suggestedFilename()).toMatch(/^credwarden-evidence-soc2-.*\.tar\.gz$/);
    const file = join(mkdtempSync(join(tmpdir(), 'cw-browser-')), download.suggestedFilename());
    await download.saveAs(file);
    const key = loadSigningKey('evidence.key', s.dir)!;
    const report = await verifyPack(file, { publicKeyPem: key.publicPem });
    expect(report.failure).toBeUndefined();
    expect(report.ok).toBe(true);
    const pulled = (await app.audit.read(1)).filter((e) => e.type === 'evidence.exported').at(-1);
    expect(pulled).toMatchObject({ actor: 'user:auditor', subject: 'evidence/soc2' });
    await page.close();
  });

  it('hostile markup in a tag and an agent name renders as text and never runs, wherever it shows', async () => {
    const page = await pageAs('viewer');
    const paths = [`/credentials/${encodeURIComponent(hostileCredential)}`, '/agents', '/findings', '/actions', '/'];
    for (const path of paths) {
      await open(page, path);
      if (path.startsWith('/credentials/') || path === '/agents') expect(await mainText(page), path).toContain(HOSTILE);
      expect(await page.evaluate(() => window.__pwned), path).toBeUndefined();
      expect(await page.locator('img[src="x"]').count(), path).toBe(0);
    }
    await page.close();
  });

  it('the overview: first-contentful-paint recorded (printed, not asserted: the benchmark times it)', async () => {
    const page = await pageAs('viewer');
    await open(page, '/');
    const fcp = await firstContentfulPaint(page);
    const nav = await page.evaluate(`(() => {
      const n = performance.getEntriesByType('navigation')[0];
      return n ? { responseEnd: n.responseEnd, domContentLoaded: n.domContentLoadedEventEnd, load: n.loadEventEnd } : null;
    })()`);
    console.log(`overview: first-contentful-paint ${fcp.toFixed(1)} ms`, nav);
    expect(Number.isFinite(fcp)).toBe(true);
    await page.close();
  });

  it('across the whole file: no request left the origin, no console error, no CSP violation', () => {
    expect(h.sameOriginRequests()).toBeGreaterThan(20);
    expect(h.problems).toEqual([]);
  });
});

let anon: BrowserContext | undefined;
const anonymous = async () => {
  anon ??= await h.newContext();
  return anon;
};

/** Each page once, by the subject that sees most of it (admin-a: every nav entry and button). */
function pagesToTour(): { name: string; path: string; who: Subject | null }[] {
  return [
    { name: 'login', path: '/login', who: null },
    { name: 'overview', path: '/', who: 'admin-a' },
    { name: 'findings', path: '/findings', who: 'admin-a' },
    { name: 'credential', path: `/credentials/${encodeURIComponent(hostileCredential)}`, who: 'admin-a' },
    { name: 'agents', path: '/agents', who: 'admin-a' },
    { name: 'actions', path: '/actions', who: 'admin-a' },
    { name: 'compliance', path: '/compliance', who: 'admin-a' },
    { name: 'drills', path: '/drills', who: 'admin-a' },
  ];
}

/** Fills a date, datetime-local or text field with an ISO instant in the form the field takes. */
async function fillWhen(field: ReturnType<Page['locator']>, isoValue: string): Promise<void> {
  if ((await field.count()) === 0) return;
  const type = await field.evaluate((e) => (e as unknown as { type: string }).type);
  await field.fill(
    type === 'date' ? isoValue.slice(0, 10) : type === 'datetime-local' ? isoValue.slice(0, 16) : isoValue,
  );
}
