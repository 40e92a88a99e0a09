/**
 * The overview's sections, each rendered from data read in overview.ts: open findings by severity,
 * the trend chart, the riskiest agents, the last scan's coverage, its drift, and remediation.
 */
import { ErrorCodes } from '../../errors.js';
import type { DriftEvent } from '../../inventory/drift.js';
import type { ScanSummary, UnitSummary } from '../../inventory/summary.js';
import type { Owner } from '../../model/credential.js';
import { type Finding, SEVERITIES, type Severity } from '../../model/finding.js';
import type { RemediationStatus } from '../../remediation/status.js';
import type { UnitProblem } from '../../sources/source.js';
import { type Html, href, html } from '../html.js';
import { credentialHref, facts, severityBadge, stateBadge, table, tile, when } from '../ui.js';
import type { AgentView } from './agents-data.js';
import { stepChart } from './overview-chart.js';
import { TREND_DAYS, type Trend } from './overview-data.js';

export function ownerText(o: Owner | null | undefined): Html {
  if (!o) return html`<span class="muted">no owner</span>`;
  return html`${o.team} <small>${o.contact}</small>`;
}

export function severityTiles(open: Record<Severity, number>): Html {
  const total = Object.values(open).reduce((n, v) => n + v, 0);
  return html`<section aria-labelledby="open-h"><h2 id="open-h">Open findings</h2>
<div class="tiles">
${tile('open in total', total, { link: href('/findings', { state: 'open' }) })}
${SEVERITIES.map((s) => tile(`${s} open`, open[s], { tone: `sev-${s}`, link: href('/findings', { state: 'open', severity: s }) }))}
</div></section>`;
}

const stamp = (t: number): string => new Date(t).toISOString().replace('T', ' ').slice(0, 16);

export function trendSection(t: Trend): Html {
  const switcher = html`<nav class="range-switch" aria-label="Trend range"><ul>${TREND_DAYS.map(
    (d) =>
      html`<li><a href="${href('/', { days: d === 30 ? undefined : d })}"${d === t.days ? html` aria-current="true"` : ''}>Last ${d} days</a></li>`,
  )}</ul></nav>`;
  const about =
    'Open findings by severity at the end of each scan (as its evaluation recorded them), held as steps until the next scan.';
  const chart = stepChart({
    id: 'trend',
    title: `Open findings by severity, last ${t.days} days`,
    about,
    from: t.from,
    to: t.to,
    xs: t.points.map((p) => p.at),
    rowLabels: t.points.map(
      (p) => html`<time datetime="${new Date(p.at).toISOString()}">${stamp(p.at)}</time> <small>${p.scanId}</small>`,
    ),
    series: SEVERITIES.map((s) => ({
      key: s,
      label: s,
      values: t.points.map((p) => p.open[s]),
      start: t.start ? t.start.open[s] : null,
    })),
    tableCaption: `Open findings per scan, last ${t.days} days`,
    firstColumn: 'Scan evaluated (UTC)',
  });
  const note = t.thinnedTo
    ? html`<p class="muted">${t.evaluated} scans in this range; drawn as the last scan of every ${Math.round(t.thinnedTo / 3_600_000)} h.</p>`
    : html`<p class="muted">${t.evaluated} evaluated scan${t.evaluated === 1 ? '' : 's'} in this range.</p>`;
  return html`<section aria-labelledby="trend-h"><h2 id="trend-h">Trend</h2>${switcher}${chart}${note}</section>`;
}

