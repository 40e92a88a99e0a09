/**
 * The dashboard's drills page (GET /drills), the overview's drills tile and the drill events of a
 * credential's timeline, over a real App whose drills are recorded as the drill engine records
 * them (test/support/drills.ts): d-old (40 days ago, passed), d-1 (admin-key, passed), d-appr
 * (self-escalation, passed at the approval request), d-2 (stale-token, failed at the alert stage
 * with a hostile reason, by, cleanup error and planted credential id); later d-3 (runaway) starts
 * and is still running. Every value from Redis must come out escaped.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import type { DrillRecord } from '../../src/drill/store.js';
import type { App } from '../../src/main.js';
import { escapeHtml } from '../../src/web/html.js';
import { describe as describeEvent, timelineOf } from '../../src/web/pages/credential-timeline.js';
import { credentialHref } from '../../src/web/ui.js';
import { testTokens } from '../support/api.js';
import { testApp, writeTestFiles } from '../support/app.js';
import { type Browserless, dashboard } from '../support/dashboard.js';
import { appendDrill, drillRecord, recordDrill, startedRecord } from '../support/drills.js';
import { useRedis } from '../support/redis.js';

const r = useRedis('web-drills');
const DAY = 86_400_000;
const NOW = Date.parse('2026-06-10T12:00:00Z');
const ago = (days: number) => new Date(NOW - days * DAY);
const XSS = '<script>alert(1)</script>';
const IMG = '"><img src=x onerror=alert(2)>';
const HOSTILE_CRED = `aws/111111111111/access-key/${IMG}`;

let app: App;
let clock: ManualClock;
let ui: Browserless;
let viewer: string;
const d1 = drillRecord('d-1', ago(3));
const dOld = drillRecord('d-old', ago(40));
const dAppr = drillRecord('d-appr', ago(2), {
  scenario: 'self-escalation',
  times: { detectMs: 50_000, alertMs: 70_000, approvalMs: 120_000 },
  remediation: null,
});
const d2 = drillRecord('d-2', ago(1), {
  scenario: 'stale-token',
  trigger: 'cli',
  by: `user:${IMG}`,
  target: { sourceType: 'vault', source: 'main/drills' },
  status: 'failed',
  stage: 'alert',
  reason: XSS,
  times: { detectMs: 30_000 },
  alert: null,
  remediation: null,
  planted: [{ kind: 'vault-token', id: 'acc-1', source: 'main/drills', credentialId: HOSTILE_CRED }],
  cleanup: { at: ago(1).toISOString(), removed: ['acc-1'], gone: ['pol-1'], failed: [{ id: 'role-1', error: IMG }] },
});

beforeAll(async () => {
  const tokens = await testTokens();
  const files = writeTestFiles({ redis: { prefix: r.prefix }, api: { tokens: tokens.config } }, { agents: [] });
  clock = new ManualClock(ago(41));
  app = await testApp(files, clock);
  for (const rec of [dOld, d1, dAppr, d2]) await recordDrill(app, clock, rec);
  clock.set(NOW);
  ui = await dashboard(app, tokens);
  viewer = await ui.signIn('viewer');
  return async () => {
    await ui.close();
    await app.close();
  };
});

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

/** The table rows, each as its cells' text (tags removed, entities kept). */
function rows(html: string): string[][] {
  const tbody = html.slice(html.indexOf('<tbody>'), html.indexOf('</tbody>'));
  return [...tbody.matchAll(/<tr>(.*?)<\/tr>/gs)].map((m) =>
    [...m[1]!.matchAll(/<td[^>]*>(.*?)<\/td>/gs)].map((c) =>
      c[1]!
        .replace(/<[^>]+>/g, ' ')
        .replace(/\s+/g, ' ')
        .trim(),
    ),
  );
}

const rowOf = (body: string, id: string) => rows(section(body, 'drills-all-h')).find((row) => row[0]!.includes(id))!;

