/**
 * Redis Cluster readiness (README "Scale-out"): every key credwarden writes is placed by the one
 * hash tag of its own keys or by its queue's, so every multi-key script stays in one slot and
 * the queues spread over the masters. Meaningful with CW_TEST_REDIS_CLUSTER (scripts/redis-cluster.sh
 * start), valid on one Redis too, where the key names are exactly the untagged ones of old.
 *
 * - the effective prefixes of an App (keyPrefix, bullPrefix per queue) in this mode;
 * - a full `scan --once` pipeline (discover, finalize, evaluate, alerts, remediation plan), the
 *   schedule upsert, an API request (shared rate limit) and a dashboard sign-in (session): every
 *   key under the test prefix carries the expected tag (none on one Redis);
 * - on a cluster: credwarden's own keys are all in one slot on one master, the queues' keys are in
 *   more than one slot and on more than one master, and no key was written outside a prefix;
 * - on a cluster: the worker's eviction check reads every master;
 * - a config whose `redis.cluster` does not match the server is refused at connect (exit 2).
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Io } from '../../src/cli/context.js';
import { run } from '../../src/cli/main.js';
import { createLogger } from '../../src/logger.js';
import type { App } from '../../src/main.js';
import { alertQueueName, QueueNames } from '../../src/queue/names.js';
import { hashTagOf, keyPrefix } from '../../src/queue/prefix.js';
import { masters, nodeName, scanAll, warnIfEvicting } from '../../src/queue/redis-nodes.js';
import { bullPrefix, closeQueues, createQueues } from '../../src/queue/runtime.js';
import { discoverSchedule, upsertSchedules } from '../../src/queue/scheduler.js';
import { ACCOUNT_A, ACCOUNT_B, registry, seedEstate } from '../fixtures/aws-estate.js';
import { type TestTokens, testTokens } from '../support/api.js';
import { type TestAppFiles, testApp, useMotoCredentialsEnv, writeTestFiles } from '../support/app.js';
import { lineSink } from '../support/capture.js';
import { dashboard } from '../support/dashboard.js';
import { useMoto } from '../support/moto.js';
import type { Receiver } from '../support/receivers/server.js';
import { startWebhookReceiver, type WebhookReceived } from '../support/receivers/webhook.js';
import { IS_CLUSTER, keysOf, keysOfPrefix, REDIS_URL, useRedis } from '../support/redis.js';

const moto = useMoto();
const r = useRedis('cluster');
const env = (n: string) => ['$', `{env:${n}}`].join('');
const QUEUES = [...Object.values(QueueNames), alertQueueName('hook')];

let files: TestAppFiles;
let tokens: TestTokens;
let hook: Receiver<WebhookReceived>;
/** Keys on the test server before the run that belong to no test prefix (other users of the server). */
let foreignBefore: Set<string>;