export function riskiestSection(agents: readonly AgentView[], findings: ReadonlyMap<string, Finding>): Html {
  const columns = [
    { key: 'agent', label: 'Agent' },
    { key: 'owner', label: 'Owner' },
    { key: 'score', label: 'Score', numeric: true },
    { key: 'reason', label: 'Top reason' },
    { key: 'credential', label: 'Credential' },
  ];
  const rows = agents.map((a) => {
    const top = a.score?.top[0];
    const credId = (top && findings.get(top.fingerprint)?.credentialId) ?? a.score?.credentials[0]?.credentialId;
    return [
      html`<a href="${href('/agents', { agent: a.agent.id })}">${a.agent.name}</a> <small class="mono">${a.agent.id}</small>`,
      ownerText(a.agent.owner),
      html`<strong>${a.score?.score ?? 0}</strong>`,
      top
        ? html`${severityBadge(top.severity)} ${top.message} <small>(policy ${top.policy})</small>`
        : html`<span class="muted">none</span>`,
      credId
        ? html`<a class="mono" href="${credentialHref(credId)}">${credId}</a>`
        : html`<span class="muted">none</span>`,
    ];
  });
  return html`<section aria-labelledby="risk-h"><h2 id="risk-h">Riskiest agents</h2>
${table({ caption: 'The 10 riskiest agents by risk score', columns, rows, path: '/', empty: 'No agent has an open risk.' })}
<p><a href="/agents">Every agent</a></p></section>`;
}

const PROBLEM_WORDS: Record<string, string> = {
  Timeout: 'did not report before the scan deadline',
  AccessDenied: 'access was denied',
  [ErrorCodes.AWS_ACCESS_DENIED]: 'access was denied',
  [ErrorCodes.AWS]: 'AWS refused the request',
  [ErrorCodes.AWS_QUOTA]: 'AWS throttled the requests',
  [ErrorCodes.VAULT_PERMISSION]: 'Vault denied the permission',
  [ErrorCodes.VAULT_SEALED]: 'Vault was sealed',
  [ErrorCodes.VAULT]: 'Vault refused the request',
  [ErrorCodes.UNREACHABLE]: 'could not be reached',
  [ErrorCodes.TIMEOUT]: 'timed out',
};

/** A unit problem in plain words: what happened, what the source said (when it says more), its code. */
export function problemWords(p: UnitProblem): Html {
  const what = PROBLEM_WORDS[p.code];
  const said = what && p.message.toLowerCase().includes(what.toLowerCase()) ? '' : p.message;
  return html`<span class="mono">${p.scope}</span>: ${what ?? 'failed'}${said ? html` (${said})` : ''} <small>${p.code}</small>`;
}

const UNIT_WORDS: Record<string, string> = {
  complete: 'observed completely',
  partial: 'partly observed: what was not seen is carried over, never concluded removed',
  failed: 'not observed: everything under it is carried over from before',
  'timed-out': 'did not report in time: everything under it is carried over from before',
};

/** Why a unit is incomplete, in words: its problems' plain reasons, else what its status means. */
function unitReason(u: UnitSummary): string {
  const reasons = [...new Set(u.problems.map((p) => PROBLEM_WORDS[p.code] ?? p.message))];
  const carried = 'what it did not see is carried over from before';
  return reasons.length ? `${reasons.join('; ')}; ${carried}` : (UNIT_WORDS[u.status] ?? u.status);
}

export function coverageSection(last: ScanSummary | null, running: ScanSummary | null, now: number): Html {
  if (!last)
    return html`<section aria-labelledby="cov-h"><h2 id="cov-h">Last scan</h2><p>No scan has finished yet.</p></section>`;
  const units = last.units;
  const incomplete = units.filter((u) => u.status !== 'complete');
  const columns = [
    { key: 'unit', label: 'Unit' },
    { key: 'status', label: 'Status' },
    { key: 'credentials', label: 'Credentials', numeric: true },
    { key: 'problems', label: 'What happened' },
  ];
  const rows = units.map((u: UnitSummary) => [
    html`${u.label} <small class="mono">${u.key}</small>`,
    stateBadge(u.status),
    html`${u.credentials}`,
    u.problems.length
      ? html`<ul class="plain">${u.problems.map((p) => html`<li>${problemWords(p)}</li>`)}</ul>`
      : html`<span class="muted">${UNIT_WORDS[u.status] ?? u.status}</span>`,
  ]);
  return html`<section aria-labelledby="cov-h"><h2 id="cov-h">Last scan coverage</h2>
${facts([
  ['Scan', html`<span class="mono">${last.id}</span> ${stateBadge(last.status)}`],
  ['Finished', when(last.finishedAt, now)],
  ['Sources', last.sources.join(', ') || null],
  ['Units', html`${units.length - incomplete.length} of ${units.length} complete`],
  ['Credentials seen', last.counts.credentials],
  ...(running
    ? ([['Running now', html`<span class="mono">${running.id}</span>, started ${when(running.startedAt, now)}`]] as [
        string,
        Html,
      ][])
    : []),
])}
${
  incomplete.length
    ? html`<div class="notice warn"><p><strong>${incomplete.length} unit${incomplete.length === 1 ? ' was' : 's were'} not fully observed.</strong> Nothing under them is concluded removed or resolved until a complete scan sees it.</p>
<ul>${incomplete.map((u) => html`<li><strong>${u.label}</strong> ${stateBadge(u.status)}: ${unitReason(u)}</li>`)}</ul></div>`
    : ''
}
${table({ caption: `Units of scan ${last.id}`, columns, rows, path: '/', empty: 'The scan had no units.' })}
</section>`;
}

