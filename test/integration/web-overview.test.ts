/**
 * The overview (GET /) over the seeded history of evidence-scenario.ts plus web-agents-seed.ts
 * (scan-9 partial, the hostile agent "evil", remediation paused with a hostile reason and
 * scan-9's action held). Every expected number comes from the scenario's timeline or the App's
 * services, never from the page.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/main.js';
import { SEVERITIES, type Severity } from '../../src/model/finding.js';
import { remediationStatus } from '../../src/remediation/status.js';
import { stepChart, xOf, yOf, yScale } from '../../src/web/pages/overview-chart.js';
import { openTrend, TREND_MAX_POINTS } from '../../src/web/pages/overview-data.js';
import type { Browserless } from '../support/dashboard.js';
import { dashboard } from '../support/dashboard.js';
import { at, type EvidenceScenario, seedEvidenceHistory } from '../support/evidence-scenario.js';
import { useMoto } from '../support/moto.js';
import { useRedis } from '../support/redis.js';
import { type Extras, HOSTILE, HOSTILE_TEAM, PAUSE_REASON, seedAgentExtras } from '../support/web-agents-seed.js';

const moto = useMoto();
const r = useRedis('web-overview');
let s: EvidenceScenario;
let app: App;
let extras: Extras;
let ui: Browserless;
let viewer: string;
beforeAll(async () => {
  s = await seedEvidenceHistory(moto.endpoint, r.prefix);
  app = s.app;
  extras = await seedAgentExtras(s, moto.endpoint, { pause: true });
  ui = await dashboard(app, s.tokens);
  viewer = await ui.signIn('viewer');
}, 180_000);
afterAll(async () => {
  await ui?.close();
  await s?.app.close();
});

const DAY = 86_400_000;
/** Open findings by severity after each scan's evaluation, as the timeline says (F1–F6, then scan-9 adds evil-1's two). */
const TIMELINE: [string, Partial<Record<Severity, number>>][] = [
  ['scan-0', { critical: 1, high: 1, medium: 2 }],
  ['scan-1', { critical: 1, medium: 2 }],
  ['scan-2', { medium: 1 }],
  ['scan-3', { critical: 1, medium: 1 }],
  ['scan-4', { critical: 1 }],
  ['scan-5', { critical: 1, medium: 1 }],
  ['scan-6', { critical: 1, medium: 1 }],
  ['scan-7', { critical: 1, medium: 1 }],
  ['scan-8', { critical: 1, medium: 1 }],
  ['scan-9', { critical: 1, medium: 2, low: 1 }],
];
const countOf = (open: Partial<Record<Severity, number>>, sev: Severity) => open[sev] ?? 0;

async function page(url: string): Promise<string> {
  const res = await ui.get(url, viewer);
  expect(res.statusCode, res.body.slice(0, 300)).toBe(200);
  return res.body;
}

/** The section labelled by heading id `id`. */
function section(body: string, id: string): string {
  const start = body.indexOf(`<section aria-labelledby="${id}"`);
  expect(start, `section ${id}`).toBeGreaterThanOrEqual(0);
  return body.slice(start, body.indexOf('</section>', start));
}

/** The chart's paths by series, each as its vertices: (x, y) after M and after every V, and the x it ends at. */
function chartPaths(body: string): Map<string, { points: [number, number][]; end: number }> {
  const out = new Map<string, { points: [number, number][]; end: number }>();
  for (const m of body.matchAll(/<path class="chart-line [^"]*" data-series="([^"]+)" d="([^"]+)"><\/path>/g)) {
    const points: [number, number][] = [];
    let x = Number.NaN;
    for (const t of m[2]!.match(/[MHV][^MHV]*/g) ?? []) {
      const nums = t.slice(1).trim().split(/\s+/).map(Number);
      if (t[0] === 'M') {
        x = nums[0]!;
        points.push([x, nums[1]!]);
      } else if (t[0] === 'H') x = nums[0]!;
      else points.push([x, nums[0]!]);
    }
    out.set(m[1]!, { points, end: x });
  }
  return out;
}

/** The rows of the first table in `html`, each as its cells' text (tags removed). */
function rows(html: string): string[][] {
  const tbody = html.slice(html.indexOf('<tbody>'), html.indexOf('</tbody>'));
  return [...tbody.matchAll(/<tr>(.*?)<\/tr>/gs)].map((m) =>
    [...m[1]!.matchAll(/<td[^>]*>(.*?)<\/td>/gs)].map((c) => c[1]!.replace(/<[^>]+>/g, '').trim()),
  );
}

