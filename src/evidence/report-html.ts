/**
 * The human-readable report.html: one self-contained file (no script, no external asset, a CSP
 * that forbids both), print CSS so it prints to PDF as it reads on screen. Every value passes
 * through the `html` template tag, which escapes whatever is not already markup it built, so a
 * hostile tag value or principal name comes out as inert text. Long lists are cut to what a person
 * reads (the CSV and JSON files carry everything) and say so.
 */
import type { ControlResult } from './controls.js';
import type { Framework } from './frameworks.js';
import type { CollectedEvidence, FindingEvidence } from './model.js';
import { controlDrills, drillsSection } from './report-drills.js';
import { html, Markup } from './report-markup.js';

export { escapeHtml, html, Markup } from './report-markup.js';

export interface ReportContext {
  fw: Framework;
  ev: CollectedEvidence;
  controls: readonly ControlResult[];
  version: string;
  configHash: string;
  checkpoint: { seq: number; time: string } | null;
}

const MAX_ROWS = 50;
const MAX_POPULATION = 500;

const CSS = `
:root{--ok:#1b7f3b;--bad:#b3261e;--na:#8a5a00;--line:#ccc}
body{font:13px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#111;margin:2em auto;max-width:70em;padding:0 1em}
h1{font-size:1.6em;margin:0 0 .3em}h2{font-size:1.25em;margin:1.6em 0 .4em;border-bottom:2px solid #333}
h3{font-size:1.05em;margin:1.2em 0 .3em}table{border-collapse:collapse;width:100%;margin:.4em 0 1em}
th,td{border:1px solid var(--line);padding:.25em .45em;text-align:left;vertical-align:top;word-break:break-word}
th{background:#f2f2f2}code,.mono{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.92em}
.status{font-weight:600;padding:.05em .4em;border-radius:3px;color:#fff;white-space:nowrap}
.pass{background:var(--ok)}.fail{background:var(--bad)}.not-evidenced{background:var(--na)}.bad{color:var(--bad)}
.req{font-style:italic;color:#333}.note{color:#555}.control{border-top:1px solid var(--line);padding-top:.2em}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.15em 1em;margin:.3em 0}dt{font-weight:600}dd{margin:0}
@media print{body{margin:0;max-width:none;font-size:10.5pt}a{color:inherit;text-decoration:none}
h2{break-after:avoid}h3{break-after:avoid}tr{break-inside:avoid}thead{display:table-header-group}
.status{-webkit-print-color-adjust:exact;print-color-adjust:exact}}
@page{size:A4;margin:14mm 12mm}`;

const status = (s: string) => html`<span class="status ${s}">${s}</span>`;
const or = (v: unknown, dash = '—') => (v === null || v === undefined || v === '' ? dash : v);
const num = (n: number | null) => (n === null ? '—' : n.toFixed(2));
const cut = (n: number, shown: number, file: string) =>
  n > shown ? html`<p class="note">${shown} of ${n} shown; every one is in ${file}.</p>` : html``;

function findingRows(findings: readonly FindingEvidence[]) {
  return findings
    .slice(0, MAX_ROWS)
    .flatMap((f) =>
      f.episodes.map(
        (ep) =>
          html`<tr><td class="mono">${f.credentialId}</td><td>${f.policies.join(', ')}</td><td>${ep.severity}</td><td>${ep.how} ${ep.start}</td><td>${or(ep.end && `${ep.endedBy} ${ep.end}`)}</td><td>${ep.suppressions.length ? ep.suppressions.map((s) => `${s.exceptionId ?? '?'} from ${s.from}`).join('; ') : '—'}</td><td>${f.stateAtEnd}</td></tr>`,
      ),
    );
}

