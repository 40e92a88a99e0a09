/**
 * The dashboard's shared pieces: tables with sortable headers (links, so a sort is in the URL),
 * server-side paging, labelled filter fields, badges, times, and the CSRF field every form that
 * changes state carries. All output goes through `html`, so every value is escaped.
 */
import { type Html, href, html } from './html.js';
import type { Session } from './session.js';

export type Query = Record<string, string>;

/** Keys of a query that belong in a shared link (the filter, the sort, the page). */
export function keep(query: Query, keys: readonly string[]): Query {
  const out: Query = {};
  for (const k of keys) if (query[k]) out[k] = query[k]!;
  return out;
}

export const csrfField = (s: Session): Html => html`<input type="hidden" name="_csrf" value="${s.csrf}">`;

const SEVERITIES = ['critical', 'high', 'medium', 'low', 'info'] as const;
export function severityBadge(sev: string): Html {
  const known = (SEVERITIES as readonly string[]).includes(sev) ? sev : 'info';
  return html`<span class="badge sev-${known}">${sev}</span>`;
}

export function stateBadge(state: string): Html {
  return html`<span class="badge state-${state.replace(/[^a-z-]/g, '')}">${state}</span>`;
}

/** A time as `<time>` with the exact ISO instant in `datetime` and `title`, shown relative to now. */
export function when(iso: string | null | undefined, now: number = Date.now()): Html {
  if (!iso) return html`<span class="muted">never</span>`;
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return html`<span class="muted">${iso}</span>`;
  return html`<time datetime="${iso}" title="${iso}">${ago(now - t)}</time>`;
}

export function ago(ms: number): string {
  const future = ms < 0;
  const s = Math.abs(ms) / 1000;
  const text =
    s < 90
      ? `${Math.round(s)} s`
      : s < 5400
        ? `${Math.round(s / 60)} min`
        : s < 129_600
          ? `${Math.round(s / 3600)} h`
          : `${Math.round(s / 86_400)} d`;
  return future ? `in ${text}` : `${text} ago`;
}

/** A measured duration in words: "42 s", "3 min 5 s", "1 h 2 min" ("< 1 s" below a second). */
export function duration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '?';
  if (ms < 1000) return '< 1 s';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min${s % 60 ? ` ${s % 60} s` : ''}`;
  const m = Math.round(s / 60);
  return `${Math.floor(m / 60)} h${m % 60 ? ` ${m % 60} min` : ''}`;
}

export interface Column {
  key: string;
  label: string;
  /** Offer sorting by this column (a header link). */
  sortable?: boolean;
  numeric?: boolean;
}

export interface SortState {
  key: string;
  dir: 'asc' | 'desc';
}

/** The sort asked for in the query (`sort`, `dir`), when it names a sortable column; else the default. */
export function sortOf(query: Query, columns: readonly Column[], fallback: SortState): SortState {
  const col = columns.find((c) => c.sortable && c.key === query.sort);
  if (!col) return fallback;
  return { key: col.key, dir: query.dir === 'asc' ? 'asc' : 'desc' };
}

/**
 * A table: a caption, headers (sortable ones are links that keep the rest of `query`, with
 * aria-sort on the sorted one), and rows of cells already rendered.
 */
export function table(o: {
  caption: string;
  columns: readonly Column[];
  rows: readonly (readonly Html[])[];
  path: string;
  query?: Query;
  sort?: SortState;
  empty?: string;
}): Html {
  const q = o.query ?? {};
  const head = o.columns.map((c) => {
    const cls = c.numeric ? html` class="num"` : '';
    if (!c.sortable) return html`<th scope="col"${cls}>${c.label}</th>`;
    const sorted = o.sort?.key === c.key;
    const next = sorted && o.sort?.dir === 'desc' ? 'asc' : 'desc';
    const aria = sorted ? html` aria-sort="${o.sort!.dir === 'asc' ? 'ascending' : 'descending'}"` : '';
    const arrow = sorted ? (o.sort!.dir === 'asc' ? ' ▲' : ' ▼') : '';
    const link = href(o.path, { ...q, sort: c.key, dir: next, offset: undefined });
    return html`<th scope="col"${cls}${aria}><a href="${link}">${c.label}<span aria-hidden="true">${arrow}</span></a></th>`;
  });
  const body = o.rows.length
    ? o.rows.map(
        (r) =>
          html`<tr>${r.map((cell, i) => (o.columns[i]?.numeric ? html`<td class="num">${cell}</td>` : html`<td>${cell}</td>`))}</tr>`,
      )
    : html`<tr><td colspan="${o.columns.length}" class="empty">${o.empty ?? 'Nothing to show.'}</td></tr>`;
  return html`<div class="table-wrap" tabindex="0" role="region" aria-label="${o.caption}"><table>
