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
 *
 * One risk, one finding (policy/collapse.ts): the hits of every policy with the same risk key on a
 * credential make one finding, with the highest severity, every policy and the union of their
 * controls. It is suppressed only when an active exception covers each of its policies (an
 * exception written for one policy never hides a risk another policy still reports). When the set
 * of policies changes while it stays open or suppressed (a second policy's threshold is crossed),
 * that is `finding.policies-changed`, so the audit trail says when each control started to apply.
 *
 *   open|suppressed --policies change-->    same state  finding.policies-changed
 *   open|suppressed|resolved --absorbed-->  merged      finding.merged (a tombstone naming the survivor)
 *
 * Stored findings are matched to this evaluation's risks by stored risk key, by fingerprint, and by
 * the legacy fingerprint (policy + credential) of each policy that hit, so findings stored before
 * collapsing continue under their own fingerprints. When several stored findings match one risk
 * (the admin finding of two policies from before), one continues (an open one before a resolved
 * one, then the risk's own fingerprint, then the first by fingerprint) and each other one becomes a
 * `merged` tombstone. Merging is neither a resolution (it never counts towards the detection hold)
 * nor a new finding (it pages nothing new; alerts resolve a page the absorbed finding had open).
 */

import type { Credential } from '../model/credential.js';
import { type AccountNames, principalInfo } from '../model/principal.js';
import { byPrimary, riskKeyOf, unionControls } from '../policy/collapse.js';
import { fingerprint, hitMessage, type PolicyHit } from '../policy/evaluate.js';
import type { Finding, PolicyException } from '../policy/model.js';
import type { RuleHit } from '../policy/types.js';
import { severityRank } from '../policy/types.js';
import { activeExceptionFor, isActive } from './exceptions.js';

export type TransitionType =
  | 'finding.opened'
  | 'finding.reopened'
  | 'finding.escalated'
  | 'finding.suppressed'
  | 'finding.unsuppressed'
  | 'finding.resolved'
  | 'finding.policies-changed'
  | 'finding.merged'
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
  /** `aws.accounts[].name` by account id, for each finding's `account`. */
  accountNames?: AccountNames;
}

export interface TransitionResult {
  transitions: Transition[];
  /** Findings created or changed (lastSeen moves on every hit; merged tombstones included). */
  changed: Finding[];
}

const policiesOf = (f: Finding): string[] => f.policies ?? [f.policy];

/**
 * What each transition's audit event says about its finding: the policies and each one's controls,
 * and where the credential lives. A Vault principal (a display name the token's creator chose) is
 * left out: the audit log refuses token-shaped strings, and the credential id already names it.
 */
const summary = (f: Finding) => ({
  policy: f.policy,
  policies: policiesOf(f),
  controls: f.controlsByPolicy ?? { [f.policy]: f.controls },
  credentialId: f.credentialId,
  ...(f.principal?.startsWith('arn:') ? { principal: f.principal } : {}),
  ...(f.account ? { account: f.account } : {}),
  agentId: f.agentId,
  severity: f.severity,
  message: f.message,
});

/** One risk on one credential: the hits of every policy sharing its risk key, primary first. */
interface Risk {
  fingerprint: string;
  riskKey: string;
  credential: Credential;
  hits: PolicyHit[];
}

function groupHits(hits: readonly PolicyHit[]): Risk[] {
  const by = new Map<string, Risk>();
  for (const h of hits) {
    const r = by.get(h.fingerprint);
    if (r) r.hits.push(h);
    else
      by.set(h.fingerprint, {
        fingerprint: h.fingerprint,
        riskKey: h.riskKey ?? riskKeyOf(h.policy),
        credential: h.credential,
        hits: [h],
      });
  }
  for (const r of by.values()) r.hits.sort(byPrimary);
  return [...by.values()].sort((a, b) => a.fingerprint.localeCompare(b.fingerprint));
}

/** Every policy's hits once (the same admin statement is one hit for both admin policies). */
function unionHits(hits: readonly PolicyHit[]): RuleHit[] {
  const seen = new Set<string>();
  const out: RuleHit[] = [];
  for (const h of hits)
    for (const r of h.hits) {
      const k = `${r.detector}\u0000${r.key ?? ''}\u0000${r.message}`;
      if (seen.has(k)) continue;
      seen.add(k);
      out.push(r);
    }
  return out;
}

const riskIndexKey = (riskKey: string, credentialId: string) => `${riskKey}\n${credentialId}`;

/**
 * Which stored findings each risk continues. Strongest match first, each stored finding claimed
 * once: the same stored risk key, then the risk's own fingerprint, then the legacy fingerprint of
 * each policy that hit.
 */
function claimStored(risks: readonly Risk[], previous: ReadonlyMap<string, Finding>): Map<Risk, Finding[]> {
  const claims = new Map<Risk, Finding[]>(risks.map((r) => [r, []]));
  const claimed = new Set<string>();
  const claim = (r: Risk, f: Finding | undefined) => {
    if (!f || f.state === 'merged' || claimed.has(f.fingerprint) || f.credentialId !== r.credential.id) return;
    claimed.add(f.fingerprint);
    claims.get(r)!.push(f);
  };
  const byRisk = new Map<string, Finding[]>();
  for (const f of previous.values()) {
    if (!f.riskKey) continue;
    const k = riskIndexKey(f.riskKey, f.credentialId);
    const list = byRisk.get(k);
    if (list) list.push(f);
    else byRisk.set(k, [f]);
  }
  for (const r of risks)
    for (const f of (byRisk.get(riskIndexKey(r.riskKey, r.credential.id)) ?? []).sort((a, b) =>
      a.fingerprint.localeCompare(b.fingerprint),
    ))
      claim(r, f);
  for (const r of risks) claim(r, previous.get(r.fingerprint));
  for (const r of risks) for (const h of r.hits) claim(r, previous.get(fingerprint(h.policy.name, r.credential.id)));
  return claims;
}

/** The stored finding a risk continues: an unresolved one first, then its own fingerprint, then by name. */
function survivorOrder(own: string) {
  return (a: Finding, b: Finding) =>
    Number(a.state === 'resolved') - Number(b.state === 'resolved') ||
    Number(a.fingerprint !== own) - Number(b.fingerprint !== own) ||
    a.fingerprint.localeCompare(b.fingerprint);
}

export function computeTransitions(input: TransitionInput): TransitionResult {
  const now = input.now.toISOString();
  const transitions: Transition[] = [];
  const changed: Finding[] = [];
  const seen = new Set<string>();
  const emit = (type: TransitionType, f: Finding, extra: Record<string, unknown> = {}) =>
    transitions.push({ type, subject: f.fingerprint, data: { ...summary(f), ...extra } });

  const risks = groupHits(input.hits);
  const claims = claimStored(risks, input.previous);
  const taken = new Set<string>([...claims.values()].flat().map((f) => f.fingerprint));
  const planned = risks.map((risk) => {
    const stored = claims.get(risk)!.sort(survivorOrder(risk.fingerprint));
    const prev = stored[0];
    let fp = prev?.fingerprint ?? risk.fingerprint;
    if (!prev && (taken.has(fp) || input.previous.has(fp))) {
      // Another risk continues the finding stored under this fingerprint (a policy's rules changed):
      // the next policy's, else a fingerprint naming the risk.
      const alt = risk.hits
        .map((h) => fingerprint(h.policy.name, risk.credential.id))
        .sort()
        .find((f) => !taken.has(f) && !input.previous.has(f));
      fp = alt ?? `${risk.fingerprint}#${risk.riskKey}`;
    }
    taken.add(fp);
    return { risk, prev, absorbed: stored.slice(1), fp };
  });
  planned.sort((a, b) => a.fp.localeCompare(b.fp));

  for (const { risk, prev, absorbed, fp } of planned) {
    seen.add(fp);
    const primary = risk.hits[0]!;
    const c = risk.credential;
    // Suppressed only when every policy reporting the risk is excepted; the primary's exception is named.
    const excepted = risk.hits.map((h) => activeExceptionFor(input.exceptions, h, input.now));
    const exception = excepted.every((e) => e !== null) ? excepted[0]! : null;
    const names = risk.hits.map((h) => h.policy.name).sort();
    const controlsByPolicy = Object.fromEntries(
      [...risk.hits]
        .sort((a, b) => a.policy.name.localeCompare(b.policy.name))
        .map((h) => [h.policy.name, h.policy.metadata.controls ?? {}]),
    );
    const next: Finding = {
      fingerprint: fp,
      policy: primary.policy.name,
      policies: names,
      riskKey: risk.riskKey,
      rules: [...new Set(risk.hits.flatMap((h) => h.policy.rules.map((r) => r.type)))],
      credentialId: c.id,
      kind: c.kind,
      agentId: c.agentId,
      owner: c.owner,
      ...principalInfo(c, input.accountNames),
      severity: primary.severity,
      state: exception ? 'suppressed' : 'open',
      message: hitMessage(primary),
      hits: unionHits(risk.hits),
      controls: unionControls(Object.values(controlsByPolicy)),
      controlsByPolicy,
      firstSeen: [prev, ...absorbed].reduce(
        (min, f) => (f && f.firstSeen < min ? f.firstSeen : min),
        prev?.firstSeen ?? now,
      ),
      lastSeen: now,
      resolvedAt: null,
      reopened: (prev?.reopened ?? 0) + (prev?.state === 'resolved' ? 1 : 0),
      exceptionId: exception?.id ?? null,
    };
    for (const a of absorbed) {
      seen.add(a.fingerprint);
      const tomb: Finding = { ...a, state: 'merged', mergedInto: fp, exceptionId: null };
      changed.push(tomb);
      emit('finding.merged', tomb, { into: fp, was: a.state });
    }
    changed.push(next);
    const ex = exception
      ? { exceptionId: exception.id, owner: exception.owner, reason: exception.reason, expires: exception.expires }
      : {};
    const before = prev ? policiesOf(prev) : [];
    const added = names.filter((n) => !before.includes(n));
    const removed = before.filter((n) => !names.includes(n));
    const delta = added.length || removed.length ? { policiesAdded: added, policiesRemoved: removed } : {};
    if (!prev) emit(exception ? 'finding.suppressed' : 'finding.opened', next, ex);
    else if (prev.state === 'resolved')
      emit(exception ? 'finding.suppressed' : 'finding.reopened', next, { ...ex, reopened: next.reopened });
    else if (prev.state === 'open' && exception) emit('finding.suppressed', next, { ...ex, ...delta });
    else if (prev.state === 'suppressed' && !exception)
      emit('finding.unsuppressed', next, { previousException: prev.exceptionId, ...delta });
    else if (prev.state === 'open' && severityRank(next.severity) > severityRank(prev.severity))
      emit('finding.escalated', next, { from: prev.severity, to: next.severity, ...delta });
    else if (added.length || removed.length) emit('finding.policies-changed', next, delta);
  }

  for (const prev of [...input.previous.values()].sort((a, b) => a.fingerprint.localeCompare(b.fingerprint))) {
    if (seen.has(prev.fingerprint) || prev.state === 'resolved' || prev.state === 'merged') continue;
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