function controlSection(c: ControlResult, ev: CollectedEvidence) {
  const fps = new Set(c.findings.fingerprints);
  const findings = ev.findings.filter((f) => fps.has(f.fingerprint));
  const ids = new Set(c.exceptions);
  const exceptions = ev.exceptions.filter((x) => ids.has(x.id));
  const f = c.findings;
  return html`<section class="control" id="control-${c.id}">
<h3>${c.id} ${c.title} ${status(c.status)}</h3>
<p class="req">${c.requirement}</p>
<p><strong>Verdict:</strong> ${c.reason}</p>
${c.problems.length > 1 ? html`<ul>${c.problems.map((p) => html`<li>${p}</li>`)}</ul>` : html``}
<dl><dt>What credwarden evidences</dt><dd>${c.evidences}</dd>
<dt>Policies mapped</dt><dd>${c.mappedPolicies.length ? c.mappedPolicies.join(', ') : 'none'}</dd>
<dt>Findings</dt><dd>${f.total} in the period: ${f.opened} opened, ${f.reopened} reopened, ${f.carriedIn} carried in, ${f.resolved} resolved (time to resolve: median ${num(f.ttrMedianDays)} days, max ${num(f.ttrMaxDays)} days); at the end ${f.openAtEnd} open, ${f.suppressedAtEnd} under an exception</dd>
<dt>Units checked</dt><dd>${c.coverage.units.join(', ') || 'none configured'}${c.coverage.notCompletelyScanned.length ? html` — <strong>not completely scanned:</strong> ${c.coverage.notCompletelyScanned.join(', ')}` : html``}</dd>
${controlDrills(c)}</dl>
${
  findings.length
    ? html`<table><thead><tr><th>Credential</th><th>Policies</th><th>Severity</th><th>Opened</th><th>Ended</th><th>Exceptions</th><th>At end</th></tr></thead><tbody>${findingRows(findings)}</tbody></table>${cut(findings.length, MAX_ROWS, 'findings.csv')}`
    : html``
}
${
  c.actions.length
    ? html`<table><thead><tr><th>Action</th><th>Credential</th><th>Outcome</th><th>Approved by</th><th>Rolled back by</th></tr></thead><tbody>${c.actions
        .slice(0, MAX_ROWS)
        .map(
          (a) =>
            html`<tr><td>${a.action} <span class="mono">${a.planId}</span></td><td class="mono">${a.credentialId}</td><td>${or(a.outcome)}</td><td>${a.approvedBy.length ? a.approvedBy.map((x) => `${x.by} at ${x.at}`).join('; ') : '—'}</td><td>${or(a.rolledBackBy)}</td></tr>`,
        )}</tbody></table>${cut(c.actions.length, MAX_ROWS, 'actions.csv')}`
    : html``
}
${
  exceptions.length
    ? html`<table><thead><tr><th>Exception</th><th>Owner</th><th>Reason</th><th>Expires</th><th>Source</th></tr></thead><tbody>${exceptions.map(
        (x) =>
          html`<tr><td class="mono">${x.id}</td><td>${or(x.owner)}</td><td>${or(x.reason)}</td><td>${or(x.lifted ? `${x.expires} (lifted ${x.lifted.at} by ${x.lifted.by})` : x.expires)}</td><td>${x.source}${x.createdBy ? ` by ${x.createdBy} at ${x.createdAt}` : ''}</td></tr>`,
      )}</tbody></table>`
    : html``
}
</section>`;
}

function coverageSection(ev: CollectedEvidence) {
  const { units, scans } = ev.coverage;
  const partial = scans.filter((s) => s.status !== 'complete');
  return html`<section id="coverage"><h2>Coverage</h2>
<p>${scans.length} scans in the period, ${partial.length} of them partial or unfinished. The largest gap is the longest stretch of the period without a complete scan of the unit.</p>
<table><thead><tr><th>Unit</th><th>Configured</th><th>Scans</th><th>Complete</th><th>Last complete</th><th>Largest gap (h)</th><th>Why incomplete</th></tr></thead><tbody>${units.map(
    (u) =>
      html`<tr><td>${u.key} (${u.label})</td><td>${u.configured ? 'yes' : 'no (seen in scans only)'}</td><td>${u.scans}</td><td>${u.completeScans === 0 ? html`<strong>0</strong>` : u.completeScans}</td><td>${or(u.lastComplete)}</td><td>${u.largestGapHours}</td><td>${u.reasons.join('; ') || '—'}</td></tr>`,
  )}</tbody></table>
<h3>Partial scans</h3>
${
  partial.length
    ? html`<table><thead><tr><th>Scan</th><th>Started</th><th>Finished</th><th>Units not complete, and why</th></tr></thead><tbody>${partial
        .slice(0, MAX_ROWS)
        .map(
          (s) =>
            html`<tr><td class="mono">${s.id}</td><td>${s.startedAt}</td><td>${or(s.finishedAt, 'still running at the end of the period')}</td><td>${s.units
              .filter((u) => u.status !== 'complete')
              .map(
                (u) =>
                  `${u.key} ${u.status}${u.problems.length ? `: ${u.problems.map((p) => `${p.code} ${p.message}`).join('; ')}` : ''}`,
              )
              .join(' | ')}</td></tr>`,
        )}</tbody></table>${cut(partial.length, MAX_ROWS, 'coverage.csv')}`
    : html`<p>None.</p>`
}</section>`;
}