describe('the overview page', () => {
  it('a viewer (and every role: all hold posture:read) sees it; without a session a GET goes to /login?next=…', async () => {
    const res = await ui.get('/', viewer);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.body).toContain('<h1>Overview</h1>');
    expect(res.body.match(/<h1[ >]/g)).toHaveLength(1);
    expect(res.body).toContain('<a href="/" aria-current="page">Overview</a>');
    for (const who of ['auditor', 'oncall-a', 'admin-a'] as const)
      expect((await ui.get('/', await ui.signIn(who))).statusCode, who).toBe(200);
    for (const url of ['/', '/?days=90']) {
      const anon = await ui.get(url, null);
      expect(anon.statusCode).toBe(303);
      expect(anon.headers.location).toBe(`/login?next=${encodeURIComponent(url)}`);
    }
  });

  it('open findings by severity: a tile per severity with its open count, linking to those findings', async () => {
    const tiles = section(await page('/'), 'open-h');
    const open = (await app.findings.all()).filter((f) => f.state === 'open');
    expect(open.length).toBe(4);
    expect(tiles).toContain(`<a class="tile " href="/findings?state=open"><span class="tile-value">4</span>`);
    for (const sev of SEVERITIES) {
      const n = open.filter((f) => f.severity === sev).length;
      expect(n).toBe(countOf(TIMELINE.at(-1)![1], sev));
      expect(tiles).toContain(
        `<a class="tile sev-${sev}" href="/findings?state=open&amp;severity=${sev}"><span class="tile-value">${n}</span><span class="tile-label">${sev} open</span></a>`,
      );
    }
  });

  it("the trend: an accessible SVG with one path per severity stepping through each scan's recorded open counts", async () => {
    // The counts are each scan's evaluation summary; they match the timeline.
    const evaluated: number[] = [];
    for (const [id, open] of TIMELINE) {
      const e = (await app.findings.evaluation(id))!;
      expect(e.open, id).toEqual(open);
      evaluated.push(Date.parse(e.evaluatedAt));
    }
    const body = await page('/');
    const trend = section(body, 'trend-h');
    const title = 'Open findings by severity, last 30 days';
    expect(trend).toContain(`role="img" aria-label="${title}"`);
    expect(trend).toContain(`<title id="trend-title">${title}</title>`);
    expect(trend).toMatch(/<desc id="trend-desc">[^<]*10 points[^<]*critical: 1 at the start, 1 at the end/);
    expect(trend).not.toMatch(/<script|style=/);

    const to = app.clock.now().getTime();
    const from = to - 30 * DAY;
    const { max } = yScale(2);
    const paths = chartPaths(trend);
    expect([...paths.keys()]).toEqual([...SEVERITIES]);
    for (const sev of SEVERITIES) {
      const p = paths.get(sev)!;
      expect(p.points, sev).toEqual(
        TIMELINE.map(([, open], i) => [xOf(evaluated[i]!, from, to), yOf(countOf(open, sev), max)]),
      );
      expect(p.end).toBe(xOf(to, from, to));
    }

    // The same numbers as a table in a <details>, one row per scan.
    const details = trend.slice(trend.indexOf('<details'));
    expect(details).toContain('<caption>Open findings per scan, last 30 days</caption>');
    expect(rows(details)).toEqual(
      TIMELINE.map(([id, open], i) => [
        `${new Date(evaluated[i]!).toISOString().replace('T', ' ').slice(0, 16)} ${id}`,
        ...SEVERITIES.map((sev) => String(countOf(open, sev))),
      ]),
    );
  });

  it('?days=90 draws the same points on a 90-day axis; the range links say which is shown; other values mean 30', async () => {
    const body = await page('/?days=90');
    expect(body).toContain('aria-label="Open findings by severity, last 90 days"');
    expect(body).toContain(
      '<li><a href="/">Last 30 days</a></li><li><a href="/?days=90" aria-current="true">Last 90 days</a></li>',
    );
    const to = app.clock.now().getTime();
    const from = to - 90 * DAY;
    const at9 = Date.parse((await app.findings.evaluation('scan-9'))!.evaluatedAt);
    const critical = chartPaths(body).get('critical')!;
    expect(critical.points).toHaveLength(TIMELINE.length);
    expect(critical.points.at(-1)).toEqual([xOf(at9, from, to), yOf(1, 2)]);
    expect(await page('/?days=7')).toContain('aria-label="Open findings by severity, last 30 days"');
  });

  it('a range with no scan in it starts from the count before it; the longer range still has every scan', async () => {
    const back = app.clock.now();
    s.clock.set(new Date(at(7, 2).getTime() + 40 * DAY));
    try {
      const body = await page('/');
      const paths = chartPaths(body);
      const last = TIMELINE.at(-1)![1];
      for (const sev of SEVERITIES)
        expect(paths.get(sev), sev).toEqual({
          points: [[xOf(0, 0, 1), yOf(countOf(last, sev), 2)]],
          end: xOf(1, 0, 1),
        });
      const table = section(body, 'trend-h');
      expect(rows(table.slice(table.indexOf('<details')))[0]).toEqual([
        expect.stringMatching(/^before \d{4}-/),
        ...SEVERITIES.map((sev) => String(countOf(last, sev))),
      ]);
      expect(table).toContain('0 evaluated scans in this range');
      expect(chartPaths(await page('/?days=90')).get('medium')!.points).toHaveLength(TIMELINE.length);
    } finally {
      s.clock.set(back);
    }
  });

  it('the riskiest agents: by score, with owner, top reason and the credential behind it', async () => {
    const risk = section(await page('/'), 'risk-h');
    const findings = new Map((await app.findings.all()).map((f) => [f.fingerprint, f]));
    const expected = [];
    for (const a of app.registry.agents) {
      const score = await app.findings.agentScore(a.id);
      if (score && score.score > 0) expected.push({ a, score });
    }
    expected.sort((x, y) => y.score.score - x.score.score);
    expect(expected.map((e) => e.a.id)).toEqual(['bot', 'evil']);
    const got = rows(risk);
    expect(got).toHaveLength(2);
    expected.forEach(({ a, score }, i) => {
      const top = score.top[0]!;
      const cred = findings.get(top.fingerprint)!.credentialId;
      expect(got[i]![2]).toBe(String(score.score));
      expect(got[i]![3]).toContain(top.severity);
      expect(risk).toContain(`<a href="/agents?agent=${a.id}">`);
      expect(risk).toContain(`<a class="mono" href="/credentials/${encodeURIComponent(cred)}">${cred}</a>`);
    });
    expect(got[0]![3]).toContain('Allow * on *: full administrator');
    expect(got[0]![4]).toBe(s.ids['agent-admin']);
    expect(got[1]![4]).toBe(extras.ids['evil-1']);
    expect(got[0]![1]).toBe('platform platform@example.com');
    expect(risk).toContain('<a href="/agents">Every agent</a>');
  });

  it("the last scan's coverage: scan-9 is partial, account 222 timed out, said in words", async () => {
    const cov = section(await page('/'), 'cov-h');
    const summary = (await app.scans.summary('scan-9'))!;
    expect(summary.status).toBe('partial');
    expect(cov).toContain('<span class="mono">scan-9</span> <span class="badge state-partial">partial</span>');
    expect(cov).toContain('<dt>Units</dt><dd>1 of 2 complete</dd>');
    expect(cov).toContain('1 unit was not fully observed.');
    expect(cov).toMatch(
      /<strong>222222222222<\/strong> <span class="badge state-timed-out">timed-out<\/span>: did not report before the scan deadline; what it did not see is carried over/,
    );
    expect(rows(cov)).toEqual(
      summary.units.map((u) => [
        `${u.label} ${u.key}`,
        u.status,
        String(u.credentials),
        u.status === 'complete' ? 'observed completely' : `${u.key}: did not report before the scan deadline Timeout`,
      ]),
    );
  });

  it('drift since the previous scan: the counts of scan-9 and the credentials added, linked', async () => {
    const drift = section(await page('/'), 'drift-h');
    expect((await app.scans.summary('scan-9'))!.counts.drift).toEqual({ 'credential.added': 2 });
    expect(drift).toContain('found changed since scan <span class="mono">scan-8</span>: 2 changes.');
    expect(drift).toContain('<span class="tile-value">2</span><span class="tile-label">added</span>');
    for (const label of ['removed', 'status changed', 'grants changed', 'attribution changed'])
      expect(drift).toContain(`<span class="tile-value">0</span><span class="tile-label">${label}</span>`);
    for (const id of Object.values(extras.ids))
      expect(drift).toContain(`added: <a class="mono" href="/credentials/${encodeURIComponent(id)}">${id}</a>`);
  });

  it('remediation: mode, the kill switch pulled (by whom, why), the breaker, held actions counted and linked', async () => {
    const rem = section(await page('/'), 'rem-h');
    const status = await remediationStatus(app.remediation);
    expect(status.paused?.by).toBe('user:oncall-a');
    expect(status.actions.held).toBeGreaterThanOrEqual(1);
    expect(rem).toContain(`<dt>Mode</dt><dd><strong>${status.mode}</strong>`);
    expect(rem).toMatch(
      /<dt>Kill switch<\/dt><dd><span class="badge state-paused">paused<\/span> by user:oncall-a <time[^>]*>[^<]*<\/time>: incident &lt;img src=x onerror=alert\(1\)&gt;<\/dd>/,
    );
    expect(rem).toContain('<dt>Circuit breaker</dt><dd><span class="badge state-closed">closed</span>');
    expect(rem).toContain(
      `<dt>Rate</dt><dd>${status.rate.used} of ${status.rate.max} actions started in the last ${status.rate.perHours} h</dd>`,
    );
    expect(rem).toContain(
      `<a class="tile bad" href="/actions?state=held"><span class="tile-value">${status.actions.held}</span><span class="tile-label">held by a guardrail</span></a>`,
    );
    expect(rem).toContain(
      `href="/actions?state=awaiting-approval"><span class="tile-value">${status.actions['awaiting-approval'] ?? 0}</span>`,
    );
  });

  it('hostile markup from the registry (agent name, owner) and a pause reason renders as text', async () => {
    const body = await page('/');
    const main = body.slice(body.indexOf('<main'));
    expect(main).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(main).toContain('&lt;script&gt;alert(2)&lt;/script&gt;');
    expect(main).toContain('&quot;&gt;&lt;svg onload=alert(3)&gt;');
    expect(main).not.toContain(HOSTILE);
    expect(main).not.toContain(HOSTILE_TEAM);
    expect(main).not.toContain(PAUSE_REASON);
    expect(main).not.toMatch(/<img|<script|<svg onload|onerror=alert\(1\)>/);
  });
});

