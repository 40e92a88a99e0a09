/**
 * The findings page (/findings) and its download (/findings.csv) over the seeded history of
 * test/support/evidence-scenario.ts, plus twelve more never-used agent keys (one of them on a user
 * whose name is markup) found by a tenth scan, so there are more findings than a page holds.
 * Expectations come from the App's services and GET /api/v1/findings, never from the page itself.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CSV_COLUMNS } from '../../src/export/csv.js';
import type { Finding } from '../../src/model/finding.js';
import { severityRank } from '../../src/model/finding.js';
import { parseCsv } from '../../src/util/csv.js';
import { escapeHtml } from '../../src/web/html.js';
import { createUser, seederFor } from '../support/aws-seed.js';
import { type Browserless, dashboard } from '../support/dashboard.js';
import { ACCOUNT, type EvidenceScenario, FAR, seedEvidenceHistory } from '../support/evidence-scenario.js';
import { useMoto } from '../support/moto.js';
import { useRedis } from '../support/redis.js';
import { drive } from '../support/remediation-env.js';

const moto = useMoto();
const r = useRedis('web-findings');
const HOSTILE = '<img src=x onerror=alert(1)>';
const HOSTILE_USER = `agent-x${HOSTILE}`;
let s: EvidenceScenario;
let ui: Browserless;
let cookie: string;

beforeAll(async () => {
  s = await seedEvidenceHistory(moto.endpoint, r.prefix);
  const seeder = await seederFor(moto.endpoint, ACCOUNT);
  try {
    for (let i = 1; i <= 11; i++)
      await createUser(
        seeder,
        { name: `agent-bulk-${String(i).padStart(2, '0')}`, keys: ['active'], tags: { lane: 'plain' } },
        moto.endpoint,
      );
    await createUser(seeder, { name: HOSTILE_USER, keys: ['active'], tags: { lane: 'plain' } }, moto.endpoint);
  } finally {
    seeder.iam.destroy();
  }
  await drive(s.app, s.clock).scan('scan-9');
  ui = await dashboard(s.app, s.tokens);
  cookie = await ui.signIn('viewer');
}, 180_000);

afterAll(async () => {
  await ui?.close();
  await s?.app.close();
});

const page = async (q = '') => {
  const res = await ui.get(`/findings${q}`, cookie);
  expect(res.statusCode, res.body.slice(0, 300)).toBe(200);
  return res.body;
};
/** The fingerprints of the table's rows, in order. */
const rowsOf = (body: string) => [...body.matchAll(/<small class="mono fp">([^<]*)<\/small>/g)].map((m) => m[1]!);
const apiFindings = async (q = ''): Promise<Finding[]> => {
  const res = await ui.api.call('GET', `/api/v1/findings?limit=1000${q ? `&${q}` : ''}`, { as: 'viewer' });
  expect(res.statusCode, res.body).toBe(200);
  return (JSON.parse(res.body) as { items: Finding[] }).items;
};
/** The values of a filter select's options ('' is "any"), and the selected one. */
const selectOf = (body: string, name: string) => {
  const m = new RegExp(`<select id="f-${name}" name="${name}">([\\s\\S]*?)</select>`).exec(body);
  expect(m, `select ${name}`).not.toBeNull();
  const opts = [...m![1]!.matchAll(/<option value="([^"]*)"( selected)?>/g)];
  return { values: opts.map((o) => o[1]!).filter(Boolean), selected: opts.find((o) => o[2])?.[1] ?? '' };
};

