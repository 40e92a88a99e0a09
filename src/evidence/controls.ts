/**
 * Each control's verdict over the collected evidence. Pure. The rules (README "Evidence packs"):
 *
 * Precedence: not-evidenced (no policy) → fail (any failure below) → not-evidenced (coverage gap)
 * → not-evidenced (no drill, for a drill-evidenced control) → pass.
 * 1. No loaded policy maps to the control (and no finding recorded one that did): not-evidenced,
 *    unless drills are its evidence (`drillRole: 'required'`).
 * 2. Findings: a finding outside an exception for longer than its severity's SLA (`slaDays`;
 *    the time under an exception does not count) fails the control, whether it is still open at
 *    the end of the period or was resolved late. Interactive-use controls (PCI 8.6.1) allow no
 *    grace: any finding open at the end outside an exception fails.
 * 3. Actions of a mapped policy: one that ran (done or failed) while it needed approval, with
 *    fewer distinct approvers than required, fails; so does a rollback that needed approval and
 *    ran with fewer, or approved by the person who asked for it.
 * 4. Exceptions: one in force for the control without an owner, a reason or an expiry fails.
 * 5. Monitoring controls (SOC 2 CC7.2): a configured unit that went longer than
 *    `maxScanGapHours` without a complete scan (and had one at least) fails.
 * 6. Coverage: a configured unit of a source the control's policies apply to, never completely
 *    scanned in the period, makes it not-evidenced (what was not checked cannot pass).
 * 7. Drills (controls-drills.ts), for a control with a `drillRole`: drills finished in the period
 *    and none passed fails it; none finished makes a `required` one not-evidenced; otherwise the
 *    drills (every failed one named) are part of its reason.
 */
import type { Severity } from '../model/finding.js';
import { anyGlob } from '../registry/glob.js';
import { judgeDrills, NO_DRILL } from './controls-drills.js';
import type { ControlDef, Framework } from './frameworks.js';
import type {
  ActionEvidence,
  CollectedEvidence,
  DrillEvidence,
  FindingEpisode,
  FindingEvidence,
  UnitCoverage,
} from './model.js';

export type ControlStatus = 'pass' | 'fail' | 'not-evidenced';

export interface ControlRules {
  /** Days a finding may stay open outside an exception, per severity; null never fails. */
  slaDays: Record<Severity, number | null>;
  /** Hours a unit may go without a complete scan before a monitoring control fails. */
  maxScanGapHours: number;
  /** Approvers an approval needs when no event says (remediation.approvals.approvers). */
  approvers: number;
}

export const DEFAULT_RULES: ControlRules = {
  slaDays: { critical: 1, high: 7, medium: 30, low: 90, info: null },
  maxScanGapHours: 24,
  approvers: 2,
};

/** What controls.ts needs of a loaded policy. */
export interface PolicyFacts {
  name: string;
  resource: { kinds?: string[] };
  metadata: { controls?: Record<string, string[]> };
}

export interface ControlResult extends ControlDef {
  framework: string;
  mappedPolicies: string[];
  findings: {
    total: number;
    opened: number;
    reopened: number;
    resolved: number;
    openAtEnd: number;
    suppressedAtEnd: number;
    carriedIn: number;
    ttrMedianDays: number | null;
    ttrMaxDays: number | null;
    fingerprints: string[];
  };
  actions: {
    planId: string;
    action: string;
    credentialId: string;
    outcome: string | null;
    approvedBy: { by: string; at: string }[];
    rolledBackBy: string | null;
  }[];
  exceptions: string[];
  /** Configured units the control's policies apply to, and those with no complete scan. */
  coverage: { units: string[]; notCompletelyScanned: string[] };
  /** The drills that finished in the period, for a control with a drillRole. */
  drills?: DrillEvidence[];
  status: ControlStatus;
  reason: string;
  problems: string[];
}

