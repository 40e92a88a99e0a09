/**
 * A credential's timeline: the audit events about it, newest first, in words. An event is about a
 * credential when its subject is the credential's id (drift: added, removed, status, grants,
 * attribution; remediation: planned, checked, done, approvals, rollbacks; rotation steps) or when
 * it is a finding event naming it (finding events are keyed by fingerprint and carry the
 * credential id), or a drill event whose record says the drill planted it (drill events are keyed
 * by the drill id and carry the whole record). The chain is read backwards from its head, at most SCAN_LIMIT events, and at
 * most SHOW_LIMIT of them are kept, so a page never reads the whole chain.
 */
import type { AuditEvent } from '../../audit/event.js';
import { AUDIT_EVENT_TYPES, isAuditEventType } from '../../audit/event-types.js';
import type { App } from '../../main.js';
import { duration } from '../ui.js';

export const SCAN_LIMIT = 20_000;
export const SHOW_LIMIT = 100;
const BATCH = 1000;

export interface Timeline {
  events: AuditEvent[];
  /** Events read from the chain (the newest ones). */
  scanned: number;
  /** Whether older events were left unread (SCAN_LIMIT) or more matched than SHOW_LIMIT. */
  truncated: boolean;
}

/** The credential ids a drill event's record (data.drill, the whole record after it) says the drill planted. */
function drillPlanted(e: AuditEvent): string[] {
  const planted = (e.data.drill as { planted?: unknown } | undefined)?.planted;
  return Array.isArray(planted)
    ? planted.flatMap((p) => {
        const c = (p as { credentialId?: unknown } | null)?.credentialId;
        return typeof c === 'string' ? [c] : [];
      })
    : [];
}

export const isAbout = (e: AuditEvent, id: string): boolean =>
  e.subject === id ||
  (e.type.startsWith('finding.') && e.data.credentialId === id) ||
  (e.type.startsWith('drill.') && drillPlanted(e).includes(id));

/** The newest audit events about credential `id`, newest first. */
export async function timelineOf(app: Pick<App, 'audit'>, id: string): Promise<Timeline> {
  const head = await app.audit.head();
  const events: AuditEvent[] = [];
  let end = head.seq;
  let scanned = 0;
  while (end >= 1 && scanned < SCAN_LIMIT && events.length < SHOW_LIMIT) {
    const from = Math.max(1, end - Math.min(BATCH, SCAN_LIMIT - scanned) + 1);
    const batch = (await app.audit.read(from, end - from + 1)).filter((e) => e.seq <= end);
    if (batch.length === 0) break;
    for (let i = batch.length - 1; i >= 0 && events.length < SHOW_LIMIT; i--) {
      const e = batch[i]!;
      if (isAbout(e, id)) events.push(e);
    }
    scanned += end - from + 1;
    end = from - 1;
  }
  return { events, scanned, truncated: end >= 1 || events.length >= SHOW_LIMIT };
}

const str = (v: unknown): string =>
  v === null || v === undefined
    ? ''
    : typeof v === 'string'
      ? v
      : typeof v === 'number'
        ? String(v)
        : JSON.stringify(v);
const list = (v: unknown): string[] => (Array.isArray(v) ? v.map(str) : []);

const FINDING_VERBS: Record<string, string> = {
  'finding.opened': 'Finding opened',
  'finding.reopened': 'Finding reopened',
  'finding.escalated': 'Finding escalated',
  'finding.suppressed': 'Finding suppressed',
  'finding.unsuppressed': 'Finding no longer suppressed',
  'finding.resolved': 'Finding resolved',
  'finding.policies-changed': 'Policies reporting a finding changed',
  'finding.merged': 'Finding merged',
};

