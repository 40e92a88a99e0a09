/**
 * The pieces of the drills page (drills.ts) and the overview's drills tile, rendered from drill
 * records (drill/store.ts) as Redis holds them: untrusted, so every value goes through `html`, and
 * read defensively (a field may be missing from an older or a damaged record).
 *
 * - the summary: the last drill of each scenario with its result and age, and how many drills
 *   that finished in the last 30 days passed;
 * - a row per drill: scenario, start, who or what started it, the result (for a failure the stage
 *   it reached and why; for a running one its stage and deadline), the times to detect, alert and
 *   remediate (or to the approval request), what cleanup removed (each failure with its error)
 *   and the planted credentials, linked to their pages.
 */
import { DRILL_SCENARIOS } from '../../drill/config.js';
import type { DrillRecord } from '../../drill/store.js';
import { type Html, html } from '../html.js';
import { ago, type Column, credentialHref, duration, stateBadge, tile, when } from '../ui.js';

const DAY = 86_400_000;
export const PASS_WINDOW_DAYS = 30;

const none = (text = 'not reached') => html`<span class="muted">${text}</span>`;
const str = (v: unknown): string => (typeof v === 'string' ? v : v === null || v === undefined ? '' : String(v));
const at = (r: DrillRecord): number => Date.parse(r.finishedAt ?? r.startedAt);

/** A measured time (ms from the risky state), in words, or why there is none. */
function time(ms: number | undefined | null, r: DrillRecord): Html {
  if (typeof ms === 'number') return html`${duration(ms)}`;
  return none(r.status === 'running' ? 'not yet' : 'not reached');
}

export interface DrillSummary {
  /** Every known scenario (and any other a record names), with its newest drill or null. */
  last: { scenario: string; drill: DrillRecord | null }[];
  /** Drills that finished in the last 30 days, and how many of them passed. */
  finished: number;
  passed: number;
}

/** The summary over `recent` (newest first). */
export function summaryOf(recent: readonly DrillRecord[], now: number): DrillSummary {
  const last = new Map<string, DrillRecord | null>(DRILL_SCENARIOS.map((s) => [s, null]));
  for (const r of recent) {
    const s = str(r.scenario);
    if (!last.get(s)) last.set(s, r);
  }
  const since = now - PASS_WINDOW_DAYS * DAY;
  const inWindow = recent.filter((r) => r.status !== 'running' && r.finishedAt && at(r) >= since && at(r) <= now);
  return {
    last: [...last].map(([scenario, drill]) => ({ scenario, drill })),
    finished: inWindow.length,
    passed: inWindow.filter((r) => r.status === 'passed').length,
  };
}

/** A result as a badge: passed, failed or running (the state classes colour it; the word says it). */
export const resultBadge = (r: DrillRecord): Html => stateBadge(str(r.status) || 'unknown');

export function summarySection(s: DrillSummary, now: number, partial: boolean): Html {
  const items = s.last.map(
    ({ scenario, drill }) =>
      html`<li><strong>${scenario}</strong>: ${
        drill
          ? html`${resultBadge(drill)} ${when(drill.finishedAt ?? drill.startedAt, now)}${
              drill.status === 'failed' ? html` <small>at ${drill.stage}</small>` : ''
            }`
          : none('no drill recorded')
      }</li>`,
  );
  const count = s.finished
    ? html`<strong>${s.passed} of ${s.finished}</strong> drill${s.finished === 1 ? '' : 's'} that finished in the last ${PASS_WINDOW_DAYS} days passed${partial ? ' (of the newest drills read)' : ''}.`
    : html`No drill finished in the last ${PASS_WINDOW_DAYS} days.`;
  return html`<section aria-labelledby="drills-summary-h"><h2 id="drills-summary-h">Summary</h2>
<p class="drill-passes">${count}</p>
<ul class="plain drill-last" aria-label="The last drill of each scenario">${items}</ul>
</section>`;
}

export const COLUMNS: readonly Column[] = [
  { key: 'scenario', label: 'Scenario' },
  { key: 'started', label: 'Started' },
  { key: 'by', label: 'Started by' },
  { key: 'result', label: 'Result' },
  { key: 'detect', label: 'Time to detect' },
  { key: 'alert', label: 'Time to alert' },
  { key: 'remediate', label: 'Time to remediate or approval' },
  { key: 'cleanup', label: 'Cleanup' },
  { key: 'planted', label: 'Planted credentials' },
];

