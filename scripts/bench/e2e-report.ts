/** bench:e2e's output: lines per pipeline run, the scaling table over the worker counts, the JSON numbers. */
import type { SeedStats } from './e2e-estate.js';
import type { PipelineResult } from './e2e-pipeline.js';
import { mb } from './e2e-procs.js';

const n = (v: number): string => v.toLocaleString('en-US');
const s = (v: number | null | undefined): string => (v === null || v === undefined ? 'n/a' : `${v.toFixed(1)} s`);
const fmt = (o: Record<string, number> | undefined, limit = 12): string => {
  const e = Object.entries(o ?? {});
  if (!e.length) return 'none';
  const shown = e
    .slice(0, limit)
    .map(([k, v]) => `${k} ${n(v)}`)
    .join(', ');
  return e.length > limit ? `${shown}, … (${e.length - limit} more)` : shown;
};
const round = (v: number, d = 1): number => Number(v.toFixed(d));

/** The derived numbers of one run (also what the JSON holds). */
export function derived(r: PipelineResult, agents: number) {
  const creds = r.scan?.counts.credentials ?? 0;
  const st = r.stages;
  const byService = (svc: string) =>
    Object.entries(r.calls)
      .filter(([k]) => k.startsWith(`${svc}:`))
      .reduce((a, [, v]) => a + v, 0);
  const iam = byService('iam');
  const sts = byService('sts');
  const invEval = st?.inventory !== null && st?.evaluation !== null && st ? st.inventory! + st.evaluation! : null;
  const delta = r.memory.after - r.memory.before;
  return {
    credentials: creds,
    credsPerSecond: {
      inventory: st?.inventory ? round(creds / st.inventory, 0) : null,
      inventoryAndEvaluation: invEval ? round(creds / invEval, 0) : null,
      total: st?.total ? round(creds / st.total, 0) : null,
    },
    iamCalls: iam,
    stsCalls: sts,
    iamCallsPerAgent: round(iam / agents, 3),
    callsPerAgent: round((iam + sts) / agents, 3),
    redis: {
      usedMemoryBefore: r.memory.before,
      usedMemoryAfter: r.memory.after,
      usedMemoryDelta: delta,
      deltaBytesPerCredential: creds ? round(delta / creds, 0) : null,
      prefixKeys: r.memory.prefix.keys,
      prefixBytes: r.memory.prefix.bytes,
      prefixBytesPerCredential: creds ? round(r.memory.prefix.bytes / creds, 0) : null,
    },
  };
}

export function runLines(r: PipelineResult, agents: number, mode: string): string[] {
  const d = derived(r, agents);
  const st = r.stages;
  const out: string[] = [];
  out.push(
    `== ${r.workers} worker process(es), prefix ${r.prefix}, scan ${r.scanId ?? 'none'} (1-min load before: ${r.loadBefore.toFixed(2)})`,
  );
  if (r.failure) out.push(`  FAILED: ${r.failure}`);
  if (st) {
    out.push(
      `  wall time per stage:  inventory ${s(st.inventory)} (discovery ${s(st.discovery)}, finalize ${s(st.finalize)}); evaluation ${s(st.evaluation)}; remediation planning ${s(st.remediation)}; total ${s(st.total)}`,
    );
    out.push(
      `                        (total: scan.started → the last action.planned; before it, spawning \`credwarden scan\` → scan.started ${s(st.toStart)} (the CLI exited after ${s(st.trigger)}); the bench's clock, spawning \`scan\` → done seen: ${s(st.wall)})`,
    );
  }
  if (r.units.length) {
    const spans = r.units.map((u) => (u.finishedAt - u.startedAt) / 1000);
    out.push(
      `  discovery units:      ${r.units.length}, ${Math.min(...spans).toFixed(1)}–${Math.max(...spans).toFixed(1)} s each (${r.units.map((u) => n(u.credentials)).join('/')} credentials)`,
    );
  }
  if (r.scan) {
    const c = r.scan.counts;
    const bad = r.scan.units.filter((u) => u.problems.length > 0);
    out.push(
      `  credentials:          ${n(c.credentials)} inventoried (${fmt(c.byKind)}); ${n(c.agents)} agents, ${n(c.unregisteredAgent)} unregistered; scan ${r.scan.status}${bad.length ? `; ${bad.length} unit(s) with problems: ${JSON.stringify(bad.map((u) => u.problems))}` : ''}`,
    );
  }
  out.push(
    `  credentials/s:        ${d.credsPerSecond.inventoryAndEvaluation ?? 'n/a'} over inventory + evaluation; ${d.credsPerSecond.total ?? 'n/a'} over the total; ${d.credsPerSecond.inventory ?? 'n/a'} over the inventory alone`,
  );
  if (r.evaluation)
    out.push(`  evaluation:           transitions ${fmt(r.evaluation.transitions)}; open ${fmt(r.evaluation.open, 6)}`);
  if (r.audit) {
    const p = r.audit.planned;
    out.push(
      `  remediation (${mode}): ${n(r.plans ?? 0)} plans in the run; action.planned audited ${n(r.audit.byType['action.planned'] ?? 0)}: ${fmt(p.byAction)}; decisions ${fmt(p.byDecision)}`,
    );
    out.push(`  audit events:         ${n(r.audit.events)} (${fmt(r.audit.byType, 8)})`);
  }
  out.push(
    `  IAM calls:            ${n(d.iamCalls)} = ${d.iamCallsPerAgent} per agent (+ ${n(d.stsCalls)} STS); at moto, by action: ${fmt(r.calls, 8)}${r.callErrors ? `; ${r.callErrors} answered >= 400` : ''}`,
  );
  if (r.scan)
    out.push(
      `                        (credwarden's own count: ${n(r.scan.apiCalls.total)} calls, ${n(r.scan.apiCalls.attempts ?? 0)} HTTP attempts)`,
    );
  out.push(
    `  peak RSS per worker:  ${r.workerStats.map((w) => `#${w.index} ${mb(w.peakRss)} MB (CPU ${w.cpuS.toFixed(1)} s)`).join('; ') || 'n/a'}`,
  );
  const wall = st?.wall ?? 0;
  const c = r.cpu;
  out.push(
    `  CPU during the run:   workers ${c.workersS.toFixed(1)} s, moto ${c.motoS.toFixed(1)} s, Redis ${c.redisS.toFixed(1)} s (the whole server), bench + proxy ${c.benchS.toFixed(1)} s${wall ? ` = ${((c.workersS + c.motoS + c.redisS + c.benchS) / wall).toFixed(2)} of 2 cores busy over ${wall.toFixed(1)} s` : ''}`,
  );
  const rd = d.redis;
  out.push(
    `  Redis used_memory:    ${mb(rd.usedMemoryBefore)} MB before, ${mb(rd.usedMemoryAfter)} MB after: +${mb(rd.usedMemoryDelta)} MB, ${rd.deltaBytesPerCredential ?? 'n/a'} B per credential (the whole server: other clients move it too)`,
  );
  const groups = Object.entries(r.memory.prefix.groups)
    .slice(0, 8)
    .map(([g, v]) => `${g} ${mb(v.bytes)} MB`)
    .join(', ');
  out.push(
    `  MEMORY USAGE:         ${mb(rd.prefixBytes)} MB in ${n(rd.prefixKeys)} keys of the prefix, ${rd.prefixBytesPerCredential ?? 'n/a'} B per credential (${groups})`,
  );
  return out;
}

