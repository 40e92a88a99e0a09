/**
 * The pack's CSV tables (RFC 4180 through util/csv.ts: CRLF records, quoted fields, and a cell
 * starting with = + - @ (or a tab or CR) prefixed with ' so a spreadsheet never runs it as a
 * formula). Each table is streamed row by row to its file; lists inside a cell are joined with
 * "; ". Header names are snake_case and stable (a public contract, like `inventory --json`).
 */
import { join } from 'node:path';
import { csvField } from '../util/csv.js';
import type { ControlResult } from './controls.js';
import type { CollectedEvidence, FindingEpisode } from './model.js';
import { Spool } from './spool.js';

type Cell = string | number | boolean | null | undefined;

const DAY_MS = 86_400_000;
const list = (xs: readonly unknown[]): string => xs.map(String).join('; ');
const daysBetween = (a: string, b: string | null): number | null =>
  b === null ? null : Math.round(((Date.parse(b) - Date.parse(a)) / DAY_MS) * 100) / 100;

function* rows<T>(items: readonly T[], row: (x: T) => readonly Cell[]): Generator<readonly Cell[]> {
  for (const x of items) yield row(x);
}

async function table(path: string, header: readonly string[], rows: Iterable<readonly Cell[]>): Promise<void> {
  const out = await Spool.create(path);
  try {
    const line = (r: readonly Cell[]) => `${r.map(csvField).join(',')}\r\n`;
    await out.write(line(header));
    for (const r of rows) await out.write(line(r));
    await out.close(true);
  } catch (err) {
    await out.abort();
    throw err;
  }
}

function suppressedDays(ep: FindingEpisode, endMs: number): number {
  let ms = 0;
  for (const s of ep.suppressions) ms += (s.to === null ? endMs : Date.parse(s.to)) - Date.parse(s.from);
  return Math.round((ms / DAY_MS) * 100) / 100;
}

