/**
 * The pieces of the compliance page (compliance.ts): the framework and period form, the controls
 * table and the audit verification.
 */

import type { CheckpointSummary } from '../../audit/checkpoint-verify.js';
import type { AuditBreak } from '../../audit/verify-copies.js';
import type { ControlResult } from '../../evidence/controls.js';
import { FRAMEWORK_IDS, type FrameworkId, framework } from '../../evidence/frameworks.js';
import { type Html, html } from '../html.js';
import { type Column, stateBadge, table, tile, when } from '../ui.js';

export interface PeriodQuery {
  framework: FrameworkId;
  /** YYYY-MM-DD (or a date-time with an offset, as the API takes), as typed. */
  from: string;
  to: string;
}

const DAY = 86_400_000;
const day = (t: number) => new Date(t).toISOString().slice(0, 10);

/** The form's values: the query's, else SOC 2 over the last 30 days (today included, UTC). */
export function periodOf(q: Record<string, string>, now: number): PeriodQuery {
  const fw = (FRAMEWORK_IDS as readonly string[]).includes(q.framework ?? '')
    ? (q.framework as FrameworkId)
    : FRAMEWORK_IDS[0];
  return { framework: fw, from: q.from || day(now - 29 * DAY), to: q.to || day(now) };
}

/** A labelled framework select: one is always chosen, so no "any". `id` keeps two forms' fields apart. */
function frameworkSelect(id: string, value: FrameworkId): Html {
  return html`<div class="field"><label for="${id}">Framework</label><select id="${id}" name="framework">
${FRAMEWORK_IDS.map((x) => html`<option value="${x}"${x === value ? html` selected` : ''}>${framework(x).name} (${x})</option>`)}
</select></div>`;
}

const dateField = (id: string, name: string, label: string, value: string) =>
  html`<div class="field"><label for="${id}">${label}</label><input id="${id}" name="${name}" type="date" value="${value}"></div>`;

/** The framework and the period's two dates, to show the controls. */
export function periodForm(p: PeriodQuery): Html {
  return html`<form class="filters" method="get" action="/compliance">
${frameworkSelect('f-framework', p.framework)}
${dateField('f-from', 'from', 'From (UTC)', p.from)}
${dateField('f-to', 'to', 'To (UTC, inclusive)', p.to)}
<button type="submit">Show controls</button>
</form>`;
}

/**
 * The download of the signed pack (GET /compliance/evidence), prefilled with the period shown: a
 * form of its own, so pressing Enter in the period form above shows controls and never exports.
 */
export function downloadForm(p: PeriodQuery): Html {
  return html`<form class="panel download" method="get" action="/compliance/evidence" aria-labelledby="dl-h">
<h3 id="dl-h">Evidence pack</h3>
<div class="actions-row">
${frameworkSelect('dl-framework', p.framework)}
${dateField('dl-from', 'from', 'From (UTC)', p.from)}
${dateField('dl-to', 'to', 'To (UTC, inclusive)', p.to)}
<button type="submit">Download evidence pack</button>
</div>
<p class="muted">A signed .tar.gz: the reports, the audit slice and its proof. Verify it offline with <span class="mono">node verify.mjs PACK --key public-key.pem</span>. The download is recorded in the audit log.</p>
</form>`;
}

const COLUMNS: readonly Column[] = [
  { key: 'id', label: 'Control' },
  { key: 'title', label: 'Title' },
  { key: 'status', label: 'Status' },
  { key: 'reason', label: 'Reason' },
  { key: 'findings', label: 'Findings (open at end)', numeric: true },
  { key: 'actions', label: 'Actions', numeric: true },
  { key: 'exceptions', label: 'Exceptions', numeric: true },
  { key: 'coverage', label: 'Units not fully scanned', numeric: true },
];

/** Counts of each status, then the table of every control of the framework. */
export function controlsPart(fw: FrameworkId, controls: readonly ControlResult[], period: string): Html {
  const count = (s: ControlResult['status']) => controls.filter((c) => c.status === s).length;
  const rows = controls.map((c) => [
    html`<span class="mono">${c.id}</span>`,
    html`${c.title}`,
    stateBadge(c.status),
    html`${c.reason}${
      c.problems.length
        ? html`<details><summary>${c.problems.length} problem(s)</summary><ul>${c.problems.map((x) => html`<li>${x}</li>`)}</ul></details>`
        : ''
    }${c.mappedPolicies.length ? html`<br><small>policies: ${c.mappedPolicies.join(', ')}</small>` : ''}`,
    html`${c.findings.total} (${c.findings.openAtEnd})`,
    html`${c.actions.length}`,
    html`${c.exceptions.length}`,
    html`${c.coverage.notCompletelyScanned.length} of ${c.coverage.units.length}`,
  ]);
  return html`<div class="tiles">${tile('pass', count('pass'), { tone: 'ok' })}${tile('fail', count('fail'), {
    tone: count('fail') ? 'bad' : '',
  })}${tile('not evidenced', count('not-evidenced'))}</div>
${table({ caption: `${framework(fw).name}: controls over ${period}`, columns: COLUMNS, rows, path: '/compliance', empty: 'This framework has no controls.' })}`;
}

export interface VerifyOutcome {
  ok: boolean;
  breaks: AuditBreak[];
  checkpoint: CheckpointSummary | null;
  checked: string[];
}

/** The audit verification: ok or each break, and the checkpoint the copies were held against. */
export function verifyPart(v: VerifyOutcome, now: number): Html {
  const cp = v.checkpoint?.checked ?? null;
  const breaks = v.breaks.map((b) => [html`${b.where}`, html`${b.reason}`, html`${b.seq ?? ''}`, html`${b.detail}`]);
  return html`<p>${v.ok ? stateBadge('ok') : stateBadge('fail')} ${
    v.ok ? `The audit log holds: ${v.checked.join(', ')}.` : `The audit log does not hold: ${v.breaks.length} break(s).`
  }</p>
${
  v.breaks.length
    ? table({
        caption: 'Audit breaks',
        columns: [
          { key: 'where', label: 'Where' },
          { key: 'reason', label: 'Reason' },
          { key: 'seq', label: 'Seq', numeric: true },
          { key: 'detail', label: 'Detail' },
        ],
        rows: breaks,
        path: '/compliance',
      })
    : ''
}
<h3>Last checkpoint</h3>
${
  cp
    ? html`<dl class="facts"><dt>Seq</dt><dd>${cp.seq}</dd><dt>Signed</dt><dd>${when(cp.time, now)} <small class="mono">${cp.time}</small></dd><dt>Read from</dt><dd class="mono">${cp.source}</dd></dl>${
        v.checkpoint?.invalidCount
          ? html`<p class="muted">${v.checkpoint.invalidCount} checkpoint(s) found and ignored (a signature that fails, or malformed).</p>`
          : ''
      }`
    : html`<p class="muted">${v.checkpoint?.note ?? 'No checkpoint was checked.'}</p>`
}`;
}
