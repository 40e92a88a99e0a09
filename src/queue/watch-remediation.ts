/**
 * How `scan --once` waits for the remediation its own scan started: the evaluate job plans it
 * (after the alerts), so first that job must finish; then every action the run queued is watched
 * (its record, `remediate/<plan id>` job) until it settles (done, failed, cancelled, held) or the
 * deadline (`remediation.waitSeconds`) passes. What is left then is reported as pending, never
 * dropped silently. Dry-run, held, denied and awaiting-approval plans are reported as they are.
 */
import type { ActionState } from '../model/action.js';
import type { RemediationService } from '../remediation/service.js';
import { sleep } from '../util/concurrency.js';
import { ids } from './names.js';
import type { Queues } from './runtime.js';
import { codedReason, viewJob } from './watch.js';

export interface RemediationReport {
  plans: number;
  byState: Partial<Record<ActionState, number>>;
  /** Queued by this run and settled within the wait: plan id, action, credential, outcome. */
  settled: { id: string; action: string; credentialId: string; state: ActionState; detail: string }[];
  /** Queued by this run and still queued or running at the deadline. */
  pendingIds: string[];
  /** Remediate jobs that failed for good (their record may still say running). */
  failures: { id: string; reason: string }[];
  timeoutMs: number;
}

const ACTIVE: ReadonlySet<ActionState> = new Set<ActionState>(['queued', 'running']);

export async function watchRemediation(o: {
  remediation: RemediationService;
  queues: Queues;
  scanId: string;
  timeoutMs: number;
  pollMs?: number;
  lastError?: (jobId: string) => unknown;
  progress?: (m: string) => void;
}): Promise<RemediationReport> {
  const deadline = Date.now() + o.timeoutMs;
  const poll = o.pollMs ?? 200;
  const report: RemediationReport = {
    plans: 0,
    byState: {},
    settled: [],
    pendingIds: [],
    failures: [],
    timeoutMs: o.timeoutMs,
  };
  // The evaluate job plans remediation last: wait until it finished.
  for (;;) {
    const v = await viewJob(o.queues.evaluate, ids.evaluate(o.scanId));
    if (v.phase === 'completed' || v.phase === 'failed' || v.phase === 'missing') break;
    if (Date.now() >= deadline) return report;
    await sleep(poll);
  }
  const run = await o.remediation.runOf(o.scanId);
  if (!run) return report;
  report.plans = run.plans.length;
  const watched = new Set<string>();
  for (const p of run.plans) {
    const s = await o.remediation.store.state(p.id);
    if (s && ACTIVE.has(s)) watched.add(p.id);
  }
  let last = '';
  while (watched.size > 0 && Date.now() < deadline) {
    for (const id of [...watched]) {
      const s = await o.remediation.store.state(id);
      if (s && !ACTIVE.has(s)) {
        watched.delete(id);
        continue;
      }
      const attempt = await o.remediation.store.attempt(id);
      const jobId = ids.remediate(id, `a${attempt}`);
      const job = await viewJob(o.queues.remediate, jobId);
      if (job.phase === 'failed') {
        watched.delete(id);
        report.failures.push({ id, reason: codedReason(job.failedReason ?? 'failed', o.lastError?.(jobId)) });
      }
    }
    const line = `remediation: ${watched.size} action(s) still running`;
    if (watched.size > 0 && line !== last) o.progress?.(line);
    last = line;
    if (watched.size > 0) await sleep(poll);
  }
  report.pendingIds = [...watched].sort();
  for (const p of run.plans) {
    const r = await o.remediation.store.get(p.id);
    if (!r) continue;
    report.byState[r.state] = (report.byState[r.state] ?? 0) + 1;
    if (r.result && r.result.at >= run.at && !ACTIVE.has(r.state))
      report.settled.push({
        id: p.id,
        action: p.action,
        credentialId: p.target.credentialId,
        state: r.state,
        detail: `${r.result.outcome}: ${r.result.detail}`,
      });
  }
  return report;
}

/** One line for people. */
export function remediationLine(r: RemediationReport, mode: string): string {
  if (r.plans === 0) return `remediation (${mode}): no actions planned`;
  const states = Object.entries(r.byState)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  const pending = r.pendingIds.length ? `; ${r.pendingIds.length} still running at the deadline` : '';
  const failed = r.failures.length ? `; ${r.failures.length} job(s) failed for good` : '';
  return `remediation (${mode}): ${r.plans} planned: ${states}${pending}${failed}`;
}