/** Writes the CSV files into `dir`; returns their pack paths (relative to `dir`). */
export async function writeCsvs(
  dir: string,
  ev: CollectedEvidence,
  controls: readonly ControlResult[],
): Promise<string[]> {
  const toMs = Date.parse(ev.period.to);
  const controlsOf = new Map<string, string[]>();
  for (const c of controls)
    for (const fp of c.findings.fingerprints) controlsOf.set(fp, [...(controlsOf.get(fp) ?? []), c.id]);

  await table(
    join(dir, 'population.csv'),
    [
      'id',
      'kind',
      'source_type',
      'source',
      'principal',
      'agent',
      'owner',
      'unregistered_agent',
      'created',
      'first_seen',
      'last_used',
      'removed_at',
      'status',
    ],
    rows(ev.population, (p) => [
      p.id,
      p.kind,
      p.sourceType,
      p.source,
      p.principal,
      p.agent,
      p.owner,
      p.unregisteredAgent,
      p.created,
      p.firstSeen,
      p.lastUsed,
      p.removedAt,
      p.status,
    ]),
  );

  await table(
    join(dir, 'findings.csv'),
    [
      'fingerprint',
      'policy',
      'policies',
      'controls',
      'credential_id',
      'agent',
      'severity',
      'how',
      'opened_at',
      'ended_at',
      'ended_by',
      'time_to_resolve_days',
      'days_under_exception',
      'exceptions',
      'state_at_end',
      'message',
    ],
    (function* () {
      for (const f of ev.findings)
        for (const ep of f.episodes)
          yield [
            f.fingerprint,
            f.policy,
            list(f.policies),
            list(controlsOf.get(f.fingerprint) ?? []),
            f.credentialId,
            f.agentId,
            ep.severity,
            ep.how,
            ep.start,
            ep.end,
            ep.endedBy,
            ep.endedBy === 'resolved' ? daysBetween(ep.start, ep.end) : null,
            suppressedDays(ep, ep.end ? Date.parse(ep.end) : toMs),
            list([...new Set(ep.suppressions.map((s) => s.exceptionId ?? '?'))]),
            ep === f.episodes.at(-1) ? f.stateAtEnd : (ep.endedBy ?? ''),
            f.message,
          ] as Cell[];
    })(),
  );

  const who = (xs: readonly { by: string; at: string; source?: string | null }[]) =>
    list(xs.map((a) => `${a.by} at ${a.at}${a.source ? ` (${a.source})` : ''}`));
  await table(
    join(dir, 'actions.csv'),
    [
      'plan_id',
      'action',
      'policy',
      'credential_id',
      'planned_at',
      'approval_required',
      'approvals_needed',
      'approvals',
      'denials',
      'outcome',
      'result_at',
      'ran_with_approvals_of',
      'rollback_requested_by',
      'rollback_requested_at',
      'rollback_approvals',
      'rolled_back_by',
      'rolled_back_at',
      'rollback_approved_by',
      'last_decision',
    ],
    rows(ev.actions, (a) => [
      a.planId,
      a.action,
      a.policy,
      a.credentialId,
      a.plannedAt,
      a.approvalRequired,
      a.needed,
      who(a.approvals),
      who(a.denials),
      a.result?.outcome,
      a.result?.at,
      list(a.result?.approvedBy ?? []),
      a.rollbackRequest?.by,
      a.rollbackRequest?.at,
      who(a.rollbackApprovals),
      a.rolledBack?.by,
      a.rolledBack?.at,
      list(a.rolledBack?.approvedBy ?? []),
      a.decisions.at(-1) ? `${a.decisions.at(-1)!.state} (${list(a.decisions.at(-1)!.codes)})` : null,
    ]),
  );

  await table(
    join(dir, 'controls.csv'),
    [
      'framework',
      'control',
      'title',
      'family',
      'status',
      'reason',
      'mapped_policies',
      'findings',
      'opened',
      'reopened',
      'resolved',
      'open_at_end',
      'suppressed_at_end',
      'carried_in',
      'ttr_median_days',
      'ttr_max_days',
      'actions',
      'exceptions',
      'units',
      'units_not_completely_scanned',
      'drills',
    ],
    controls.map((c) => [
      c.framework,
      c.id,
      c.title,
      c.family,
      c.status,
      c.reason,
      list(c.mappedPolicies),
      c.findings.total,
      c.findings.opened,
      c.findings.reopened,
      c.findings.resolved,
      c.findings.openAtEnd,
      c.findings.suppressedAtEnd,
      c.findings.carriedIn,
      c.findings.ttrMedianDays,
      c.findings.ttrMaxDays,
      list(c.actions.map((a) => a.planId)),
      list(c.exceptions),
      list(c.coverage.units),
      list(c.coverage.notCompletelyScanned),
      c.drills ? list(c.drills.map((d) => `${d.id} ${d.status}`)) : null,
    ]),
  );

  await table(
    join(dir, 'coverage.csv'),
    ['scan_id', 'trigger', 'started_at', 'finished_at', 'scan_status', 'unit', 'unit_status', 'problems'],
    ev.coverage.scans.flatMap((s) =>
      s.units.map((u): Cell[] => [
        s.id,
        s.trigger,
        s.startedAt,
        s.finishedAt,
        s.status,
        u.key,
        u.status,
        list(u.problems.map((p) => `${p.code}: ${p.message} (${p.scope})`)),
      ]),
    ),
  );

  await table(
    join(dir, 'coverage-units.csv'),
    [
      'unit',
      'label',
      'source_type',
      'configured',
      'scans',
      'complete_scans',
      'last_complete',
      'largest_gap_hours',
      'reasons',
    ],
    ev.coverage.units.map((u) => [
      u.key,
      u.label,
      u.sourceType,
      u.configured,
      u.scans,
      u.completeScans,
      u.lastComplete,
      u.largestGapHours,
      list(u.reasons),
    ]),
  );
  const drillControls = list(controls.filter((c) => c.drills).map((c) => c.id));
  await table(
    join(dir, 'drills.csv'),
    [
      'drill_id',
      'scenario',
      'trigger',
      'started_by',
      'target',
      'started_at',
      'finished_at',
      'finished_seq',
      'result',
      'stage_reached',
      'reason',
      'detect_ms',
      'alert_ms',
      'remediate_ms',
      'approval_ms',
      'detected_by_policy',
      'alert_sink',
      'remediation',
      'planted',
      'planted_credentials',
      'cleanup_removed',
      'cleanup_already_gone',
      'cleanup_failed',
      'controls',
    ],
    rows(ev.drills ?? [], (d) => [
      d.id,
      d.scenario,
      d.trigger,
      d.by,
      d.target,
      d.startedAt,
      d.finishedAt,
      d.event.seq,
      d.status,
      d.stage,
      d.reason,
      d.times.detectMs,
      d.times.alertMs,
      d.times.remediateMs,
      d.times.approvalMs,
      d.detection?.policy,
      d.alert ? `${d.alert.sink} (${d.alert.mode})` : null,
      d.remediation
        ? `${d.remediation.action}: ${d.remediation.decision}, ${d.remediation.outcome ?? d.remediation.state}`
        : null,
      list(d.planted.map((p) => `${p.kind} ${p.id}`)),
      list(d.planted.flatMap((p) => (p.credentialId ? [p.credentialId] : []))),
      d.cleanup ? list(d.cleanup.removed) : null,
      d.cleanup ? list(d.cleanup.gone) : null,
      d.cleanup ? list(d.cleanup.failed.map((f) => `${f.id}: ${f.error}`)) : null,
      drillControls,
    ]),
  );
  return [
    'population.csv',
    'findings.csv',
    'actions.csv',
    'controls.csv',
    'coverage.csv',
    'coverage-units.csv',
    'drills.csv',
  ];
}