export function scalingLines(runs: PipelineResult[], agents: number): string[] {
  if (runs.length < 2) return [];
  const base = runs[0]!.stages;
  const out = [
    'scaling (2 cores; moto is one Python process):',
    '  workers | inventory | evaluation | remediation | total   | creds/s (inventory / total) | speed-up (inventory / total) | peak RSS per worker',
  ];
  for (const r of runs) {
    const st = r.stages;
    const d = derived(r, agents);
    const ratio = (a: number | null | undefined, b: number | null | undefined) =>
      a && b ? `${(a / b).toFixed(2)}×` : 'n/a';
    const up = `${ratio(base?.inventory, st?.inventory)} / ${ratio(base?.total, st?.total)}`;
    const rate = `${d.credsPerSecond.inventory ?? 'n/a'} / ${d.credsPerSecond.total ?? 'n/a'}`;
    out.push(
      `  ${String(r.workers).padEnd(7)} | ${s(st?.inventory).padEnd(9)} | ${s(st?.evaluation).padEnd(10)} | ${s(st?.remediation).padEnd(11)} | ${s(st?.total).padEnd(7)} | ${rate.padEnd(27)} | ${up.padEnd(28)} | ${r.workerStats.map((w) => `${mb(w.peakRss)} MB`).join(', ')}`,
    );
  }
  return out;
}

export function seedLines(seed: SeedStats, reused: boolean): string[] {
  return [
    `estate:               ${n(seed.agents)} agent users over ${seed.accounts} moto account(s), ${n(seed.agentKeys)} agent access keys (+ ${seed.humans} humans with ${seed.humanKeys} keys, to stay out of the inventory); inline policies: ${fmt(seed.policies)}`,
    `seeding (not timed):  ${(seed.ms / 1000).toFixed(1)} s, ${n(seed.requests)} requests, ${Math.round(seed.requests / (seed.ms / 1000))} req/s, ${seed.concurrency} agents in flight${reused ? '; one seeded moto for every run below' : ''}`,
  ];
}

export function jsonReport(o: {
  agents: number;
  accounts: number;
  seed: SeedStats;
  runs: PipelineResult[];
  cluster: boolean;
}): string {
  return JSON.stringify({
    bench: 'e2e',
    node: process.version,
    agents: o.agents,
    accounts: o.accounts,
    redisCluster: o.cluster,
    seeding: { ...o.seed, seconds: round(o.seed.ms / 1000, 3) },
    runs: o.runs.map((r) => ({
      workers: r.workers,
      prefix: r.prefix,
      scanId: r.scanId,
      done: r.done,
      failure: r.failure,
      loadBefore: r.loadBefore,
      stages: r.stages,
      ...derived(r, o.agents),
      scan: r.scan && { status: r.scan.status, counts: r.scan.counts, apiCalls: r.scan.apiCalls },
      evaluation: r.evaluation,
      plans: r.plans,
      planned: r.audit?.planned ?? null,
      auditEvents: r.audit?.events ?? null,
      auditByType: r.audit?.byType ?? null,
      units: r.units,
      callsByAction: r.calls,
      callErrors: r.callErrors,
      workerProcesses: r.workerStats.map(({ log: _l, ...w }) => w),
      cpuSeconds: r.cpu,
      redisPrefixGroups: r.memory.prefix.groups,
    })),
  });
}
