/**
 * The credential page's sections: identity, owner and agent, the explained risk score, its grants
 * with provenance, open findings, actions and the timeline. Pure renderers over what
 * credential.ts reads; every estate value goes through `html`.
 */
import type { AuditEvent } from '../../audit/event.js';
import type { Agent } from '../../model/agent.js';
import type { Attachment, Credential, Grant, Provenance } from '../../model/credential.js';
import type { Evidence, Finding } from '../../model/finding.js';
import { principalInfo, principalNoun } from '../../model/principal.js';
import type { CredentialScore } from '../../policy/score.js';
import type { actionJson } from '../../remediation/action-json.js';
import { type Html, href, html } from '../html.js';
import { facts, severityBadge, stateBadge, table, when } from '../ui.js';
import { describe, SCAN_LIMIT, type Timeline } from './credential-timeline.js';

export type ActionJson = ReturnType<typeof actionJson>;

const none = html`<span class="muted">none</span>`;
const code = (s: string) => html`<code>${s}</code>`;
const text = (v: unknown): string => (typeof v === 'string' ? v : (JSON.stringify(v) ?? ''));

/** Identifiers a source records, by the attribute that holds them, in the order shown. */
const IDENTIFIERS: [string, string][] = [
  ['accessKeyId', 'Access key id'],
  ['userName', 'IAM user'],
  ['userId', 'IAM user id'],
  ['roleName', 'IAM role'],
  ['roleId', 'IAM role id'],
  ['accessor', 'Token accessor'],
  ['secretIdAccessor', 'Secret ID accessor'],
  ['displayName', 'Display name'],
  ['leaseId', 'Lease id'],
  ['mount', 'Mount'],
  ['role', 'Role'],
];

export function identity(c: Credential, accountNames: ReadonlyMap<string, string>, now: number): Html {
  const p = principalInfo(c, accountNames);
  const where = p.account ? (p.account.name ? `${p.account.id} (${p.account.name})` : p.account.id) : c.source;
  const ids = IDENTIFIERS.flatMap(([k, label]): [string, Html][] =>
    typeof c.attributes[k] === 'string' && c.attributes[k] !== '' ? [[label, code(c.attributes[k] as string)]] : [],
  );
  const used = c.lastUsed;
  const lastUsed = used
    ? html`${when(used.at, now)}${used.service ? html` · ${used.service}` : ''}${used.region ? html` · ${used.region}` : ''}<br><small>per ${used.source} as of ${when(used.asOf, now)}</small>`
    : none;
  const tags = Object.entries(c.tags ?? {});
  return html`<section aria-labelledby="h-identity"><h2 id="h-identity">Identity</h2>
${facts([
  ['Id', code(c.id)],
  ['Kind', c.kind],
  ['Source', html`${c.sourceType} ${where}`],
  ['Principal', html`${principalNoun(p.principalType)} ${p.principalName}<br>${code(c.principal)}`],
  ...ids,
  ['Status', stateBadge(c.status)],
  ['Created', when(c.createdAt, now)],
  ['Last used', lastUsed],
  ['Expires', c.expiresAt ? when(c.expiresAt, now) : html`<span class="muted">never</span>`],
  ['Observed', when(c.observedAt, now)],
  ['Tags', tags.length ? html`<ul>${tags.map(([k, v]) => html`<li>${code(k)} = ${code(v)}</li>`)}</ul>` : none],
])}
<details><summary>Every attribute the source recorded</summary>
${facts(Object.entries(c.attributes).map(([k, v]): [string, Html] => [k, code(text(v))]))}
</details></section>`;
}

export function ownership(c: Credential, agent: Agent | undefined): Html {
  const registered = c.agentId
    ? agent
      ? html`<span class="badge state-ok">registered</span> ${agent.name} (${code(agent.id)})`
      : html`<span class="badge state-fail">not in the registry</span> ${code(c.agentId)}: agents.yaml no longer lists it`
    : c.unregisteredAgent
      ? html`<span class="badge state-fail">unregistered agent</span> it looks like an agent's credential, but no registry entry claims it`
      : html`<span class="muted">no agent: not an agent's credential</span>`;
  const owner = c.owner ?? agent?.owner ?? null;
  return html`<section aria-labelledby="h-owner"><h2 id="h-owner">Owner and agent</h2>
${facts([
  ['Agent', registered],
  [
    'Owner',
    owner ? html`${owner.team} <small>${owner.contact}</small>` : html`<span class="badge state-fail">no owner</span>`,
  ],
  ...(agent
    ? ([
        ['Environment', agent.environment],
        ['Version', agent.version],
      ] as [string, string][])
    : []),
])}</section>`;
}

