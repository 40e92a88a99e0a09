/**
 * GET /findings: every finding, filtered and sorted as the URL says (so a view can be shared),
 * paged on the server; each row links to its credential. GET /findings.csv: the same view, every
 * matching row, as the `findings --format csv` columns (export/csv.ts, formula-safe).
 *
 * Data: the API's findings snapshot (deps.views, as GET /api/v1/findings), the credentials' risk
 * scores (app.findings, as the exports), the inventory for findings stored without a source.
 */

import { toCsv } from '../../export/csv.js';
import { exportInputFromApp } from '../../export/input.js';
import { presentFinding } from '../../findings/present.js';
import { html } from '../html.js';
import { definePage, type Page } from '../page.js';
import { keep, pager, paging, table } from '../ui.js';
import { filterForm, findingRow, sortWords, toolbar } from './findings-parts.js';
import { COLUMNS, FILTER_KEYS, findingsView, optionsOf } from './findings-query.js';

const scoreNumbers = (m: ReadonlyMap<string, { score: number }>): Map<string, number> =>
  new Map([...m].map(([id, s]) => [id, s.score]));

const findingsPage = definePage({
  method: 'GET',
  url: '/findings',
  permission: 'posture:read',
  nav: 'findings',
  handle: async ({ deps, query, view: render }) => {
    const now = deps.app.clock.now().getTime();
    const scores = scoreNumbers(await deps.views.scores());
    const v = await findingsView(deps.views, query, scores);
    const { offset, limit } = paging(query);
    // The shared link: the filter as applied, the sort and the page size as asked.
    const view = { ...v.filter, ...keep(query, ['sort', 'dir', 'limit']) };
    const shown = v.rows.slice(offset, offset + limit);
    const filtered = FILTER_KEYS.some((k) => v.filter[k]);
    const label = COLUMNS.find((c) => c.key === v.sort.key)?.label ?? v.sort.key;
    const total = v.rows.length;
    const body = html`<h1>Findings</h1>
${filterForm(v.filter, optionsOf(v.all, v.sourceOf, v.filter), view)}
${toolbar(view)}
<p>${total.toLocaleString('en-US')} of ${v.all.length.toLocaleString('en-US')} findings ${filtered ? 'match this filter' : 'in every state'}.</p>
${table({
  caption: `Findings, ${sortWords(v.sort.key, v.sort.dir, label)}`,
  columns: COLUMNS,
  rows: shown.map((f) => findingRow(f, scores.get(f.credentialId), v.sourceOf(f), now)),
  path: '/findings',
  query: view,
  sort: v.sort,
  empty: filtered ? 'No finding matches this filter.' : 'No findings yet: no scan has been evaluated.',
})}
${pager({ total, offset, limit, path: '/findings', query: view })}`;
    return render(
      'Findings',
      body,
      v.ignored.length ? { kind: 'error', text: `Ignored: ${v.ignored.join('; ')}.` } : null,
    );
  },
});

const findingsCsv = definePage({
  method: 'GET',
  url: '/findings.csv',
  permission: 'posture:read',
  nav: 'findings',
  handle: async ({ deps, query, reply }) => {
    const { app, views } = deps;
    const now = app.clock.now();
    const input = await exportInputFromApp(app, [], now);
    const v = await findingsView(views, query, input.scores);
    const inventory = (await views.inventory()).byId;
    const names = new Map((app.config.aws?.accounts ?? []).flatMap((a) => (a.name ? [[a.id, a.name] as const] : [])));
    const text = toCsv(
      input,
      v.rows.map((f) => presentFinding(f, inventory, names)),
    );
    void reply
      .type('text/csv; charset=utf-8')
      .header('content-disposition', `attachment; filename="credwarden-findings-${now.toISOString().slice(0, 10)}.csv"`)
      .send(text);
    return undefined;
  },
});

const pages: readonly Page[] = [findingsPage, findingsCsv];
export default pages;
