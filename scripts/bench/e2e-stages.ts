/**
 * The stages of one bench:e2e pipeline run, from the run's own records (the writers' clocks; every
 * process is on this machine):
 *   inventory   `scan.started` → `scan.finished` (its summary's finishedAt): discovery (until the
 *               last unit's result, `P:scan:<id>:units` finishedAt) plus finalize (merge, drift,
 *               every `credential.added` audited, the summary);
 *   evaluation  `scan.finished` → `evaluation.finished` (the evaluate job: policies × inventory,
 *               findings and transitions audited, scores);
 *   remediation `evaluation.finished` → the last `action.planned` (the same job: alert planning,
 *               then the plans, their guardrail decisions and one audited record each).
 * The audit chain is read back once after the run (XRANGE in pages), tallying events by type and
 * `action.planned` by action and decision.
 */
import type { RedisTarget } from './e2e-redis.js';

export interface AuditTally {
  events: number;
  byType: Record<string, number>;
  /** Epoch ms of the first and last event of each type. */
  first: Record<string, number>;
  last: Record<string, number>;
  planned: { byAction: Record<string, number>; byDecision: Record<string, number> };
}

export async function readAudit(t: RedisTarget, keyPrefix: string): Promise<AuditTally> {
  const key = `${keyPrefix}:audit:events`;
  const out: AuditTally = {
    events: 0,
    byType: {},
    first: {},
    last: {},
    planned: { byAction: {}, byDecision: {} },
  };
  let start = '-';
  for (;;) {
    const page = await t.client.xrange(key, start, '+', 'COUNT', 5000);
    for (const [, fields] of page) {
      const ev = JSON.parse(fields[1] ?? '{}') as {
        type: string;
        time: string;
        data?: { action?: string; decision?: string };
      };
      const at = Date.parse(ev.time);
      out.events++;
      out.byType[ev.type] = (out.byType[ev.type] ?? 0) + 1;
      out.first[ev.type] = Math.min(out.first[ev.type] ?? at, at);
      out.last[ev.type] = Math.max(out.last[ev.type] ?? at, at);
      if (ev.type === 'action.planned') {
        const a = ev.data?.action ?? '?';
        const d = ev.data?.decision ?? '?';
        out.planned.byAction[a] = (out.planned.byAction[a] ?? 0) + 1;
        out.planned.byDecision[d] = (out.planned.byDecision[d] ?? 0) + 1;
      }
    }
    if (page.length < 5000) break;
    start = `(${page[page.length - 1]![0]}`;
  }
  return out;
}

/** Each unit's discovery window, from the scan's per-unit results. */
export async function unitWindows(
  t: RedisTarget,
  keyPrefix: string,
  scanId: string,
): Promise<{ key: string; startedAt: number; finishedAt: number; credentials: number }[]> {
  const key = `${keyPrefix}:scan:${scanId}:units`;
  const fields = await t.client.hkeys(key);
  const out = [];
  for (const f of fields) {
    const raw = await t.client.hget(key, f);
    if (!raw) continue;
    const r = JSON.parse(raw) as { startedAt: string; finishedAt: string; credentials: unknown[] };
    out.push({
      key: f,
      startedAt: Date.parse(r.startedAt),
      finishedAt: Date.parse(r.finishedAt),
      credentials: r.credentials.length,
    });
  }
  return out.sort((a, b) => a.key.localeCompare(b.key));
}

export interface Stages {
  /** Seconds; null when the run did not get that far. */
  /** Spawning `credwarden scan` → it exited, the scan queued (CLI start-up included). */
  trigger: number | null;
  /** Spawning `credwarden scan` → `scan.started` (a worker took the start-scan job). */
  toStart: number | null;
  discovery: number | null;
  finalize: number | null;
  inventory: number | null;
  evaluation: number | null;
  remediation: number | null;
  /** scan.started → the last action.planned (or evaluation.finished when nothing was planned). */
  total: number | null;
  /** The bench's own clock: from spawning `scan` until it saw the run done. */
  wall: number;
}

export function stages(o: {
  spawnedAt: number;
  queuedAt: number;
  doneAt: number;
  audit: AuditTally;
  units: { startedAt: number; finishedAt: number }[];
}): Stages {
  const a = o.audit;
  const started = a.first['scan.started'];
  const finished = a.last['scan.finished'];
  const evaluated = a.last['evaluation.finished'];
  const planned = a.last['action.planned'];
  const unitsDone = o.units.length ? Math.max(...o.units.map((u) => u.finishedAt)) : undefined;
  const s = (from: number | undefined, to: number | undefined) =>
    from === undefined || to === undefined ? null : (to - from) / 1000;
  const end = planned ?? evaluated;
  return {
    trigger: (o.queuedAt - o.spawnedAt) / 1000,
    toStart: s(o.spawnedAt, started),
    discovery: s(started, unitsDone),
    finalize: s(unitsDone, finished),
    inventory: s(started, finished),
    evaluation: s(finished, evaluated),
    remediation: planned === undefined ? (evaluated === undefined ? null : 0) : s(evaluated, planned),
    total: s(started, end),
    wall: (o.doneAt - o.spawnedAt) / 1000,
  };
}