function evidenceLine(e: Evidence): Html {
  const parts: Html[] = [];
  if (e.statement) {
    const p = e.statement.provenance;
    parts.push(html`${code(e.statement.summary)}${p ? html` <small>from ${provenanceWords(p)}</small>` : ''}`);
  }
  if (e.field) parts.push(html`${code(e.field)} = ${code(text(e.value ?? null))}`);
  if (e.note) parts.push(html`${e.note}`);
  return html`<li>${parts.length ? parts.map((x, i) => (i ? html`; ${x}` : x)) : none}</li>`;
}

/** Evidence without repeats (one statement can stand behind several hits of a contribution). */
const distinct = (list: readonly Evidence[]): Evidence[] => {
  const seen = new Set<string>();
  return list.filter((e) => {
    const k = JSON.stringify(e);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
};

export function explainedScore(score: CredentialScore | null): Html {
  if (!score)
    return html`<section aria-labelledby="h-score"><h2 id="h-score">Risk score</h2>
<p class="muted">No score: it has no open findings (scores count open findings only).</p></section>`;
  const vector = Object.entries(score.vector).sort((a, b) => b[1] - a[1]);
  return html`<section aria-labelledby="h-score"><h2 id="h-score">Risk score</h2>
<p><span class="tile-value score">${score.score}</span> of 100${score.factors.length ? html` <small>(${score.factors.join('; ')})</small>` : ''}</p>
${vector.length ? html`<p>By detector: ${vector.map(([d, p], i) => html`${i ? ', ' : ''}${code(d)} ${p}`)}</p>` : ''}
<h3>Top contributions</h3>
<ol class="contributions">${score.top.map(
    (
      t,
    ) => html`<li class="panel"><p><strong>+${t.points}</strong> ${code(t.detector)} ${severityBadge(t.severity)} policy ${t.policy}</p>
<p>${t.message}</p>
${t.evidence.length ? html`<p><small>The statements and fields behind it:</small></p><ul>${distinct(t.evidence).map(evidenceLine)}</ul>` : ''}
<p><small class="mono">${t.fingerprint}</small></p></li>`,
  )}</ol></section>`;
}

const ATTACHED: Record<Attachment, string> = {
  inline: 'inline policy',
  managed: 'managed policy',
  'group-inline': 'inline policy of a group',
  'group-managed': 'managed policy of a group',
  boundary: 'permissions boundary (caps, never grants)',
  'vault-policy': 'Vault policy',
  'vault-identity-policy': 'Vault identity policy',
  'vault-aws-role': 'Vault AWS secrets role',
};

export function provenanceWords(p: Provenance): string {
  return `${ATTACHED[p.attachment] ?? p.attachment} ${p.policy}${p.via ? ` via ${p.via}` : ''}`;
}

const listOrNot = (yes: string[] | undefined, not: string[] | undefined): Html =>
  yes
    ? html`${yes.map((a, i) => html`${i ? ', ' : ''}${code(a)}`)}`
    : html`NOT ${(not ?? []).map((a, i) => html`${i ? ', ' : ''}${code(a)}`)}`;

function grantRow(g: Grant): Html[] {
  const p = g.provenance;
  const from = html`${p.policy}${p.policyArn ? html`<br>${code(p.policyArn)}` : ''}`;
  const how = html`${ATTACHED[p.attachment] ?? p.attachment}${p.via ? html`<br><small>via ${p.via}</small>` : ''}`;
  if (g.type === 'vault-path') return [html`allow`, code(g.path), html`${g.capabilities.join(', ')}`, none, from, how];
  return [
    html`${g.effect}${g.sid ? html`<br><small>${g.sid}</small>` : ''}`,
    listOrNot(g.actions, g.notActions),
    listOrNot(g.resources, g.notResources),
    g.condition ? code(JSON.stringify(g.condition)) : none,
    from,
    how,
  ];
}

export function grants(c: Credential): Html {
  return html`<section aria-labelledby="h-grants"><h2 id="h-grants">Grants</h2>
${table({
  caption: `Grants (${c.grants.length}) and where each came from`,
  columns: [
    { key: 'effect', label: 'Effect' },
    { key: 'what', label: 'Actions or path' },
    { key: 'on', label: 'Resources or capabilities' },
    { key: 'condition', label: 'Condition' },
    { key: 'policy', label: 'Policy' },
    { key: 'how', label: 'Attached as' },
  ],
  rows: c.grants.map(grantRow),
  path: '',
  empty: 'No grants: the source recorded no permissions for it.',
})}</section>`;
}

export function openFindings(
  list: readonly Finding[],
  others: readonly Finding[],
  titles: ReadonlyMap<string, string>,
  now: number,
): Html {
  const byState = new Map<string, number>();
  for (const f of others) byState.set(f.state, (byState.get(f.state) ?? 0) + 1);
  const more = [...byState].map(([state, n]) => `${n} ${state}`).join(', ');
  return html`<section aria-labelledby="h-findings"><h2 id="h-findings">Open findings</h2>
${table({
  caption: `Open findings (${list.length})`,
  columns: [
    { key: 'severity', label: 'Severity' },
    { key: 'policy', label: 'Policy' },
    { key: 'finding', label: 'Finding' },
    { key: 'first', label: 'First seen' },
    { key: 'last', label: 'Last seen' },
  ],
  rows: list.map((f) => [
    severityBadge(f.severity),
    html`${f.policy}${titles.get(f.policy) ? html`<br><small>${titles.get(f.policy)}</small>` : ''}`,
    html`${f.message}<br><small class="mono fp">${f.fingerprint}</small>`,
    when(f.firstSeen, now),
    when(f.lastSeen, now),
  ]),
  path: '',
  empty: 'No open findings.',
})}
${more ? html`<p>Its other findings: ${more} (their history is in the timeline below).</p>` : ''}</section>`;
}

/** Who approved, denied or rolled it back, in words. */
function people(a: ActionJson): Html {
  const parts: string[] = [];
  if (a.approvals.length) parts.push(`approved by ${a.approvals.map((x) => x.by).join(', ')}`);
  if (a.denial) parts.push(`denied by ${a.denial.by}: ${a.denial.reason}`);
  if (a.rollback) parts.push(`rolled back by ${a.rollback.by}`);
  return parts.length ? html`<br><small>${parts.join('; ')}</small>` : html``;
}

export function actionsOn(id: string, list: readonly ActionJson[], now: number): Html {
  return html`<section aria-labelledby="h-actions"><h2 id="h-actions">Actions</h2>
${table({
  caption: `Remediation actions on it (${list.length}), newest first`,
  columns: [
    { key: 'action', label: 'Action' },
    { key: 'policy', label: 'Policy' },
    { key: 'state', label: 'State' },
    { key: 'decision', label: 'Guardrails' },
    { key: 'planned', label: 'Planned' },
    { key: 'updated', label: 'Updated' },
  ],
  rows: list.map((a) => [
    html`${a.action}<br><small class="mono">${a.id}</small>`,
    html`${a.policy}`,
    html`${stateBadge(a.state)}${people(a)}`,
    html`${a.decision ?? 'none'}${a.reasons.length ? html`<br><small>${a.reasons.map((r) => r.message).join('; ')}</small>` : ''}`,
    when(a.plannedAt, now),
    when(a.updatedAt, now),
  ]),
  path: '',
  empty: 'No remediation action was planned for it.',
})}
<p><a href="${href('/actions', { credential: id })}">All actions on this credential</a></p></section>`;
}

export function timeline(c: Credential, t: Timeline, now: number): Html {
  type Item = { time: string; title: string; details: string[]; by?: string; seq?: number };
  const items: Item[] = t.events.map((e: AuditEvent) => ({ time: e.time, ...describe(e), by: e.actor, seq: e.seq }));
  if (c.createdAt) items.push({ time: c.createdAt, title: 'Created (per the source)', details: [] });
  if (c.lastUsed?.at) items.push({ time: c.lastUsed.at, title: `Last used (per ${c.lastUsed.source})`, details: [] });
  items.sort((a, b) => (a.time < b.time ? 1 : a.time > b.time ? -1 : (b.seq ?? 0) - (a.seq ?? 0)));
  return html`<section aria-labelledby="h-timeline"><h2 id="h-timeline">Timeline</h2>
<p><small>Newest first: the audit events about it among the newest ${Math.min(t.scanned, SCAN_LIMIT).toLocaleString('en-US')} of the chain${t.truncated ? ' (older ones are not shown)' : ''}, with its creation and last use.</small></p>
<ol class="timeline">${items.map(
    (i) =>
      html`<li><strong>${i.title}</strong> <small>${when(i.time, now)}${i.by ? html` · ${i.by}` : ''}${i.seq ? html` · audit #${i.seq}` : ''}</small>${
        i.details.length ? html`<div>${i.details.map((d, n) => html`${n ? html`<br>` : ''}${d}`)}</div>` : ''
      }</li>`,
  )}</ol></section>`;
}