function populationSection(ev: CollectedEvidence) {
  const p = ev.population;
  const byKind = new Map<string, number>();
  for (const c of p) byKind.set(c.kind, (byKind.get(c.kind) ?? 0) + 1);
  const removed = p.filter((c) => c.removedAt).length;
  const ownerless = p.filter((c) => !c.owner).length;
  return html`<section id="population"><h2>Population</h2>
<p>${p.length} credentials existed at some time in the period; ${removed} were removed in it; ${ownerless} have no owner on record.</p>
<table><thead><tr><th>Kind</th><th>Credentials</th></tr></thead><tbody>${[...byKind]
    .sort()
    .map(([k, n]) => html`<tr><td>${k}</td><td>${n}</td></tr>`)}</tbody></table>
${
  p.length <= MAX_POPULATION
    ? html`<table><thead><tr><th>Credential</th><th>Agent</th><th>Owner</th><th>Created</th><th>Last used</th><th>Removed</th></tr></thead><tbody>${p.map(
        (c) =>
          html`<tr><td class="mono">${c.id}</td><td>${or(c.agent, c.unregisteredAgent ? 'unregistered' : '—')}</td><td>${or(c.owner)}</td><td>${or(c.created ?? c.firstSeen)}</td><td>${or(c.lastUsed)}</td><td>${or(c.removedAt)}</td></tr>`,
      )}</tbody></table>`
    : html`<p class="note">The full list (${p.length} rows) is in population.csv.</p>`
}</section>`;
}

export function renderReport(ctx: ReportContext): string {
  const { fw, ev, controls } = ctx;
  const counts = { pass: 0, fail: 0, 'not-evidenced': 0 } as Record<string, number>;
  for (const c of controls) counts[c.status] = (counts[c.status] ?? 0) + 1;
  const ch = ev.chain;
  const page = html`<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Evidence: ${fw.name} ${ev.period.from} to ${ev.period.to}</title>
<style>${new Markup(CSS)}</style></head><body>
<header><h1>Evidence pack: ${fw.name} ${fw.version}</h1>
<p>Period <strong>${ev.period.from}</strong> to <strong>${ev.period.to}</strong> (UTC). Generated ${ev.generatedAt} by credwarden ${ctx.version}; config sha256 <span class="mono">${ctx.configHash}</span>.</p>
<p>${counts.pass} controls pass, ${counts.fail} fail, ${counts['not-evidenced']} not evidenced. ${ev.population.length} credentials, ${ev.findings.length} findings, ${ev.actions.length} actions, ${ev.exceptions.length} exceptions in force, ${ev.coverage.scans.length} scans, ${(ev.drills ?? []).length} drills.</p></header>
<section id="controls"><h2>Controls</h2>
<table><thead><tr><th>Control</th><th>Title</th><th>Status</th><th>Why</th></tr></thead><tbody>${controls.map(
    (c) =>
      html`<tr><td><a href="#control-${c.id}">${c.id}</a></td><td>${c.title}</td><td>${status(c.status)}</td><td>${c.reason}</td></tr>`,
  )}</tbody></table>
${controls.map((c) => controlSection(c, ev))}</section>
${drillsSection(ev, controls)}
${coverageSection(ev)}
${populationSection(ev)}
<section id="audit"><h2>Audit record</h2>
<dl><dt>Chain</dt><dd class="mono">${or(ch.chainId)}</dd><dt>Hash</dt><dd>${ch.hashAlgorithm}</dd>
<dt>Slice</dt><dd>${ch.toSeq >= ch.fromSeq ? `events #${ch.fromSeq} to #${ch.toSeq} (audit/slice.jsonl)` : 'no events in the period'}</dd>
<dt>Checkpoint</dt><dd>${ctx.checkpoint ? `signed at #${ctx.checkpoint.seq}, ${ctx.checkpoint.time}; audit/proof.json links the slice to it` : '—'}</dd></dl>
<p>Check this pack offline: <code>node verify.mjs PACK.tar.gz --key PUBLIC.pem</code> (the signature, every file's sha256, and the chain from the slice to the signed checkpoint).${
    ch.hashAlgorithm === 'hmac-sha256'
      ? ' The chain is HMAC-SHA256: without the key the verifier checks the links between events, and their content rests on the manifest signature.'
      : ''
  }</p></section>
</body></html>
`;
  return page.text;
}
