/**
 * Rotation benchmark: `npm run bench:rotate [-- options]`. A measurement, not a test.
 *
 * Starts its own moto_server (IAM and STS) and its own OpenBao dev server (KV v2 at `secret/`),
 * seeds `--keys N` agent users `agent-rot-NNNNN` with one Active access key each, and writes each
 * user's key to its delivery secret `secret/data/<run>/<user>` as version 1 (as root, like an
 * operator would). The registry has one agent per user with `delivery: { vault: { cluster: main,
 * path: secret/data/<run>/<user> } }`; the remediation token may only read, create and update
 * under `secret/data/<run>/*` (test/support/rotation-env.ts's scenario shape).
 *
 * The App runs under the schema's default guardrails except: remediation `mode: enforce`,
 * `rate.max: max(20, N)`, `caps.perPolicyPerRun: max(10, N)` and `caps.percentPerRun: 100` (N rotations
 * of one policy over N matched keys is 100 % of them). minAgeHours, cooldownHours, approvals,
 * protect, breaker and windows are the defaults. One policy, rule `rotation-overdue` (1 day),
 * action `rotate-key` with `graceHours: 0` and `afterDays: 0`, so every rotation runs all seven
 * steps in one executor call and ends `done`. The clock (ManualClock) is 10 days ahead of moto's
 * key creation times.
 *
 * Runs scan + evaluate + planScan in process (timed), then `app.executor.execute(planId)` over
 * the plan ids planScan queued, `--concurrency C` in flight. Wall time per rotation is the time
 * of its executor call (the start's gating, the live re-check and all seven steps). Prints the
 * total wall time, p50/p99 per rotation, throughput, and per rotation the remediation ports'
 * calls by operation (`ports.aws.calls`, `ports.vault.calls`) and every AWS call the App's SDK
 * clients sent in the execute phase.
 *
 * Verifies at the backends: every user has exactly one access key, Active (ListAccessKeys), it is
 * not the seeded one and it is the `access_key_id` in the user's KV secret, and every KV secret
 * has exactly two versions (its metadata). Prints FAIL lines and exits 1 otherwise. Deletes the
 * Redis prefix, stops OpenBao and moto and removes the temp dir at the end, also on error or Ctrl-C.
 *
 * Options:
 *   --keys N         agent users, one rotation each (default 200, at most 5000)
 *   --concurrency C  rotations in flight (default 8, at most 32; aws.maxConcurrency follows it)
 *   --json           print one JSON object with every number (instead of the text report)
 */
import os from 'node:os';
import { cliFlags } from '../lib/flags.js';

const B = 'bench:rotate';
// The SDK's notice that future releases need Node 22 is not what this benchmark measures.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const { fail, intFlag } = cliFlags(B);
const VALUE_FLAGS = ['keys', 'concurrency'];
const BOOL_FLAGS = ['json'];
process.argv.slice(2).forEach((a, i, all) => {
  if (a.startsWith('--')) {
    const name = a.slice(2);
    if (!VALUE_FLAGS.includes(name) && !BOOL_FLAGS.includes(name))
      fail(`unknown option ${a} (known: ${[...VALUE_FLAGS, ...BOOL_FLAGS].map((f) => `--${f}`).join(', ')})`);
  } else if (i === 0 || !VALUE_FLAGS.includes(all[i - 1]!.slice(2))) {
    fail(`unexpected argument "${a}"`);
  }
});
const within = (name: string, fallback: number, min: number, max: number): number => {
  const v = intFlag(name, fallback, min);
  if (v > max) fail(`--${name} is at most ${max}, got ${v}`);
  return v;
};
const KEYS = within('keys', 200, 1, 5_000);
const CONCURRENCY = within('concurrency', 8, 1, 32);
const JSON_OUT = process.argv.includes('--json');

