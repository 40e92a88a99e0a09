/** The scan summary: what a scan covered, found and cost. Stored per scan; printed by `scan --once`. */
import type { Credential } from '../model/credential.js';
import type { ApiCallCounts } from '../sources/api-calls.js';
import { addCounts, emptyCounts } from '../sources/api-calls.js';
import type { ScanUnit, UnitProblem, UnitResult } from '../sources/source.js';
import type { DriftEvent } from './drift.js';

export type ScanStatus = 'running' | 'complete' | 'partial';
export type UnitStatus = 'complete' | 'partial' | 'failed' | 'timed-out';

export interface UnitSummary {
  key: string;
  label: string;
  status: UnitStatus;
  credentials: number;
  apiCalls: number;
  problems: UnitProblem[];
}

export interface ScanSummary {
  id: string;
  trigger: string;
  startedAt: string;
  finishedAt: string | null;
  status: ScanStatus;
  sources: string[];
  units: UnitSummary[];
  counts: {
    credentials: number;
    byKind: Record<string, number>;
    agents: number;
    unattributed: number;
    unregisteredAgent: number;
    drift: Record<string, number>;
  };
  apiCalls: ApiCallCounts;
}

export function unitStatus(r: UnitResult): UnitStatus {
  if (r.problems.some((p) => p.code === 'Timeout')) return 'timed-out';
  if (r.problems.length === 0) return 'complete';
  return r.completePrefixes.length === 0 && r.credentials.length === 0 ? 'failed' : 'partial';
}

export function summarize(
  base: { id: string; trigger: string; startedAt: string; finishedAt: string; units: ScanUnit[] },
  results: UnitResult[],
  drift: DriftEvent[],
): ScanSummary {
  const creds: Credential[] = results.flatMap((r) => r.credentials);
  const byKind: Record<string, number> = {};
  for (const c of creds) byKind[c.kind] = (byKind[c.kind] ?? 0) + 1;
  const driftCounts: Record<string, number> = {};
  for (const e of drift) driftCounts[e.type] = (driftCounts[e.type] ?? 0) + 1;
  const apiCalls = results.reduce((acc, r) => addCounts(acc, r.apiCalls), emptyCounts());
  const units = results.map((r) => ({
    key: r.unit.key,
    label: r.unit.label,
    status: unitStatus(r),
    credentials: r.credentials.length,
    apiCalls: r.apiCalls.total,
    problems: r.problems,
  }));
  return {
    id: base.id,
    trigger: base.trigger,
    startedAt: base.startedAt,
    finishedAt: base.finishedAt,
    status: units.every((u) => u.status === 'complete') ? 'complete' : 'partial',
    sources: [...new Set(base.units.map((u) => u.sourceType))].sort(),
    units,
    counts: {
      credentials: creds.length,
      byKind,
      agents: new Set(creds.map((c) => c.agentId).filter((a) => a !== null)).size,
      unattributed: creds.filter((c) => c.agentId === null).length,
      unregisteredAgent: creds.filter((c) => c.unregisteredAgent).length,
      drift: driftCounts,
    },
    apiCalls,
  };
}

/** A unit that never reported before the scan deadline. */
export function timedOutUnit(unit: ScanUnit, at: string): UnitResult {
  return {
    unit,
    credentials: [],
    completePrefixes: [],
    problems: [{ scope: unit.key, code: 'Timeout', message: 'the unit did not report before the scan deadline' }],
    apiCalls: emptyCounts(),
    startedAt: at,
    finishedAt: at,
  };
}

/** A unit whose discovery failed for good (retries exhausted or a permanent error). */
export function failedUnit(unit: ScanUnit, at: string, code: string, message: string): UnitResult {
  return { ...timedOutUnit(unit, at), problems: [{ scope: unit.key, code, message }] };
}
