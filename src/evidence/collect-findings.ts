/**
 * Findings and exceptions of the period, folded from finding.* and exception.* events (only those
 * recorded at or before the period's end: the pack states things as of `to`).
 *
 * A finding is kept as episodes: opened (or reopened, or first seen already suppressed) until
 * resolved or merged, with the stretches under an exception inside. An episode that ended before
 * `from` is dropped as soon as it ends, and a finding with no episode left is forgotten, so memory
 * grows with the findings alive in the period, not with the events.
 *
 * Exceptions: runtime ones from exception.created / lifted / expired; policy-file ones from the
 * loaded policies (no creation time: in force from the start); any other one a finding.suppressed
 * event names (a policy-file exception removed since) from that event's data.
 */
import type { AuditEvent } from '../audit/event.js';
import { type Severity, severityRank } from '../model/finding.js';
import type { PolicyException } from '../policy/model.js';
import type { ExceptionEvidence, FindingEpisode, FindingEvidence } from './model.js';

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const SEVERITIES = new Set(['critical', 'high', 'medium', 'low', 'info']);
const sev = (v: unknown, fallback: Severity): Severity =>
  typeof v === 'string' && SEVERITIES.has(v) ? (v as Severity) : fallback;

interface Rec extends Omit<FindingEvidence, 'stateAtEnd'> {
  open: FindingEpisode | null;
}

export class FindingsFold {
  private readonly recs = new Map<string, Rec>();
  /** One object per distinct controls mapping, shared by every finding that has it. */
  private readonly interned = new Map<string, Record<string, string[]>>();

  constructor(
    private readonly fromMs: number,
    private readonly exceptions: ExceptionsFold,
  ) {}

  /** A finding.* event recorded at or before `to`. */
  apply(e: AuditEvent, t: number): void {
    const d = e.data;
    let r = this.recs.get(e.subject);
    if (!r) {
      r = {
        fingerprint: e.subject,
        policy: str(d.policy) ?? '',
        policies: [],
        controls: {},
        credentialId: str(d.credentialId) ?? '',
        agentId: str(d.agentId),
        severity: sev(d.severity, 'info'),
        message: str(d.message) ?? '',
        episodes: [],
        open: null,
      };
      this.recs.set(e.subject, r);
    }
    this.describe(r, d);
    const s = r.severity;
    switch (e.type) {
      case 'finding.opened':
      case 'finding.reopened':
        this.start(r, e.time, e.type === 'finding.opened' ? 'opened' : 'reopened', s);
        break;
      case 'finding.suppressed': {
        const ep = r.open ?? this.start(r, e.time, 'suppressed', s);
        const last = ep.suppressions.at(-1);
        if (!last || last.to !== null)
          ep.suppressions.push({ from: e.time, to: null, exceptionId: str(d.exceptionId) });
        this.exceptions.noteSuppression(d, e.subject, t);
        break;
      }
      case 'finding.unsuppressed': {
        const last = r.open?.suppressions.at(-1);
        if (last && last.to === null) last.to = e.time;
        break;
      }
      case 'finding.escalated':
        if (r.open && severityRank(s) > severityRank(r.open.severity)) r.open.severity = s;
        break;
      case 'finding.resolved':
      case 'finding.merged':
        this.end(r, e.time, t, e.type === 'finding.resolved' ? 'resolved' : 'merged');
        break;
    }
    if (!r.open && r.episodes.length === 0) this.recs.delete(e.subject);
  }

  private describe(r: Rec, d: Record<string, unknown>): void {
    r.policy = str(d.policy) ?? r.policy;
    const policies = Array.isArray(d.policies) ? d.policies.filter((p): p is string => typeof p === 'string') : [];
    for (const p of [r.policy, ...policies]) if (p && !r.policies.includes(p)) r.policies.push(p);
    if (d.controls && typeof d.controls === 'object')
      for (const [p, c] of Object.entries(d.controls as Record<string, unknown>)) {
        if (!c || typeof c !== 'object') continue;
        const k = `${p}\n${JSON.stringify(c)}`;
        const shared = this.interned.get(k) ?? (c as Record<string, string[]>);
        this.interned.set(k, shared);
        r.controls[p] = shared;
      }
    r.severity = sev(d.severity, r.severity);
    r.message = str(d.message) ?? r.message;
    r.agentId = typeof d.agentId === 'string' || d.agentId === null ? (d.agentId as string | null) : r.agentId;
  }

