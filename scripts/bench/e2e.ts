/**
 * End-to-end benchmark: `npm run bench:e2e -- --users N`. A measurement, not a test.
 *
 * Times a FIRST full scan through the queues (inventory, evaluation and audit) of one moto account
 * holding N agent IAM users:
 *   1. starts its own moto_server (.venv/moto, installed by scripts/setup.sh) on a free port;
 *   2. seeds N users named `agent-e2e-NNNNN` (half also tagged agent=true), each with 1 or 2 access
 *      keys; 10% carry an inline admin policy (`*`), 10% a service wildcard (`s3:*`), 5% IAM
 *      self-escalation rights, 25% a narrow policy, the rest none; plus three human users who must
 *      stay out of the inventory. Seeding runs `--seed-concurrency` users in flight and is timed
 *      and reported separately: it is NOT part of the timed scan;
 *   3. writes a registry (the first 10 users are registered agents, `agent-*` is the unregistered
 *      pattern) and a credwarden.yaml (fresh random redis prefix, aws.endpoint = moto, audit file
 *      in a temp dir, scan.timeoutSeconds = --timeout);
 *   4. times `node dist/src/cli/main.js --config <cfg> --json scan --once` as a child process
 *      (wall clock) and parses its JSON output (the scan summary plus `evaluation`);
 *   5. reads the audit head seq from `<prefix>:audit:head` and runs `credwarden audit verify --json`.
 * Then it deletes the Redis prefix, stops moto and removes the temp dir, also on error or Ctrl-C.
 *
 * Options:
 *   --users N             agent users to seed (default 20000; use 1000 for a quick run)
 *   --timeout S           give up on the scan after S seconds (default 900)
 *   --seed-concurrency C  users seeded in flight (default 24)
 *   --aws-concurrency C   aws.maxConcurrency for the scan (default: credwarden's default, 4)
 *   --keep                keep the temp dir (config, registry, audit.jsonl, scan stderr) and the Redis prefix
 *   --json                finish with one JSON line holding every number
 * Target (issue): under 2 minutes for 20,000 users on this machine.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { CreateAccessKeyCommand, CreateUserCommand, IAMClient, PutUserPolicyCommand } from '@aws-sdk/client-iam';
import { Redis } from 'ioredis';
import {
  argValue,
  checkFlags,
  deletePrefix,
  hasFlag,
  intArg,
  perSecond,
  REDIS_URL,
  randomPrefix,
  seconds,
  usage,
} from './support.js';

const B = 'e2e';
// The SDK's notice that future releases need Node 22 is not what this benchmark measures.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLI = join(ROOT, 'dist', 'src', 'cli', 'main.js');
const MOTO_BIN = join(ROOT, '.venv', 'moto', 'bin', 'moto_server');
const ACCOUNT = '123456789012'; // moto's home account for any credentials
const REGISTERED = 10;
const HUMANS = ['alice', 'bob', 'carol'];

checkFlags(B, ['users', 'timeout', 'seed-concurrency', 'aws-concurrency', 'keep', 'json']);
const users = intArg(B, 'users', 20_000);
const timeoutS = intArg(B, 'timeout', 900, 10);
const seedConcurrency = intArg(B, 'seed-concurrency', 24);
const awsConcurrency = argValue('aws-concurrency') === undefined ? undefined : intArg(B, 'aws-concurrency', 4);
if (awsConcurrency !== undefined && awsConcurrency > 32) usage(B, '--aws-concurrency is at most 32');
const keep = hasFlag('keep');
const json = hasFlag('json');

const log = (m: string): void => {
  process.stderr.write(`bench:e2e: ${m}\n`);
};

// ---------------------------------------------------------------------------------------------
// Resources, released in reverse order by cleanup() (also on error and on SIGINT/SIGTERM).

const releases: { what: string; fn: () => Promise<unknown> }[] = [];
let cleaned = false;
async function cleanup(): Promise<void> {
  if (cleaned) return;
  cleaned = true;
  for (const r of releases.reverse()) {
    try {
      await r.fn();
    } catch (err) {
      log(`cleanup: ${r.what} failed: ${(err as Error).message}`);
    }
  }
}
const live = new Set<ChildProcess>();
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    log(`${sig}: cleaning up`);
    // The scan must be gone before its Redis prefix is deleted, or it could write keys back.
    void Promise.all([...live].map((c) => stopChild(c, 5000)))
      .then(cleanup)
      .finally(() => process.exit(130));
  });
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

async function stopChild(child: ChildProcess, graceMs: number): Promise<void> {
  const done = exited(child);
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await done;
  clearTimeout(t);
  live.delete(child);
}

// ---------------------------------------------------------------------------------------------
// moto

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

async function answers(endpoint: string): Promise<boolean> {
  try {
    const res = await fetch(`${endpoint}/moto-api/`, { signal: AbortSignal.timeout(1000) });
    await res.arrayBuffer();
    return res.ok;
  } catch {
    return false;
  }
}

async function startMoto(): Promise<string> {
  if (!existsSync(MOTO_BIN)) {
    const r = spawnSync('bash', [join(ROOT, 'scripts', 'moto-venv.sh')], { stdio: ['ignore', 2, 2] });
    if (r.status !== 0) throw new Error('scripts/moto-venv.sh failed');
  }
  mkdirSync(join(ROOT, '.cw'), { recursive: true });
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const logFile = join(ROOT, '.cw', `moto-${port}.log`);
  const env = { ...process.env };
  delete env.MOTO_ACCOUNT_ID;
  const out = createWriteStream(logFile);
  await new Promise((r) => out.once('open', r));
  const child = spawn(MOTO_BIN, ['-H', '127.0.0.1', '-p', String(port)], { env, stdio: ['ignore', out, out] });
  live.add(child);
  releases.push({
    what: 'stopping moto',
    fn: async () => {
      await stopChild(child, 3000);
      out.close();
      log(`moto stopped (log ${logFile})`);
    },
  });
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`moto_server exited with code ${child.exitCode}; see ${logFile}`);
    if (await answers(endpoint)) return endpoint;
    await sleep(100);
  }
  throw new Error(`moto_server gave no answer on ${endpoint}/moto-api/ within 30 s; see ${logFile}`);
}

// ---------------------------------------------------------------------------------------------
// Seeding

const doc = (actions: string[]): string =>
  JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: actions, Resource: '*' }] });

const POLICY_KINDS: { upTo: number; name: string; document: string | null }[] = [
  { upTo: 10, name: 'admin', document: doc(['*']) },
  { upTo: 20, name: 's3-everything', document: doc(['s3:*']) },
  { upTo: 25, name: 'self-service', document: doc(['iam:CreateAccessKey', 'iam:PutUserPolicy']) },
  { upTo: 50, name: 'read-objects', document: doc(['s3:GetObject', 'dynamodb:Query']) },
  { upTo: 100, name: '', document: null },
];

const userName = (i: number): string => `agent-e2e-${String(i).padStart(5, '0')}`;

interface SeedStats {
  users: number;
  humans: number;
  keys: number;
  agentKeys: number;
  policies: Record<string, number>;
  requests: number;
  ms: number;
}

async function pool(n: number, limit: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, n) }, async () => {
      while (next < n) await fn(next++);
    }),
  );
}

async function seed(endpoint: string): Promise<SeedStats> {
  const iam = new IAMClient({
    region: 'us-east-1',
    endpoint,
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    maxAttempts: 8,
  });
  const stats: SeedStats = {
    users: users,
    humans: HUMANS.length,
    keys: 0,
    agentKeys: 0,
    policies: {},
    requests: 0,
    ms: 0,
  };
  const counted = async (request: Promise<unknown>): Promise<void> => {
    await request;
    stats.requests++;
  };
  const t0 = performance.now();
  let done = 0;
  const ticker = setInterval(() => {
    const ms = performance.now() - t0;
    log(
      `seeding: ${done}/${users} users, ${stats.requests} requests in ${seconds(ms)} s (${perSecond(stats.requests, ms)} req/s)`,
    );
  }, 10_000);
  try {
    await pool(users, seedConcurrency, async (i) => {
      const name = userName(i);
      const tags = i % 2 === 0 ? [{ Key: 'agent', Value: 'true' }] : [];
      await counted(iam.send(new CreateUserCommand({ UserName: name, Tags: tags })));
      const kind = POLICY_KINDS.find((k) => i % 100 < k.upTo)!;
      if (kind.document) {
        await counted(
          iam.send(new PutUserPolicyCommand({ UserName: name, PolicyName: kind.name, PolicyDocument: kind.document })),
        );
        stats.policies[kind.name] = (stats.policies[kind.name] ?? 0) + 1;
      }
      const keys = i % 3 === 0 ? 2 : 1;
      for (let k = 0; k < keys; k++) await counted(iam.send(new CreateAccessKeyCommand({ UserName: name })));
      stats.keys += keys;
      stats.agentKeys += keys;
      done++;
    });
    for (const human of HUMANS) {
      await counted(iam.send(new CreateUserCommand({ UserName: human })));
      await counted(iam.send(new CreateAccessKeyCommand({ UserName: human })));
      stats.keys++;
    }
  } finally {
    clearInterval(ticker);
    iam.destroy();
  }
  stats.ms = performance.now() - t0;
  return stats;
}

// ---------------------------------------------------------------------------------------------
// Config and registry

function registryYaml(): string {
  const agents = Array.from({ length: Math.min(REGISTERED, users) }, (_, i) =>
    [
      `  - id: bench-agent-${i}`,
      `    name: Bench agent ${i}`,
      ...(i % 5 === 4 ? [] : [`    owner: { team: team-${i % 3}, contact: team-${i % 3}@example.com }`]),
      `    version: "1.${i}.0"`,
      `    environment: ${i % 2 === 0 ? 'prod' : 'staging'}`,
      `    scopes: { aws: ["s3:GetObject", "dynamodb:Query"] }`,
      `    selectors: { aws: { users: ["${userName(i)}"] } }`,
    ].join('\n'),
  );
  return [
    '# bench:e2e registry: the first users are registered agents; every other agent-* user is unregistered.',
    'agents:',
    ...agents,
    'unregistered:',
    '  aws: { tags: { agent: "true" }, namePatterns: ["agent-*"] }',
    '',
  ].join('\n');
}

function configYaml(prefix: string, endpoint: string): string {
  return [
    `redis: { url: "${REDIS_URL}", prefix: ${prefix} }`,
    'aws:',
    `  endpoint: ${endpoint}`,
    '  region: us-east-1',
    `  accounts: [{ id: "${ACCOUNT}", name: bench }]`,
    // moto cannot paginate GetAccountAuthorizationDetails: one response holds every user.
    '  requestTimeoutMs: 300000',
    ...(awsConcurrency ? [`  maxConcurrency: ${awsConcurrency}`] : []),
    'registry: agents.yaml',
    'audit: { file: audit.jsonl }',
    `scan: { timeoutSeconds: ${timeoutS} }`,
    '',
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------
// Running the CLI

interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  ms: number;
  stdout: string;
  stderrTail: string[];
  timedOut: boolean;
}

function runCli(
  args: string[],
  env: NodeJS.ProcessEnv,
  opts: { timeoutMs: number; stderrFile: string; onTick?: (ms: number) => Promise<void> },
): Promise<CliRun> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'], cwd: ROOT });
    live.add(child);
    const errFile = createWriteStream(opts.stderrFile, { flags: 'a' });
    let stdout = '';
    let tail: string[] = [];
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      errFile.write(d);
      tail = tail.concat(d.split('\n').filter(Boolean)).slice(-15);
    });
    let timedOut = false;
    const killer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
    }, opts.timeoutMs);
    let ticking = false;
    const ticker = opts.onTick
      ? setInterval(() => {
          if (ticking) return;
          ticking = true;
          void opts.onTick?.(performance.now() - t0).finally(() => {
            ticking = false;
          });
        }, 10_000)
      : undefined;
    child.once('exit', (code, signal) => {
      const ms = performance.now() - t0;
      clearTimeout(killer);
      if (ticker) clearInterval(ticker);
      live.delete(child);
      errFile.end();
      // stdout may still be draining after 'exit'; its 'end' comes once all of it is read.
      const finish = () => resolve({ code, signal, ms, stdout, stderrTail: tail, timedOut });
      if (child.stdout.readableEnded) finish();
      else child.stdout.once('end', finish);
    });
  });
}

function parseJsonOutput(text: string): unknown {
  const t = text.trim();
  try {
    return JSON.parse(t);
  } catch {
    // Anything printed before the JSON document: parse from the first line that opens one.
    const at = t.search(/^[[{]/m);
    if (at > 0) return JSON.parse(t.slice(at));
    throw new Error(`not JSON: ${t.slice(0, 200)}`);
  }
}

interface ScanOutput {
  id: string;
  startedAt: string;
  finishedAt: string | null;
  status: string;
  units: { key: string; status: string; credentials: number; apiCalls: number; problems: unknown[] }[];
  counts: {
    credentials: number;
    byKind: Record<string, number>;
    agents: number;
    unattributed: number;
    unregisteredAgent: number;
    drift: Record<string, number>;
  };
  apiCalls: { total: number; attempts?: number; byOperation?: Record<string, number> };
  evaluation?: { transitions: Record<string, number>; open: Record<string, number>; suppressed: number };
}

/** One entry of `audit verify --json`: a chain check (redis, file) or another check (e.g. a cross-check). */
interface VerifyOutput {
  where: string;
  result: {
    ok: boolean;
    count?: number;
    compared?: number;
    firstBroken?: { seq: number; reason: string; detail: string };
    problems?: string[];
  };
}

