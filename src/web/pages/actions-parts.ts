/**
 * The pieces of the actions page (actions.ts): a held action's card (why it is held, its facts,
 * the Approve and Deny forms for people who may decide), a row of the list, a rotation's steps,
 * the rollback cell, and the notice a form's redirect carries.
 *
 * The notice travels in the redirect's query (`done`, `id`, `msg`) with `sig`, an HMAC of it
 * keyed by the session's CSRF token: the page shows only a notice this dashboard wrote for this
 * session, so a crafted link cannot put words of its choosing under the dashboard's banner.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { getActionType } from '../../actions/index.js';
import { can } from '../../api/roles.js';
import type { ActionRecord } from '../../model/action.js';
import { ROTATION_STEPS } from '../../model/rotation.js';
import type { RemediationConfig } from '../../remediation/config.js';
import { approvalRequired } from '../../remediation/guard.js';
import { Rollbacks } from '../../remediation/rollback.js';
import { rotatorFor } from '../../remediation/rotation-runner.js';
import type { RemediationService } from '../../remediation/service.js';
import { type Html, href, html } from '../html.js';
import type { Session } from '../session.js';
import { credentialHref, csrfField, facts, stateBadge, when } from '../ui.js';

/** What a page needs to judge the records: now, the approval rules, and the remediation service. */
export interface Ctx {
  session: Session;
  now: number;
  config: RemediationConfig;
  rollbacks: Rollbacks;
}

export const ctxOf = (session: Session, svc: RemediationService, now: number): Ctx => ({
  session,
  now,
  config: svc.d.config,
  rollbacks: new Rollbacks(svc),
});

const HOUR = 3_600_000;

/**
 * A rollback request approve and deny act on: asked, not denied, not run, not expired (as
 * people.ts judges it when the form is posted; this only decides what the page offers).
 */
export function pendingRollback(r: ActionRecord, c: Ctx): NonNullable<ActionRecord['rollbackRequest']> | null {
  const q = r.rollbackRequest;
  if (!q || q.denial || r.state === 'rolled-back') return null;
  return c.now > Date.parse(q.at) + c.config.approvals.expiresHours * HOUR ? null : q;
}

/** Held for a decision: waiting for people, held by a guardrail, or a rollback waiting for approval. */
export const isHeld = (r: ActionRecord, c: Ctx): boolean =>
  r.state === 'awaiting-approval' || r.state === 'held' || pendingRollback(r, c) !== null;

/** When a request asked for at `at` lapses, and whether it has (people.ts refuses it then). */
function expiry(at: string | undefined, c: Ctx): Html {
  if (!at) return html`<span class="muted">unknown</span>`;
  const until = Date.parse(at) + c.config.approvals.expiresHours * HOUR;
  return html`${when(new Date(until).toISOString(), c.now)}${c.now > until ? ' (expired: the next scan asks again)' : ''}`;
}

const pairs = (o: Record<string, unknown>): string =>
  Object.entries(o)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(', ');

/** What the action would change: the type's one line, the exact target and the parameters. */
export function plannedChange(r: ActionRecord): Html {
  const t = getActionType(r.plan.action);
  const params = pairs(r.plan.params ?? {});
  return html`${t?.description ?? r.plan.action}<br><span class="mono">${pairs(r.plan.target.identity)}</span>${
    params ? html`<br><span class="mono">${params}</span>` : ''
  }${r.plan.reversible ? '' : html`<br><strong>Not reversible.</strong>`}`;
}

const approvalsText = (list: readonly { by: string; at: string }[], needed: number, now: number): Html =>
  html`${list.length} of ${needed}${
    list.length ? html`: ${list.map((a, i) => html`${i ? ', ' : ''}${a.by} (${when(a.at, now)})`)}` : ' (none yet)'
  }`;