<caption>${o.caption}</caption>
<thead><tr>${head}</tr></thead>
<tbody>${body}</tbody>
</table></div>`;
}

export const PAGE_SIZE = 50;

/** Offset and limit from the query (limit 10–200, default 50). */
export function paging(query: Query): { offset: number; limit: number } {
  const offset = Math.max(0, Number.parseInt(query.offset ?? '0', 10) || 0);
  const limit = Math.min(200, Math.max(10, Number.parseInt(query.limit ?? `${PAGE_SIZE}`, 10) || PAGE_SIZE));
  return { offset, limit };
}

/** "Showing 51–100 of 1,234" with previous and next links keeping the query. */
export function pager(o: { total: number; offset: number; limit: number; path: string; query: Query }): Html {
  const { total, offset, limit } = o;
  if (total === 0) return html``;
  const last = Math.min(total, offset + limit);
  const prev = offset > 0 ? href(o.path, { ...o.query, offset: Math.max(0, offset - limit) || undefined }) : null;
  const next = last < total ? href(o.path, { ...o.query, offset: offset + limit }) : null;
  return html`<nav class="pager" aria-label="Pages">
<span>Showing ${(offset + 1).toLocaleString('en-US')}–${last.toLocaleString('en-US')} of ${total.toLocaleString('en-US')}</span>
${prev ? html`<a href="${prev}" rel="prev">Previous</a>` : html`<span class="muted">Previous</span>`}
${next ? html`<a href="${next}" rel="next">Next</a>` : html`<span class="muted">Next</span>`}
</nav>`;
}

/** A labelled select for a filter form; '' is "any". */
export function select(o: {
  name: string;
  label: string;
  value: string;
  options: readonly (string | { value: string; label: string })[];
  anyLabel?: string;
}): Html {
  const id = `f-${o.name}`;
  const opts = o.options.map((x) => (typeof x === 'string' ? { value: x, label: x } : x));
  return html`<div class="field"><label for="${id}">${o.label}</label><select id="${id}" name="${o.name}">
<option value="">${o.anyLabel ?? 'any'}</option>
${opts.map((x) => html`<option value="${x.value}"${x.value === o.value ? html` selected` : ''}>${x.label}</option>`)}
</select></div>`;
}

/** A labelled text input for a filter form. */
export function input(o: { name: string; label: string; value: string; type?: string; placeholder?: string }): Html {
  const id = `f-${o.name}`;
  return html`<div class="field"><label for="${id}">${o.label}</label><input id="${id}" name="${o.name}" type="${o.type ?? 'text'}" value="${o.value}"${o.placeholder ? html` placeholder="${o.placeholder}"` : ''}></div>`;
}

/** A definition list of label → value. */
export function facts(pairs: readonly [string, Html | string | number | null | undefined][]): Html {
  return html`<dl class="facts">${pairs.map(([k, v]) => html`<dt>${k}</dt><dd>${v ?? html`<span class="muted">none</span>`}</dd>`)}</dl>`;
}

/** A count tile for a summary row. */
export function tile(label: string, value: string | number, o: { tone?: string; link?: string } = {}): Html {
  const inner = html`<span class="tile-value">${typeof value === 'number' ? value.toLocaleString('en-US') : value}</span><span class="tile-label">${label}</span>`;
  return o.link
    ? html`<a class="tile ${o.tone ?? ''}" href="${o.link}">${inner}</a>`
    : html`<div class="tile ${o.tone ?? ''}">${inner}</div>`;
}

/** The link to a credential's page (its id URL-encoded, as the API's). */
export const credentialHref = (id: string): string => `/credentials/${encodeURIComponent(id)}`;