const DRIFT: { type: string; label: string }[] = [
  { type: 'credential.added', label: 'added' },
  { type: 'credential.removed', label: 'removed' },
  { type: 'credential.status-changed', label: 'status changed' },
  { type: 'credential.grants-changed', label: 'grants changed' },
  { type: 'credential.attribution-changed', label: 'attribution changed' },
];
const DRIFT_LISTED = 10;

export function driftSection(
  last: ScanSummary | null,
  previous: ScanSummary | null,
  events: readonly DriftEvent[] | null,
): Html {
  if (!last) return html``;
  const c = last.counts.drift;
  const total = Object.values(c).reduce((n, v) => n + v, 0);
  const since = previous
    ? html`since scan <span class="mono">${previous.id}</span>`
    : html`against what was known before`;
  const list = (events ?? []).slice(0, DRIFT_LISTED).map((e) => {
    const label = DRIFT.find((d) => d.type === e.type)?.label ?? e.type;
    const cred =
      e.type === 'credential.removed'
        ? html`<span class="mono">${e.credentialId}</span>`
        : html`<a class="mono" href="${credentialHref(e.credentialId)}">${e.credentialId}</a>`;
    return html`<li>${label}: ${cred}</li>`;
  });
  return html`<section aria-labelledby="drift-h"><h2 id="drift-h">Drift</h2>
<p>What scan <span class="mono">${last.id}</span> found changed ${since}: ${total} change${total === 1 ? '' : 's'}.</p>
<div class="tiles">${DRIFT.map((d) => tile(d.label, c[d.type] ?? 0))}</div>
${list.length ? html`<ul>${list}</ul>${(events?.length ?? 0) > DRIFT_LISTED ? html`<p class="muted">and ${events!.length - DRIFT_LISTED} more.</p>` : ''}` : ''}
</section>`;
}

export function remediationSection(r: RemediationStatus, now: number): Html {
  const paused = r.paused
    ? html`${stateBadge('paused')} by ${r.paused.by} ${when(r.paused.at, now)}${r.paused.reason ? html`: ${r.paused.reason}` : ''}`
    : html`${stateBadge('running')} <span class="muted">kill switch not pulled</span>`;
  const breaker = r.breaker
    ? html`${stateBadge('tripped')} ${when(r.breaker.trippedAt, now)}: ${r.breaker.reason}`
    : html`${stateBadge('closed')} <span class="muted">not tripped</span>`;
  const mode =
    r.mode === 'enforce' ? 'enforce: actions change credentials' : 'dry-run: actions are recorded, nothing is changed';
  const n = (s: string) => r.actions[s] ?? 0;
  return html`<section aria-labelledby="rem-h"><h2 id="rem-h">Remediation</h2>
${facts([
  ['Mode', html`<strong>${r.mode}</strong> <small>${mode}</small>`],
  ['Kill switch', paused],
  ['Circuit breaker', breaker],
  ['Rate', `${r.rate.used} of ${r.rate.max} actions started in the last ${r.rate.perHours} h`],
])}
<div class="tiles">
${tile('held by a guardrail', n('held'), { tone: n('held') ? 'bad' : '', link: href('/actions', { state: 'held' }) })}
${tile('awaiting approval', n('awaiting-approval'), { link: href('/actions', { state: 'awaiting-approval' }) })}
${tile('failed', n('failed'), { tone: n('failed') ? 'bad' : '', link: href('/actions', { state: 'failed' }) })}
</div></section>`;
}