/** A rotation's steps, in order, each marked done or current in words (not by colour alone). */
export function rotationSteps(r: ActionRecord, now: number = Date.now()): Html {
  const p = r.rotation;
  if (!p) return html``;
  const steps = rotatorFor(p.kind)?.steps ?? ROTATION_STEPS;
  const done = new Set(p.done.map((d) => d.step));
  const items = steps.map((s) => {
    if (done.has(s))
      return html`<li class="done">${s} <span class="sr-only">(done)</span><span aria-hidden="true">✓</span></li>`;
    if (p.step === s)
      return html`<li class="current" aria-current="step">${s} <span class="sr-only">(current)</span><span aria-hidden="true">…</span></li>`;
    return html`<li>${s}</li>`;
  });
  const state = p.stopped
    ? html`<p class="muted">Stopped: ${p.stopped}</p>`
    : p.step === 'complete'
      ? html`<p class="muted">Complete.</p>`
      : p.waiting
        ? html`<p class="muted">Waiting: ${p.waiting}${p.nextAt ? html` (next ${when(p.nextAt, now)})` : ''}</p>`
        : '';
  return html`<ol class="steps" aria-label="Rotation steps (${p.kind})">${items}</ol>${state}`;
}

const actionUrl = (id: string, verb: string) => `/actions/${encodeURIComponent(id)}/${verb}`;

/** The Approve and Deny forms (each with its optional reason), for people with actions:decide only. */
function decideForms(r: ActionRecord, n: number, c: Ctx, forRollback: boolean): Html {
  if (!can(c.session.roles, 'actions:decide')) return html``;
  const what = `${forRollback ? 'the rollback of ' : ''}${r.plan.action} on ${r.plan.target.principal}`;
  const form = (verb: 'approve' | 'deny', label: string, cls: string, why: string) =>
    html`<form method="post" action="${actionUrl(r.plan.id, verb)}" class="decide" data-confirm="${label} ${what}?">
${csrfField(c.session)}
<div class="field"><label for="${verb}-reason-${n}">${why} (optional)</label><input id="${verb}-reason-${n}" name="reason" type="text" maxlength="500"></div>
<button type="submit"${cls ? html` class="${cls}"` : ''}>${label}</button>
</form>`;
  return html`<div class="actions-row decide-row">${form('approve', 'Approve', '', 'Reason to approve')}${form('deny', 'Deny', 'danger', 'Reason to deny')}</div>`;
}

/** One held action: why, the facts, and the forms. `n` numbers the form fields' ids on the page. */
export function heldCard(r: ActionRecord, n: number, c: Ctx): Html {
  const p = r.plan;
  const needed = c.config.approvals.approvers;
  const rb = pendingRollback(r, c);
  const waiting = r.state === 'awaiting-approval';
  const reasons = r.decision?.reasons ?? [];
  const rows: [string, Html | string | null][] = [
    ['Credential', html`<a href="${credentialHref(p.target.credentialId)}">${p.target.credentialId}</a>`],
    ['Principal', html`<span class="mono">${p.target.principal}</span>`],
    ['Policy', html`${p.policy} <small>(${p.policyMode}, ${p.severity})</small>`],
    ['Action type', p.action],
    ['Planned change', plannedChange(r)],
    ['Why', p.message],
    ['Requested by', p.requestedBy ?? `policy ${p.policy} (planned by scan ${p.scanId})`],
    ['Planned', when(p.plannedAt, c.now)],
  ];
  if (rb)
    rows.push(
      ['Rollback asked for by', html`${rb.by} (${when(rb.at, c.now)})`],
      ['Rollback approvals', approvalsText(r.rollbackApprovals ?? [], needed, c.now)],
      ['Expires', expiry(rb.at, c)],
    );
  else if (waiting)
    rows.push(['Approvals', approvalsText(r.approvals, needed, c.now)], ['Expires', expiry(r.approvalRequestedAt, c)]);
  else rows.push(['Next', 'a guardrail held it; the next remediation run decides again']);
  return html`<article class="panel held-action" aria-labelledby="held-${n}">
<h3 id="held-${n}">${rb ? 'Rollback of ' : ''}${p.action} on ${p.target.principal}</h3>
<p>${stateBadge(r.state)}${rb ? html` ${stateBadge('rollback-requested')}` : ''} <small class="mono">${p.id}</small></p>
<h4>Why it is held</h4>
${
  rb
    ? html`<p>${p.action} needs ${needed} approver(s) to be rolled back; ${rb.by} may not approve their own request.</p>`
    : reasons.length
      ? html`<ul class="reasons">${reasons.map((x) => html`<li><strong>${x.guard}</strong> <span class="mono">${x.code}</span>: ${x.message}</li>`)}</ul>`
      : html`<p class="muted">No reason recorded.</p>`
}
${facts(rows)}
${rotationSteps(r, c.now)}
${waiting || rb ? decideForms(r, n, c, rb !== null) : ''}
</article>`;
}