describe('the findings page', () => {
  it('lists every finding in the API order, with the count, each row linking to its credential', async () => {
    const all = await s.app.findings.all();
    expect(all.length).toBe(17); // the 5 of the history and 12 never-used keys of scan-9
    const body = await page('?limit=200');
    const api = await apiFindings();
    expect(rowsOf(body)).toEqual(api.map((f) => f.fingerprint));
    expect(body).toContain(`${all.length} of ${all.length} findings in every state.`);
    expect(body).toContain('<h1>Findings</h1>');
    expect(body).toContain('<caption>Findings, most severe first</caption>');
    expect(body).toContain('aria-current="page">Findings</a>');
    for (const f of api) expect(body).toContain(`href="/credentials/${encodeURIComponent(f.credentialId)}"`);
    const link = `/credentials/${encodeURIComponent(s.ids['agent-admin']!)}`;
    expect((await ui.get(link, cookie)).statusCode).toBe(200);
  });

  it('shows the same findings as GET /api/v1/findings for the same filter', async () => {
    const open = (await s.app.findings.all()).filter((f) => f.state === 'open');
    expect(open.length).toBe(14);
    for (const q of [
      'severity=medium',
      'severity=critical',
      'severity=low',
      'state=open',
      'state=resolved',
      'state=suppressed',
      'policy=unused-keys',
      'policy=agent-console',
      'agent=bot',
      'agent=nobody',
      `account=${ACCOUNT}`,
      `account=${FAR}`,
      'severity=medium&state=open&policy=unused-keys',
      `account=${ACCOUNT}&state=resolved`,
    ]) {
      const expected = (await apiFindings(q)).map((f) => f.fingerprint);
      expect(rowsOf(await page(`?${q}&limit=200`)), q).toEqual(expected);
    }
    expect(rowsOf(await page('?state=open&limit=200')).length).toBe(open.length);
    expect(rowsOf(await page('?state=resolved&limit=200')).length).toBe(2);
    expect(await page('?agent=nobody')).toContain('No finding matches this filter.');
  });

  it('filters by credential kind and by framework control (the policies’ metadata.controls)', async () => {
    const all = (await apiFindings()).map((f) => f);
    const fps = (p: (f: Finding) => boolean) => all.filter(p).map((f) => f.fingerprint);
    const cases: [string, string[]][] = [
      ['kind=aws-console-password', fps((f) => f.kind === 'aws-console-password')],
      ['kind=aws-access-key', fps((f) => f.kind === 'aws-access-key')],
      ['control=soc2:CC6.2', fps((f) => (f.controls.soc2 ?? []).includes('CC6.2'))],
      ['control=soc2:CC6.3', fps((f) => f.policy === 'admin-keys')],
      ['control=pci-dss-4:8.6.1', fps((f) => f.policy === 'agent-console')],
      ['control=CC7.2', fps((f) => f.policy === 'agent-console')],
      ['control=iso27001:CC6.2', []],
      ['control=soc2:CC6.2&state=resolved', fps((f) => f.policy === 'unused-keys' && f.state === 'resolved')],
    ];
    expect(cases[0]![1]).toHaveLength(1);
    expect(cases[2]![1]).toHaveLength(15);
    for (const [q, expected] of cases) expect(rowsOf(await page(`?${q}&limit=200`)), q).toEqual(expected);
  });

  it('sorts by each sortable column, ties in the API order, missing values last', async () => {
    const api = await apiFindings();
    const scores = new Map([...(await s.app.findings.credentialScores())].map(([id, x]) => [id, x.score]));
    const keys: Record<string, (f: Finding) => string | number | undefined | null> = {
      severity: (f) => severityRank(f.severity),
      state: (f) => f.state,
      policy: (f) => f.policy,
      agent: (f) => f.agentId,
      credential: (f) => f.principalName,
      firstSeen: (f) => f.firstSeen,
      lastSeen: (f) => f.lastSeen,
      score: (f) => scores.get(f.credentialId),
    };
    for (const [key, of] of Object.entries(keys))
      for (const dir of ['asc', 'desc'] as const) {
        const expected = api
          .map((f, i) => ({ f, i, k: of(f) }))
          .sort((a, b) => {
            const an = a.k == null;
            const bn = b.k == null;
            if (an || bn) return an === bn ? a.i - b.i : an ? 1 : -1;
            if (a.k === b.k) return a.i - b.i;
            return (a.k! < b.k! ? -1 : 1) * (dir === 'asc' ? 1 : -1);
          })
          .map((x) => x.f.fingerprint);
        const body = await page(`?sort=${key}&dir=${dir}&limit=200`);
        expect(rowsOf(body), `${key} ${dir}`).toEqual(expected);
        expect(body).toContain(`aria-sort="${dir === 'asc' ? 'ascending' : 'descending'}"`);
      }
    // Sorting changes the rows: the oldest first seen first is the history's, newest the bulk keys'.
    const asc = rowsOf(await page('?sort=firstSeen&dir=asc&limit=200'));
    expect(asc[0]).not.toBe(rowsOf(await page('?sort=firstSeen&dir=desc&limit=200'))[0]);
    expect(rowsOf(await page('?sort=score&dir=desc'))[0]).toBe(`admin-keys:${s.ids['agent-admin']}`);
    // The header of the sorted column links to the other direction, keeping the filter.
    const body = await page('?state=open&sort=lastSeen&dir=desc');
    expect(body).toContain('href="/findings?state=open&amp;sort=lastSeen&amp;dir=asc"');
    expect(body).toContain('href="/findings?state=open&amp;sort=policy&amp;dir=desc"');
  });

  it('round-trips the URL: the form is pre-filled from the query, links keep it, options come from the data', async () => {
    const q = `severity=medium&state=open&policy=unused-keys&account=${ACCOUNT}&kind=aws-access-key&control=soc2:CC6.2&agent=bot&sort=firstSeen&dir=asc&limit=10`;
    const body = await page(`?${q}`);
    for (const [name, value] of [
      ['severity', 'medium'],
      ['state', 'open'],
      ['policy', 'unused-keys'],
      ['agent', 'bot'],
      ['account', ACCOUNT],
      ['kind', 'aws-access-key'],
      ['control', 'soc2:CC6.2'],
      ['limit', '10'],
    ])
      expect(selectOf(body, name!).selected, name).toBe(value);
    for (const name of ['severity', 'state', 'policy', 'agent', 'account', 'kind', 'control'])
      expect(body).toMatch(new RegExp(`<label for="f-${name}">[^<]+</label><select id="f-${name}"`));
    expect(body).toContain('<input type="hidden" name="sort" value="firstSeen">');
    expect(body).toContain('<input type="hidden" name="dir" value="asc">');
    expect(body).toContain('<form class="filters" method="get" action="/findings"');
    expect(body).toContain('<button type="button" class="secondary" data-copy-link hidden>Copy link</button>');
    const keep = `severity=medium&state=open&policy=unused-keys&agent=bot&account=${ACCOUNT}&kind=aws-access-key&control=soc2%3ACC6.2`;
    expect(body).toContain(`href="${escapeHtml(`/findings.csv?${keep}&sort=firstSeen&dir=asc`)}"`);
    expect(body).toContain(
      `href="${escapeHtml(`/findings?${keep}&sort=firstSeen&dir=asc&limit=10&offset=10`)}" rel="next"`,
    );
    expect(body).toContain('Download CSV (this view)');
    // The options are the values present: severities and states in their order, the rest sorted.
    const all = await s.app.findings.all();
    expect(selectOf(body, 'severity').values).toEqual(['critical', 'high', 'medium']);
    expect(selectOf(body, 'state').values).toEqual(['open', 'resolved', 'suppressed']);
    expect(selectOf(body, 'policy').values).toEqual([...new Set(all.map((f) => f.policy))].sort());
    expect(selectOf(body, 'agent').values).toEqual(['bot']);
    expect(selectOf(body, 'account').values).toEqual([ACCOUNT]);
    expect(selectOf(body, 'kind').values).toEqual(['aws-access-key', 'aws-console-password']);
    expect(selectOf(body, 'control').values).toEqual([
      'pci-dss-4:8.2.6',
      'pci-dss-4:8.6.1',
      'soc2:CC6.2',
      'soc2:CC6.3',
      'soc2:CC7.2',
    ]);
  });

  it('pages on the server: 10 a page, Next and Previous keep the view, every match once', async () => {
    const api = (await apiFindings()).map((f) => f.fingerprint);
    const first = await page('?limit=10');
    expect(rowsOf(first)).toEqual(api.slice(0, 10));
    expect(first).toContain('Showing 1–10 of 17');
    expect(first).toContain('<span class="muted">Previous</span>');
    const next = /href="([^"]+)" rel="next"/.exec(first)![1]!.replace(/&amp;/g, '&');
    expect(next).toBe('/findings?limit=10&offset=10');
    const second = await page(next.slice('/findings'.length));
    expect(rowsOf(second)).toEqual(api.slice(10));
    expect(second).toContain('Showing 11–17 of 17');
    expect(second).toContain('href="/findings?limit=10" rel="prev"');
    expect(second).toContain('<span class="muted">Next</span>');
    // The default page holds 50: all 17 at once.
    expect(rowsOf(await page())).toHaveLength(17);
  });
});