describe('the drills page', () => {
  it('is in the navigation, for every role; without a session it goes to sign-in', async () => {
    const body = await page('/drills');
    expect(body).toContain('<h1>Drills</h1>');
    expect(body).toContain('<a href="/drills" aria-current="page">Drills</a>');
    expect(await page('/')).toContain('<a href="/drills">Drills</a>');
    for (const who of ['auditor', 'oncall-a', 'admin-a'] as const)
      expect((await ui.get('/drills', await ui.signIn(who))).statusCode, who).toBe(200);
    const anon = await ui.get('/drills', null);
    expect(anon.statusCode).toBe(303);
    expect(anon.headers.location).toBe(`/login?next=${encodeURIComponent('/drills')}`);
  });

  it('sums up: the last drill of each scenario with its result, and the passes of the last 30 days', async () => {
    const s = section(await page('/drills'), 'drills-summary-h');
    // d-1, d-appr and d-2 finished in the last 30 days; d-old did not.
    expect(s).toContain('<strong>2 of 3</strong> drills that finished in the last 30 days passed.');
    const last = Object.fromEntries(
      [...s.matchAll(/<li><strong>([^<]+)<\/strong>: (.*?)<\/li>/gs)].map((m) => [m[1], m[2]!.replace(/<[^>]+>/g, '')]),
    );
    expect(last).toEqual({
      'admin-key': expect.stringMatching(/^passed 3 d ago$/),
      'self-escalation': expect.stringMatching(/^passed 2 d ago$/),
      'unregistered-secret-id': 'no drill recorded',
      'stale-token': expect.stringMatching(/^failed 24 h ago at alert$/),
      runaway: 'no drill recorded',
    });
  });

  it('lists each drill: started by, result, times in words, cleanup and the planted credentials', async () => {
    const body = await page('/drills');
    const ids = rows(section(body, 'drills-all-h')).map((row) => /d-[a-z0-9]+/.exec(row[0]!)![0]);
    expect(ids).toEqual(['d-2', 'd-appr', 'd-1', 'd-old']);
    const [scenario, , by, result, detect, alert, remediate, cleanup] = rowOf(body, 'd-1');
    expect(scenario).toBe('admin-key d-1 aws 111111111111');
    expect(by).toBe('schedule credwarden');
    expect(result).toBe('passed finished 3 d ago');
    expect([detect, alert, remediate]).toEqual(['42 s', '1 min 5 s', '3 min 5 s']);
    expect(cleanup).toMatch(/^2 removed What was removed/);
    const key = d1.planted[1]!.credentialId!;
    expect(body).toContain(`<a class="mono" href="${escapeHtml(credentialHref(key))}">${key}</a>`);
    expect(rowOf(body, 'd-appr').slice(4, 7)).toEqual(['50 s', '1 min 10 s', 'approval requested after 2 min']);
    const failed = rowOf(body, 'd-2');
    expect(failed[3]).toBe(`failed at stage alert : ${escapeHtml(XSS)}`);
    expect(failed.slice(4, 7)).toEqual(['30 s', 'not reached', 'not reached']);
    expect(failed[7]).toContain(`1 removed, 1 already gone`);
    expect(failed[7]).toContain(`failed: role-1 : ${escapeHtml(IMG)}`);
    expect(section(body, 'drills-all-h')).toContain('<ul class="plain cleanup-failed">');
  });

  it('escapes every value from Redis: a hostile reason, by, cleanup error and credential id are text', async () => {
    const body = await page('/drills');
    expect(body).not.toContain(XSS);
    expect(body).not.toContain('<img');
    expect(body).not.toMatch(/<[^>]*\sonerror=/i);
    expect(body).toContain(escapeHtml(XSS));
    expect(body).toContain(`user:${escapeHtml(IMG)}`);
    expect(body).toContain(`href="${escapeHtml(credentialHref(HOSTILE_CRED))}"`);
    expect(body).toContain(`>${escapeHtml(HOSTILE_CRED)}</a>`);
  });

  it('the overview shows the last drill: its result and age', async () => {
    const tile = section(await page('/'), 'drills-h');
    expect(tile).toContain(
      '<a class="tile bad" href="/drills"><span class="tile-value">failed</span><span class="tile-label">last drill: stale-token, 24 h ago (at alert)</span></a>',
    );
  });

  it('a running drill: its stage and deadline, and the overview says running', async () => {
    const d3 = startedRecord(drillRecord('d-3', new Date(NOW - 60_000), { scenario: 'runaway' }));
    await appendDrill(app, 'drill.started', d3, { clock, at: new Date(NOW - 60_000) });
    clock.set(NOW);
    const body = await page('/drills');
    const [, , , result, detect, , , cleanup, planted] = rowOf(body, 'd-3');
    expect(result).toBe('running stage plant; deadline in 14 min');
    expect([detect, cleanup, planted]).toEqual(['not yet', 'not yet', 'nothing planted yet']);
    expect(section(body, 'drills-summary-h')).toMatch(/<strong>runaway<\/strong>: <span class="badge state-running">/);
    expect(section(await page('/'), 'drills-h')).toContain(
      '<span class="tile-value">running</span><span class="tile-label">last drill: runaway, 60 s ago</span>',
    );
  });
});

describe("a planted credential's timeline", () => {
  it('holds the drill events naming it, in words, newest first', async () => {
    const t = await timelineOf(app, d1.planted[1]!.credentialId!);
    expect(t.events.map((e) => e.type)).toEqual([
      'drill.finished',
      'drill.cleaned',
      'drill.stage',
      'drill.stage',
      'drill.stage',
      'drill.planted',
    ]);
    expect(t.events.map((e) => describeEvent(e).title)).toEqual([
      'Drill admin-key (d-1) passed',
      'Drill admin-key (d-1) cleaned up',
      'Drill admin-key (d-1): remediated after 3 min 5 s',
      'Drill admin-key (d-1): alerted after 1 min 5 s',
      'Drill admin-key (d-1): detected after 42 s',
      'Planted by drill admin-key (d-1)',
    ]);
    const failed = (await timelineOf(app, HOSTILE_CRED)).events;
    const finished = failed.find((e) => e.type === 'drill.finished')!;
    expect(describeEvent(finished).details).toEqual(['stage reached: alert', `why: ${XSS}`]);
    const cleaned = failed.find((e) => e.type === 'drill.cleaned')!;
    expect(describeEvent(cleaned).details).toEqual(['1 removed, 1 already gone', `failed: role-1: ${IMG}`]);
  });
});

/** The record type is the store's: a guard against this file drifting from it. */
const _typed: DrillRecord[] = [d1, d2, dAppr, dOld];
void _typed;
