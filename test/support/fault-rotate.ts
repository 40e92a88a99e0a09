/**
 * Rotation kill trials (rotate-key, src/rotation/aws-key.rotator.ts): one agent user per trial,
 * its rotation run by real worker processes (fault-rotate-worker.ts) that are SIGKILLed at a
 * chosen point and restarted on the same config, Redis prefix and clock until the record is final,
 * while a second process (fault-rotate-poller.ts) polls the agent's KV path the whole time.
 *
 * Kill points:
 *   - event: once the worker has durably appended an audit event of a type (and the step's try):
 *     the worker stops there, says so on stdout, and this side SIGKILLs it. Afterwards the audit
 *     stream must end with exactly that event (nothing ran past the boundary).
 *   - call: once moto or OpenBao has answered the nth matching request of this worker (through
 *     the hook proxies, fault-rotate-proxy.ts): the worker is SIGKILLed from the proxy and never
 *     gets the answer (the change is made, the worker does not know it).
 * A trial has one kill point per worker generation (a second one hits the restarted worker);
 * the generation after the last one runs to the end. Each generation is a fresh process, started
 * as a standby while the previous one runs (it builds its App and waits) and told to go only once
 * the previous one's exit was seen; workers run from an esbuild bundle of the worker and src/
 * (workerCommand()), ~0.4 s to start instead of ~1 s under tsx.
 *
 * Between generations the dead worker's execution lease (P:act:<id>:lock, 30 s TTL) is deleted:
 * its holder is provably dead (its exit was seen), so this is its lapse, without the wait.
 * Waiting steps (adopt, delete) leave the record in-progress with rotation.nextAt: this side then
 * moves the shared clock two days on (past graceHours and afterDays) and the worker goes on.
 *
 * The checks (trialProblems): the record done; the user has exactly one key, Active, the one in
 * KV, which sts:GetCallerIdentity answers as the user; KV versions exactly [1, 2]; the orphans the
 * record names; every kill landed; the poller saw no instant without a working key, and saw both
 * the old and the new key.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DAY_MS } from '../../src/clock.js';
import type { ActionRecord } from '../../src/model/action.js';
import type { RedisClient } from '../../src/queue/connection.js';
import type { PollReport, PollTarget } from './fault-rotate-poller.js';
import type { HookProxy, ProxiedCall } from './fault-rotate-proxy.js';
import type { OpenBao } from './openbao.js';
import { ACCOUNT, keyStatuses } from './remediation-env.js';
import { keyWorks, type RotationScenario, rotatePolicy, rotationScenario, seedAgents } from './rotation-env.js';
import { live, ROOT } from './venv.js';

const WORKER = join(ROOT, 'test', 'support', 'fault-rotate-worker.ts');
const POLLER = join(ROOT, 'test', 'support', 'fault-rotate-poller.ts');
const GENERATION_TIMEOUT_MS = 30_000;
export const ROTATE_PARAMS = 'graceHours: 1\npollMinutes: 5\nafterDays: 1';

export type KillPoint =
  | { kind: 'event'; type: string; try?: number }
  | {
      kind: 'call';
      backend: 'aws' | 'vault';
      what: string;
      match: (c: ProxiedCall, t: CallContext) => boolean;
      nth?: number;
    };

/** What a call matcher knows: the trial's KV path, the keys CreateAccessKey answered so far, whether KV was written. */
export interface CallContext {
  kvPath: string;
  created: Set<string>;
  kvWritten: boolean;
}

/** KV writes of the delivery path OpenBao answered 2xx during a trial (credwarden's only writer). */
let kvWrites = 0;

export interface TrialSpec {
  name: string;
  kills: KillPoint[];
  /** Keys whose secret the kills lose: created (CreateAccessKey answered at moto), then retired. */
  lost: number;
  /**
   * How many of them neither the record (`rotation.orphans`) nor any audit event names (a known
   * gap, see the test file); default 0: every created key is in the audit, every orphan recorded.
   */
  gap?: number;
}

export interface KillLanded {
  point: string;
  /** The audit event the worker stopped at, or the backend call it died after. */
  at: string;
  /** The last audit event once the worker was dead. */
  lastEvent: string;
}

