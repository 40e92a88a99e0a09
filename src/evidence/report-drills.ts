/**
 * The drills in report.html: a line in each drill-evidenced control's section, and the Drills
 * section listing every drill that finished in the period (its drill.finished event in the slice):
 * scenario, who or what started it, the result, the stage reached and why it failed, the times to
 * detect, alert and remediate (or to the approval request), and what cleanup removed. Every value
 * is escaped (report-markup.ts).
 */
import type { ControlResult } from './controls.js';
import { durationText } from './controls-drills.js';
import type { CollectedEvidence, DrillEvidence } from './model.js';
import { html, type Markup } from './report-markup.js';

const MAX_ROWS = 200;

const t = (ms: number | null) => (ms === null ? '—' : durationText(ms));

/** In a control's facts: how many drills finished, passed and failed (the Drills section has them). */
export function controlDrills(c: ControlResult): Markup {
  if (!c.drills) return html``;
  const passed = c.drills.filter((d) => d.status === 'passed').length;
  return html`<dt>Drills</dt><dd>${c.drills.length} finished in the period: ${passed} passed, ${c.drills.length - passed} failed (<a href="#drills">Drills</a>, drills.csv)</dd>`;
}

function cleanup(d: DrillEvidence): Markup {
  const c = d.cleanup;
  if (!c) return html`<strong>no cleanup recorded</strong>`;
  return html`${c.removed.length} removed${c.gone.length ? `, ${c.gone.length} already gone` : ''}${
    c.failed.length
      ? html`; <strong class="bad">failed:</strong> ${c.failed.map((f, i) => html`${i ? '; ' : ''}<span class="mono">${f.id}</span>: ${f.error}`)}`
      : html``
  }`;
}

function row(d: DrillEvidence): Markup {
  const result =
    d.status === 'passed'
      ? html`<span class="status pass">passed</span>`
      : html`<span class="status fail">failed</span> at stage ${d.stage || '—'}: ${d.reason ?? 'no reason recorded'}`;
  const creds = d.planted.flatMap((p) => (p.credentialId ? [p.credentialId] : []));
  return html`<tr><td>${d.scenario} <span class="mono">${d.id}</span></td><td>${d.trigger}: ${d.by}; ${d.target}</td><td>${d.startedAt ?? '—'} to ${d.finishedAt} (event #${d.event.seq})</td><td>${result}</td><td>${t(d.times.detectMs)}</td><td>${t(d.times.alertMs)}</td><td>${t(d.times.remediateMs)}${d.times.approvalMs !== null ? ` (approval requested in ${t(d.times.approvalMs)})` : ''}</td><td>${cleanup(d)}</td><td class="mono">${creds.join(', ') || '—'}</td></tr>`;
}

export function drillsSection(ev: CollectedEvidence, controls: readonly ControlResult[]): Markup {
  const drills = ev.drills ?? [];
  const ids = controls.filter((c) => c.drills).map((c) => c.id);
  const passed = drills.filter((d) => d.status === 'passed').length;
  const about = ids.length
    ? html`They are evidence for ${ids.join(', ')}.`
    : html`No control of this framework takes drills as evidence.`;
  return html`<section id="drills"><h2>Drills</h2>
<p>${drills.length} drill${drills.length === 1 ? '' : 's'} finished in the period (${passed} passed, ${drills.length - passed} failed). A drill plants a synthetic risky credential where the drills config allows, times the pipeline's detection, alert and remediation of it from when the risk existed, and cleans up. ${about}</p>
${
  drills.length
    ? html`<table><thead><tr><th>Drill</th><th>Started by, target</th><th>Started, finished (event)</th><th>Result</th><th>Detect</th><th>Alert</th><th>Remediate</th><th>Cleanup</th><th>Planted credentials</th></tr></thead><tbody>${drills
        .slice(0, MAX_ROWS)
        .map(
          row,
        )}</tbody></table>${drills.length > MAX_ROWS ? html`<p class="note">${MAX_ROWS} of ${drills.length} shown; every one is in drills.csv.</p>` : html``}`
    : html`<p>None.</p>`
}</section>`;
}
