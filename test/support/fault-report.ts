/** Plain-text report of fault trials: one line per trial (violations and notes under it) and a summary line. */
import type { FaultReport, TrialResult } from './fault-harness.js';
import { describePlan, type PhaseCalibration } from './fault-phases.js';

const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

export function formatTrial(r: TrialResult): string {
  const head = `${r.index < 0 ? 'control' : `#${r.index}`}`.padEnd(7);
  let kill = '';
  if (r.kill) {
    const k = r.kill;
    const where = k.landed ? 'landed in' : 'MISSED (after)';
    kill =
      `; kill ${describePlan(k.plan)}: ${where} ${k.phase} at ${k.msIntoPhase} ms / ${k.eventsIntoPhase} events ` +
      `(decided at ${k.msAtDecision} ms, audit seq ${k.seqAtDecision} → ${k.seqAtKill} at death; active ${JSON.stringify(k.activeAtKill)})` +
      (k.probe?.steps?.length ? `; in flight: ${k.probe.steps.join(', ')}` : '');
  } else if (r.missed) kill = `; no kill: ${r.missed}`;
  const t = r.timeline;
  const times = [
    t.killAt !== undefined ? `kill +${secs(t.killAt)}` : '',
    t.finishedAt !== undefined ? `done +${secs(t.finishedAt)}` : '',
  ]
    .filter(Boolean)
    .join(', ');
  const verdict = r.violations.length ? `FAIL (${r.violations.length} violations)` : 'PASS';
  const lines = [
    `${head} ${r.phase.padEnd(9)} ${verdict} in ${secs(r.durationMs)} [${times || 'not done'}], trial seed ${r.seed}, ` +
      `${r.auditEvents} audit events, scan ${r.status ?? '-'}${kill}`,
  ];
  for (const x of r.violations) lines.push(`    ✗ [${x.check}] ${x.detail}`);
  for (const n of new Set([...(r.kill?.probe?.notes ?? []), ...r.notes])) lines.push(`    · ${n}`);
  return lines.join('\n');
}

export function formatCalibration(cal: ReadonlyMap<string, PhaseCalibration>): string {
  return [...cal].map(([p, c]) => `${p} ${c.durationMs} ms / ${c.events} audit events`).join(', ');
}

/** Where the kills landed: each probe step label, counted over the trials (e.g. "after intent 31"). */
export function stepCounts(r: FaultReport): Record<string, number> {
  const out: Record<string, number> = {};
  for (const t of r.trials) for (const s of t.kill?.probe?.steps ?? []) out[s] = (out[s] ?? 0) + 1;
  return out;
}

export function formatSummary(r: FaultReport): string {
  const phases = Object.entries(r.perPhase)
    .map(([p, n]) => `${p} ${n}`)
    .join(', ');
  const steps = Object.entries(stepCounts(r))
    .sort((a, b) => b[1] - a[1])
    .map(([s, n]) => `${s} ${n}`)
    .join(', ');
  return (
    `fault trials: ${r.trials.length} kill trials (${phases}) + control; kills landed ${r.landed}/${r.trials.length}` +
    `${steps ? ` (in flight at the kill: ${steps})` : ''}; ` +
    `passed ${r.passed}, failed ${r.failed} (control included); ${secs(r.durationMs)}; seed ${r.seed}`
  );
}

/** Every violation of a report, one line each, naming the trial and both seeds (for assertion messages). */
export function reportViolations(r: FaultReport): string[] {
  return [...(r.control ? [r.control] : []), ...r.trials].flatMap((t) =>
    t.violations.map(
      (x) =>
        `trial ${t.index < 0 ? 'control' : t.index} (${t.phase}, trial seed ${t.seed}, run seed ${r.seed}): [${x.check}] ${x.detail}`,
    ),
  );
}