const DAY_MS = 86_400_000;
const days = (ms: number) => Math.round((ms / DAY_MS) * 100) / 100;
const d1 = (n: number) => n.toFixed(1);
const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

export function median(xs: readonly number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Milliseconds of [start, until] outside an exception. */
export function exposureMs(ep: FindingEpisode, untilMs: number): number {
  const start = Date.parse(ep.start);
  let covered = 0;
  for (const s of ep.suppressions) {
    const a = Math.max(start, Date.parse(s.from));
    const b = Math.min(untilMs, s.to === null ? untilMs : Date.parse(s.to));
    if (b > a) covered += b - a;
  }
  return Math.max(0, untilMs - start - covered);
}

function sourceTypesOf(p: PolicyFacts): string[] {
  const kinds = p.resource.kinds;
  if (!kinds || kinds.length === 0) return ['aws', 'vault'];
  return [...new Set(kinds.map((k) => (k.startsWith('vault-') ? 'vault' : 'aws')))];
}

function mappedPolicies(fw: Framework, ctl: ControlDef, policies: readonly PolicyFacts[], ev: CollectedEvidence) {
  const current = policies.filter((p) => p.metadata.controls?.[fw.controlsKey]?.includes(ctl.id));
  const names = new Set(current.map((p) => p.name));
  for (const f of ev.findings)
    for (const [p, c] of Object.entries(f.controls)) if (c[fw.controlsKey]?.includes(ctl.id)) names.add(p);
  const sources = new Set<string>();
  for (const p of current) for (const s of sourceTypesOf(p)) sources.add(s);
  // A policy known only from the events: its kinds are unknown, so every source counts.
  if ([...names].some((n) => !current.some((p) => p.name === n))) for (const s of ['aws', 'vault']) sources.add(s);
  return { names: [...names].sort(), sources };
}

function findingProblems(
  ctl: ControlDef,
  findings: readonly FindingEvidence[],
  toMs: number,
  rules: ControlRules,
): string[] {
  const late = new Map<Severity, number[]>();
  const open = new Map<Severity, number[]>();
  const strict: number[] = [];
  for (const f of findings)
    for (const ep of f.episodes) {
      const sla = rules.slaDays[ep.severity];
      const openNow = ep.end === null && f.stateAtEnd === 'open';
      if (openNow && ctl.family === 'interactive-use') {
        strict.push(days(toMs - Date.parse(ep.start)));
        continue;
      }
      if (sla === null) continue;
      if (openNow && exposureMs(ep, toMs) > sla * DAY_MS)
        open.set(ep.severity, [...(open.get(ep.severity) ?? []), days(toMs - Date.parse(ep.start))]);
      if (ep.endedBy === 'resolved' && ep.end && exposureMs(ep, Date.parse(ep.end)) > sla * DAY_MS)
        late.set(ep.severity, [...(late.get(ep.severity) ?? []), days(Date.parse(ep.end) - Date.parse(ep.start))]);
    }
  const out: string[] = [];
  if (strict.length)
    out.push(
      `${plural(strict.length, 'finding')} of interactive use open at the end of the period outside an exception (oldest ${d1(Math.max(...strict))} days)`,
    );
  for (const [s, ages] of open)
    out.push(
      `${plural(ages.length, `${s} finding`)} open at the end of the period past the ${rules.slaDays[s]}-day SLA (oldest ${d1(Math.max(...ages))} days)`,
    );
  for (const [s, took] of late)
    out.push(
      `${plural(took.length, `${s} finding`)} resolved after the ${rules.slaDays[s]}-day SLA (slowest ${d1(Math.max(...took))} days)`,
    );
  return out;
}

function actionProblems(actions: readonly ActionEvidence[], rules: ControlRules): string[] {
  const out: string[] = [];
  for (const a of actions) {
    const needed = a.needed ?? rules.approvers;
    if (
      a.approvalRequired &&
      a.result &&
      ['done', 'failed'].includes(a.result.outcome) &&
      a.result.approvedBy.length < needed
    )
      out.push(
        `action ${a.planId} (${a.action} on ${a.credentialId}) ran without the required approvals: ${a.result.approvedBy.length} of ${needed}`,
      );
    const q = a.rollbackRequest;
    if (a.rolledBack && q) {
      const n = q.needed ?? rules.approvers;
      const by = a.rolledBack.approvedBy;
      if (by.length < n || by.includes(q.by))
        out.push(
          `the rollback of action ${a.planId} ran without the required approvals: ${by.filter((x) => x !== q.by).length} of ${n} besides ${q.by}, who asked for it`,
        );
    }
  }
  return out;
}

function coverageFor(units: readonly UnitCoverage[], sources: ReadonlySet<string>) {
  const relevant = units.filter((u) => u.configured && sources.has(u.sourceType));
  return { relevant, never: relevant.filter((u) => u.completeScans === 0) };
}

function passReason(r: ControlResult, relevant: readonly UnitCoverage[]): string {
  const f = r.findings;
  const parts: string[] = [];
  if (f.total === 0) parts.push('no findings in the period');
  else {
    let s = `${plural(f.opened + f.reopened, 'finding')} opened in the period`;
    if (f.carriedIn) s += ` and ${f.carriedIn} carried in`;
    s += f.resolved
      ? `; ${f.resolved} resolved (median ${d1(f.ttrMedianDays!)} days, max ${d1(f.ttrMaxDays!)})`
      : '; none resolved';
    s +=
      f.openAtEnd + f.suppressedAtEnd === 0
        ? '; none open at the end'
        : `; at the end ${f.openAtEnd} open within the SLA, ${f.suppressedAtEnd} under an exception`;
    parts.push(s);
  }
  if (r.actions.length) parts.push(`${plural(r.actions.length, 'action')}, none ran without its required approvals`);
  const scans = relevant.map((u) => u.completeScans);
  if (scans.length) {
    const range =
      Math.min(...scans) === Math.max(...scans) ? `${scans[0]}` : `${Math.min(...scans)}–${Math.max(...scans)}`;
    const gap = d1(Math.max(...relevant.map((u) => u.largestGapHours)));
    parts.push(`every unit completely scanned (${range} complete scans each, largest gap ${gap} h)`);
  }
  return parts.join('; ');
}

export function evaluateControl(
  fw: Framework,
  ctl: ControlDef,
  ev: CollectedEvidence,
  policies: readonly PolicyFacts[],
  rules: ControlRules = DEFAULT_RULES,
): ControlResult {
  const toMs = Date.parse(ev.period.to);
  const mapped = mappedPolicies(fw, ctl, policies, ev);
  const names = new Set(mapped.names);
  const findings = ev.findings.filter((f) => f.policies.some((p) => names.has(p)));
  const fps = new Set(findings.map((f) => f.fingerprint));
  const actions = ev.actions.filter((a) => a.policy !== null && names.has(a.policy));
  const exceptions = ev.exceptions.filter(
    (x) =>
      x.suppressed.some((fp) => fps.has(fp)) ||
      mapped.names.some((p) => anyGlob(x.selector.policies as string[] | undefined, p)),
  );
  const fromMs = Date.parse(ev.period.from);
  const episodes = findings.flatMap((f) => f.episodes);
  const inPeriod = (at: string) => Date.parse(at) >= fromMs;
  const ttr = episodes
    .filter((e) => e.endedBy === 'resolved' && e.end)
    .map((e) => days(Date.parse(e.end!) - Date.parse(e.start)));
  const cov = coverageFor(ev.coverage.units, mapped.sources);
  const drills = judgeDrills(ctl, ev.drills ?? []);
  const result: ControlResult = {
    ...ctl,
    framework: fw.id,
    mappedPolicies: mapped.names,
    findings: {
      total: findings.length,
      opened: episodes.filter((e) => e.how !== 'reopened' && inPeriod(e.start)).length,
      reopened: episodes.filter((e) => e.how === 'reopened' && inPeriod(e.start)).length,
      resolved: ttr.length,
      openAtEnd: findings.filter((f) => f.stateAtEnd === 'open').length,
      suppressedAtEnd: findings.filter((f) => f.stateAtEnd === 'suppressed').length,
      carriedIn: episodes.filter((e) => !inPeriod(e.start)).length,
      ttrMedianDays: median(ttr),
      ttrMaxDays: ttr.length ? Math.max(...ttr) : null,
      fingerprints: findings.map((f) => f.fingerprint),
    },
    actions: actions.map((a) => ({
      planId: a.planId,
      action: a.action,
      credentialId: a.credentialId,
      outcome: a.rolledBack ? 'rolled-back' : (a.result?.outcome ?? a.decisions.at(-1)?.state ?? null),
      approvedBy: a.approvals.map(({ by, at }) => ({ by, at })),
      rolledBackBy: a.rolledBack?.by ?? null,
    })),
    exceptions: exceptions.map((x) => x.id),
    coverage: { units: cov.relevant.map((u) => u.key), notCompletelyScanned: cov.never.map((u) => u.key) },
    ...(drills ? { drills: drills.drills } : {}),
    status: 'pass',
    reason: '',
    problems: [],
  };
  if (mapped.names.length === 0 && ctl.drillRole !== 'required') {
    const why =
      ctl.family === 'secrets-in-code'
        ? 'no policy maps to it (credwarden reads credential metadata, not code: no leak scanning)'
        : 'no policy maps to it';
    return { ...result, status: 'not-evidenced', reason: why, problems: [why] };
  }
  const problems = [
    ...findingProblems(ctl, findings, toMs, rules),
    ...actionProblems(actions, rules),
    ...(drills?.problems ?? []),
  ];
  for (const x of exceptions)
    for (const [k, v] of [
      ['an owner', x.owner],
      ['a reason', x.reason],
      ['an expiry', x.expires],
    ] as const)
      if (!v || (k === 'an expiry' && Number.isNaN(Date.parse(v))))
        problems.push(`exception ${x.id} has no ${k.slice(k.indexOf(' ') + 1)}`);
  if (ctl.family === 'monitoring')
    for (const u of cov.relevant)
      if (u.completeScans > 0 && u.largestGapHours > rules.maxScanGapHours)
        problems.push(
          `monitoring gap: ${u.key} went ${d1(u.largestGapHours)} h without a complete scan (limit ${rules.maxScanGapHours} h)`,
        );
  const gaps = cov.never.map(
    (u) =>
      `coverage gap: ${u.key} (${u.label}) not completely scanned in the period${u.reasons.length ? ` (${u.reasons.slice(0, 3).join('; ')})` : u.scans === 0 ? ' (no scan reached it)' : ''}`,
  );
  if (problems.length)
    return { ...result, status: 'fail', reason: problems.join('; '), problems: [...problems, ...gaps] };
  if (gaps.length) return { ...result, status: 'not-evidenced', reason: gaps.join('; '), problems: gaps };
  if (drills?.none && ctl.drillRole === 'required')
    return { ...result, status: 'not-evidenced', reason: NO_DRILL, problems: [NO_DRILL] };
  const reason = [
    ctl.drillRole === 'required' && mapped.names.length === 0 ? '' : passReason(result, cov.relevant),
    drills?.summary ?? '',
  ]
    .filter(Boolean)
    .join('; ');
  return { ...result, reason };
}

export function evaluateControls(
  fw: Framework,
  ev: CollectedEvidence,
  policies: readonly PolicyFacts[],
  rules: ControlRules = DEFAULT_RULES,
): ControlResult[] {
  return fw.controls.map((ctl) => evaluateControl(fw, ctl, ev, policies, rules));
}
