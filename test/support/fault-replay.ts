/**
 * Pure audit replay for the fault harness (test/support/fault-harness.ts): feed the audit events of
 * a run through the state machines they describe and report every transition that could not have
 * happened once. No I/O, no imports from src/ (the harness is a black box over the audit trail and
 * the Redis state), so it keeps working while the services behind it are rewritten.
 *
 * Contract (what "exactly once" means for the audit trail, README "Findings", DESIGN invariant 6):
 * - credentials: `credential.added` only for an id not present, `credential.removed` only for a
 *   present id, every other `credential.*` only for a present id; at most one event of a type per
 *   credential per scan; drift belongs between its scan's `scan.started` and `scan.finished`.
 * - findings (src/findings/transitions.ts): opened from no state; suppressed from none, open or
 *   resolved; unsuppressed from suppressed; reopened from resolved; escalated from open; resolved from open or suppressed. One evaluation emits
 *   at most one transition per fingerprint, so two for one fingerprint in one scan is a duplicate.
 *   A finding transition for a scan comes after that scan's `scan.finished` (evaluation follows
 *   finalize). `exception.expired` happens once per exception id.
 * - scans: exactly one `scan.started` and one `scan.finished` per scan id.
 * Extra rules (remediation: action.intent / action.result, …) plug in through `ReplayRule`.
 */

export interface ReplayEvent {
  seq: number;
  type: string;
  subject: string;
  data: Record<string, unknown>;
}

export interface Violation {
  /** Which invariant: a check name such as "replay" or "state-matches-audit". */
  check: string;
  detail: string;
}

export type FindingState = 'open' | 'suppressed' | 'resolved' | 'merged';

export interface ReplayState {
  /** Credential id → seq of the event that added it. */
  credentials: Map<string, number>;
  /** Fingerprint → state and severity, as the audit trail says. */
  findings: Map<string, { state: FindingState; severity: string | undefined; seq: number }>;
  expiredExceptions: Map<string, number>;
  /** Scan id → seqs of its scan.started and scan.finished events. */
  scans: Map<string, { started: number[]; finished: number[] }>;
  /** `<scanId>|<type>|<subject>` → seq, for the once-per-scan rules. */
  perScan: Map<string, number>;
}

/** A pluggable rule: called for every event whose type it `matches`; report() records a violation. */
export interface ReplayRule {
  name: string;
  matches(type: string): boolean;
  apply(e: ReplayEvent, state: ReplayState, report: (detail: string) => void): void;
  /** Called once after the last event (e.g. "every intent has a result"). */
  finish?(state: ReplayState, report: (detail: string) => void): void;
}

const scanOf = (e: ReplayEvent): string | undefined =>
  typeof e.data.scanId === 'string' ? (e.data.scanId as string) : undefined;

function once(state: ReplayState, e: ReplayEvent, key: string, report: (d: string) => void, what: string): void {
  const prior = state.perScan.get(key);
  if (prior !== undefined) report(`#${e.seq} ${e.type} ${e.subject}: ${what} already audited at #${prior}`);
  else state.perScan.set(key, e.seq);
}

const scanRule: ReplayRule = {
  name: 'scan',
  matches: (t) => t === 'scan.started' || t === 'scan.finished',
  apply(e, s, report) {
    const rec = s.scans.get(e.subject) ?? { started: [], finished: [] };
    s.scans.set(e.subject, rec);
    if (e.type === 'scan.started') {
      if (rec.started.length) report(`#${e.seq} scan.started ${e.subject}: already started at #${rec.started[0]}`);
      rec.started.push(e.seq);
      return;
    }
    if (!rec.started.length) report(`#${e.seq} scan.finished ${e.subject}: the scan never started`);
    if (rec.finished.length) report(`#${e.seq} scan.finished ${e.subject}: already finished at #${rec.finished[0]}`);
    rec.finished.push(e.seq);
  },
  finish(s, report) {
    for (const [id, rec] of s.scans) {
      if (!rec.finished.length) report(`scan ${id} started at #${rec.started[0]} but never finished`);
    }
  },
};

const credentialRule: ReplayRule = {
  name: 'credential',
  matches: (t) => t.startsWith('credential.'),
  apply(e, s, report) {
    const scanId = scanOf(e);
    if (scanId) {
      const rec = s.scans.get(scanId);
      if (!rec?.started.length) report(`#${e.seq} ${e.type} ${e.subject}: its scan ${scanId} never started`);
      else if (rec.finished.length)
        report(`#${e.seq} ${e.type} ${e.subject}: audited after its scan ${scanId} finished (#${rec.finished[0]})`);
      once(s, e, `${scanId}|${e.type}|${e.subject}`, report, `this scan's ${e.type}`);
    }
    const present = s.credentials.get(e.subject);
    if (e.type === 'credential.added') {
      if (present !== undefined)
        report(`#${e.seq} credential.added ${e.subject}: already present (added at #${present})`);
      else s.credentials.set(e.subject, e.seq);
      return;
    }
    if (present === undefined) {
      report(`#${e.seq} ${e.type} ${e.subject}: no such credential in the replayed inventory`);
      return;
    }
    if (e.type === 'credential.removed') s.credentials.delete(e.subject);
  },
};