/** Passed; failed with the stage it reached and why; running with its stage and deadline. */
export function resultCell(r: DrillRecord, now: number): Html {
  if (r.status === 'failed')
    return html`${resultBadge(r)}<br>at stage <strong>${r.stage}</strong>: <span class="drill-reason">${
      r.reason || 'no reason recorded'
    }</span>`;
  if (r.status === 'running') {
    const late = Date.parse(r.deadlineAt) < now;
    return html`${resultBadge(r)}<br><small>stage ${r.stage}; deadline ${when(r.deadlineAt, now)}${late ? ' (past it)' : ''}</small>`;
  }
  return html`${resultBadge(r)}${r.finishedAt ? html`<br><small>finished ${when(r.finishedAt, now)}</small>` : ''}`;
}

function remediateCell(r: DrillRecord): Html {
  const t = r.times ?? {};
  const parts: Html[] = [];
  if (typeof t.remediateMs === 'number') parts.push(html`${duration(t.remediateMs)}`);
  if (typeof t.approvalMs === 'number')
    parts.push(html`${parts.length ? html`<br>` : ''}approval requested after ${duration(t.approvalMs)}`);
  return parts.length ? html`${parts}` : time(undefined, r);
}

export function cleanupCell(r: DrillRecord): Html {
  const c = r.cleanup;
  if (!c) return none(r.status === 'running' ? 'not yet' : 'no cleanup recorded');
  const removed = c.removed ?? [];
  const gone = c.gone ?? [];
  const failed = c.failed ?? [];
  const summary = html`${removed.length} removed${gone.length ? html`, ${gone.length} already gone` : ''}`;
  const failures = failed.length
    ? html`<ul class="plain cleanup-failed">${failed.map(
        (f) => html`<li><strong>failed:</strong> <span class="mono">${str(f?.id)}</span>: ${str(f?.error)}</li>`,
      )}</ul>`
    : '';
  return html`${summary}${removed.length ? html`<details><summary>What was removed</summary><ul class="plain">${removed.map((x) => html`<li class="mono">${str(x)}</li>`)}</ul></details>` : ''}${failures}`;
}

export function plantedCell(r: DrillRecord): Html {
  const planted = r.planted ?? [];
  const creds = [...new Set(planted.flatMap((p) => (p?.credentialId ? [str(p.credentialId)] : [])))];
  const others = planted.length - planted.filter((p) => p?.credentialId).length;
  const list = creds.length
    ? html`<ul class="plain">${creds.map((id) => html`<li><a class="mono" href="${credentialHref(id)}">${id}</a></li>`)}</ul>`
    : none(r.status === 'running' && planted.length === 0 ? 'nothing planted yet' : 'no credential');
  return html`${list}${others > 0 ? html`<small>and ${others} other resource${others === 1 ? '' : 's'}</small>` : ''}`;
}

export function drillRow(r: DrillRecord, now: number): Html[] {
  const t = r.times ?? {};
  return [
    html`<strong>${r.scenario}</strong><br><small class="mono">${r.id}</small><br><small>${r.target?.sourceType} ${r.target?.source}</small>`,
    when(r.startedAt, now),
    html`${r.trigger}<br><small>${r.by}</small>`,
    resultCell(r, now),
    time(t.detectMs, r),
    time(t.alertMs, r),
    remediateCell(r),
    cleanupCell(r),
    plantedCell(r),
  ];
}

/** The overview's tile: the last drill's result and age, linking to the drills page. */
export function drillsTile(last: DrillRecord | null, now: number): Html {
  const body = last
    ? html`<div class="tiles">${tile(
        `last drill: ${str(last.scenario)}, ${Number.isNaN(at(last)) ? 'at an unknown time' : ago(now - at(last))}${
          last.status === 'failed' ? ` (at ${str(last.stage)})` : ''
        }`,
        str(last.status) || 'unknown',
        { tone: last.status === 'passed' ? 'ok' : last.status === 'failed' ? 'bad' : '', link: '/drills' },
      )}</div>`
    : html`<p class="muted">No drill has run. <a href="/drills">Drills</a></p>`;
  return html`<section aria-labelledby="drills-h"><h2 id="drills-h">Drills</h2>${body}</section>`;
}
