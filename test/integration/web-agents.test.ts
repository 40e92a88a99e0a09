/**
 * The agents page (GET /agents) over the seeded history of evidence-scenario.ts plus
 * web-agents-seed.ts: the registry's "bot", the hostile "evil" (declares s3:GetObject; its key is
 * granted s3:PutObject too, which the scope-excess policy reports) and 11 agents without
 * credentials (idle-00..idle-10), and rogue-1's key, an unregistered agent credential. Expected
 * rows come from the registry, the inventory, the findings and the scores, never from the page.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/main.js';
import { grantedActions } from '../../src/model/credential.js';
import { SEVERITIES } from '../../src/model/finding.js';
import type { Browserless } from '../support/dashboard.js';
import { dashboard } from '../support/dashboard.js';
import { type EvidenceScenario, seedEvidenceHistory } from '../support/evidence-scenario.js';
import { useMoto } from '../support/moto.js';
import { useRedis } from '../support/redis.js';
import { type Extras, HOSTILE, HOSTILE_TEAM, seedAgentExtras } from '../support/web-agents-seed.js';

const moto = useMoto();
const r = useRedis('web-agents');
let s: EvidenceScenario;
let app: App;
let extras: Extras;
let ui: Browserless;
let viewer: string;
beforeAll(async () => {
  s = await seedEvidenceHistory(moto.endpoint, r.prefix);
  app = s.app;
  extras = await seedAgentExtras(s, moto.endpoint, { idle: 11 });
  ui = await dashboard(app, s.tokens);
  viewer = await ui.signIn('viewer');
}, 180_000);
afterAll(async () => {
  await ui?.close();
  await s?.app.close();
});

const IDLE = Array.from({ length: 11 }, (_, i) => `idle-${String(i).padStart(2, '0')}`);

async function page(url: string): Promise<string> {
  const res = await ui.get(url, viewer);
  expect(res.statusCode, res.body.slice(0, 300)).toBe(200);
  return res.body;
}

function section(body: string, id: string): string {
  const start = body.indexOf(`<section aria-labelledby="${id}"`);
  expect(start, `section ${id}`).toBeGreaterThanOrEqual(0);
  return body.slice(start, body.indexOf('</section>', start));
}

/** The rows of the first table in `html`: each row's cells as raw HTML. */
function rowsHtml(html: string): string[][] {
  const tbody = html.slice(html.indexOf('<tbody>'), html.indexOf('</tbody>'));
  return [...tbody.matchAll(/<tr>(.*?)<\/tr>/gs)].map((m) =>
    [...m[1]!.matchAll(/<td[^>]*>(.*?)<\/td>/gs)].map((c) => c[1]!),
  );
}
const text = (h: string) =>
  h
    .replace(/<[^>]+>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
/** The agent ids of the registered agents table, in order. */
const agentIds = (body: string) =>
  rowsHtml(section(body, 'registered-h')).map((r) => /<small class="mono">([^<]+)<\/small>/.exec(r[0]!)![1]!);

describe('the agents page', () => {
  it('a viewer sees it; without a session a GET goes to /login?next=… with its query', async () => {
    const body = await page('/agents');
    expect(body).toContain('<h1>Agents</h1>');
    expect(body.match(/<h1[ >]/g)).toHaveLength(1);
    expect(body).toContain('<a href="/agents" aria-current="page">Agents</a>');
    expect(body).toContain('<caption>Registered agents: 13 of 13</caption>');
    expect(body).toContain('<label for="f-q">');
    const anon = await ui.get('/agents?sort=id&dir=asc', null);
    expect(anon.statusCode).toBe(303);
    expect(anon.headers.location).toBe(`/login?next=${encodeURIComponent('/agents?sort=id&dir=asc')}`);
  });

  it('a row per registry agent: owner, environment, version, credentials, open findings by severity, score', async () => {
    const [inventory, findings] = [await app.scans.currentInventory(), await app.findings.all()];
    const rows = rowsHtml(section(await page('/agents'), 'registered-h'));
    expect(rows).toHaveLength(app.registry.agents.length);
    for (const a of app.registry.agents) {
      const row = rows.find((r) => r[0]!.includes(`<small class="mono">${a.id}</small>`))!;
      expect(row, a.id).toBeDefined();
      const creds = inventory.filter((c) => c.agentId === a.id).length;
      const open = findings.filter((f) => f.agentId === a.id && f.state === 'open');
      const score = await app.findings.agentScore(a.id);
      expect(text(row[2]!)).toBe(a.environment);
      expect(text(row[4]!), a.id).toBe(String(creds));
      if (open.length === 0) expect(text(row[5]!)).toBe('none');
      else {
        expect(row[5]).toContain(`<a href="/findings?state=open&amp;agent=${a.id}">${open.length} open</a>`);
        for (const sev of SEVERITIES) {
          const n = open.filter((f) => f.severity === sev).length;
          if (n)
            expect(row[5]).toContain(
              `<a href="/findings?state=open&amp;agent=${a.id}&amp;severity=${sev}">${n} <span class="badge sev-${sev}">${sev}</span></a>`,
            );
          else expect(row[5]).not.toContain(`severity=${sev}"`);
        }
      }
      if (score) expect(row[6]).toContain(`<strong>${score.score}</strong><br><small>${score.top[0]!.message}</small>`);
      else expect(text(row[6]!)).toBe('not scored');
    }
    const bot = rows[0]!;
    expect(text(bot[1]!)).toBe('platform platform@example.com');
    expect(text(bot[3]!)).toBe('1.0.0');
    expect(text(bot[4]!)).toBe('6');
    expect(text(rows.find((r) => r[0]!.includes('idle-00'))![1]!)).toBe('no owner');
  });

  it('declared scopes against granted (from the grants), beyond (from the scope findings) and used (last use)', async () => {
    const rows = rowsHtml(section(await page('/agents'), 'registered-h'));
    const cell = (id: string) => rows.find((r) => r[0]!.includes(`<small class="mono">${id}</small>`))![7]!;
    const inventory = await app.scans.currentInventory();

    const evil = cell('evil');
    const evilCred = inventory.find((c) => c.id === extras.ids['evil-1'])!;
    expect(grantedActions(evilCred.grants)).toEqual(['s3:GetObject', 's3:PutObject']);
    const scope = (await app.findings.all()).find((f) => f.policy === 'evil-scope')!;
    expect(scope.state).toBe('open');
    expect(scope.hits[0]!.evidence.find((e) => e.field === 'excess')!.value).toEqual(['s3:PutObject']);
    expect(evil).toContain('<summary>2 declared · 2 granted · 1 beyond declared · 0 used</summary>');
    expect(evil).toContain(
      '<li><code>aws s3:GetObject</code></li><li><code>aws s3:&lt;img src=x onerror=alert(1)&gt;</code></li>',
    );
    expect(evil).toContain(
      '<li><code>s3:GetObject</code></li><li><code>s3:PutObject</code> <small>(beyond declared)</small></li>',
    );
    expect(evil).toMatch(
      /Beyond declared<\/strong> <small>[^<]*<\/small><\/p><ul class="plain"><li><code>s3:PutObject<\/code><\/li><\/ul>/,
    );
    expect(evil).toContain('<span class="muted">no recorded use</span>');

    const bot = cell('bot');
    const mine = inventory.filter((c) => c.agentId === 'bot');
    const granted = [...new Set(mine.flatMap((c) => grantedActions(c.grants)))].sort();
    const used = mine.filter((c) => c.lastUsed?.at);
    expect(granted).toEqual(['*']);
    expect(used.length).toBeGreaterThan(0);
    expect(bot).toContain(
      `<summary>3 declared · ${granted.length} granted · 0 beyond declared · ${used.length} used</summary>`,
    );
    expect(bot).toContain(
      '<li><code>aws sts:GetCallerIdentity</code></li><li><code>aws iam:List*</code></li><li><code>vault secret/data/bot/*: read</code></li>',
    );
    for (const c of used) {
      expect(bot).toContain(`<time datetime="${c.lastUsed!.at}"`);
      expect(bot).toContain(`href="/credentials/${encodeURIComponent(c.id)}"`);
    }
    expect(cell('idle-03')).toContain('<summary>0 declared · 0 granted · 0 beyond declared · 0 used</summary>');
  });

  it('sort and filters change the rows (default: score, highest first)', async () => {
    expect(agentIds(await page('/agents'))).toEqual(['bot', 'evil', ...IDLE]);
    expect(agentIds(await page('/agents?sort=id&dir=desc'))).toEqual([...IDLE].reverse().concat(['evil', 'bot']));
    expect(agentIds(await page('/agents?sort=score&dir=asc'))).toEqual([...IDLE, 'evil', 'bot']);
    expect(agentIds(await page('/agents?sort=credentials&dir=desc')).slice(0, 2)).toEqual(['bot', 'evil']);
    expect(agentIds(await page('/agents?sort=open&dir=desc')).slice(0, 2)).toEqual(['bot', 'evil']);
    expect(agentIds(await page('/agents?environment=staging'))).toEqual(['evil']);
    expect(agentIds(await page('/agents?environment=dev'))).toEqual(IDLE);
    expect(agentIds(await page('/agents?q=IDLE%201'))).toEqual(['idle-01', 'idle-10']);
    expect(agentIds(await page('/agents?q=platform%40example'))).toEqual(['bot']);
    expect(agentIds(await page('/agents?agent=evil'))).toEqual(['evil']);
    const none = await page('/agents?q=nobody-at-all');
    expect(section(none, 'registered-h')).toContain('No agent matches the filter.');
    // The sorted header says so, and its link flips the direction keeping the filter.
    const sorted = await page('/agents?environment=dev&sort=id&dir=asc');
    expect(sorted).toContain(
      '<th scope="col" aria-sort="ascending"><a href="/agents?environment=dev&amp;sort=id&amp;dir=desc">Agent',
    );
    expect(sorted).toContain('<option value="dev" selected>dev</option>');
  });

  it('paging: ten agents a page with a next link; the next page has the rest', async () => {
    const first = await page('/agents?limit=10');
    expect(agentIds(first)).toEqual(['bot', 'evil', ...IDLE.slice(0, 8)]);
    expect(first).toContain('Showing 1–10 of 13');
    expect(first).toContain('<a href="/agents?limit=10&amp;offset=10" rel="next">Next</a>');
    const second = await page('/agents?limit=10&offset=10');
    expect(agentIds(second)).toEqual(IDLE.slice(8));
    expect(second).toContain('Showing 11–13 of 13');
    expect(second).toContain('<a href="/agents?limit=10" rel="prev">Previous</a>');
  });

  it('the unregistered agent credentials, linked to their credential pages', async () => {
    const unregistered = (await app.scans.currentInventory()).filter((c) => c.unregisteredAgent);
    expect(unregistered.map((c) => c.id)).toEqual([extras.ids['rogue-1']]);
    const sec = section(await page('/agents'), 'unregistered-h');
    expect(sec).toContain('<caption>Unregistered agent credentials: 1</caption>');
    const rows = rowsHtml(sec);
    expect(rows).toHaveLength(1);
    const c = unregistered[0]!;
    expect(rows[0]![0]).toBe(`<a class="mono" href="/credentials/${encodeURIComponent(c.id)}">${c.id}</a>`);
    expect(rows.map((r) => r.slice(1).map(text))).toEqual([
      [c.kind, c.principal, c.status, expect.stringMatching(/ago$/), '0'],
    ]);
    expect(c.principal).toMatch(/user\/rogue-1$/);
  });

  it('hostile markup from the registry (name, owner, version, a declared scope) renders as text', async () => {
    const body = await page('/agents?agent=evil');
    const main = body.slice(body.indexOf('<main'));
    expect(main).toContain('<span id="agent-evil">&lt;img src=x onerror=alert(1)&gt;</span>');
    expect(main).toContain(
      '&lt;script&gt;alert(2)&lt;/script&gt; <small>&quot;&gt;&lt;svg onload=alert(3)&gt;</small>',
    );
    expect(main).toContain('<td>1.0&lt;b&gt;</td>');
    expect(main).not.toContain(HOSTILE);
    expect(main).not.toContain(HOSTILE_TEAM);
    expect(main).not.toMatch(/<img|<script|<svg onload|<b>/);
  });
});