export interface TrialResult {
  name: string;
  ms: number;
  generations: number;
  kills: KillLanded[];
  record: ActionRecord | null;
  keys: Record<string, string>;
  kvVersions: number[];
  poll: PollReport | null;
  /** Every key moto created for the user during the trial (CreateAccessKey answers), in order. */
  created: string[];
  /** Where the time went: setup (scenario, seed, scan, plan), then each worker generation. */
  timings: string[];
  problems: string[];
}

export const describeKill = (k: KillPoint): string =>
  k.kind === 'event' ? `${k.type}${k.try ? `#${k.try}` : ''}` : `${k.what}${k.nth && k.nth > 1 ? `#${k.nth}` : ''}`;

// ---------------------------------------------------------------------------------------------
// Kill points

export const atEvent = (type: string, tryN?: number): KillPoint => ({
  kind: 'event',
  type,
  ...(tryN ? { try: tryN } : {}),
});

const ok = (c: ProxiedCall) => c.status >= 200 && c.status < 300;

export const afterAws = (action: string, nth = 1): KillPoint => ({
  kind: 'call',
  backend: 'aws',
  what: action,
  match: (c) => c.action === action && ok(c),
  nth,
});

/**
 * sts:GetCallerIdentity signed with a key the rotation created: deliver's proof before the KV
 * write, or verify's after it.
 */
export const afterNewKeyProof = (when: 'deliver' | 'verify'): KillPoint => ({
  kind: 'call',
  backend: 'aws',
  what: `GetCallerIdentity(new key, ${when})`,
  match: (c, t) =>
    c.action === 'GetCallerIdentity' && t.created.has(c.signer) && ok(c) && t.kvWritten === (when === 'verify'),
  nth: 1,
});

/** The KV v2 write of the delivery path. */
export const afterKvWrite = (): KillPoint => ({
  kind: 'call',
  backend: 'vault',
  what: 'KV write',
  match: (c, t) => isKvWrite(c, t.kvPath),
  nth: 1,
});

const isKvWrite = (c: ProxiedCall, kvPath: string) =>
  (c.method === 'POST' || c.method === 'PUT') && c.path === `secret/data/${kvPath}` && ok(c);

// ---------------------------------------------------------------------------------------------
// The worker command

/**
 * How workers start: fault-rotate-worker.ts and the src/ it imports, bundled once by esbuild (the
 * transpiler tsx itself runs; npm packages stay external) into .cw/, so a worker is up in ~0.4 s
 * instead of ~1 s under `--import tsx` (its loader hooks cost ~0.5 s per process on this
 * suite's ~60 processes). Falls back to `--import tsx` when esbuild cannot be loaded or
 * CW_ROT_TSX is set.
 */
export async function workerCommand(): Promise<{ args: string[]; how: string; cleanup(): void }> {
  if (!process.env.CW_ROT_TSX) {
    try {
      const { build } = await import('esbuild');
      mkdirSync(join(ROOT, '.cw'), { recursive: true });
      const dir = mkdtempSync(join(ROOT, '.cw', 'fault-rotate-'));
      const outfile = join(dir, 'worker.mjs');
      await build({
        entryPoints: [WORKER],
        bundle: true,
        platform: 'node',
        format: 'esm',
        target: 'node20',
        packages: 'external',
        outfile,
        logLevel: 'warning',
      });
      return { args: [outfile], how: 'esbuild bundle', cleanup: () => rmSync(dir, { recursive: true, force: true }) };
    } catch (err) {
      process.stderr.write(`fault-rotate: no esbuild bundle (${(err as Error).message}); workers run under tsx\n`);
    }
  }
  return { args: ['--import', 'tsx', WORKER], how: 'tsx', cleanup: () => {} };
}

// ---------------------------------------------------------------------------------------------
// The poller process

export interface Poller {
  watch(target: PollTarget): Promise<void>;
  stop(): Promise<PollReport | null>;
  close(): Promise<void>;
}