/** A short account of where an action stands (the row's last column). */
export function outcome(r: ActionRecord, now: number): Html {
  if (r.rollback) return html`rolled back by ${r.rollback.by} ${when(r.rollback.at, now)}: ${r.rollback.detail}`;
  if (r.denial) return html`denied by ${r.denial.by} ${when(r.denial.at, now)}: ${r.denial.reason}`;
  const approved = r.approvals.length
    ? html`<br><small>approved by ${r.approvals.map((a) => a.by).join(', ')}</small>`
    : '';
  if (r.result) return html`${r.result.outcome}: ${r.result.detail}${approved}`;
  if (approved) return html`${r.state === 'queued' ? 'queued to run' : r.state}${approved}`;
  const reasons = r.decision?.reasons ?? [];
  if (reasons.length) return html`${reasons.map((x, i) => html`${i ? '; ' : ''}${x.guard}: ${x.message}`)}`;
  return html`${r.plan.message}`;
}

/** Whether the action can be rolled back, and the form for people with actions:rollback. */
export function rollbackCell(r: ActionRecord, c: Ctx): Html {
  if (r.rollback) return html`<span class="muted">done</span>`;
  const q = r.rollbackRequest;
  if (q?.denial) return html`denied by ${q.denial.by}`;
  if (pendingRollback(r, c)) return html`asked for by ${q!.by}; waiting for approval`;
  if (c.rollbacks.refusal(r) !== null) return html`<span class="muted">not possible</span>`;
  const asks = approvalRequired(r.plan, c.config) !== null;
  const label = asks ? 'Ask for rollback' : 'Roll back';
  if (!can(c.session.roles, 'actions:rollback')) return html`possible`;
  return html`<form method="post" action="${actionUrl(r.plan.id, 'rollback')}" class="inline" data-confirm="${
    asks
      ? `Ask for the rollback of ${r.plan.action} on ${r.plan.target.principal}? It runs once ${c.config.approvals.approvers} other approver(s) approve it.`
      : `Roll back ${r.plan.action} on ${r.plan.target.principal}? The recorded pre-state is restored.`
  }">${csrfField(c.session)}<button type="submit" class="secondary">${label}</button></form>`;
}

// ---- the notice a form's redirect carries ----

const mac = (s: Session, done: string, id: string, msg: string): string =>
  createHmac('sha256', s.csrf).update(`${done}\n${id}\n${msg}`).digest('base64url').slice(0, 32);

/** The URL a form redirects to: the actions page with a notice only this session's pages show. */
export function noticeUrl(s: Session, done: string, id: string, text: string): string {
  // Query values are read back cut at 512 characters (server.ts): sign what will arrive.
  const msg = text.length > 480 ? `${text.slice(0, 479)}…` : text;
  return href('/actions', { done, id, msg, sig: mac(s, done, id, msg) });
}

/** The notice of a redirect's query, when this session's dashboard wrote it. */
export function noticeOf(s: Session, q: Record<string, string>): { kind: 'ok' | 'error'; text: string } | null {
  const { done, id = '', msg = '', sig } = q;
  if (!done || !sig) return null;
  const want = Buffer.from(mac(s, done, id, msg));
  const got = Buffer.from(sig);
  if (want.length !== got.length || !timingSafeEqual(want, got)) return null;
  return { kind: done === 'refused' ? 'error' : 'ok', text: msg };
}
