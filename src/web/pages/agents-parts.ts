/**
 * The agents page's parts: the filter form, a row per registry agent (posture and the declared /
 * granted / used comparison), and the unregistered agent credentials.
 */
import type { Credential } from '../../model/credential.js';
import { type Finding, SEVERITIES } from '../../model/finding.js';
import { type Html, href, html } from '../html.js';
import { type Column, credentialHref, input, type Query, select, severityBadge, stateBadge, when } from '../ui.js';
import type { AgentView } from './agents-data.js';
import { ownerText } from './overview-parts.js';

export const AGENT_COLUMNS: readonly Column[] = [
  { key: 'id', label: 'Agent', sortable: true },
  { key: 'owner', label: 'Owner', sortable: true },
  { key: 'environment', label: 'Environment', sortable: true },
  { key: 'version', label: 'Version' },
  { key: 'credentials', label: 'Credentials', sortable: true, numeric: true },
  { key: 'open', label: 'Open findings', sortable: true },
  { key: 'score', label: 'Score', sortable: true, numeric: true },
  { key: 'scopes', label: 'Scopes: declared, granted, used' },
];

export const UNREGISTERED_COLUMNS: readonly Column[] = [
  { key: 'credential', label: 'Credential' },
  { key: 'kind', label: 'Kind' },
  { key: 'principal', label: 'Principal' },
  { key: 'status', label: 'Status' },
  { key: 'lastUsed', label: 'Last used' },
  { key: 'open', label: 'Open findings', numeric: true },
];

export function filterForm(q: Query, environments: readonly string[]): Html {
  return html`<form class="filters" method="get" action="/agents" role="search" aria-label="Filter agents">
${input({ name: 'q', label: 'Agent, name or owner contains', value: q.q ?? '' })}
${select({ name: 'environment', label: 'Environment', value: q.environment ?? '', options: environments })}
${q.sort ? html`<input type="hidden" name="sort" value="${q.sort}"><input type="hidden" name="dir" value="${q.dir ?? 'desc'}">` : ''}
<button type="submit">Filter</button>
${q.q || q.environment || q.agent ? html`<a href="/agents">Clear</a>` : ''}
</form>`;
}

const LISTED = 25;

/** A list shown up to LISTED items, the rest behind "n more" (a <details>, no script). */
function capped(items: readonly string[], empty: string, mark?: (s: string) => boolean): Html {
  if (!items.length) return html`<span class="muted">${empty}</span>`;
  const li = (s: string) =>
    mark?.(s) ? html`<li><code>${s}</code> <small>(beyond declared)</small></li>` : html`<li><code>${s}</code></li>`;
  const head = items.slice(0, LISTED);
  const rest = items.slice(LISTED);
  return html`<ul class="plain">${head.map(li)}</ul>${
    rest.length
      ? html`<details><summary>${rest.length} more</summary><ul class="plain">${rest.map(li)}</ul></details>`
      : ''
  }`;
}

function scopesCell(a: AgentView, now: number): Html {
  const beyond = new Set(a.beyond);
  const used = a.used.length
    ? html`<ul class="plain">${a.used.map(
        (u) =>
          html`<li>${u.service ? html`<code>${u.service}</code>` : html`<span class="muted">service not reported</span>`} ${when(u.at, now)}${
            u.undeclared ? html` <small>(not in the declared scopes)</small>` : ''
          } <small>by <a class="mono" href="${credentialHref(u.credentialId)}">${u.credentialId.split('/').pop()}</a>, per ${u.source}</small></li>`,
      )}</ul>`
    : html`<span class="muted">no recorded use</span>`;
  const summary = `${a.declared.length} declared · ${a.granted.length} granted · ${a.beyond.length} beyond declared · ${a.used.length} used`;
  return html`<details class="scopes"><summary>${summary}</summary>
<p class="sub"><strong>Declared</strong> <small>(agents.yaml scopes)</small></p>${capped(a.declared, 'no scopes declared')}
<p class="sub"><strong>Granted</strong> <small>(what the credentials' grants allow)</small></p>${capped(a.granted, 'nothing granted', (s) => beyond.has(s))}
<p class="sub"><strong>Beyond declared</strong> <small>(open scope-excess findings)</small></p>${capped(a.beyond, 'none reported')}
<p class="sub"><strong>Used</strong> <small>(the last use of each credential)</small></p>${used}
</details>`;
}

function openCell(a: AgentView): Html {
  if (!a.openTotal) return html`<span class="muted">none</span>`;
  return html`<a href="${href('/findings', { state: 'open', agent: a.agent.id })}">${a.openTotal} open</a>
<ul class="plain">${SEVERITIES.filter((s) => a.open[s] > 0).map(
    (s) =>
      html`<li><a href="${href('/findings', { state: 'open', agent: a.agent.id, severity: s })}">${a.open[s]} ${severityBadge(s)}</a></li>`,
  )}</ul>`;
}

function scoreCell(a: AgentView): Html {
  if (!a.score) return html`<span class="muted">not scored</span>`;
  const top = a.score.top[0];
  return html`<strong>${a.score.score}</strong>${top ? html`<br><small>${top.message}</small>` : ''}`;
}

export function agentRow(a: AgentView, now: number): Html[] {
  const ag = a.agent;
  return [
    html`<span id="agent-${ag.id}">${ag.name}</span><br><small class="mono">${ag.id}</small>`,
    ownerText(ag.owner),
    html`${ag.environment}`,
    html`${ag.version}`,
    html`${a.credentials.length}`,
    openCell(a),
    scoreCell(a),
    scopesCell(a, now),
  ];
}

export function unregisteredRow(c: Credential, findings: readonly Finding[] | undefined, now: number): Html[] {
  const open = (findings ?? []).filter((f) => f.state === 'open').length;
  return [
    html`<a class="mono" href="${credentialHref(c.id)}">${c.id}</a>`,
    html`${c.kind}`,
    html`<span class="mono">${c.principal}</span>`,
    stateBadge(c.status),
    when(c.lastUsed?.at, now),
    html`${open}`,
  ];
}

/** Previous / next for the unregistered list, on its own offset (`uoffset`) so both lists page independently. */
export function unregisteredPager(o: { total: number; offset: number; limit: number; query: Query }): Html {
  const { total, offset, limit } = o;
  if (total <= limit && offset === 0) return html``;
  const last = Math.min(total, offset + limit);
  const prev = offset > 0 ? href('/agents', { ...o.query, uoffset: Math.max(0, offset - limit) || undefined }) : null;
  const next = last < total ? href('/agents', { ...o.query, uoffset: offset + limit }) : null;
  return html`<nav class="pager" aria-label="Pages of unregistered agent credentials">
<span>Showing ${total ? offset + 1 : 0}–${last} of ${total}</span>
${prev ? html`<a href="${prev}" rel="prev">Previous</a>` : html`<span class="muted">Previous</span>`}
${next ? html`<a href="${next}" rel="next">Next</a>` : html`<span class="muted">Next</span>`}
</nav>`;
}