describe('the CSV of a view', () => {
  it('holds every matching row (not just the page), in the page’s order, with the export’s columns', async () => {
    const q = 'state=open&policy=unused-keys&sort=firstSeen&dir=asc';
    const res = await ui.get(`/findings.csv?${q}&limit=10&offset=10`, cookie);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(res.headers['content-disposition']).toMatch(
      /^attachment; filename="credwarden-findings-\d{4}-\d{2}-\d{2}\.csv"$/,
    );
    const rows = parseCsv(res.body);
    expect(rows[0]).toEqual([...CSV_COLUMNS]);
    const expected = (await apiFindings('state=open&policy=unused-keys')).length;
    expect(expected).toBe(13);
    expect(rows.length - 1).toBe(expected);
    const col = (name: string) => CSV_COLUMNS.indexOf(name as (typeof CSV_COLUMNS)[number]);
    expect(rows.slice(1).map((r) => r[col('fingerprint')])).toEqual(rowsOf(await page(`?${q}&limit=200`)));
  });

  it('holds a known row as the services have it', async () => {
    const res = await ui.get('/findings.csv?severity=critical', cookie);
    const [header, row, ...rest] = parseCsv(res.body);
    expect(rest).toEqual([]);
    const f = (await s.app.findings.all()).find((x) => x.policy === 'admin-keys')!;
    const score = (await s.app.findings.credentialScore(f.credentialId))!.score;
    const by = Object.fromEntries(header!.map((h, i) => [h, row![i]]));
    expect(by).toMatchObject({
      fingerprint: f.fingerprint,
      state: 'open',
      severity: 'critical',
      policy: 'admin-keys',
      controls: 'soc2 CC6.3',
      credential_id: s.ids['agent-admin'],
      kind: 'aws-access-key',
      principal: `arn:aws:iam::${ACCOUNT}:user/agent-admin`,
      principal_name: 'agent-admin',
      source: ACCOUNT,
      agent: 'bot',
      owner_team: 'platform',
      score: String(score),
      message: f.message,
      first_seen: f.firstSeen,
      last_seen: f.lastSeen,
    });
    expect(score).toBe(100);
    // Unfiltered: every finding, whatever the page size asked.
    expect(parseCsv((await ui.get('/findings.csv?limit=10', cookie)).body)).toHaveLength(18);
  });
});