  private start(r: Rec, at: string, how: FindingEpisode['how'], severity: Severity): FindingEpisode {
    const ep: FindingEpisode = { start: at, how, end: null, endedBy: null, severity, suppressions: [] };
    r.open = ep;
    return ep;
  }

  private end(r: Rec, at: string, t: number, by: 'resolved' | 'merged'): void {
    const ep = r.open;
    if (!ep) return;
    ep.end = at;
    ep.endedBy = by;
    const last = ep.suppressions.at(-1);
    if (last && last.to === null) last.to = at;
    r.open = null;
    if (t >= this.fromMs) r.episodes.push(ep);
  }

  /** The findings with an episode in the period, by fingerprint. */
  finish(): FindingEvidence[] {
    const out: FindingEvidence[] = [];
    for (const r of this.recs.values()) {
      const episodes = r.open ? [...r.episodes, r.open] : r.episodes;
      if (episodes.length === 0) continue;
      const last = episodes.at(-1)!;
      const stateAtEnd: FindingEvidence['stateAtEnd'] =
        last.end === null
          ? last.suppressions.at(-1)?.to === null
            ? 'suppressed'
            : 'open'
          : last.endedBy === 'merged'
            ? 'merged'
            : 'resolved';
      const { open: _, ...rest } = r;
      out.push({ ...rest, policies: [...r.policies].sort(), episodes, stateAtEnd });
    }
    return out.sort((a, b) => (a.fingerprint < b.fingerprint ? -1 : 1));
  }
}

export class ExceptionsFold {
  private readonly recs = new Map<string, ExceptionEvidence>();

  constructor(
    private readonly fromMs: number,
    private readonly toMs: number,
  ) {}

  /** An exception.* event recorded at or before `to`. */
  apply(e: AuditEvent): void {
    const d = e.data;
    const id = str(d.id) ?? e.subject;
    if (e.type === 'exception.created') {
      this.recs.set(id, {
        ...this.get(id, d),
        source: 'api',
        owner: str(d.owner) ?? '',
        reason: str(d.reason) ?? '',
        expires: str(d.expires) ?? '',
        createdAt: e.time,
        createdBy: e.actor,
        selector: (d.selector as Record<string, unknown>) ?? {},
      });
    } else if (e.type === 'exception.lifted') {
      const r = this.get(id, d);
      r.lifted = { by: e.actor, at: e.time, ...(str(d.reason) ? { reason: str(d.reason)! } : {}) };
    } else if (e.type === 'exception.expired') {
      this.get(e.subject, d).expiredAt = e.time;
    }
  }

  /** A finding.suppressed event names its exception (owner, reason, expiry). */
  noteSuppression(d: Record<string, unknown>, fingerprint: string, t: number): void {
    const id = str(d.exceptionId);
    if (!id) return;
    const r = this.get(id, d);
    if (t >= this.fromMs && !r.suppressed.includes(fingerprint)) r.suppressed.push(fingerprint);
  }

  private get(id: string, d: Record<string, unknown>): ExceptionEvidence {
    let r = this.recs.get(id);
    if (!r) {
      r = {
        id,
        source: 'unknown',
        owner: str(d.owner) ?? '',
        reason: str(d.reason) ?? '',
        expires: str(d.expires) ?? '',
        createdAt: null,
        createdBy: null,
        lifted: null,
        expiredAt: null,
        selector: (d.selector as Record<string, unknown>) ?? {},
        suppressed: [],
      };
      this.recs.set(id, r);
    }
    return r;
  }

  /** The exceptions in force at some time in the period, the policy files' (`configured`) included. */
  finish(configured: readonly PolicyException[]): ExceptionEvidence[] {
    for (const c of configured) {
      const r = this.get(c.id, {});
      Object.assign(r, {
        source: r.source === 'api' ? 'api' : 'config',
        owner: c.owner,
        reason: c.reason,
        expires: c.expires,
        selector: { ...c.selector },
      });
    }
    return [...this.recs.values()]
      .filter((r) => {
        const start = r.createdAt ? Date.parse(r.createdAt) : Number.NEGATIVE_INFINITY;
        const end = Date.parse(r.lifted?.at ?? r.expires);
        return r.suppressed.length > 0 || (start <= this.toMs && !(end < this.fromMs));
      })
      .sort((a, b) => (a.id < b.id ? -1 : 1));
  }
}
