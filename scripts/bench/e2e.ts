/**
 * End-to-end benchmark: `npm run bench:e2e -- --agents 20000 --accounts 10 --workers 1,2,4`.
 * A measurement, not a test.
 *
 * Measures inventory, evaluation and remediation planning (dry-run) of one scan of a moto estate,
 * done by W separate worker processes through the queues:
 *   1. starts its own moto_server and seeds N agent users over A accounts, 2 access keys each,
 *      with the policy mix of e2e-estate.ts (admin, service wildcard, self-escalation, narrow).
 *      Seeding is timed and reported on its own; it is not part of the measured pipeline;
 *   2. puts a counting proxy in front of moto (e2e-proxy.ts): the IAM calls by action;
 *   3. for each worker count W in --workers (one seeded moto for all of them), with a fresh Redis
 *      prefix: starts W `credwarden worker --no-schedule` processes, queues one scan with
 *      `credwarden scan` (no --once: the workers do the work) and waits until the remediation run
 *      is recorded (e2e-pipeline.ts); then reports the wall time per stage from the audit chain
 *      (e2e-stages.ts), credentials per second, IAM calls per agent, each worker's peak RSS
 *      (VmHWM) and CPU, and Redis memory (INFO used_memory before and after, MEMORY USAGE of the
 *      prefix's keys) per credential; then stops the workers and deletes the prefix;
 *   4. with several worker counts, a scaling table.
 * Everything (workers, proxy, moto, prefixes, the temp dir) is released on exit, on error and on
 * Ctrl-C (--keep keeps the temp dir and the prefixes).
 *
 * Options:
 *   --agents N            agent users (default 20000); --users N is the same
 *   --accounts A          moto accounts the agents are spread over evenly (default 1)
 *   --workers W[,W…]      worker processes; a list runs the pipeline once per count (default 1)
 *   --timeout S           scan.timeoutSeconds; a run not done within 2 × S fails (default 900)
 *   --seed-concurrency C  agents seeded in flight (default 32)
 *   --aws-concurrency C   aws.maxConcurrency (in-flight IAM calls per account; default credwarden's, 4)
 *   --redis-cluster URL   a Redis Cluster seed node: `redis: { url, cluster: true }`, memory summed over every master
 *   --keep                keep the temp dir (configs, worker logs, audit files) and the Redis prefixes
 *   --json                finish with one JSON line holding every number
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { configYaml } from './e2e-config.js';
import { accountIds, REMEDIATION_POLICIES, registryYaml, seedEstate } from './e2e-estate.js';
import { startMoto } from './e2e-moto.js';
import { configPath, type PipelineResult, runPipeline } from './e2e-pipeline.js';
import { cleanup, installSignalHandlers, isInterrupted, log, onCleanup } from './e2e-procs.js';
import { startCountingProxy } from './e2e-proxy.js';
import { deletePrefixKeys, openRedis } from './e2e-redis.js';
import { jsonReport, runLines, scalingLines, seedLines } from './e2e-report.js';
import { argValue, checkFlags, hasFlag, intArg, REDIS_URL, randomPrefix, seconds, usage } from './support.js';

const B = 'e2e';
// The SDK's notice that future releases need Node 22 is not what this benchmark measures.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLI = join(ROOT, 'dist', 'src', 'cli', 'main.js');

checkFlags(B, [
  'agents',
  'users',
  'accounts',
  'workers',
  'timeout',
  'seed-concurrency',
  'aws-concurrency',
  'redis-cluster',
  'keep',
  'json',
]);
const agents = intArg(B, argValue('agents') === undefined ? 'users' : 'agents', 20_000);
const accounts = intArg(B, 'accounts', 1);
if (accounts > agents) usage(B, `--accounts ${accounts} is more than --agents ${agents}`);
if (accounts > 100) usage(B, '--accounts is at most 100');
const workerCounts = (argValue('workers') ?? '1').split(',').map((w) => {
  const v = Number(w);
  if (!Number.isSafeInteger(v) || v < 1 || v > 16)
    usage(B, `--workers needs counts from 1 to 16 (e.g. 1,2,4), got "${w}"`);
  return v;
});
const timeoutS = intArg(B, 'timeout', 900, 10);
const seedConcurrency = intArg(B, 'seed-concurrency', 32);
const awsConcurrency = argValue('aws-concurrency') === undefined ? undefined : intArg(B, 'aws-concurrency', 4);
if (awsConcurrency !== undefined && awsConcurrency > 32) usage(B, '--aws-concurrency is at most 32');
const clusterSeed = argValue('redis-cluster');
if (clusterSeed === '') usage(B, '--redis-cluster needs a seed URL, e.g. redis://127.0.0.1:7000');
const cluster = clusterSeed !== undefined;
const redisUrl = clusterSeed ?? REDIS_URL;
const keep = hasFlag('keep');
const json = hasFlag('json');

async function main(): Promise<number> {
  if (!existsSync(CLI)) {
    log(`${CLI} is missing: run through \`npm run bench:e2e\` (it builds the CLI first)`);
    return 2;
  }
  let redis: Awaited<ReturnType<typeof openRedis>>;
  try {
    redis = await openRedis(redisUrl, cluster);
  } catch (err) {
    log(`cannot reach Redis${cluster ? ' Cluster' : ''} at ${redisUrl}: ${(err as Error).message}`);
    return 2;
  }
  onCleanup('closing Redis', async () => redis.close());
  const dir = await mkdtemp(join(tmpdir(), 'cwbench-e2e-'));
  onCleanup('removing the temp dir', async () => {
    if (keep) log(`kept ${dir}`);
    else await rm(dir, { recursive: true, force: true });
  });

  log('starting moto_server');
  const moto = await startMoto(ROOT);
  const ids = accountIds(accounts);
  log(`moto at ${moto.endpoint}; seeding ${agents} agents over ${accounts} account(s), ${seedConcurrency} in flight`);
  const seed = await seedEstate(moto.endpoint, { agents, accounts: ids, concurrency: seedConcurrency });
  log(`seeded in ${seconds(seed.ms)} s (${seed.requests} requests)`);

  const registryFile = join(dir, 'agents.yaml');
  const policiesFile = join(dir, 'bench-remediation.yaml');
  await writeFile(registryFile, registryYaml(agents));
  await writeFile(policiesFile, REMEDIATION_POLICIES);
  const proxy = await startCountingProxy(moto.endpoint);
  onCleanup('closing the counting proxy', () => proxy.close());
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    AWS_ACCESS_KEY_ID: 'bench',
    AWS_SECRET_ACCESS_KEY: 'bench',
    AWS_REGION: 'us-east-1',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
  for (const k of ['AWS_PROFILE', 'AWS_SESSION_TOKEN', 'CREDWARDEN_CONFIG', 'CW_LOG_LEVEL']) delete env[k];

  const runs: PipelineResult[] = [];
  for (const [n, workers] of workerCounts.entries()) {
    if (isInterrupted()) break;
    const prefix = randomPrefix('e2e');
    const config = configPath(dir, prefix);
    await writeFile(
      config,
      configYaml({
        root: ROOT,
        dir,
        prefix,
        redisUrl,
        cluster,
        awsEndpoint: proxy.address,
        accounts: ids,
        awsConcurrency,
        timeoutS,
        registryFile,
        policiesFile,
      }),
    );
    const dropPrefix = onCleanup(`deleting Redis prefix ${prefix}`, async () => {
      if (keep) log(`kept Redis prefix ${prefix}`);
      else log(`deleted ${await deletePrefixKeys(redis, prefix)} Redis keys of ${prefix}`);
    });
    log(`run ${n + 1} of ${workerCounts.length}: ${workers} worker(s), prefix ${prefix}`);
    const r = await runPipeline({
      cli: CLI,
      root: ROOT,
      dir,
      env,
      config,
      prefix,
      keyPrefix: cluster ? `{${prefix}}` : prefix,
      redis,
      proxy,
      motoPid: moto.pid,
      workers,
      timeoutS,
    });
    if (isInterrupted()) break;
    runs.push(r);
    await dropPrefix();
    for (const l of runLines(r, agents, 'dry-run')) log(l);
    // Let the server free what was unlinked before the next run's "before".
    if (n + 1 < workerCounts.length) await sleep(3000);
  }

  if (isInterrupted()) return 130;
  const out = [...seedLines(seed, workerCounts.length > 1)];
  for (const r of runs) out.push(...runLines(r, agents, 'dry-run'));
  out.push(...scalingLines(runs, agents));
  console.log(out.join('\n'));
  if (json) console.log(jsonReport({ agents, accounts, seed, runs, cluster }));
  const ok = runs.every((r) => r.done && r.scan?.status === 'complete' && r.scan.counts.credentials === seed.agentKeys);
  if (!ok) log('not every run completed with every seeded agent key inventoried: exit code 1');
  return ok ? 0 : 1;
}

installSignalHandlers();
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
