/**
 * The findings page's pieces: the filter
 * form (a GET form, so the filter lives in the URL), the toolbar (copy link, download this view)
 * and the table rows.
 */

import type { Finding } from '../../model/finding.js';
import { type Html, href, html } from '../html.js';
import { credentialHref, type Query, select, severityBadge, stateBadge, when } from '../ui.js';
import { CSV_KEYS, type FilterKey, type FindingsFilter, type Option } from './findings-query.js';

const LABELS: Record<FilterKey, string> = {
  severity: 'Severity',
  state: 'State',
  policy: 'Policy',
  agent: 'Agent',
  account: 'Account or cluster',
  kind: 'Credential kind',
  control: 'Framework control',
};

const ANY: Record<FilterKey, string> = {
  severity: 'any severity',
  state: 'any state',
  policy: 'any policy',
  agent: 'any agent',
  account: 'any account or cluster',
  kind: 'any kind',
  control: 'any control',
};

/** The filter form: a labelled select per filter, options from the data; it keeps the sort. */
export function filterForm(filter: FindingsFilter, options: Record<FilterKey, Option[]>, query: Query): Html {
  const keys = Object.keys(LABELS) as FilterKey[];
  const hidden = (['sort', 'dir'] as const).map((k) =>
    query[k] ? html`<input type="hidden" name="${k}" value="${query[k]}">` : '',
  );
  return html`<form class="filters" method="get" action="/findings" role="search" aria-label="Filter findings">
${keys.map((k) => select({ name: k, label: LABELS[k], value: filter[k] ?? '', options: options[k], anyLabel: ANY[k] }))}
${select({ name: 'limit', label: 'Rows per page', value: query.limit ?? '', options: ['10', '25', '100', '200'], anyLabel: '50' })}
${hidden}
<button type="submit">Apply</button>
<a href="/findings">Clear the filter</a>
</form>`;
}

/** Copy link (app.js shows it) and the download of every row of this view. */
export function toolbar(query: Query): Html {
  const csv = href('/findings.csv', Object.fromEntries(CSV_KEYS.map((k) => [k, query[k]])));
  return html`<div class="actions-row">
<button type="button" class="secondary" data-copy-link hidden>Copy link</button>
<a class="button secondary" href="${csv}" download>Download CSV (this view)</a>
</div>`;
}

const none = html`<span class="muted">none</span>`;

/** One table row per finding: the cells in COLUMNS order. */
/** The first 240 characters of a long message (its credential page has it in full), the whole of a short one. */
export function brief(message: string): Html {
  if (message.length <= 240) return html`${message}`;
  const cut = message.slice(0, 240).replace(/\s+\S*$/, '');
  return html`<span title="${message.slice(0, 2000)}">${cut}…</span>`;
}

export function findingRow(
  f: Finding,
  score: number | undefined,
  source: string | null | undefined,
  now: number,
): Html[] {
  const others = (f.policies ?? []).filter((p) => p !== f.policy);
  const name = f.principalName ?? f.principal ?? f.credentialId;
  return [
    severityBadge(f.severity),
    html`${stateBadge(f.state)}${f.exceptionId ? html`<br><small>exception ${f.exceptionId}</small>` : ''}${
      f.mergedInto ? html`<br><small>merged into <span class="mono">${f.mergedInto}</span></small>` : ''
    }`,
    html`${f.policy}${others.length ? html`<br><small>also ${others.join(', ')}</small>` : ''}`,
    html`${brief(f.message)}<br><small class="mono fp">${f.fingerprint}</small>`,
    f.agentId ? html`${f.agentId}` : none,
    html`<a href="${credentialHref(f.credentialId)}">${name}</a><br><small>${f.kind}${source ? html` in ${source}` : ''}</small>`,
    when(f.firstSeen, now),
    f.resolvedAt
      ? html`${when(f.lastSeen, now)}<br><small>resolved ${when(f.resolvedAt, now)}</small>`
      : when(f.lastSeen, now),
    score === undefined ? html`<span class="muted" title="no open findings">–</span>` : html`${score}`,
  ];
}

/** "sorted by Last seen, oldest first": the caption's words for a sort. */
export function sortWords(key: string, dir: 'asc' | 'desc', label: string): string {
  if (key === 'severity') return dir === 'desc' ? 'most severe first' : 'least severe first';
  if (key === 'firstSeen' || key === 'lastSeen')
    return `${label.toLowerCase()}, ${dir === 'desc' ? 'newest' : 'oldest'} first`;
  if (key === 'score') return `score, ${dir === 'desc' ? 'highest' : 'lowest'} first`;
  return `${label.toLowerCase()}, ${dir === 'asc' ? 'A to Z' : 'Z to A'}`;
}