function describeVerify(v: VerifyOutput): string {
  const r = v.result;
  const label = v.where.startsWith('redis ') ? 'redis' : v.where.includes('/') ? 'file' : v.where;
  if (r.ok) {
    const n =
      typeof r.count === 'number'
        ? ` ${r.count} events`
        : typeof r.compared === 'number'
          ? ` ${r.compared} events compared`
          : '';
    return `${label} OK${n}`;
  }
  const why = r.firstBroken
    ? `BROKEN at #${r.firstBroken.seq}: ${r.firstBroken.reason}: ${r.firstBroken.detail}`
    : `FAILED: ${(r.problems ?? []).join('; ') || JSON.stringify(r)}`;
  return `${v.where} ${why}`;
}

const fmt = (o: Record<string, number> | undefined): string =>
  o && Object.keys(o).length
    ? Object.entries(o)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')
    : 'none';

// ---------------------------------------------------------------------------------------------

async function main(): Promise<number> {
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    await redis.ping();
  } catch (err) {
    log(`cannot reach Redis at ${REDIS_URL}: ${(err as Error).message}`);
    return 2;
  }
  releases.push({ what: 'closing Redis', fn: async () => redis.disconnect() });
  if (!existsSync(CLI)) {
    log(`${CLI} is missing: run through \`npm run bench:e2e\` (it builds the CLI first)`);
    return 2;
  }

  const prefix = randomPrefix('e2e');
  const dir = await mkdtemp(join(tmpdir(), 'cwbench-e2e-'));
  releases.push({
    what: 'removing the temp dir',
    fn: async () => {
      if (keep) log(`kept ${dir}`);
      else await rm(dir, { recursive: true, force: true });
    },
  });
  releases.push({
    what: `deleting Redis prefix ${prefix}`,
    fn: async () => {
      if (keep) log(`kept Redis prefix ${prefix}`);
      else log(`deleted ${await deletePrefix(redis, prefix)} Redis keys under ${prefix}:`);
    },
  });

  log(`starting moto_server`);
  const endpoint = await startMoto();
  log(`moto at ${endpoint}; seeding ${users} agent users, ${seedConcurrency} in flight`);
  const seeded = await seed(endpoint);
  log(`seeded in ${seconds(seeded.ms)} s`);

  const cfg = join(dir, 'credwarden.yaml');
  await writeFile(join(dir, 'agents.yaml'), registryYaml());
  await writeFile(cfg, configYaml(prefix, endpoint));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    AWS_ACCESS_KEY_ID: 'bench',
    AWS_SECRET_ACCESS_KEY: 'bench',
    AWS_REGION: 'us-east-1',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
  for (const k of ['AWS_PROFILE', 'AWS_SESSION_TOKEN', 'CREDWARDEN_CONFIG']) delete env[k];
  const headSeq = async (): Promise<number> => Number((await redis.hget(`${prefix}:audit:head`, 'seq')) ?? 0);
  /** Where the newest scan is, from its Redis hash: running, complete or partial, and whether evaluated. */
  const scanState = async (): Promise<string> => {
    const [id] = await redis.zrevrange(`${prefix}:scans`, 0, 0);
    if (!id) return 'no scan recorded yet';
    const [status, evaluation] = await redis.hmget(`${prefix}:scan:${id}`, 'status', 'evaluation');
    return `scan ${status ?? 'starting'}${evaluation ? ', evaluated' : status && status !== 'running' ? ', evaluating' : ''}`;
  };
  let lastState = '';

  log(`timing: node dist/src/cli/main.js --config ${cfg} --json scan --once (timeout ${timeoutS} s)`);
  let lastSeq = 0;
  let lastMs = 0;
  const scan = await runCli(['--config', cfg, '--json', 'scan', '--once'], env, {
    timeoutMs: timeoutS * 1000,
    stderrFile: join(dir, 'scan.stderr.log'),
    onTick: async (ms) => {
      const seq = await headSeq().catch(() => lastSeq);
      lastState = await scanState().catch(() => lastState);
      log(
        `${seconds(ms)} s: ${lastState}; audit seq ${seq} (${perSecond(seq - lastSeq, ms - lastMs)} events/s lately)`,
      );
      lastSeq = seq;
      lastMs = ms;
    },
  });
  const spawnedAt = Date.now() - scan.ms;
  const auditEvents = await headSeq();
  lastState = await scanState().catch(() => lastState);
  // The audit's own pace: from the first event after scan.started (seq 2) to the last one, by the
  // events' own times. Discovery, which writes nothing, is left out.
  const eventTime = async (range: 'first' | 'last'): Promise<number | undefined> => {
    const key = `${prefix}:audit:events`;
    const entries =
      range === 'first'
        ? await redis.xrange(key, '2-0', '+', 'COUNT', 1)
        : await redis.xrevrange(key, '+', '-', 'COUNT', 1);
    const text = entries[0]?.[1][1];
    const t = text ? Date.parse((JSON.parse(text) as { time?: string }).time ?? '') : Number.NaN;
    return Number.isNaN(t) ? undefined : t;
  };
  const [firstAt, lastAt] = await Promise.all([eventTime('first'), eventTime('last')]).catch(() => [
    undefined,
    undefined,
  ]);
  const auditSpanMs = firstAt !== undefined && lastAt !== undefined && lastAt > firstAt ? lastAt - firstAt : undefined;

  let summary: ScanOutput | undefined;
  let parseError: string | undefined;
  if (!scan.timedOut) {
    try {
      summary = parseJsonOutput(scan.stdout) as ScanOutput;
    } catch (err) {
      parseError = (err as Error).message;
    }
  }

  const verifyStart = performance.now();
  const verify = await runCli(['--config', cfg, '--json', 'audit', 'verify'], env, {
    timeoutMs: 600_000,
    stderrFile: join(dir, 'verify.stderr.log'),
  });
  const verifyMs = performance.now() - verifyStart;
  let verified: VerifyOutput[] = [];
  try {
    verified = parseJsonOutput(verify.stdout) as VerifyOutput[];
  } catch (err) {
    verified = [];
    log(`audit verify printed no JSON (${(err as Error).message}); stderr: ${verify.stderrTail.join(' | ')}`);
  }

  // ------------------------------------------------------------------------------------------
  const scanS = scan.ms / 1000;
  const out: string[] = [];
  out.push(
    `users:                ${users} agent users (${Math.min(REGISTERED, users)} registered) + ${HUMANS.length} humans`,
  );
  out.push(
    `credentials seeded:   ${seeded.agentKeys} agent access keys (+ ${HUMANS.length} human keys, which must not be inventoried); inline policies: ${fmt(seeded.policies)}`,
  );
  out.push(
    `seeding (not timed):  ${seconds(seeded.ms)} s, ${seeded.requests} IAM requests, ${perSecond(seeded.requests, seeded.ms)} req/s, ${seedConcurrency} users in flight`,
  );
  const how = scan.timedOut ? 'TIMED OUT, killed' : scan.signal ? `killed by ${scan.signal}` : `exit code ${scan.code}`;
  out.push(`scan wall time:       ${seconds(scan.ms)} s (scan --once, ${how})`);
  if (scan.timedOut) {
    out.push(
      `  the scan did not finish within --timeout ${timeoutS} s (${lastState}). Audit events written by then: ${auditEvents} ` +
        `(${perSecond(auditEvents, scan.ms)} events/s). Re-run with a larger --timeout, or fewer --users.`,
    );
  } else if (!summary) {
    out.push(`  no scan summary: ${parseError ?? 'no output'}`);
    for (const l of scan.stderrTail) out.push(`  stderr: ${l}`);
  }
  if (summary) {
    const c = summary.counts;
    out.push(
      `scan summary:         ${summary.id}: ${summary.status}; credentials ${c.credentials} (${fmt(c.byKind)}); agents ${c.agents}; unattributed ${c.unattributed}; unregistered ${c.unregisteredAgent}`,
    );
    out.push(`  drift:              ${fmt(c.drift)}`);
    if (summary.finishedAt) {
      const started = Date.parse(summary.startedAt) - spawnedAt;
      const finalized = Date.parse(summary.finishedAt) - spawnedAt;
      out.push(
        `  phases:             CLI start to scan start ${seconds(started)} s; discovery + finalize (drift audited) ${seconds(finalized - started)} s; evaluation (transitions audited) until exit ${seconds(scan.ms - finalized)} s`,
      );
    }
    out.push(`  IAM calls:          ${summary.apiCalls.total} (${fmt(summary.apiCalls.byOperation)})`);
    for (const u of summary.units.filter((x) => x.problems.length > 0))
      out.push(`  unit ${u.key}: ${u.status}: ${JSON.stringify(u.problems)}`);
    if (c.credentials !== seeded.agentKeys)
      out.push(`  NOTE: ${c.credentials} credentials inventoried, ${seeded.agentKeys} agent keys seeded`);
    const ev = summary.evaluation;
    out.push(
      ev
        ? `evaluation:           transitions: ${fmt(ev.transitions)}; open: ${fmt(ev.open)}; suppressed ${ev.suppressed}`
        : 'evaluation:           missing from the output',
    );
  }
  out.push(
    `audit events written: ${auditEvents} (${prefix}:audit:head seq), ${perSecond(auditEvents, scan.ms)} events/s over the scan wall time`,
  );
  if (auditSpanMs !== undefined)
    out.push(
      `  audit pace:         ${auditEvents - 1} events between the first drift event and the last event in ${seconds(auditSpanMs)} s (${perSecond(auditEvents - 1, auditSpanMs)} events/s, by the events' own times; evaluation work in between included)`,
    );
  const verifyOk = verified.length > 0 && verified.every((v) => v.result.ok) && verify.code === 0;
  out.push(
    `audit verify:         ${verifyOk ? 'OK' : 'FAILED'} in ${seconds(verifyMs)} s (exit code ${verify.code}): ${
      verified.map(describeVerify).join('; ') || verify.stderrTail.join(' | ')
    }`,
  );
  const finished = summary !== undefined && summary.status === 'complete' && !!summary.evaluation;
  out.push(
    `target:               < 120 s for 20000 users; this run: ${users} users in ${seconds(scan.ms)} s (${
      finished ? (scanS < 120 ? 'under 2 minutes' : 'OVER 2 minutes') : 'did not complete'
    })`,
  );
  console.log(out.join('\n'));
  if (json) {
    console.log(
      JSON.stringify({
        bench: 'e2e',
        node: process.version,
        users,
        registeredAgents: Math.min(REGISTERED, users),
        seeding: {
          seconds: Number((seeded.ms / 1000).toFixed(3)),
          requests: seeded.requests,
          requestsPerSecond: perSecond(seeded.requests, seeded.ms),
          concurrency: seedConcurrency,
          agentKeys: seeded.agentKeys,
          humanKeys: HUMANS.length,
          policies: seeded.policies,
        },
        scan: {
          seconds: Number(scanS.toFixed(3)),
          timedOut: scan.timedOut,
          exitCode: scan.code,
          timeoutSeconds: timeoutS,
          id: summary?.id ?? null,
          startedAt: summary?.startedAt ?? null,
          finishedAt: summary?.finishedAt ?? null,
          status: summary?.status ?? null,
          counts: summary?.counts ?? null,
          apiCalls: summary?.apiCalls ?? null,
          evaluation: summary?.evaluation ?? null,
        },
        audit: {
          events: auditEvents,
          eventsPerSecond: perSecond(auditEvents, scan.ms),
          span:
            auditSpanMs === undefined
              ? null
              : {
                  seconds: Number((auditSpanMs / 1000).toFixed(3)),
                  eventsPerSecond: perSecond(auditEvents - 1, auditSpanMs),
                },
          verify: { ok: verifyOk, seconds: Number((verifyMs / 1000).toFixed(3)), results: verified },
        },
        target: { users: 20_000, seconds: 120, met: users >= 20_000 && finished && scanS < 120 },
      }),
    );
  }
  return finished && verifyOk && scan.code === 0 ? 0 : 1;
}

let code = 1;
try {
  code = await main();
} catch (err) {
  log(`failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  code = 1;
} finally {
  await cleanup();
}
process.exit(code);
