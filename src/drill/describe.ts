/** A drill record for people: what `drill run` and `drill show` print. Plain text, no markup. */
import type { DrillRecord } from './store.js';

export function durationText(ms: number | undefined): string {
  if (ms === undefined) return '-';
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const m = Math.floor(ms / 60_000);
  return `${m} min ${Math.round((ms % 60_000) / 1000)} s`;
}

export function describeDrill(r: DrillRecord): string[] {
  const verdict = r.status === 'passed' ? 'PASSED' : r.status === 'failed' ? 'FAILED' : 'RUNNING';
  const out = [`drill ${r.id} (${r.scenario}) ${verdict}  in ${r.target.sourceType} ${r.target.source}`];
  if (r.reason) out.push(`  failed at stage ${r.stage}: ${r.reason}`);
  const creds = r.planted.flatMap((p) => (p.credentialId ? [p.credentialId] : []));
  out.push(`  planted: ${creds.join(', ') || 'nothing'}`);
  out.push(
    `  time to detect: ${durationText(r.times.detectMs)}${r.detection ? `  (${r.detection.policy})` : ''}`,
    `  time to alert: ${durationText(r.times.alertMs)}${r.alert ? `  (${r.alert.mode} on ${r.alert.sink})` : ''}`,
  );
  if (r.times.approvalMs !== undefined)
    out.push(
      `  time to approval request: ${durationText(r.times.approvalMs)}  (${r.remediation?.action} awaits approval)`,
    );
  else
    out.push(
      `  time to remediate: ${durationText(r.times.remediateMs)}${r.remediation ? `  (${r.remediation.action} ${r.remediation.outcome ?? r.remediation.state})` : ''}`,
    );
  const c = r.cleanup;
  if (c) {
    out.push(`  cleanup: removed ${c.removed.length}, already gone ${c.gone.length}, failed ${c.failed.length}`);
    for (const x of c.removed) out.push(`    removed ${x}`);
    for (const x of c.gone) out.push(`    already gone ${x}`);
    for (const f of c.failed) out.push(`    FAILED ${f.id}: ${f.error}`);
  } else out.push('  cleanup: not done yet (see `credwarden drill cleanup`)');
  return out;
}
