/**
 * The actions page: what remediation did, does and waits for.
 *
 * GET /actions: the actions held for a decision first (waiting for approval, held by a guardrail,
 * or a rollback waiting for approval), each with the guardrails' reasons and its facts, and the
 * Approve and Deny forms for people with actions:decide; then every other action, newest first,
 * filtered by `state` and `credential` (the same records as GET /api/v1/actions: deps.views),
 * paginated, with a rotation's steps and whether it can be rolled back.
 *
 * POST /actions/:id/approve, /deny (actions:decide) and /rollback (actions:rollback) call what the
 * API routes call (remediation/people.ts) with the signed-in person as the actor and source
 * `dashboard`, then redirect back with a notice: what happened, or the refusal (four-eyes: the
 * person who asked, the same person twice, an expired request).
 */

import { CwError } from '../../errors.js';
import { ACTION_STATES, type ActionRecord, type ActionState } from '../../model/action.js';
import type { Decided } from '../../remediation/people.js';
import { html } from '../html.js';
import { definePage, one, type Page, type PageCall } from '../page.js';
import { type Column, credentialHref, input, keep, pager, paging, select, stateBadge, table, when } from '../ui.js';
import {
  ctxOf,
  heldCard,
  isHeld,
  noticeOf,
  noticeUrl,
  outcome,
  pendingRollback,
  plannedChange,
  rollbackCell,
  rotationSteps,
} from './actions-parts.js';

/** Held actions shown as cards; more than this and the rest are in the list below. */
const HELD_MAX = 50;

const COLUMNS: readonly Column[] = [
  { key: 'planned', label: 'Planned' },
  { key: 'action', label: 'Action' },
  { key: 'credential', label: 'Credential' },
  { key: 'policy', label: 'Policy' },
  { key: 'state', label: 'State' },
  { key: 'outcome', label: 'Result or reason' },
  { key: 'rollback', label: 'Rollback' },
];

async function list(call: PageCall) {
  const { deps, session, query } = call;
  const c = ctxOf(session, deps.app.remediation, deps.app.clock.now().getTime());
  const view = await deps.views.actions();
  const credential = one(query.credential);
  const stateQ = one(query.state);
  const state = (ACTION_STATES as readonly string[]).includes(stateQ) ? (stateQ as ActionState) : '';
  const scope = credential ? (view.byCredential.get(credential) ?? []) : view.sorted;
  const allHeld = scope.filter((r) => isHeld(r, c));
  const held = allHeld.slice(0, HELD_MAX);
  const shown = new Set(held.map((r) => r.plan.id));
  const rest = scope.filter((r) => !shown.has(r.plan.id) && (!state || r.state === state));
  const { offset, limit } = paging(query);
  const rows = rest.slice(offset, offset + limit);
  const q = keep(query, ['state', 'credential', 'limit']);
  const row = (r: ActionRecord) => [
    when(r.plan.plannedAt, c.now),
    html`<strong>${r.plan.action}</strong><br><small class="mono">${r.plan.id}</small>${
      r.rotation ? rotationSteps(r, c.now) : ''
    }<details><summary>Planned change</summary>${plannedChange(r)}</details>`,
    html`<a href="${credentialHref(r.plan.target.credentialId)}">${r.plan.target.credentialId}</a>`,
    html`${r.plan.policy}`,
    html`${stateBadge(r.state)}${pendingRollback(r, c) ? html` ${stateBadge('rollback-requested')}` : ''}`,
    outcome(r, c.now),
    rollbackCell(r, c),
  ];
  const heldPart = held.length
    ? html`${held.map((r, i) => heldCard(r, i, c))}`
    : html`<p class="muted">Nothing is held for a decision${credential ? ' for this credential' : ''}.</p>`;
  const body = html`<h1>Actions</h1>
<section aria-labelledby="held-h">
<h2 id="held-h">Held for a decision (${allHeld.length})</h2>
${allHeld.length > held.length ? html`<p>The first ${held.length} are shown here; the others are in the list below.</p>` : ''}
${heldPart}
</section>
<section aria-labelledby="all-h">
<h2 id="all-h">Other actions, newest first</h2>
<form class="filters" method="get" action="/actions">
${select({ name: 'state', label: 'State', value: state, options: ACTION_STATES })}
${input({ name: 'credential', label: 'Credential id', value: credential, placeholder: 'aws/111111111111/…' })}
<button type="submit">Filter</button>
${state || credential ? html`<a href="/actions">Clear</a>` : ''}
</form>
${table({
  caption: `Actions${state ? ` in state ${state}` : ''}${credential ? ` on ${credential}` : ''} (${rest.length})`,
  columns: COLUMNS,
  rows: rows.map(row),
  path: '/actions',
  query: q,
  empty: 'No actions match.',
})}
${pager({ total: rest.length, offset, limit, path: '/actions', query: q })}
</section>`;
  return call.view('Actions', body, noticeOf(session, query));
}

type Verb = 'approve' | 'deny' | 'rollback';

/** What a successful decision did, in words, from the record it returned. */
function said(verb: Verb, r: ActionRecord, needed: number): string {
  const what = `${r.plan.action} on ${r.plan.target.principal}`;
  if (r.state === 'rolled-back' && verb !== 'deny') return `Rolled back ${what}: ${r.rollback?.detail ?? 'done'}.`;
  if (verb === 'deny')
    return r.rollbackRequest?.denial
      ? `Denied the rollback of ${what}: ${r.rollbackRequest.denial.reason}.`
      : `Denied ${what}${r.denial ? `: ${r.denial.reason}` : ''}.`;
  if (verb === 'rollback') return `Rollback of ${what} asked for: it runs once ${needed} other approver(s) approve it.`;
  if (r.rollbackRequest && r.state !== 'awaiting-approval')
    return `Approved the rollback of ${what}: ${(r.rollbackApprovals ?? []).length} of ${needed} approvals.`;
  return `Approved ${what}: ${r.approvals.length} of ${needed} approvals${r.state === 'queued' ? '; it is queued to run' : ''}.`;
}

function decide(verb: Verb): Page {
  return definePage({
    method: 'POST',
    url: `/actions/:id/${verb}`,
    permission: verb === 'rollback' ? 'actions:rollback' : 'actions:decide',
    nav: 'actions',
    handle: async ({ deps, session, actor, params, form }) => {
      const id = one(params.id, 200);
      const reason = (form.reason ?? '').trim();
      if (reason.length > 500)
        return { redirect: noticeUrl(session, 'refused', id, 'The reason is at most 500 characters.') };
      const how: Decided = { source: 'dashboard', ...(reason ? { reason } : {}) };
      const people = deps.app.people;
      try {
        const r =
          verb === 'approve'
            ? await people.approve(id, actor, how)
            : verb === 'deny'
              ? await people.deny(id, actor, reason || undefined, how)
              : await people.rollback(id, actor, how);
        const done = verb === 'approve' ? 'approved' : verb === 'deny' ? 'denied' : 'rollback';
        return {
          redirect: noticeUrl(session, done, id, said(verb, r, deps.app.config.remediation.approvals.approvers)),
        };
      } catch (err) {
        if (!(err instanceof CwError)) throw err;
        return { redirect: noticeUrl(session, 'refused', id, `Not done: ${err.message}`) };
      }
    },
  });
}

const pages: readonly Page[] = [
  definePage({ method: 'GET', url: '/actions', permission: 'posture:read', nav: 'actions', handle: list }),
  decide('approve'),
  decide('deny'),
  decide('rollback'),
];
export default pages;
