/**
 * What the period's drills say about a control whose `drillRole` names them (frameworks.ts). Pure.
 *
 * - No drill finished in the period: a `required` control is not-evidenced (NO_DRILL); a
 *   `supporting` one is judged by its other rules alone.
 * - Drills finished and none passed: a problem (the control fails), naming every failed drill with
 *   the stage it reached and why.
 * - At least one passed: the summary for the verdict's reason, every failed drill listed in it.
 */
import type { ControlDef } from './frameworks.js';
import type { DrillEvidence } from './model.js';

export const NO_DRILL =
  'no drill finished in the period: nothing tested detection, alerting and response (schedules.drills runs them; credwarden drill run runs one)';

/** Passed drills named in a reason (the rest are counted; drills.csv has every one). */
const NAMED_PASSES = 3;

export interface DrillJudgement {
  drills: DrillEvidence[];
  /** Each fails the control. */
  problems: string[];
  /** The drills in words for a passing verdict ('' when none finished). */
  summary: string;
  none: boolean;
}

/** A measured time in words: "42 s", "3 min 5 s", "1 h 2 min". */
export function durationText(ms: number): string {
  if (ms < 1000) return '< 1 s';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min${s % 60 ? ` ${s % 60} s` : ''}`;
  const m = Math.round(s / 60);
  return `${Math.floor(m / 60)} h${m % 60 ? ` ${m % 60} min` : ''}`;
}

/** The times a drill measured, in words: "detected in 42 s, alerted in 1 min 3 s, remediated in 2 min". */
export function timesText(d: DrillEvidence): string {
  const t = d.times;
  const parts = [
    t.detectMs !== null ? `detected in ${durationText(t.detectMs)}` : null,
    t.alertMs !== null ? `alerted in ${durationText(t.alertMs)}` : null,
    t.remediateMs !== null ? `remediated in ${durationText(t.remediateMs)}` : null,
    t.approvalMs !== null ? `approval requested in ${durationText(t.approvalMs)}` : null,
  ].filter((x) => x !== null);
  return parts.length ? parts.join(', ') : 'no time measured';
}

const failedText = (d: DrillEvidence) =>
  `drill ${d.id} (${d.scenario}) failed at stage ${d.stage || '?'}: ${d.reason ?? 'no reason recorded'}`;
const plural = (n: number, one: string) => `${n} ${one}${n === 1 ? '' : 's'}`;

/** The judgement for `ctl`, or null when drills are not its evidence. */
export function judgeDrills(ctl: ControlDef, drills: readonly DrillEvidence[]): DrillJudgement | null {
  if (!ctl.drillRole) return null;
  const all = [...drills];
  if (all.length === 0) return { drills: all, problems: [], summary: '', none: true };
  const passed = all.filter((d) => d.status === 'passed');
  const failed = all.filter((d) => d.status !== 'passed');
  if (passed.length === 0)
    return {
      drills: all,
      problems: [
        all.length === 1
          ? 'the one drill that finished in the period did not pass'
          : `none of the ${all.length} drills that finished in the period passed`,
        ...failed.map(failedText),
      ],
      summary: '',
      none: false,
    };
  const named = passed
    .slice(0, NAMED_PASSES)
    .map((d) => `${d.id} (${d.scenario}): ${timesText(d)}`)
    .join('; ');
  const more = passed.length > NAMED_PASSES ? `; and ${passed.length - NAMED_PASSES} more` : '';
  const summary =
    `${plural(all.length, 'drill')} finished in the period, ${passed.length} passed (${named}${more})` +
    (failed.length ? `; ${failed.length} failed: ${failed.map(failedText).join('; ')}` : '; none failed');
  return { drills: all, problems: [], summary, none: false };
}