/** Allowed previous states per finding transition (undefined = no finding yet). */
const FROM: Record<string, ReadonlyArray<FindingState | undefined>> = {
  'finding.opened': [undefined],
  'finding.suppressed': [undefined, 'open', 'resolved'],
  'finding.unsuppressed': ['suppressed'],
  'finding.reopened': ['resolved'],
  'finding.escalated': ['open'],
  'finding.resolved': ['open', 'suppressed'],
  // One risk, one finding: the policies behind an open or suppressed finding changed (state kept);
  // a stored finding became part of another one (a tombstone in state "merged").
  'finding.policies-changed': ['open', 'suppressed'],
  'finding.merged': ['open', 'suppressed', 'resolved'],
};
const TO: Record<string, FindingState> = {
  'finding.opened': 'open',
  'finding.suppressed': 'suppressed',
  'finding.unsuppressed': 'open',
  'finding.reopened': 'open',
  'finding.escalated': 'open',
  'finding.resolved': 'resolved',
  'finding.merged': 'merged',
};

const findingRule: ReplayRule = {
  name: 'finding',
  matches: (t) => t.startsWith('finding.'),
  apply(e, s, report) {
    const scanId = scanOf(e);
    if (scanId) {
      const rec = s.scans.get(scanId);
      if (rec && !rec.finished.length)
        report(`#${e.seq} ${e.type} ${e.subject}: audited before its scan ${scanId} finished`);
      once(s, e, `${scanId}|finding|${e.subject}`, report, 'a transition of this finding in this scan was');
    }
    const allowed = FROM[e.type];
    if (!allowed) {
      report(`#${e.seq} ${e.type} ${e.subject}: unknown finding transition`);
      return;
    }
    const prev = s.findings.get(e.subject);
    if (!allowed.includes(prev?.state)) {
      const was = prev ? `${prev.state} (since #${prev.seq})` : 'no finding';
      report(`#${e.seq} ${e.type} ${e.subject}: not allowed from ${was}`);
    }
    // Severity is tracked for reporting only: an evaluation may lower it silently (no transition),
    // so a rise cannot be checked against it; duplicates are caught by the once-per-scan rule.
    const severity = typeof e.data.severity === 'string' ? (e.data.severity as string) : prev?.severity;
    const to = TO[e.type] ?? prev?.state;
    if (to) s.findings.set(e.subject, { state: to, severity, seq: e.seq });
  },
};

const exceptionRule: ReplayRule = {
  name: 'exception',
  matches: (t) => t === 'exception.expired',
  apply(e, s, report) {
    const prior = s.expiredExceptions.get(e.subject);
    if (prior !== undefined) report(`#${e.seq} exception.expired ${e.subject}: already audited at #${prior}`);
    else s.expiredExceptions.set(e.subject, e.seq);
  },
};

export const defaultReplayRules: readonly ReplayRule[] = [scanRule, credentialRule, findingRule, exceptionRule];

export function emptyReplayState(): ReplayState {
  return {
    credentials: new Map(),
    findings: new Map(),
    expiredExceptions: new Map(),
    scans: new Map(),
    perScan: new Map(),
  };
}

/**
 * Replays `events` (in seq order) through the default rules plus `extra`. Also reports a seq that
 * does not follow the previous one (the chain check proper is `audit verify`; this keeps the replay
 * honest about what it read). `total` counts every violation; at most `limit` are listed.
 */
export function replayAudit(
  events: Iterable<ReplayEvent>,
  extra: readonly ReplayRule[] = [],
  limit = 50,
): { state: ReplayState; violations: Violation[]; count: number; total: number } {
  const state = emptyReplayState();
  const violations: Violation[] = [];
  const rules = [...defaultReplayRules, ...extra];
  let total = 0;
  const push = (detail: string) => {
    total++;
    if (violations.length < limit) violations.push({ check: 'replay', detail });
  };
  const reporter = (rule: string) => (detail: string) => push(`[${rule}] ${detail}`);
  let last = 0;
  let count = 0;
  for (const e of events) {
    count++;
    if (e.seq !== last + 1) push(`event #${e.seq} follows #${last}`);
    last = e.seq;
    for (const r of rules) if (r.matches(e.type)) r.apply(e, state, reporter(r.name));
  }
  for (const r of rules) r.finish?.(state, reporter(r.name));
  if (total > limit) violations.push({ check: 'replay', detail: `…and ${total - limit} more replay violations` });
  return { state, violations, count, total };
}

export interface StoredState {
  /** Credential ids in the inventory (`P:inv:creds` keys). */
  credentials: Iterable<string>;
  /** Fingerprint → state (`P:findings`). */
  findings: ReadonlyMap<string, string>;
}

/** Nothing lost: the stored inventory and finding states equal what the audit trail says happened. */
export function compareState(replayed: ReplayState, stored: StoredState, limit = 20): Violation[] {
  const out: string[] = [];
  const creds = new Set(stored.credentials);
  for (const id of creds)
    if (!replayed.credentials.has(id)) out.push(`credential ${id} is in the inventory but was never audited as added`);
  for (const [id, seq] of replayed.credentials)
    if (!creds.has(id)) out.push(`credential ${id} was audited as added (#${seq}) but is not in the inventory`);
  for (const [fp, st] of stored.findings) {
    const r = replayed.findings.get(fp);
    if (!r) out.push(`finding ${fp} is stored (${st}) but no transition of it was audited`);
    else if (r.state !== st) out.push(`finding ${fp} is stored ${st} but the audit trail says ${r.state} (#${r.seq})`);
  }
  for (const [fp, r] of replayed.findings)
    if (!stored.findings.has(fp)) out.push(`finding ${fp} was audited (${r.state}, #${r.seq}) but is not stored`);
  const shown = out.slice(0, limit).map((detail) => ({ check: 'state-matches-audit', detail }));
  if (out.length > limit)
    shown.push({ check: 'state-matches-audit', detail: `…and ${out.length - limit} more differences` });
  return shown;
}