const DAY = 86_400_000;
const log = (m: string): void => {
  process.stderr.write(`${B}: ${m}\n`);
};
const out = (m: string): void => {
  if (!JSON_OUT) console.log(m);
};
const ms = (x: number): string => `${x.toFixed(1)} ms`;
const tally = (into: Record<string, number>, key: string, by = 1): void => {
  into[key] = (into[key] ?? 0) + by;
};
const percentile = (xs: readonly number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] ?? 0;
};
/** A FAIL line: on stdout with the text report, on stderr with --json (stdout holds only the JSON). */
const failLine = (m: string): void => {
  if (JSON_OUT) process.stderr.write(`FAIL ${m}\n`);
  else console.log(`FAIL ${m}`);
};
const round = (x: number, d = 2): number => Math.round(x * 10 ** d) / 10 ** d;

type Release = { what: string; fn: () => Promise<unknown> };
const releases: Release[] = [];
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
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    log(`${sig}: cleaning up`);
    void cleanup().finally(() => process.exit(130));
  });
}

async function pool(n: number, limit: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, n) }, async () => {
      while (next < n) await fn(next++);
    }),
  );
}

interface PerOp {
  total: number;
  attempts: number;
  byOperation: Record<string, number>;
}

async function main(): Promise<boolean> {
  const { mkdirSync, rmSync, writeFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { Redis } = await import('ioredis');
  const { ListAccessKeysCommand } = await import('@aws-sdk/client-iam');
  const { ManualClock } = await import('../../src/clock.js');
  const { diffCounts } = await import('../../src/sources/api-calls.js');
  const { createUser, seederFor } = await import('../../test/support/aws-seed.js');
  const { startMoto } = await import('../../test/support/moto.js');
  const { startOpenBao } = await import('../../test/support/openbao.js');
  const { useMotoCredentialsEnv, writeTestFiles } = await import('../../test/support/app.js');
  const { ACCOUNT } = await import('../../test/support/remediation-env.js');
  const { rotatePolicy } = await import('../../test/support/rotation-env.js');
  const { deletePrefix, randomPrefix, REDIS_URL } = await import('./support.js');
  const { countedApp } = await import('./counted-app.js');

  const awsConcurrency = Math.max(4, CONCURRENCY);
  const cpus = os.cpus();
  out(
    `${B}: Node ${process.version}, ${cpus[0]?.model ?? 'unknown CPU'} (${cpus.length} logical CPUs), ${os.platform()} ${os.arch()}`,
  );
  out(
    `${B}: ${KEYS} agent keys rotated (moto IAM/STS + OpenBao KV v2 delivery), ${CONCURRENCY} in flight, graceHours 0, afterDays 0`,
  );

  // Every IAM/STS operation any SDK client of the App sends (scanner, re-check and remediation pools).
  const allCalls: Record<string, number> = {};

  // --- Backends.
  const t0 = performance.now();
  const [moto, bao] = await Promise.all([startMoto(), startOpenBao()]);
  releases.push({ what: 'stopping moto', fn: () => moto.stop() });
  releases.push({ what: 'stopping OpenBao', fn: () => bao.stop() });
  log(`moto on ${moto.endpoint}, OpenBao on ${bao.address} (${ms(performance.now() - t0)})`);

  // --- Vault: the delivery paths and a remediation token limited to them (rotation-env.ts).
  const base = `bench${process.pid}x${Date.now().toString(36)}`;
  const kvPath = (user: string): string => `${base}/${user}`;
  await bao.call('PUT', `sys/policies/acl/${base}-rem`, {
    policy: `path "secret/data/${base}/*" { capabilities = ["read", "create", "update"] }`,
  });
  const rem = await bao.call('POST', 'auth/token/create', {
    policies: [`${base}-rem`],
    no_default_policy: true,
    no_parent: true,
    display_name: 'credwarden-remediation',
  });
  process.env.CW_BENCH_ROT_VAULT = bao.rootToken;
  process.env.CW_BENCH_ROT_VAULT_REM = String(rem.auth.client_token);
  const envRef = (name: string): string => ['$', `{env:${name}}`].join('');

  // --- Seed: N users with one Active key each; each key into its KV secret as version 1.
  const seeder = await seederFor(moto.endpoint, ACCOUNT);
  releases.push({ what: 'seeder client', fn: async () => seeder.iam.destroy() });
  const userName = (i: number): string => `agent-rot-${String(i).padStart(5, '0')}`;
  const users = Array.from({ length: KEYS }, (_, i) => userName(i));
  const seeded = new Map<string, string>();
  const ts = performance.now();
  await pool(KEYS, 16, async (i) => {
    const u = users[i]!;
    const [k] = await createUser(seeder, { name: u, keys: ['active'] }, moto.endpoint);
    seeded.set(u, k!.accessKeyId);
    const v = await bao.call('POST', `secret/data/${kvPath(u)}`, {
      data: { access_key_id: k!.accessKeyId, secret_access_key: k!.secretAccessKey, region: 'us-east-1' },
    });
    if (v.data.version !== 1) throw new Error(`seeding ${u}: KV version ${v.data.version}, expected 1`);
  });
  const seedMs = performance.now() - ts;

  // --- The App: default guardrails but for mode, rate and caps.
  useMotoCredentialsEnv();
  const prefix = randomPrefix('rotate');
  const clock = new ManualClock(Date.now() + 10 * DAY);
  // Raised, never lowered: a small --keys keeps the defaults (rate.max 20, perPolicyPerRun 10).
  const guardrails = {
    mode: 'enforce',
    rate: { max: Math.max(20, KEYS) },
    caps: { perPolicyPerRun: Math.max(10, KEYS), percentPerRun: 100 },
  };
  const registry = {
    agents: users.map((u) => ({
      id: u,
      name: u,
      owner: { team: 'platform', contact: 'platform@example.com' },
      version: '1.0.0',
      environment: 'prod',
      selectors: { aws: { users: [u] } },
      delivery: { vault: { cluster: 'main', path: `secret/data/${kvPath(u)}` } },
    })),
  };
  const files = writeTestFiles(
    {
      redis: { prefix },
      aws: {
        endpoint: moto.endpoint,
        region: 'us-east-1',
        maxConcurrency: awsConcurrency,
        accounts: [
          {
            id: ACCOUNT,
            roleArn: `arn:aws:iam::${ACCOUNT}:role/credwarden-reader`,
            remediationRoleArn: `arn:aws:iam::${ACCOUNT}:role/credwarden-remediator`,
          },
        ],
      },
      vault: [
        {
          name: 'main',
          address: bao.address,
          token: envRef('CW_BENCH_ROT_VAULT'),
          remediationToken: envRef('CW_BENCH_ROT_VAULT_REM'),
          namespaces: ['root'],
          approleMounts: [],
          leasePrefixes: [],
          awsMounts: [],
          requestTimeoutMs: 5000,
        },
      ],
      policies: ['policies'],
      remediation: guardrails,
    },
    registry,
  );
  releases.push({ what: `removing ${files.dir}`, fn: async () => rmSync(files.dir, { recursive: true, force: true }) });
  mkdirSync(join(files.dir, 'policies'));
  writeFileSync(join(files.dir, 'policies', 'p.yaml'), rotatePolicy('graceHours: 0\nafterDays: 0'));
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  redis.on('error', () => undefined);
  await redis.connect();
  releases.push({ what: 'redis connection', fn: async () => redis.disconnect() });
  releases.push({
    what: `deleting Redis prefix ${prefix}`,
    fn: async () => log(`deleted ${await deletePrefix(redis, prefix)} Redis keys under ${prefix}:`),
  });
  const { app, enqueued } = await countedApp(files.configPath, clock, allCalls);
  releases.push({ what: 'closing the app', fn: () => app.close() });

  // --- Scan, evaluate, plan.
  const scanId = `bench-rotate-${prefix.slice(-8)}`;
  const t1 = performance.now();
  await app.orchestrator.runInProcess(scanId, 'bench', app.orchestrator.units(), 1);
  const t2 = performance.now();
  const evaluation = await app.findings.evaluateScan(scanId);
  const t3 = performance.now();
  const summary = await app.remediation.planScan(scanId);
  const t4 = performance.now();
  const queued = [...new Set(enqueued)];
  const credentials = (await app.scans.currentInventory()).length;

  // --- Execute, C in flight.
  const aws = app.remediation.d.ports.aws;
  const vault = app.remediation.d.ports.vault;
  const snap = (c: PerOp): PerOp => ({ total: c.total, attempts: c.attempts, byOperation: { ...c.byOperation } });
  const awsBefore = snap(aws.calls);
  const vaultBefore = snap(vault.calls);
  const allBefore = { ...allCalls };
  const wakesBefore = enqueued.length;
  const latencies: number[] = [];
  const outcomes: Record<string, number> = {};
  const failures: string[] = [];
  const te = performance.now();
  await pool(queued.length, CONCURRENCY, async (i) => {
    const id = queued[i]!;
    const a = performance.now();
    try {
      const rec = await app.executor.execute(id);
      tally(outcomes, `${rec.state}/${rec.result?.outcome ?? rec.rotation?.step ?? '-'}`);
      if (rec.state !== 'done' && failures.length < 5)
        failures.push(`${id}: ${rec.state}: ${rec.result?.detail ?? rec.rotation?.waiting ?? ''}`);
    } catch (err) {
      tally(outcomes, 'threw');
      if (failures.length < 5) failures.push(`${id}: threw: ${(err as Error).message}`);
    }
    latencies.push(performance.now() - a);
  });
  const execMs = performance.now() - te;
  const n = queued.length;
  const awsD = diffCounts(aws.calls, awsBefore);
  const vaultD = diffCounts(vault.calls, vaultBefore);
  const execOps: Record<string, number> = {};
  for (const [k, v] of Object.entries(allCalls)) {
    const d = v - (allBefore[k] ?? 0);
    if (d > 0) execOps[k] = d;
  }
  const execTotal = Object.values(execOps).reduce((x, y) => x + y, 0);
  const wakes = enqueued.length - wakesBefore;

  // --- Verify at the backends.
  const problems: string[] = [];
  const problem = (m: string): void => {
    problems.push(m);
  };
  let okUsers = 0;
  await pool(KEYS, 16, async (i) => {
    const u = users[i]!;
    const listed = await seeder.iam.send(new ListAccessKeysCommand({ UserName: u }));
    const keys = listed.AccessKeyMetadata ?? [];
    const active = keys.filter((k) => k.Status === 'Active');
    const kv = await bao.request('GET', `secret/data/${kvPath(u)}`);
    const meta = await bao.request('GET', `secret/metadata/${kvPath(u)}`);
    const kvId = kv.status === 200 ? (kv.json?.data?.data?.access_key_id as string | undefined) : undefined;
    const versions = meta.status === 200 ? Object.keys(meta.json.data.versions as Record<string, unknown>).length : 0;
    const bad: string[] = [];
    if (keys.length !== 1 || active.length !== 1)
      bad.push(`${keys.length} key(s) (${keys.map((k) => `${k.AccessKeyId} ${k.Status}`).join(', ')}), not one Active`);
    if (active[0] && active[0].AccessKeyId === seeded.get(u)) bad.push('the Active key is still the seeded one');
    if (!kvId || kvId !== active[0]?.AccessKeyId) bad.push(`KV holds ${kvId ?? 'nothing'}, not the Active key`);
    if (versions !== 2) bad.push(`KV has ${versions} version(s), not 2`);
    if (bad.length) problem(`${u}: ${bad.join('; ')}`);
    else okUsers++;
  });
  if (n !== KEYS) problem(`planScan queued ${n} rotations, not ${KEYS}`);
  const done = outcomes['done/done'] ?? 0;
  if (done !== KEYS) problem(`${done} of ${n} rotations ended done/done`);

  // --- Report.
  const per = (x: number): number => (n > 0 ? x / n : 0);
  const perOps = (o: Record<string, number>): Record<string, number> =>
    Object.fromEntries(
      Object.entries(o)
        .sort((a, b) => (a[0] < b[0] ? -1 : 1))
        .map(([k, v]) => [k, round(per(v))]),
    );
  const fmtOps = (o: Record<string, number>): string =>
    Object.entries(o)
      .map(([k, v]) => `${k} ${v.toFixed(2)}`)
      .join(', ');
  const result = {
    keys: KEYS,
    concurrency: CONCURRENCY,
    awsMaxConcurrency: awsConcurrency,
    guardrailsChanged: guardrails,
    seedMs: round(seedMs, 1),
    scanMs: round(t2 - t1, 1),
    evaluateMs: round(t3 - t2, 1),
    planScanMs: round(t4 - t3, 1),
    credentials,
    open: evaluation.open,
    plans: summary.plans,
    byDecision: summary.byDecision,
    queued: n,
    skipped: summary.skipped,
    rotations: {
      wallMs: round(execMs, 1),
      perRotationMs: {
        measured: 'app.executor.execute(planId), one call per rotation',
        p50: round(percentile(latencies, 50), 1),
        p99: round(percentile(latencies, 99), 1),
        max: round(Math.max(0, ...latencies), 1),
      },
      throughputPerSecond: round(execMs > 0 ? n / (execMs / 1000) : 0, 1),
      outcomes,
      wakeUpsQueued: wakes,
      failures,
    },
    perRotation: {
      aws: {
        total: round(per(awsD.total)),
        attempts: round(per(awsD.attempts)),
        byOperation: perOps(awsD.byOperation),
      },
      vault: {
        total: round(per(vaultD.total)),
        attempts: round(per(vaultD.attempts)),
        byOperation: perOps(vaultD.byOperation),
      },
      allAwsSdkCalls: { total: round(per(execTotal)), byOperation: perOps(execOps) },
    },
    verify: { ok: problems.length === 0, usersOk: okUsers, problems: problems.slice(0, 20) },
  };

  if (JSON_OUT) console.log(JSON.stringify(result));
  const r = result.rotations;
  const p = result.perRotation;
  out(
    `  guardrails changed from the defaults: remediation.mode enforce, rate.max ${guardrails.rate.max} (default 20), ` +
      `caps.perPolicyPerRun ${guardrails.caps.perPolicyPerRun} (default 10), caps.percentPerRun 100 (default 25); aws.maxConcurrency ${awsConcurrency}`,
  );
  out(`  seeding:  ${KEYS} users + keys + KV version 1 in ${ms(seedMs)} (not part of any number below)`);
  out(
    `  scan ${ms(t2 - t1)} (${credentials} credentials), evaluate ${ms(t3 - t2)} (open ${JSON.stringify(evaluation.open)}), ` +
      `planScan ${ms(t4 - t3)} (${summary.plans} plans, ${JSON.stringify(summary.byDecision)}, ${n} queued, ${summary.skipped} skipped)`,
  );
  out(
    `  rotations: ${n} in ${ms(execMs)} wall → ${r.throughputPerSecond.toFixed(1)} rotations/s (${CONCURRENCY} in flight)`,
  );
  out(
    `    wall time per rotation (its app.executor.execute call): p50 ${ms(r.perRotationMs.p50)}, p99 ${ms(r.perRotationMs.p99)}, max ${ms(r.perRotationMs.max)}`,
  );
  out(
    `    outcomes: ${JSON.stringify(outcomes)}; wake-ups queued ${wakes}${failures.length ? `; e.g. ${failures.join(' | ')}` : ''}`,
  );
  out(
    `    AWS per rotation (ports.aws.calls): ${p.aws.total.toFixed(2)} calls (${p.aws.attempts.toFixed(2)} HTTP attempts): ${fmtOps(p.aws.byOperation)}`,
  );
  out(
    `    Vault per rotation (ports.vault.calls): ${p.vault.total.toFixed(2)} calls (${p.vault.attempts.toFixed(2)} HTTP attempts): ${fmtOps(p.vault.byOperation)}`,
  );
  out(
    `    every AWS SDK call of the execute phase (port + live re-check): ${p.allAwsSdkCalls.total.toFixed(2)} per rotation: ${fmtOps(p.allAwsSdkCalls.byOperation)}`,
  );
  if (problems.length === 0)
    out(
      `  verify: OK: ${okUsers} of ${KEYS} users have exactly one key, Active, new, and in KV; every KV secret has 2 versions`,
    );
  for (const m of problems.slice(0, 20)) failLine(m);
  if (problems.length > 20) failLine(`… and ${problems.length - 20} more`);
  return problems.length === 0;
}

let ok = false;
try {
  ok = await main();
} catch (err) {
  failLine(`${B}: ${(err as Error).message}`);
  console.error(`${B}: ${(err as Error).stack ?? String(err)}`);
  ok = false;
} finally {
  await cleanup();
}
process.exit(ok ? 0 : 1);