describe('the trend data and chart, on their own', () => {
  /** An App with only what openTrend reads: scan ids newest first and their evaluation summaries. */
  const stubApp = (evals: readonly { id: string; at: number; open: Record<string, number>; held?: boolean }[]) =>
    ({
      scans: { recentIds: async (n: number) => evals.map((e) => e.id).slice(0, n) },
      findings: {
        evaluation: async (id: string) => {
          const e = evals.find((x) => x.id === id);
          return e
            ? { evaluatedAt: new Date(e.at).toISOString(), open: e.open, ...(e.held ? { held: { reason: 'x' } } : {}) }
            : null;
        },
      },
    }) as unknown as App;

  it('more evaluations than TREND_MAX_POINTS are thinned to the last of each bucket; held ones are left out', async () => {
    const now = new Date(Date.UTC(2030, 0, 31));
    const to = now.getTime();
    // Newest first, every 5 minutes over 30 days, plus one a day before the range; the newest is held.
    type Eval = { id: string; at: number; open: Record<string, number>; held?: boolean };
    const evals: Eval[] = Array.from({ length: 30 * 288 }, (_, i) => ({
      id: `s${i}`,
      at: to - i * 300_000,
      open: { high: i % 7 },
    }));
    evals[0]!.held = true;
    evals.push({ id: 'before', at: to - 31 * DAY, open: { high: 42 } });
    const t = await openTrend(stubApp(evals), now, 30);
    expect(t.evaluated).toBe(evals.length - 2);
    expect(t.points.length).toBeLessThanOrEqual(TREND_MAX_POINTS);
    expect(t.thinnedTo).toBe(Math.ceil((30 * DAY) / TREND_MAX_POINTS));
    expect(t.start).toMatchObject({ scanId: 'before', open: { high: 42, critical: 0 } });
    // The newest applied evaluation is the last point drawn.
    expect(t.points.at(-1)).toMatchObject({ scanId: 's1', open: { high: 1 } });
    for (let i = 1; i < t.points.length; i++) expect(t.points[i]!.at).toBeGreaterThan(t.points[i - 1]!.at);
  });

  it('no value at all: the chart says so and draws no path; the table says there is nothing', () => {
    const svg = stepChart({
      id: 'c',
      title: 'Nothing',
      about: 'Nothing here.',
      from: 0,
      to: 30 * DAY,
      xs: [],
      rowLabels: [],
      series: [{ key: 'high', label: 'high', values: [] }],
      tableCaption: 'Nothing per scan',
      firstColumn: 'When',
    }).value;
    expect(svg).not.toContain('<path');
    expect(svg).toContain('No data in this range');
    expect(svg).toContain('<desc id="c-desc">Nothing here. No values from 1970-01-01 to 1970-01-31.</desc>');
    expect(svg).toContain('No values in this range.');
  });
});