describe('safety', () => {
  it('escapes estate text: a user name that is markup shows as text', async () => {
    const body = await page('?limit=200');
    expect(body).toContain(`>${escapeHtml(HOSTILE_USER)}</a>`);
    expect(body).not.toContain(HOSTILE);
    expect(body).not.toContain('<img');
  });

  it('escapes the query it reflects, and says which filters it ignored', async () => {
    const q = new URLSearchParams({ policy: HOSTILE, agent: `"${HOSTILE}`, severity: HOSTILE, sort: HOSTILE });
    const body = await page(`?${q}`);
    expect(body).not.toContain('<img');
    expect(body).toContain(`<option value="${escapeHtml(HOSTILE)}" selected>${escapeHtml(HOSTILE)}</option>`);
    expect(body).toContain(
      `Ignored: severity “${escapeHtml(HOSTILE)}” is not one of critical, high, medium, low, info.`,
    );
    expect(rowsOf(body)).toEqual([]);
    const csv = await ui.get(`/findings.csv?${q}`, cookie);
    expect(parseCsv(csv.body)).toHaveLength(1);
  });

  it('needs a session (the page and the CSV); every role reads it (all hold posture:read)', async () => {
    for (const url of ['/findings?state=open', '/findings.csv?state=open']) {
      const res = await ui.get(url, null);
      expect([res.statusCode, res.headers.location]).toEqual([303, `/login?next=${encodeURIComponent(url)}`]);
    }
    for (const who of ['auditor', 'oncall-a', 'admin-a'] as const) {
      const c = await ui.signIn(who);
      expect((await ui.get('/findings', c)).statusCode, who).toBe(200);
      expect((await ui.get('/findings.csv', c)).statusCode, who).toBe(200);
    }
  });
});
