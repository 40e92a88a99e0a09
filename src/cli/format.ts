/** Plain-text rendering for people. Machine output is --json. */
import type { ScanSummary } from '../inventory/summary.js';
import type { Credential } from '../model/credential.js';

export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

const day = (iso: string | null | undefined) => (iso ? iso.slice(0, 10) : '-');

export function agentLabel(c: Credential): string {
  if (c.attributes.self === true) return 'credwarden (self)';
  if (c.agentId) return c.agentId;
  return c.unregisteredAgent ? 'UNREGISTERED' : '-';
}

export function credentialTable(creds: Credential[]): string {
  const rows = creds.map((c) => [
    c.id,
    c.kind,
    agentLabel(c),
    c.status,
    day(c.createdAt),
    c.lastUsed ? (c.lastUsed.at ? day(c.lastUsed.at) : 'never') : 'unknown',
    String(c.grants.length),
  ]);
  return table(['CREDENTIAL', 'KIND', 'AGENT', 'STATUS', 'CREATED', 'LAST USED', 'GRANTS'], rows);
}

export function summaryText(s: ScanSummary): string {
  const lines = [
    `scan ${s.id}: ${s.status.toUpperCase()} (${s.startedAt} → ${s.finishedAt ?? 'running'})`,
    `  credentials: ${s.counts.credentials} (${
      Object.entries(s.counts.byKind)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ') || 'none'
    })`,
    `  agents: ${s.counts.agents}; unattributed: ${s.counts.unattributed}; unregistered agent credentials: ${s.counts.unregisteredAgent}`,
    `  drift: ${
      Object.entries(s.counts.drift)
        .map(([k, v]) => `${k.replace('credential.', '')} ${v}`)
        .join(', ') || 'none'
    }`,
    `  API calls: ${s.apiCalls.total} (${s.apiCalls.attempts} HTTP attempts)`,
  ];
  for (const u of s.units) {
    lines.push(`  unit ${u.key} (${u.label}): ${u.status}, ${u.credentials} credentials, ${u.apiCalls} calls`);
    for (const p of u.problems) lines.push(`    ! ${p.scope}: ${p.code}: ${p.message}`);
  }
  return lines.join('\n');
}