/** A key of some test run (this one or another file's): its prefix or tag starts like a test prefix. */
const ofSomeTest = (k: string) => /^\{?cw(test|fault|bench)-/.test(k);

beforeAll(async () => {
  useMotoCredentialsEnv();
  await seedEstate(moto.endpoint);
  const secret = `whsec_${randomBytes(32).toString('base64')}`;
  hook = await startWebhookReceiver({ secrets: [secret] });
  process.env.CW_CLUSTER_HOOK = secret;
  const accounts = [ACCOUNT_A, ACCOUNT_B].map((id) => ({ id, roleArn: `arn:aws:iam::${id}:role/credwarden-reader` }));
  tokens = await testTokens();
  files = writeTestFiles(
    {
      redis: { prefix: r.prefix },
      aws: { endpoint: moto.endpoint, accounts },
      scan: { timeoutSeconds: 60 },
      api: { tokens: tokens.config },
      alerts: {
        sinks: [{ name: 'hook', type: 'webhook', url: `${hook.url}/cw`, secrets: [env('CW_CLUSTER_HOOK')] }],
        routes: [{ page: ['hook'], digest: ['hook'] }],
        delivery: { attempts: 2, backoffMs: 20 },
      },
    },
    registry,
  );
  foreignBefore = new Set((await keysOf(r.redis, '*')).filter((k) => !ofSomeTest(k)));
}, 60_000);

afterAll(async () => {
  await hook?.close();
});

describe('key prefixes of an App', () => {
  let app: App;
  beforeAll(async () => {
    app = await testApp(files);
  });
  afterAll(async () => {
    await app?.close();
  });

  it('credwarden’s keys share one tag on a cluster; each queue has its own; on one Redis nothing changed', () => {
    expect(app.config.redis.cluster).toBe(IS_CLUSTER);
    expect(app.config.redis.prefix).toBe(r.prefix);
    expect(keyPrefix(app.config.redis)).toBe(IS_CLUSTER ? `{${r.prefix}}` : r.prefix);
    expect(r.keyPrefix).toBe(keyPrefix(app.config.redis));
    for (const q of QUEUES)
      expect(bullPrefix(app, q)).toBe(IS_CLUSTER ? `{${r.prefix}:${q}}:bull` : `${r.prefix}:bull`);
    expect(app.scans.keys.creds()).toBe(`${r.keyPrefix}:inv:creds`);
    expect(app.audit.eventsKey).toBe(`${r.keyPrefix}:audit:events`);
    expect(app.remediation.store.keys.approvals('p1')).toBe(`${r.keyPrefix}:act:p1:approvals`);
  });
});

describe('a config that names the wrong mode', () => {
  it('is one CW_ERR_CONFIG line naming the key to change, exit 2, never CROSSSLOT errors later', async () => {
    // The test server with the other mode: a cluster node without cluster: true, or the reverse.
    const wrong = writeTestFiles({ redis: { prefix: `${r.prefix}-wrong`, url: REDIS_URL, cluster: !IS_CLUSTER } }, {});
    const stderr: string[] = [];
    const io: Io = { out: () => {}, err: (s) => stderr.push(s), stderrIsTty: false };
    expect(await run(['--config', wrong.configPath, 'inventory'], io)).toBe(2);
    expect(stderr).toEqual([
      IS_CLUSTER
        ? `credwarden: CW_ERR_CONFIG: redis.url: Redis at ${REDIS_URL} is a node of a Redis Cluster (cluster_enabled:1): set redis.cluster: true`
        : `credwarden: CW_ERR_CONFIG: redis.cluster: Redis at ${REDIS_URL} is not a cluster node (cluster_enabled:0): set redis.cluster: false`,
    ]);
  });
});

describe('a full pipeline run', () => {
  let keys: string[];

  beforeAll(async () => {
    const stdout: string[] = [];
    const stderr: string[] = [];
    const io: Io = { out: (s) => stdout.push(s), err: (s) => stderr.push(s), stderrIsTty: false };
    const code = await run(['--config', files.configPath, 'scan', '--once', '--json'], io);
    expect(
      stderr.filter((l) => l.startsWith('credwarden:')),
      stderr.join('\n'),
    ).toEqual([]);
    expect(code, stderr.join('\n')).toBe(0);
    expect(JSON.parse(stdout.join('\n'))).toMatchObject({ status: 'complete', evaluation: expect.any(Object) });

    // What a worker and the API add: the schedule lock and job scheduler, a rate-limit counter, a session.
    const app = await testApp(files);
    const queues = createQueues(app);
    const ui = await dashboard(app, tokens, { sharedRateLimit: true });
    try {
      const [s] = await upsertSchedules(app.redis, keyPrefix(app.config.redis), [
        discoverSchedule(queues.scan, '0 0 1 1 *'),
      ]);
      expect(s?.upserted).toBe(true);
      expect((await ui.api.call('GET', '/api/v1/inventory', { as: 'viewer' })).statusCode).toBe(200);
      expect(await ui.signIn('viewer')).toMatch(/^cw_session=/);
    } finally {
      await ui.close();
      await closeQueues(queues);
      await app.close();
    }
    keys = await keysOfPrefix(r.redis, `${r.prefix}:`);
  }, 120_000);

  it('wrote the keys of every part (store, audit, findings, alerts, remediation, locks, API, BullMQ)', () => {
    const has = (re: RegExp) => keys.some((k) => re.test(k));
    const own = r.keyPrefix.replace(/[{}]/g, '\\$&');
    for (const part of ['inv:creds', 'scans', 'audit:events', 'audit:head', 'findings', 'scores:credentials'])
      expect(has(new RegExp(`^${own}:${part}$`)), part).toBe(true);
    for (const part of ['alerts:plan:', 'rem:run:', 'schedule-lock', 'ratelimit:', 'ui:session:'])
      expect(has(new RegExp(`^${own}:${part}`)), part).toBe(true);
    for (const q of ['scan', 'discover', 'inventory', 'evaluate'])
      expect(has(new RegExp(`${q}:meta$`)), `queue ${q}`).toBe(true);
  });

  it('every key carries the tag of its owner: {P} for credwarden’s, {P:<queue>} for BullMQ’s (none on one Redis)', () => {
    expect(keys.length).toBeGreaterThan(20);
    for (const k of keys) {
      const tag = hashTagOf(k);
      if (!IS_CLUSTER) {
        expect(tag, k).toBeNull();
        expect(k.startsWith(`${r.prefix}:`), k).toBe(true);
        continue;
      }
      if (tag === r.prefix) {
        expect(k.startsWith(`{${r.prefix}}:`), k).toBe(true);
        expect(k.startsWith(`{${r.prefix}}:bull`), k).toBe(false);
        continue;
      }
      const queue = tag?.slice(r.prefix.length + 1);
      expect(tag?.startsWith(`${r.prefix}:`), k).toBe(true);
      expect(QUEUES, k).toContain(queue);
      expect(k.startsWith(`{${r.prefix}:${queue}}:bull:${queue}:`), k).toBe(true);
    }
  });

  it.runIf(IS_CLUSTER)('on a cluster: own keys in one slot, queues over several slots and masters', async () => {
    const node = masters(r.redis)[0]!;
    const slotOf = async (k: string) => Number(await node.call('CLUSTER', 'KEYSLOT', k));
    const own = keys.filter((k) => hashTagOf(k) === r.prefix);
    expect(new Set(await Promise.all(own.map(slotOf))).size).toBe(1);
    const queueTags = [...new Set(keys.map(hashTagOf).filter((t) => t !== r.prefix))];
    expect(queueTags.length).toBeGreaterThanOrEqual(8);
    expect(new Set(await Promise.all(queueTags.map((t) => slotOf(`{${t}}`)))).size).toBe(queueTags.length);
    // Where the keys are: each master's own SCAN.
    const holders = new Map<string, { own: number; queues: Set<string> }>();
    for (const m of masters(r.redis)) {
      const mine = [...(await scanAll(m, `{${r.prefix}}:*`)), ...(await scanAll(m, `{${r.prefix}:*`))];
      holders.set(nodeName(m), {
        own: mine.filter((k) => hashTagOf(k) === r.prefix).length,
        queues: new Set(mine.map(hashTagOf).filter((t): t is string => !!t && t !== r.prefix)),
      });
    }
    expect([...holders.values()].filter((h) => h.own > 0)).toHaveLength(1);
    expect([...holders.values()].filter((h) => h.queues.size > 0).length, JSON.stringify([...holders])).toBeGreaterThan(
      1,
    );
  });

  it.runIf(IS_CLUSTER)(
    'on a cluster: the eviction check reads every master and names the one that may evict',
    async () => {
      // Only on the test cluster (scripts/redis-cluster.sh), never on a shared server; restored below.
      const [first, second] = masters(r.redis);
      expect(second).toBeDefined();
      const sink = lineSink();
      await second!.config('SET', 'maxmemory-policy', 'allkeys-lru');
      try {
        await warnIfEvicting(r.redis, createLogger({ level: 'info', destination: sink }));
      } finally {
        await second!.config('SET', 'maxmemory-policy', 'noeviction');
      }
      const warned = sink.lines.map((l) => JSON.parse(l) as { node?: string; maxmemoryPolicy?: string });
      expect(warned).toEqual([expect.objectContaining({ node: nodeName(second!), maxmemoryPolicy: 'allkeys-lru' })]);
      expect(warned[0]!.node).not.toBe(nodeName(first!));
    },
  );

  it.runIf(IS_CLUSTER)('on a cluster: no key was written outside a prefix', async () => {
    const foreign = (await keysOf(r.redis, '*')).filter((k) => !ofSomeTest(k) && !foreignBefore.has(k));
    expect(foreign).toEqual([]);
  });
});