export async function startPoller(): Promise<Poller> {
  const proc = spawn(process.execPath, ['--import', 'tsx', POLLER], {
    cwd: ROOT,
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  live.add(proc);
  const exited = new Promise<void>((res) => proc.once('exit', () => res()));
  void exited.then(() => live.delete(proc));
  const waitFor = <T>(pred: (m: Record<string, unknown>) => T | undefined, ms: number, what: string) =>
    new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        proc.off('message', on);
        reject(new Error(`poller: no ${what} within ${ms} ms`));
      }, ms);
      const on = (m: Record<string, unknown>) => {
        const v = pred(m);
        if (v === undefined) return;
        clearTimeout(timer);
        proc.off('message', on);
        resolve(v);
      };
      proc.on('message', on);
    });
  await waitFor((m) => (m.ev === 'ready' ? true : undefined), 30_000, 'ready');
  return {
    async watch(target) {
      const watching = waitFor(
        (m) => (m.ev === 'watching' && m.label === target.label ? true : undefined),
        10_000,
        `first poll of ${target.label}`,
      );
      proc.send({ cmd: 'watch', target });
      await watching;
    },
    async stop() {
      const report = waitFor(
        (m) => (m.ev === 'report' ? { r: m.report as PollReport | null } : undefined),
        10_000,
        'report',
      );
      proc.send({ cmd: 'stop' });
      return (await report).r;
    },
    async close() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.send({ cmd: 'exit' });
      await Promise.race([exited, sleep(3_000)]);
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Worker generations

type Exit = { code: number | null; signal: NodeJS.Signals | null };

interface Generation {
  proc: ChildProcess;
  exited: Promise<Exit>;
  /** Resolves when the worker built its App and waits for GO; rejects if it exits first. */
  ready: Promise<void>;
  go(planId: string): void;
  stdout: string[];
  stderr: () => string;
  killpoint: Promise<{ seq: number; type: string; try: number | null }>;
  final: () => { state: string; detail: string | null } | null;
}

function startWorker(args: string[], env: Record<string, string>): Generation {
  const proc = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  live.add(proc);
  proc.stdin?.on('error', () => undefined);
  const exited = new Promise<Exit>((res) => {
    proc.once('exit', (code, signal) => {
      live.delete(proc);
      res({ code, signal });
    });
    proc.once('error', () => {
      live.delete(proc);
      res({ code: null, signal: null });
    });
  });
  const stdout: string[] = [];
  let err = '';
  let partial = '';
  let final: { state: string; detail: string | null } | null = null;
  let onKill: (k: { seq: number; type: string; try: number | null }) => void = () => {};
  let onReady: () => void = () => {};
  const ready = Promise.race([
    new Promise<void>((res) => {
      onReady = res;
    }),
    exited.then((x) => {
      throw new Error(`worker exited (${x.code ?? x.signal}) before READY: ${err.slice(-2000)}`);
    }),
  ]);
  ready.catch(() => undefined);
  const killpoint = new Promise<{ seq: number; type: string; try: number | null }>((res) => {
    onKill = res;
  });
  proc.stdout?.setEncoding('utf8').on('data', (s: string) => {
    const lines = (partial + s).split('\n');
    partial = lines.pop() ?? '';
    for (const l of lines) {
      stdout.push(l);
      if (l === 'READY') onReady();
      if (l.startsWith('KILLPOINT ')) onKill(JSON.parse(l.slice(10)));
      if (l.startsWith('FINAL ')) final = JSON.parse(l.slice(6));
    }
  });
  proc.stderr?.setEncoding('utf8').on('data', (s: string) => {
    err = (err + s).slice(-8_000);
  });
  return {
    proc,
    exited,
    ready,
    go: (planId) => proc.stdin?.write(`GO ${planId}\n`),
    stdout,
    stderr: () => err,
    killpoint,
    final: () => final,
  };
}

// ---------------------------------------------------------------------------------------------
// One trial

export interface TrialEnv {
  motoEndpoint: string;
  bao: OpenBao;
  awsProxy: HookProxy;
  baoProxy: HookProxy;
  redis: RedisClient;
  prefix: string;
  poller: Poller;
  /** Node arguments that start a worker (workerCommand()). */
  workerArgs: string[];
}

let trialNo = 0;

export async function runTrial(env: TrialEnv, spec: TrialSpec): Promise<TrialResult> {
  const t0 = Date.now();
  const n = ++trialNo;
  const user = `agent-fkr-${n}`;
  const problems: string[] = [];
  const kills: KillLanded[] = [];
  let generations = 0;
  let sc: RotationScenario | undefined;
  let poll: PollReport | null = null;
  let watching = false;
  let standby: Generation | null = null;
  const timings: string[] = [];
  let mark = Date.now();
  const lap = (what: string) => {
    const now = Date.now();
    timings.push(`${what} ${now - mark}`);
    mark = now;
  };
  try {
    // The parent's App (scan and plan) and every worker reach moto and OpenBao through the proxies.
    sc = await rotationScenario({
      motoEndpoint: env.awsProxy.address,
      bao: { ...env.bao, address: env.baoProxy.address },
      prefix: `${env.prefix}-${n}`,
      users: [user],
      policies: rotatePolicy(ROTATE_PARAMS),
    });
    const s = sc;
    const clockFile = join(s.files.dir, 'clock');
    const writeClock = () => {
      writeFileSync(`${clockFile}.tmp`, String(s.clock.now().getTime()));
      renameSync(`${clockFile}.tmp`, clockFile);
    };
    writeClock();
    const spawnGen = (gen: number): Generation => {
      const kill = spec.kills[gen];
      return startWorker(env.workerArgs, {
        CW_ROT_CONFIG: s.files.configPath,
        CW_ROT_CLOCK: clockFile,
        ...(kill?.kind === 'event'
          ? { CW_ROT_KILL_EVENT: kill.type, ...(kill.try ? { CW_ROT_KILL_TRY: String(kill.try) } : {}) }
          : {}),
      });
    };
    // The first worker starts up while the agent is seeded, scanned and planned.
    standby = spawnGen(0);
    const old = (await seedAgents(s, env.motoEndpoint, [user]))[user]!;
    await s.scan('s1');
    const { ids } = await s.plan('s1');
    if (ids.length !== 1) throw new Error(`expected one rotation planned, got ${ids.length}: ${ids.join(', ')}`);
    const planId = ids[0]!;
    const kvPath = s.kvPath(user);

    await env.poller.watch({
      label: spec.name,
      baoAddress: env.bao.address,
      rootToken: env.bao.rootToken,
      kvPath,
      motoEndpoint: env.motoEndpoint,
      account: ACCOUNT,
      user,
    });
    watching = true;
    lap('setup');

    kvWrites = 0;
    const created = new Set<string>();
    const ctx: CallContext = { kvPath, created, kvWritten: false };
    const observe = (c: ProxiedCall) => {
      if (c.created) created.add(c.created);
      if (isKvWrite(c, kvPath)) {
        ctx.kvWritten = true;
        kvWrites++;
      }
    };
    const lockKey = s.app.remediation.store.keys.lock(planId);
    // One generation per kill point, then one that runs to the end (the record must be final then).
    for (let gen = 0; gen <= spec.kills.length; gen++) {
      const kill = spec.kills[gen];
      generations++;
      const w = standby ?? spawnGen(gen);
      await w.ready;
      // The next generation starts up while this one runs; it waits for GO.
      standby = gen < spec.kills.length ? spawnGen(gen + 1) : null;
      const st: { landedAt: string | null; killedSeq: number | null; exit: Exit | null } = {
        landedAt: null,
        killedSeq: null,
        exit: null,
      };
      const proxies = [env.awsProxy, env.baoProxy];
      let seen = 0;
      for (const p of proxies)
        p.onAnswer = (c) => {
          const hit =
            kill?.kind === 'call' &&
            !st.landedAt &&
            (kill.backend === 'aws') === (p === env.awsProxy) &&
            kill.match(c, ctx) &&
            ++seen >= (kill.nth ?? 1);
          observe(c);
          if (!hit) return false;
          w.proc.kill('SIGKILL');
          st.landedAt = `${c.method} ${c.action || c.path} → ${c.status}`;
          return true;
        };
      w.go(planId);
      void w.killpoint.then((k) => {
        if (kill?.kind !== 'event') return;
        w.proc.kill('SIGKILL');
        st.landedAt = `${k.type} (try ${k.try}, seq ${k.seq})`;
        st.killedSeq = k.seq;
      });

      // Drive the clock while this generation runs: a waiting rotation gets its time.
      const deadline = Date.now() + GENERATION_TIMEOUT_MS;
      void w.exited.then((x) => {
        st.exit = x;
      });
      while (!st.exit) {
        if (Date.now() > deadline) {
          w.proc.kill('SIGKILL');
          problems.push(`generation ${gen}: no end within ${GENERATION_TIMEOUT_MS} ms; stderr: ${w.stderr()}`);
          await w.exited;
          break;
        }
        const rec = await s.app.remediation.store.get(planId);
        const nextAt = rec?.rotation?.nextAt;
        if (rec?.state === 'in-progress' && nextAt && Date.parse(nextAt) > s.clock.now().getTime()) {
          s.clock.advance(2 * DAY_MS);
          writeClock();
        }
        await Promise.race([sleep(5), w.exited]);
      }
      for (const p of proxies)
        p.onAnswer = (c) => {
          observe(c);
          return false;
        };
      const x = await w.exited;
      lap(`w${gen}`);
      if (problems.length) break;

      if (kill) {
        if (!st.landedAt) {
          problems.push(
            `generation ${gen}: kill point ${describeKill(kill)} never reached (exit ${x.code ?? x.signal}; ${JSON.stringify(w.final())}); stderr: ${w.stderr().slice(-2000)}`,
          );
          break;
        }
        if (x.signal !== 'SIGKILL')
          problems.push(`generation ${gen}: the worker ended ${x.code ?? x.signal}, not by SIGKILL`);
        const events = await s.audit();
        const last = events.at(-1);
        if (st.killedSeq !== null && last?.seq !== st.killedSeq)
          problems.push(
            `generation ${gen}: the worker ran past ${describeKill(kill)} (seq ${st.killedSeq}): the audit ends at ${last?.seq} ${last?.type}`,
          );
        kills.push({
          point: describeKill(kill),
          at: st.landedAt,
          lastEvent: last ? `${last.type}${last.data.try ? `#${last.data.try}` : ''}` : 'none',
        });
        // The dead worker's lease lapses (its exit was seen): without waiting out the TTL.
        await env.redis.del(lockKey);
        continue;
      }
      if (process.env.CW_ROT_TRACE) process.stderr.write(w.stderr());
      if (x.code !== 0)
        problems.push(`generation ${gen}: the worker exited ${x.code ?? x.signal}; stderr: ${w.stderr().slice(-2000)}`);
      break;
    }

    poll = await env.poller.stop();
    watching = false;
    const record = await s.app.remediation.store.get(planId);
    const keys = await keyStatuses(env.motoEndpoint, user);
    const kvVersions = await s.kvVersions(user);
    problems.push(
      ...(await trialProblems(s, env, spec, {
        user,
        oldKeyId: old.accessKeyId,
        record,
        keys,
        kvVersions,
        poll,
        created: [...created],
      })),
    );
    lap('checks');
    return {
      name: spec.name,
      ms: Date.now() - t0,
      generations,
      kills,
      record,
      keys,
      kvVersions,
      poll,
      created: [...created],
      timings,
      problems,
    };
  } catch (err) {
    problems.push(`trial failed: ${(err as Error).stack ?? String(err)}`);
    if (watching) poll = await env.poller.stop().catch(() => null);
    return {
      name: spec.name,
      ms: Date.now() - t0,
      generations,
      kills,
      record: null,
      keys: {},
      kvVersions: [],
      poll,
      created: [],
      timings,
      problems,
    };
  } finally {
    if (standby) {
      standby.proc.kill('SIGKILL');
      await standby.exited;
    }
    env.awsProxy.onAnswer = null;
    env.baoProxy.onAnswer = null;
    await sc?.close();
  }
}

async function trialProblems(
  s: RotationScenario,
  env: TrialEnv,
  spec: TrialSpec,
  o: {
    user: string;
    oldKeyId: string;
    record: ActionRecord | null;
    keys: Record<string, string>;
    kvVersions: number[];
    poll: PollReport | null;
    created: string[];
  },
): Promise<string[]> {
  const out: string[] = [];
  const rec = o.record;
  if (rec?.state !== 'done' || rec.result?.outcome !== 'done')
    out.push(`record ${rec?.state ?? 'missing'} (${rec?.result?.detail ?? rec?.rotation?.stopped ?? ''}), not done`);
  const newId = rec?.rotation?.newId;
  if (!newId || newId === o.oldKeyId) out.push(`no new key recorded (${newId ?? 'none'})`);
  const ids = Object.keys(o.keys);
  if (ids.length !== 1 || !newId || o.keys[newId] !== 'Active')
    out.push(`the user's keys are ${JSON.stringify(o.keys)}, not exactly the new key ${newId} Active`);
  const kv = await s.kv(o.user);
  if (!kv || !newId || kv.data.access_key_id !== newId)
    out.push(`KV holds ${kv?.data.access_key_id ?? 'nothing'}, not ${newId}`);
  else {
    const arn = await keyWorks(env.motoEndpoint, newId, kv.data.secret_access_key ?? '');
    const want = `arn:aws:iam::${ACCOUNT}:user/${o.user}`;
    if (arn !== want) out.push(`the KV key authenticates as ${arn}, not ${want}`);
  }
  if (JSON.stringify(o.kvVersions) !== '[1,2]') out.push(`KV versions ${JSON.stringify(o.kvVersions)}, not [1,2]`);
  if (kvWrites !== 1) out.push(`OpenBao executed ${kvWrites} writes of the delivery path, not exactly one`);
  // The truth at moto: every key CreateAccessKey answered but the last one is an orphan, gone now.
  if (o.created.length !== spec.lost + 1 || (newId && o.created.at(-1) !== newId))
    out.push(
      `moto created ${o.created.length} keys (${o.created.join(', ')}), expected ${spec.lost + 1} ending with ${newId}`,
    );
  for (const id of o.created) if (id !== newId && o.keys[id]) out.push(`orphan ${id} is still there (${o.keys[id]})`);
  const orphans = rec?.rotation?.orphans ?? [];
  const recorded = spec.lost - (spec.gap ?? 0);
  if (orphans.length !== recorded || orphans.some((id) => !o.created.includes(id) || id === newId))
    out.push(
      `the record names orphans [${orphans.join(', ')}], expected ${recorded} of ${o.created.filter((id) => id !== newId).join(', ')}`,
    );
  const audit = JSON.stringify(await s.audit());
  const unaudited = o.created.filter((id) => !audit.includes(id));
  if (unaudited.length !== (spec.gap ?? 0))
    out.push(`keys created that no audit event names: [${unaudited.join(', ')}], expected ${spec.gap ?? 0}`);
  const p = o.poll;
  if (!p) out.push('no poller report');
  else {
    if (p.violations.length)
      out.push(
        `the poller saw ${p.violations.length} instants without a working key in KV: ${JSON.stringify(p.violations.slice(0, 5))}`,
      );
    if (p.errors.length) out.push(`the poller had errors: ${p.errors.slice(0, 3).join(' | ')}`);
    if (p.polls < 5) out.push(`the poller polled only ${p.polls} times`);
    if (!p.keys.includes(o.oldKeyId) || (newId && !p.keys.includes(newId)))
      out.push(`the poller saw keys ${p.keys.join(', ')}: not both the old ${o.oldKeyId} and the new ${newId}`);
  }
  return out;
}

export function formatTrial(r: TrialResult): string {
  const kills = r.kills.map((k) => `${k.point} @ ${k.at} [audit ends ${k.lastEvent}]`).join(' → ') || 'no kill';
  const p = r.poll;
  const poll = p
    ? `poller ${p.polls} polls/${p.raced} raced/${p.relisted ?? 0} relisted/${p.violations.length} violations`
    : 'no poller report';
  const orphans = r.record?.rotation?.orphans.length ?? 0;
  const created = r.created.length;
  return `${r.problems.length ? 'FAIL' : 'ok  '} ${r.name.padEnd(44)} ${String(r.ms).padStart(5)} ms, ${r.generations} workers, ${r.record?.state ?? '?'}, ${created} keys created, ${orphans} orphans recorded, KV ${JSON.stringify(r.kvVersions)}, ${poll}; ${kills}; ms: ${r.timings.join(' ')}${r.problems.length ? `\n     ${r.problems.join('\n     ')}` : ''}`;
}
