/** Plain-text rendering for people. Machine output is --json. */
import type { ScanSummary } from '../inventory/summary.js';
import type { Credential } from '../model/credential.js';

export interface TableOptions {
  /** The width to fit, in columns (see terminalWidth); without it nothing is cut. */
  width?: number;
  /**
   * The columns that may be cut to fit. The first gives way first, down to FIRST_MIN (the free
   * text, the WHY); then all of them, the widest first. Other columns keep their full text.
   */
  fit?: readonly number[];
  /** The narrowest a cut column gets (default MIN_CELL); a table whose other columns are wider than the width stays wider. */
  min?: number;
}

/** Columns of the terminal stdout writes to; 120 when it is not a terminal (a pipe, a file, a test). */
export function terminalWidth(stream: { isTTY?: boolean; columns?: number } = process.stdout): number {
  return stream.isTTY && stream.columns && stream.columns > 0 ? stream.columns : 120;
}

/** A cut column is never narrower than its header or MIN_CELL; the first one keeps FIRST_MIN while others can. */
const MIN_CELL = 12;
const FIRST_MIN = 40;

const GAP = 2;

/** The width a table would take with nothing cut. */
export function naturalWidth(headers: string[], rows: string[][]): number {
  return naturalWidths(headers, rows).reduce((a, w) => a + w, 0) + GAP * Math.max(0, headers.length - 1);
}

function naturalWidths(headers: string[], rows: string[][]): number[] {
  return headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
}

/** Cut the `fit` columns' widths (in place) so the table is at most `width` wide, where it can be. */
function fitWidths(widths: number[], headers: string[], fit: readonly number[], width: number, least: number): void {
  const total = () => widths.reduce((a, w) => a + w, 0) + GAP * Math.max(0, headers.length - 1);
  const min = (i: number) => Math.min(widths[i]!, Math.max(headers[i]!.length, least));
  const first = fit[0]!;
  if (total() > width)
    widths[first] = Math.max(Math.min(widths[first]!, Math.max(FIRST_MIN, least)), widths[first]! - (total() - width));
  if (total() <= width) return;
  // Water-filling: the widest of the cut columns give way first, each down to its minimum at most.
  const natural = fit.map((i) => widths[i]!);
  const mins = fit.map(min);
  const budget = width - (total() - natural.reduce((a, w) => a + w, 0));
  const at = (cap: number) => natural.reduce((a, w, k) => a + Math.min(w, Math.max(mins[k]!, cap)), 0);
  let lo = 0;
  let hi = Math.max(...natural);
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (at(mid) <= budget) lo = mid;
    else hi = mid - 1;
  }
  fit.forEach((i, k) => {
    widths[i] = Math.min(natural[k]!, Math.max(mins[k]!, lo));
  });
}

export function table(headers: string[], rows: string[][], opts: TableOptions = {}): string {
  const widths = naturalWidths(headers, rows);
  const fit = opts.width === undefined ? [] : (opts.fit ?? []).filter((i) => i >= 0 && i < headers.length);
  if (opts.width !== undefined && fit.length > 0) fitWidths(widths, headers, fit, opts.width, opts.min ?? MIN_CELL);
  const cell = (c: string | undefined, i: number) => (fit.includes(i) ? fitCell(c ?? '', widths[i] ?? 0) : (c ?? ''));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => cell(c, i).padEnd(widths[i] ?? 0))
      .join(' '.repeat(GAP))
      .trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/**
 * `text` cut to `width` characters. A list (`…: a, b, c` or `a, b, c`, maybe ending in
 * `(+N more)`) keeps its first whole items and counts the rest: `…: a, b +423 more`. An id (no
 * spaces) keeps its start and its end, where the distinguishing part is. Anything else ends in `…`.
 */
export function fitCell(text: string, width: number): string {
  if (text.length <= width) return text;
  if (width <= 1) return '…'.slice(0, Math.max(0, width));
  if (!text.includes(' ')) {
    const tail = Math.floor((width - 1) / 2);
    return `${text.slice(0, width - 1 - tail)}…${tail > 0 ? text.slice(-tail) : ''}`;
  }
  const colon = text.lastIndexOf(': ');
  const head = colon >= 0 ? text.slice(0, colon + 2) : '';
  let rest = colon >= 0 ? text.slice(colon + 2) : text;
  let extra = 0;
  const counted = /\s*…?\s*\(\+(\d+) more\)$/.exec(rest);
  if (counted) {
    extra = Number(counted[1]);
    rest = rest.slice(0, counted.index);
  }
  const items = rest.split(', ');
  if (items.length + extra > 1) {
    let best: string | null = null;
    let kept = '';
    for (let k = 1; k < items.length; k++) {
      kept = k === 1 ? items[0]! : `${kept}, ${items[k - 1]}`;
      const s = `${head}${kept} +${items.length - k + extra} more`;
      if (s.length > width) break;
      best = s;
    }
    if (best) return best;
    const suffix = ` +${items.length + extra} more`;
    if (head.length + suffix.length <= width && head.length > 0) return `${head.trimEnd()}${suffix}`;
    const room = width - suffix.length - 1;
    if (room > 0) return `${text.slice(0, room)}…${suffix}`;
  }
  return `${text.slice(0, width - 1)}…`;
}

const day = (iso: string | null | undefined) => (iso ? iso.slice(0, 10) : '-');

export function agentLabel(c: Credential): string {
  if (c.attributes.self === true) return 'credwarden (self)';
  if (c.agentId) return c.agentId;
  return c.unregisteredAgent ? 'UNREGISTERED' : '-';
}

/** The inventory table; PRINCIPAL (the user or role ARN, or the Vault holder) is cut to `width` when given. */
export function credentialTable(creds: Credential[], width?: number): string {
  const rows = creds.map((c) => [
    c.id,
    c.kind,
    agentLabel(c),
    c.status,
    day(c.createdAt),
    c.lastUsed ? (c.lastUsed.at ? day(c.lastUsed.at) : 'never') : 'unknown',
    String(c.grants.length),
    c.principal ?? '',
  ]);
  return table(['CREDENTIAL', 'KIND', 'AGENT', 'STATUS', 'CREATED', 'LAST USED', 'GRANTS', 'PRINCIPAL'], rows, {
    ...(width !== undefined ? { width } : {}),
    fit: [7],
    min: 40,
  });
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
