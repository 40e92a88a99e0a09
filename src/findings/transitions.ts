/**
 * Finding state machine. Pure: previous findings + this evaluation's hits → transitions and the
 * findings that changed.
 *
 *   (none)     --hit-->                 open        finding.opened
 *   (none)     --hit, exception-->      suppressed  finding.suppressed
 *   open       --hit, severity up-->    open        finding.escalated
 *   open       --hit, exception-->      suppressed  finding.suppressed
 *   suppressed --hit, no exception-->   open        finding.unsuppressed (the exception expired or was removed)
 *   resolved   --hit-->                 open        finding.reopened (or suppressed, if an exception applies)
 *   open|suppressed --no hit, credential observed completely--> resolved   finding.resolved
 *
 * "Observed completely" means the credential's id lies under a prefix this scan read in full (the
 * same rule drift uses). A finding on a credential that a partial scan could not see is never
 * resolved; an evaluation outside a scan (no complete prefixes) resolves nothing.
 * Each expired exception yields one exception.expired, once.
 */

import { hitMessage, type PolicyHit } from '../policy/evaluate.js';
import type { Finding, PolicyException } from '../policy/model.js';
import { severityRank } from '../policy/types.js';
import { activeExceptionFor, isActive } from './exceptions.js';

export type TransitionType =
  | 'finding.opened'
  | 'finding.reopened'
  | 'finding.escalated'
  | 'finding.suppressed'
  | 'finding.unsuppressed'
  | 'finding.resolved'
  | 'exception.expired';

export interface Transition {
  type: TransitionType;
  /** Finding fingerprint, or exception id for exception.expired. */
  subject: string;
  data: Record<string, unknown>;
}

export interface TransitionInput {
  previous: ReadonlyMap<string, Finding>;
  hits: readonly PolicyHit[];
  exceptions: readonly PolicyException[];
  alreadyExpired: ReadonlySet<string>;
  now: Date;
  completePrefixes: readonly string[];
}

export interface TransitionResult {
  transitions: Transition[];
  /** Findings created or changed (lastSeen moves on every hit). */
  changed: Finding[];
}

const summary = (f: Finding) => ({
  policy: f.policy,
  credentialId: f.credentialId,
  agentId: f.agentId,
  severity: f.severity,
  message: f.message,
});

export function computeTransitions(input: TransitionInput): TransitionResult {
  const now = input.now.toISOString();
  const transitions: Transition[] = [];
  const changed: Finding[] = [];
  const seen = new Set<string>();
  const emit = (type: TransitionType, f: Finding, extra: Record<string, unknown> = {}) =>
    transitions.push({ type, subject: f.fingerprint, data: { ...summary(f), ...extra } });

  for (const hit of [...input.hits].sort((a, b) => a.fingerprint.localeCompare(b.fingerprint))) {
    seen.add(hit.fingerprint);
    const prev = input.previous.get(hit.fingerprint);
    const exception = activeExceptionFor(input.exceptions, hit, input.now);
    const next: Finding = {
      fingerprint: hit.fingerprint,
      policy: hit.policy.name,
      rules: hit.policy.rules.map((r) => r.type),
      credentialId: hit.credential.id,
      kind: hit.credential.kind,
      agentId: hit.credential.agentId,
      owner: hit.credential.owner,
      severity: hit.severity,
      state: exception ? 'suppressed' : 'open',
      message: hitMessage(hit),
      hits: [...hit.hits],
      controls: hit.policy.metadata.controls ?? {},
      firstSeen: prev?.firstSeen ?? now,
      lastSeen: now,
      resolvedAt: null,
      reopened: (prev?.reopened ?? 0) + (prev?.state === 'resolved' ? 1 : 0),
      exceptionId: exception?.id ?? null,
    };
    changed.push(next);
    const ex = exception
      ? { exceptionId: exception.id, owner: exception.owner, reason: exception.reason, expires: exception.expires }
      : {};
    if (!prev) emit(exception ? 'finding.suppressed' : 'finding.opened', next, ex);
    else if (prev.state === 'resolved')
      emit(exception ? 'finding.suppressed' : 'finding.reopened', next, { ...ex, reopened: next.reopened });
    else if (prev.state === 'open' && exception) emit('finding.suppressed', next, ex);
    else if (prev.state === 'suppressed' && !exception)
      emit('finding.unsuppressed', next, { previousException: prev.exceptionId });
    else if (prev.state === 'open' && severityRank(next.severity) > severityRank(prev.severity))
      emit('finding.escalated', next, { from: prev.severity, to: next.severity });
  }

  for (const prev of [...input.previous.values()].sort((a, b) => a.fingerprint.localeCompare(b.fingerprint))) {
    if (seen.has(prev.fingerprint) || prev.state === 'resolved') continue;
    if (!input.completePrefixes.some((p) => prev.credentialId.startsWith(p))) continue;
    const resolved: Finding = { ...prev, state: 'resolved', resolvedAt: now, exceptionId: null };
    changed.push(resolved);
    emit('finding.resolved', resolved, { openedAt: prev.firstSeen });
  }

  for (const e of input.exceptions) {
    if (!isActive(e, input.now) && !input.alreadyExpired.has(e.id)) {
      transitions.push({
        type: 'exception.expired',
        subject: e.id,
        data: { owner: e.owner, reason: e.reason, expires: e.expires, selector: e.selector },
      });
    }
  }
  return { transitions, changed };
}