/** One event in words: a title and the details that matter (plain strings; the page escapes them). */
export function describe(e: AuditEvent): { title: string; details: string[] } {
  const d = e.data;
  const action = str(d.action);
  switch (e.type) {
    case 'credential.added':
      return { title: 'Appeared in the inventory', details: [`status ${str(d.status)}`, `scan ${str(d.scanId)}`] };
    case 'credential.removed':
      return {
        title: 'Gone from the inventory',
        details: [`last status ${str(d.lastStatus)}`, `scan ${str(d.scanId)}`],
      };
    case 'credential.status-changed':
      return { title: `Status ${str(d.from)} → ${str(d.to)}`, details: [`scan ${str(d.scanId)}`] };
    case 'credential.grants-changed':
      return {
        title: 'Permissions changed',
        details: [
          ...list(d.statementsAdded).map((s) => `added: ${s}`),
          ...list(d.statementsRemoved).map((s) => `removed: ${s}`),
          `scan ${str(d.scanId)}`,
        ],
      };
    case 'credential.attribution-changed':
      return {
        title: `Attribution ${str(d.from) || 'none'} → ${str(d.to) || 'none'}`,
        details: d.unregisteredAgent ? ['looks like an agent, no registry entry claims it'] : [],
      };
    case 'action.planned':
      return {
        title: `${action} planned: ${str(d.decision)}`,
        details: [
          `policy ${str(d.policy)}`,
          ...(Array.isArray(d.reasons) ? d.reasons.map((r) => str((r as { message?: unknown }).message)) : []),
        ],
      };
    case 'action.intent':
      return { title: `${action} about to run`, details: [`attempt ${str(d.attempt)}`, `policy ${str(d.policy)}`] };
    case 'action.checked':
      return { title: 'Re-checked before acting', details: [`${str(d.policyHits)} policy hits still hold`] };
    case 'action.rollback-intent':
      return { title: `Rollback of ${action} about to run`, details: [] };
    case 'action.result':
      return { title: `${action}: ${str(d.outcome)}`, details: [str(d.detail)].filter(Boolean) };
    case 'approval.granted':
      return {
        title: `${e.actor} approved ${d.for === 'rollback' ? 'the rollback of ' : ''}${action}`,
        details: [`${str(d.approvals)} of ${str(d.needed)} approvals`],
      };
    case 'approval.denied':
      return { title: `${e.actor} denied ${action}`, details: [str(d.reason)].filter(Boolean) };
    case 'action.rollback-requested':
      return { title: `${e.actor} asked to roll back ${action}`, details: [`${str(d.needed)} approvals needed`] };
    case 'action.rolled-back':
      return { title: `${action} rolled back`, details: list(d.approvedBy).map((a) => `approved by ${a}`) };
  }
  if (e.type.startsWith('drill.')) {
    const drill = describeDrill(e);
    if (drill) return drill;
  }
  const verb = FINDING_VERBS[e.type];
  if (verb)
    return {
      title: `${verb}: ${str(d.policy)}`,
      details: [
        `${str(d.severity)}: ${str(d.message)}`,
        ...(d.reason ? [`exception: ${str(d.reason)}`] : []),
        ...(e.type === 'finding.escalated' ? [`${str(d.from)} → ${str(d.to)}`] : []),
      ],
    };
  const what = isAuditEventType(e.type) ? AUDIT_EVENT_TYPES[e.type] : e.type;
  return { title: action ? `${action}: ${what}` : what, details: [] };
}

const STAGE_WORDS: Record<string, string> = {
  plant: 'planted',
  detect: 'detected',
  alert: 'alerted',
  remediate: 'remediated',
  approval: 'approval requested',
  cleanup: 'cleaned up',
  done: 'done',
};

/** A drill event in words: which drill (scenario and id) and what it did. */
function describeDrill(e: AuditEvent): { title: string; details: string[] } | null {
  const r = (e.data.drill ?? {}) as Record<string, unknown>;
  const what = `${str(r.scenario) || '?'} (${e.subject})`;
  const name = `Drill ${what}`;
  const cleanup = (r.cleanup ?? null) as { removed?: unknown; gone?: unknown; failed?: unknown } | null;
  switch (e.type) {
    case 'drill.started':
      return {
        title: `${name} started`,
        details: [`by ${str(r.by)} (${str(r.trigger)})`, `deadline ${str(r.deadlineAt)}`],
      };
    case 'drill.plant-intent':
      return { title: `${name} about to plant a synthetic credential`, details: [] };
    case 'drill.planted':
      return {
        title: `Planted by drill ${what}`,
        details: ['a synthetic risky credential: the drill removes it when it ends'],
      };
    case 'drill.stage': {
      const asked = (r.remediation as { state?: unknown } | null | undefined)?.state === 'awaiting-approval';
      const stage = str(e.data.stage) === 'remediate' && asked ? 'approval' : str(e.data.stage);
      const ms = typeof e.data.ms === 'number' ? ` after ${duration(e.data.ms)}` : '';
      return { title: `${name}: ${STAGE_WORDS[stage] ?? stage}${ms}`, details: [] };
    }
    case 'drill.finished':
      return {
        title: `${name} ${str(r.status)}`,
        details: [`stage reached: ${str(r.stage)}`, ...(r.reason ? [`why: ${str(r.reason)}`] : [])],
      };
    case 'drill.cleaned':
      return {
        title: `${name} cleaned up`,
        details: [
          `${list(cleanup?.removed).length} removed, ${list(cleanup?.gone).length} already gone`,
          ...(Array.isArray(cleanup?.failed)
            ? cleanup.failed.map(
                (f) => `failed: ${str((f as { id?: unknown })?.id)}: ${str((f as { error?: unknown })?.error)}`,
              )
            : []),
        ],
      };
  }
  return null;
}
