/**
 * GET /drills: the detection-and-response drills (drill/store.ts records, as GET /api/v1/drills
 * serves them). A summary on top (the last drill of each scenario with its result, and how many
 * drills of the last 30 days passed), then the recent drills, newest first, paginated: scenario,
 * start, who or what started it, the result (a failure with the stage it reached and why), the
 * times to detect, alert and remediate (or to the approval request), what cleanup removed (its
 * failures with their error) and the planted credentials, linked to their pages.
 *
 * The page reads the newest READ_LIMIT records once; the summary and the pages are over those.
 */
import { html } from '../html.js';
import { definePage, nowOf, type Page } from '../page.js';
import { keep, pager, paging, table } from '../ui.js';
import { COLUMNS, drillRow, summaryOf, summarySection } from './drills-parts.js';

/** How many of the newest drills the page reads (one drill at a time, each within its deadline: months of them). */
export const READ_LIMIT = 400;

const pages: readonly Page[] = [
  definePage({
    method: 'GET',
    url: '/drills',
    permission: 'posture:read',
    nav: 'drills',
    handle: async (call) => {
      const now = nowOf(call);
      const recent = await call.deps.app.drills.list(READ_LIMIT);
      const { offset, limit } = paging(call.query);
      const q = keep(call.query, ['limit']);
      const partial = recent.length >= READ_LIMIT;
      const body = html`<h1>Drills</h1>
<p class="muted">A drill plants a synthetic risky credential where the drills config allows, waits for the pipeline to detect, alert and remediate it, measures each step from when the risk existed, and always cleans up. Times are from the risky state.</p>
${summarySection(summaryOf(recent, now), now, partial)}
<section aria-labelledby="drills-all-h">
<h2 id="drills-all-h">Recent drills, newest first</h2>
${partial ? html`<p class="muted">The newest ${READ_LIMIT} drills are shown; GET /api/v1/drills/{id} reads any other.</p>` : ''}
${table({
  caption: `Drills (${recent.length})`,
  columns: COLUMNS,
  rows: recent.slice(offset, offset + limit).map((r) => drillRow(r, now)),
  path: '/drills',
  query: q,
  empty: 'No drill has run yet: credwarden drill run, or schedules.drills in the config.',
})}
${pager({ total: recent.length, offset, limit, path: '/drills', query: q })}
</section>`;
      return call.view('Drills', body);
    },
  }),
];
export default pages;
