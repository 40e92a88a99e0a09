/**
 * The "Rotation with no outage" invariant: a rotation's new secret exists only in credwarden's
 * memory and in the delivery (Vault KV v2); never in Redis (records, audit stream, BullMQ job
 * data and return values), logs, the JSONL audit mirror, alerts or CLI output.
 *
 * One App built here with a trace-level logger into a captured sink, driven through the REAL
 * BullMQ workers (a start-scan job: scan → finalize → evaluate → plan → remediate jobs, the
 * rotation's wake-ups as delayed jobs while the ManualClock moves on), alerts routed to a local
 * PagerDuty receiver (page: change events) and a Standard Webhooks receiver (digest lines):
 * - rotate-key of an IAM user (moto) with a short grace, to `done` through delayed wake-ups;
 * - rotate-secret-id of an AppRole secret ID and rotate-token of a Vault token (OpenBao), to `done`;
 * - rotate-key failing on a check-and-set conflict (KV written between create and deliver);
 * - rotate-key failing on a 403 at deliver (the remediation token can only read that KV path).
 *
 * Canaries: every new secret as delivered in KV; every secret credwarden created, retired ones
 * included (read where its port returned it: the CAS and 403 keys were never delivered); every
 * secret seen on the wire between credwarden and moto / OpenBao (recording proxies: the STS session
 * credentials of the scanner and remediator roles, the proving AppRole logins' tokens, the new
 * token's lookup-self id); the old secrets (KV version 1, read at prepare); the scanner and
 * remediation tokens, the webhook signing secret and the audit HMAC key. Searched in raw,
 * URL-encoded, JSON-escaped, base64 and hex form across every key under the Redis prefix, every
 * log line, the CLI's `actions list --json` and `actions show <id>` (text and --json) output
 * (in process, captured Io; the CLI's own App logs at warn to fd 2, which is not captured here),
 * every request (body and headers) the alert receivers got, and every file in the config directory
 * (the JSONL audit mirror among them).
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWorkers, type Workers } from '../../jobs/workers.js';
import { rotateKey } from '../../src/actions/rotate-key.action.js';
import { rotateSecretId } from '../../src/actions/rotate-secret-id.action.js';
import { rotateToken } from '../../src/actions/rotate-token.action.js';
import { run } from '../../src/cli/main.js';
import { ManualClock } from '../../src/clock.js';
import { createLogger } from '../../src/logger.js';
import { type App, buildApp } from '../../src/main.js';
import type { ActionRecord } from '../../src/model/action.js';
import { ids, JobNames } from '../../src/queue/names.js';
import { closeQueues, createQueues, type Queues } from '../../src/queue/runtime.js';
import { sleep } from '../../src/util/concurrency.js';
import { OPENBAO_SCANNER_POLICY } from '../fixtures/vault-estate.js';
import { type TestAppFiles, useMotoCredentialsEnv, writeTestFiles } from '../support/app.js';
import type { CreatedKey } from '../support/aws-seed.js';
import { type RecordingProxy, startRecordingProxy, xmlText } from '../support/canary-capture.js';
import { type Canary, captureIo, dumpRedisPrefix, findLeaks, type Haystack, lineSink } from '../support/capture.js';
import { useMoto } from '../support/moto.js';
import { useOpenBao } from '../support/openbao.js';
import { type PdReceived, startPagerDutyReceiver } from '../support/receivers/pagerduty.js';
import type { Receiver } from '../support/receivers/server.js';
import { startWebhookReceiver, type WebhookReceived } from '../support/receivers/webhook.js';
import { testQueueKey, useRedis } from '../support/redis.js';
import { ACCOUNT, keyStatuses, seedUsers } from '../support/remediation-env.js';
import { keyWorks } from '../support/rotation-env.js';

const moto = useMoto();
const bao = useOpenBao();
const r = useRedis('rot-canary');
const env = (n: string) => ['$', `{env:${n}}`].join('');

/** IAM users: one rotated to done, one hit by a concurrent KV writer, one whose KV path is read-only. */
const OK = 'agent-ok';
const CAS = 'agent-cas';
const RO = 'agent-ro';
const ROLE = 'deploy-agent';
const SID_AGENT = 'sid-agent';
const TOK_AGENT = 'tok-agent';
const TOK_NAME = 'rot-bot';
const SETTLED = new Set(['done', 'failed', 'cancelled', 'held', 'rolled-back']);

const ROUTING_KEY = randomBytes(16).toString('hex');
const WEBHOOK_SECRET = `whsec_${randomBytes(32).toString('base64')}`;
const HMAC_KEY = `cwcanary-hmac-${randomBytes(16).toString('hex')}`;

const logLines = lineSink();
const outputs: Haystack[] = [];
/** Every secret a port of credwarden's created, revealed where the port handed it back. */
const created: Canary[] = [];
let files: TestAppFiles;
let clock: ManualClock;
let app: App;
let queues: Queues | undefined;
let workers: Workers | undefined;
let pd: Receiver<PdReceived>;
let hook: Receiver<WebhookReceived>;
let motoProxy: RecordingProxy;
let baoProxy: RecordingProxy;
const base = `rotc${process.pid}x${Date.now().toString(36)}`;
let tokenWriteFailed = false;
let seeded: Record<string, CreatedKey>;
let oldSecretId: { secretId: string; accessor: string };
let oldToken: { token: string; accessor: string };
let scannerToken: string;
let remediationToken: string;
/** Plan id by the agent it rotates. */
const planOf: Record<string, string> = {};

/** SecretAccessKey and SessionToken values moto sent back (CreateAccessKey, AssumeRole). */
function motoWireSecrets(): Canary[] {
  const out = new Map<string, string>();
  for (const x of motoProxy.exchanges) {
    const action = new URLSearchParams(x.req).get('Action') ?? x.path;
    for (const tag of ['SecretAccessKey', 'SessionToken'])
      for (const m of x.res.matchAll(new RegExp(`<${tag}>([^<]+)</${tag}>`, 'g')))
        out.set(xmlText(m[1]!), `moto ${tag} (${action})`);
  }
  return [...out].map(([value, label]) => ({ label, value }));
}

/** Token and secret ID values OpenBao sent back: logins, create-orphan, secret-id, lookup-self's id. */
function baoWireSecrets(): Canary[] {
  const out = new Map<string, string>();
  const walk = (v: unknown, path: string, lookupSelf: boolean): void => {
    if (Array.isArray(v)) for (const x of v) walk(x, path, lookupSelf);
    else if (v && typeof v === 'object')
      for (const [k, x] of Object.entries(v)) {
        const isSecret = ['client_token', 'secret_id', 'token'].includes(k) || (lookupSelf && k === 'id');
        if (isSecret && typeof x === 'string' && x.length >= 8) out.set(x, `OpenBao ${k} (${path})`);
        else walk(x, path, lookupSelf);
      }
  };
  for (const x of baoProxy.exchanges) {
    try {
      walk(JSON.parse(x.res), x.path.split('?')[0]!, x.path.includes('lookup-self'));
    } catch {
      // not JSON (an empty 204)
    }
  }
  return [...out].map(([value, label]) => ({ label, value }));
}

/** HCL from `permissions.vault` lines ("<path>: <caps> (note)"), for this file's mounts and KV base. */
const policyFrom = (lines: readonly string[], kvBase: string) =>
  [...new Set(lines)]
    .map((line) => {
      const [path, caps] = line
        .replace('<approle mount>', 'approle')
        .replace('<delivery mount>/data/<delivery path>', `secret/data/${kvBase}/*`)
        .split(': ') as [string, string];
      const list = caps
        .replace(/\(.*\)/, '')
        .split(/[\s,]+/)
        .filter(Boolean);
      return `path "${path}" { capabilities = [${list.map((c) => `"${c}"`).join(', ')}] }`;
    })
    .join('\n');

const POLICIES = `policies:
  - name: agent-key-rotation
    description: Agent keys older than a day are rotated
    resource: { kinds: [aws-access-key], agents: ["*"] }
    rules: [{ type: rotation-overdue, days: 1 }]
    severity: medium
    mode: enforce
    remediation:
      - action: rotate-key
        graceHours: 0.0011
        pollMinutes: 0.01
        afterDays: 0
  - name: agent-secret-id-rotation
    description: Agent secret IDs that never expire are rotated
    resource: { kinds: [vault-approle-secret-id], agents: ["${SID_AGENT}"] }
    rules: [{ type: never-expires }]
    severity: high
    mode: enforce
    remediation:
      - action: rotate-secret-id
        graceHours: 0
  - name: agent-token-rotation
    description: Agent tokens that never expire are rotated
    resource: { kinds: [vault-token], agents: ["${TOK_AGENT}"] }
    rules: [{ type: never-expires }]
    severity: high
    mode: enforce
    remediation:
      - action: rotate-token
        graceHours: 0
`;

const kvPath = (agent: string) => (agent === RO ? `${base}-ro/${agent}` : `${base}/${agent}`);
/** The agent's delivery secret as the agent reads it (root): its current version and data. */
async function kv(agent: string) {
  const res = await bao.request('GET', `secret/data/${kvPath(agent)}`);
  if (res.status !== 200 || !res.json?.data?.data) return null;
  return { version: res.json.data.metadata.version as number, data: res.json.data.data as Record<string, string> };
}
const putKv = async (agent: string, data: Record<string, string>) =>
  (await bao.call('POST', `secret/data/${kvPath(agent)}`, { data })).data.version as number;

async function until(what: string, ok: () => Promise<boolean>, ms = 45_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

async function cli(...args: string[]) {
  const io = captureIo();
  const code = await run(['--config', files.configPath, ...args], io);
  const label = args.join(' ');
  outputs.push({ where: `cli stdout: ${label}`, text: io.stdout.join('\n') });
  outputs.push({ where: `cli stderr: ${label}`, text: io.stderr.join('\n') });
  return { code, out: io.stdout.join('\n'), err: io.stderr.join('\n') };
}

function filesUnder(dir: string): Haystack[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((rel) => join(dir, rel))
    .filter((p) => statSync(p).isFile())
    .map((p) => ({ where: `file ${p}`, text: readFileSync(p, 'utf8') }));
}

/** Records every secret the port method `key` hands back (at `pick`) as a canary. */
function recordCreated<T extends object, K extends keyof T>(
  obj: T,
  key: K,
  label: (...args: unknown[]) => string,
  pick: (out: { [k: string]: { reveal(): string } }) => string,
): void {
  const orig = (obj[key] as (...a: unknown[]) => Promise<unknown>).bind(obj);
  (obj as Record<K, unknown>)[key] = async (...args: unknown[]) => {
    const out = (await orig(...args)) as { [k: string]: { reveal(): string } };
    created.push({ label: `created ${label(...args)}`, value: pick(out) });
    return out;
  };
}

describe('rotation canary: no new secret reaches any output', () => {
  beforeAll(async () => {
    useMotoCredentialsEnv();
    [pd, hook, motoProxy, baoProxy] = await Promise.all([
      startPagerDutyReceiver(),
      startWebhookReceiver({ secrets: [WEBHOOK_SECRET] }),
      startRecordingProxy(moto.endpoint),
      // The first delivery of the new token fails with a 500: the worker's job fails and is retried,
      // and the retry retires the token whose secret died with the first attempt (an orphan).
      startRecordingProxy(bao.address, (method, path) => {
        if (tokenWriteFailed || method !== 'POST' || !path.endsWith(`/secret/data/${kvPath(TOK_AGENT)}`)) return null;
        tokenWriteFailed = true;
        return { status: 500, body: JSON.stringify({ errors: ['injected: internal error'] }) };
      }),
    ]);
    // The first digest line the webhook receiver gets is refused (503): the delivery retries.
    hook.respondWith([503]);

    // OpenBao: a read-only scanner token, a remediation token whose only policy is the three
    // rotations' permissions (KV read on the `-ro` base only), an AppRole secret ID and an agent token.
    const perms = [rotateKey, rotateSecretId, rotateToken].flatMap((a) => a.permissions.vault);
    await bao.call('PUT', 'sys/policies/acl/credwarden-scanner', { policy: OPENBAO_SCANNER_POLICY });
    await bao.call('PUT', 'sys/policies/acl/credwarden-remediation', {
      policy: `${policyFrom(perms, base)}\npath "secret/data/${base}-ro/*" { capabilities = ["read"] }`,
    });
    await bao.call('PUT', 'sys/policies/acl/agent-pol', {
      policy: `path "secret/data/${base}/app/*" { capabilities = ["read"] }`,
    });
    const token = async (body: Record<string, unknown>) => {
      const res = await bao.call('POST', 'auth/token/create', body);
      return { token: String(res.auth.client_token), accessor: String(res.auth.accessor) };
    };
    scannerToken = (await token({ policies: ['credwarden-scanner'], display_name: 'credwarden', no_parent: true }))
      .token;
    remediationToken = (
      await token({
        policies: ['credwarden-remediation'],
        display_name: 'remediator',
        no_parent: true,
        no_default_policy: true,
      })
    ).token;
    await bao.enableAppRole();
    await bao.call('POST', `auth/approle/role/${ROLE}`, { token_policies: ['default'], secret_id_ttl: 0 });
    const roleId = String((await bao.call('GET', `auth/approle/role/${ROLE}/role-id`)).data.role_id);
    const sid = (
      await bao.call('POST', `auth/approle/role/${ROLE}/secret-id`, {
        metadata: JSON.stringify({ purpose: 'ci' }),
      })
    ).data;
    oldSecretId = { secretId: String(sid.secret_id), accessor: String(sid.secret_id_accessor) };
    // Periodic, no max TTL: never expires; a 72 h period stays valid on the clock two days ahead.
    oldToken = await token({
      policies: ['agent-pol', 'default'],
      display_name: TOK_NAME,
      period: '72h',
      meta: { agent: TOK_AGENT },
      no_parent: true,
    });
    await putKv(SID_AGENT, {
      role_id: roleId,
      secret_id_accessor: oldSecretId.accessor,
      secret_id: oldSecretId.secretId,
    });
    await putKv(TOK_AGENT, { accessor: oldToken.accessor, token: oldToken.token, address: bao.address });

    // moto: one Active key per user, its delivery secret at version 1.
    const made = await seedUsers(
      moto.endpoint,
      [OK, CAS, RO].map((name) => ({ name, keys: ['active' as const] })),
    );
    seeded = Object.fromEntries([OK, CAS, RO].map((u) => [u, made[u]![0]!]));
    for (const u of [OK, CAS, RO])
      await putKv(u, {
        access_key_id: seeded[u]!.accessKeyId,
        secret_access_key: seeded[u]!.secretAccessKey,
        region: 'us-east-1',
      });

    Object.assign(process.env, {
      CW_RC_SCAN: scannerToken,
      CW_RC_REM: remediationToken,
      CW_RC_PD: ROUTING_KEY,
      CW_RC_HOOK: WEBHOOK_SECRET,
      CW_RC_HMAC: HMAC_KEY,
    });
    const owner = { team: 'platform', contact: 'platform@example.com' };
    const delivery = (agent: string) => ({ vault: { cluster: 'main', path: `secret/data/${kvPath(agent)}` } });
    const agent = (id: string, selectors: Record<string, unknown>) => ({
      id,
      name: id,
      owner,
      version: '1.0.0',
      environment: 'prod',
      selectors,
      delivery: delivery(id),
    });
    files = writeTestFiles(
      {
        redis: { prefix: r.prefix },
        audit: { file: 'audit.jsonl', hmacKey: env('CW_RC_HMAC') },
        worker: { leaseSeconds: 300, shutdownTimeoutSeconds: 10 },
        aws: {
          endpoint: motoProxy.endpoint,
          region: 'us-east-1',
          maxAttempts: 1,
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
            address: baoProxy.endpoint,
            token: env('CW_RC_SCAN'),
            remediationToken: env('CW_RC_REM'),
            namespaces: ['root'],
            approleMounts: ['approle'],
            leasePrefixes: [],
            awsMounts: [],
            requestTimeoutMs: 5000,
          },
        ],
        policies: ['policies'],
        remediation: {
          mode: 'enforce',
          minAgeHours: 0,
          cooldownHours: 0,
          approvals: { required: [] },
          // Two of five rotations fail on purpose: the breaker must not hold the rest.
          breaker: { minActions: 50 },
        },
        alerts: {
          sinks: [
            { name: 'pd', type: 'pagerduty', routingKey: env('CW_RC_PD'), url: `${pd.url}/v2/enqueue` },
            { name: 'hook', type: 'webhook', url: `${hook.url}/credwarden`, secrets: [env('CW_RC_HOOK')] },
          ],
          routes: [{ page: ['pd'], digest: ['hook'] }],
          delivery: { attempts: 3, backoffMs: 20 },
        },
      },
      {
        agents: [
          ...[OK, CAS, RO].map((u) => agent(u, { aws: { users: [u] } })),
          agent(SID_AGENT, { vault: { approleRoles: [`approle/${ROLE}`] } }),
          agent(TOK_AGENT, { vault: { displayNames: [`token-${TOK_NAME}`] } }),
        ],
      },
    );
    mkdirSync(join(files.dir, 'policies'));
    writeFileSync(join(files.dir, 'policies', 'p.yaml'), POLICIES);

    // Two days ahead: the IAM keys are overdue (days: 1), the 72 h agent token still valid.
    clock = new ManualClock(Date.now() + 2 * 86_400_000);
    app = await buildApp({
      configPath: files.configPath,
      log: createLogger({ level: 'trace', destination: logLines }),
      clock,
      awsRetryDelayMs: 1,
    });
    const ports = app.remediation.d.ports;
    recordCreated(
      ports.aws,
      'createAccessKey',
      (_a, user) => `IAM secret key of ${String(user)}`,
      (o) => o.secret!.reveal(),
    );
    recordCreated(
      ports.vault,
      'createSecretId',
      (...a) => `secret ID of ${String(a[3])}`,
      (o) => o.secretId!.reveal(),
    );
    recordCreated(
      ports.vault,
      'createOrphanToken',
      () => 'orphan token',
      (o) => o.token!.reveal(),
    );
    // Someone else writes agent-cas's delivery secret while credwarden creates its key.
    const create = ports.aws.createAccessKey.bind(ports.aws);
    ports.aws.createAccessKey = async (account, user) => {
      const out = await create(account, user);
      if (user === CAS) await putKv(CAS, { access_key_id: 'written-by-someone-else', secret_access_key: 'x' });
      return out;
    };
  }, 60_000);

  afterAll(async () => {
    await workers?.close(5000);
    if (queues) await closeQueues(queues);
    await app?.close();
    await Promise.all([pd?.close(), hook?.close(), motoProxy?.close(), baoProxy?.close()]);
  });

  it('rotates through the workers: an IAM key, a secret ID and a token to done; two IAM keys fail', async () => {
    queues = createQueues(app);
    workers = startWorkers(app, queues);
    const scanId = 'rot-canary-1';
    await queues.scan.add(
      JobNames.startScan,
      { trigger: 'cli', scanId, units: app.orchestrator.units().map((u) => u.key) },
      { jobId: ids.startScan(scanId), attempts: 3 },
    );
    // The scan, its evaluation and planning first, on a still clock; then the clock moves on while
    // the rotations wait (agent-ok's grace of 4 s, checked every 0.6 s of the app's clock).
    await until('five rotations planned', async () => (await app.remediation.list()).length >= 5);
    await until('every rotation to settle', async () => {
      clock.advance(1000);
      const list = await app.remediation.list();
      return list.every((x) => SETTLED.has(x.state));
    });
    const recs = await app.remediation.list();
    const agentOf = (x: ActionRecord) => x.plan.agentId!;
    for (const x of recs) planOf[agentOf(x)] = x.plan.id;
    const byAgent = Object.fromEntries(recs.map((x) => [agentOf(x), x]));
    expect(Object.keys(byAgent).sort()).toEqual([CAS, OK, RO, SID_AGENT, TOK_AGENT].sort());
    for (const a of [OK, SID_AGENT, TOK_AGENT]) expect(byAgent[a]!.state, byAgent[a]!.result?.detail).toBe('done');
    expect(byAgent[CAS]!.state).toBe('failed');
    expect(byAgent[CAS]!.result?.detail).toMatch(/check-and-set conflict/);
    expect(byAgent[RO]!.state).toBe('failed');
    expect(byAgent[RO]!.result?.detail).toMatch(/deliver failed: .*permission denied/);
    // The token's first delivery failed (the injected 500): the retry revoked that token and made another.
    expect(tokenWriteFailed).toBe(true);
    expect(byAgent[TOK_AGENT]!.rotation?.orphans).toHaveLength(1);
    expect(byAgent[TOK_AGENT]!.attempt).toBe(1);
    // The failed rotations retired the keys they made; the old keys are untouched.
    expect(await keyStatuses(moto.endpoint, RO)).toEqual({ [seeded[RO]!.accessKeyId]: 'Active' });
    expect(await keyStatuses(moto.endpoint, CAS)).toEqual({ [seeded[CAS]!.accessKeyId]: 'Active' });
    // agent-ok: the new key works and is the only one; some wake-up ran as its own delayed job.
    const okKv = (await kv(OK))!;
    expect(okKv.version).toBe(2);
    expect(okKv.data.access_key_id).toBe(byAgent[OK]!.rotation!.newId);
    expect(await keyStatuses(moto.endpoint, OK)).toEqual({ [okKv.data.access_key_id!]: 'Active' });
    expect(await keyWorks(moto.endpoint, okKv.data.access_key_id!, okKv.data.secret_access_key!)).toBe(
      `arn:aws:iam::${ACCOUNT}:user/${OK}`,
    );
    // The job that wrote `done` may still be moving to completed: wait for it.
    const remediateQueue = queues.remediate;
    const wakes = async () =>
      (await remediateQueue.getJobs(['completed'])).filter((j) => j.id?.startsWith(`remediate/${planOf[OK]}/w`));
    await until('a wake-up job of agent-ok to complete', async () => (await wakes()).length > 0);
    expect((await wakes()).length).toBeGreaterThan(0);
    // What the ports made: a key per IAM user, one secret ID, two tokens (the first lost to the 500).
    expect(created.map((c) => c.label).sort()).toEqual(
      [
        `created IAM secret key of ${CAS}`,
        `created IAM secret key of ${OK}`,
        `created IAM secret key of ${RO}`,
        `created orphan token`,
        `created orphan token`,
        `created secret ID of ${ROLE}`,
      ].sort(),
    );

    // Every settled rotation's result went out: a change event (PagerDuty) and a digest line (webhook).
    await until('alert deliveries to settle', async () => {
      for (const q of queues!.alerts.values()) {
        const c = await q.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
        if (Object.values(c).some((n) => n > 0)) return false;
      }
      const sentPlans = pd.requests
        .filter((q) => q.path.startsWith('/v2/change'))
        .map((q) => (q.json as { payload: { custom_details: { plan?: string } } }).payload.custom_details.plan);
      return Object.values(planOf).every((id) => sentPlans.includes(id));
    });
    expect(pd.requests.every((q) => q.valid)).toBe(true);
    expect(hook.requests.every((q) => q.verified)).toBe(true);
    for (const id of Object.values(planOf)) expect(hook.requests.some((q) => q.rawBody.includes(id))).toBe(true);

    await workers.close(10_000);
    await closeQueues(queues);
    workers = undefined;
    queues = undefined;
  }, 60_000);

  it('CLI: actions list --json, actions show <id> (text and --json) for every rotation', async () => {
    const list = await cli('--json', 'actions', 'list');
    expect(list.err).toBe('');
    expect(list.code).toBe(0);
    const rows = JSON.parse(list.out) as { id: string; state: string; rotation?: { newId: string | null } }[];
    expect(rows.map((x) => x.id).sort()).toEqual(Object.values(planOf).sort());
    expect(rows.every((x) => x.rotation?.newId)).toBe(true);
    for (const id of Object.values(planOf)) {
      const text = await cli('actions', 'show', id);
      expect(text.code).toBe(0);
      expect(text.out).toContain(`action ${id}: rotate-`);
      expect(text.out).toMatch(/\n {2}rotation [\w-]+: step /);
      const json = await cli('--json', 'actions', 'show', id);
      expect(json.code).toBe(0);
      expect((JSON.parse(json.out) as { id: string }).id).toBe(id);
    }
  }, 30_000);

  it('no canary occurs in Redis, logs, CLI output, alert requests or the audit file', async () => {
    // The delivered secrets (read from KV as the agents do), the retired ones (from the ports).
    const delivered: Canary[] = [
      { label: `delivered secret key of ${OK}`, value: (await kv(OK))!.data.secret_access_key! },
      { label: 'delivered secret ID', value: (await kv(SID_AGENT))!.data.secret_id! },
      { label: 'delivered token', value: (await kv(TOK_AGENT))!.data.token! },
    ];
    const createdValues = created.map((c) => c.value);
    for (const d of delivered) expect(createdValues).toContain(d.value);
    const wire = [...motoWireSecrets(), ...baoWireSecrets()];
    // The wire saw every created secret (CreateAccessKey, secret-id, create-orphan responses).
    for (const v of createdValues) expect(wire.map((w) => w.value)).toContain(v);
    const canaries: Canary[] = [
      ...delivered,
      ...created,
      ...wire,
      ...[OK, CAS, RO].map((u) => ({ label: `old secret key of ${u}`, value: seeded[u]!.secretAccessKey })),
      { label: 'old secret ID', value: oldSecretId.secretId },
      { label: 'old token', value: oldToken.token },
      { label: 'scanner token', value: scannerToken },
      { label: 'remediation token', value: remediationToken },
      { label: 'webhook signing secret', value: WEBHOOK_SECRET },
      { label: 'audit hmacKey', value: HMAC_KEY },
    ];
    // The scanner's and the remediator's assumed roles (STS), and the proving AppRole logins.
    expect(wire.filter((w) => w.label === 'moto SessionToken (AssumeRole)').length).toBeGreaterThanOrEqual(2);
    expect(wire.filter((w) => w.label === 'moto SecretAccessKey (CreateAccessKey)')).toHaveLength(3);
    expect(wire.filter((w) => w.label.includes('auth/approle/login')).length).toBeGreaterThan(0);

    const redisDump = await dumpRedisPrefix(r.redis, r.prefix);
    const receivers = [
      ...pd.requests.map((q, i) => ({ where: `pagerduty request ${i} ${q.path}`, q })),
      ...hook.requests.map((q, i) => ({ where: `webhook request ${i} ${q.path}`, q })),
    ].map(({ where, q }) => ({ where, text: `${JSON.stringify(q.headers)}\n${q.rawBody}` }));
    const haystacks: Haystack[] = [
      ...redisDump,
      ...logLines.lines.map((l, i) => ({ where: `log line ${i}`, text: l })),
      ...outputs,
      ...receivers,
      ...filesUnder(files.dir),
    ];

    // Positive controls: the haystacks hold what the rotations wrote, so a clean result means something.
    const dumpText = redisDump.map((h) => h.text).join('\n');
    for (const id of Object.values(planOf)) {
      const jobKey = `${testQueueKey(r.prefix, 'remediate')}:${ids.remediate(id, 'a1')}`;
      expect(
        redisDump.some((h) => h.where.endsWith(` ${jobKey}`)),
        jobKey,
      ).toBe(true);
    }
    expect(redisDump.some((h) => h.where.includes(`:bull:remediate:remediate/${planOf[OK]}/w`))).toBe(true);
    // The token's job hash keeps the failure of its first run (the injected 500): error data is searched too.
    const tokJob = redisDump.find((h) =>
      h.where.endsWith(`:bull:remediate:${ids.remediate(planOf[TOK_AGENT]!, 'a1')}`),
    );
    expect(tokJob?.text).toContain('HTTP 500');
    expect(redisDump.some((h) => h.where.includes(':bull:alert-'))).toBe(true);
    const recs = await Promise.all(Object.values(planOf).map(async (id) => (await app.remediation.show(id))!));
    for (const x of recs) {
      expect(dumpText).toContain(x.rotation!.newId!);
      expect(logLines.lines.some((l) => l.includes(x.plan.id))).toBe(true);
    }
    expect(dumpText).toContain(oldSecretId.accessor);
    expect(dumpText).toContain(oldToken.accessor);
    expect(logLines.lines.length).toBeGreaterThan(0);
    // Error paths logged: the remediate job that failed on the 500, the refused alert delivery.
    const logged = (level: number, msg: string) =>
      logLines.lines.some((l) => l.includes(`"level":${level}`) && l.includes(`"msg":"${msg}"`));
    expect(logged(50, 'job failed')).toBe(true);
    expect(logged(40, 'alert delivery failed')).toBe(true);
    expect(receivers.length).toBeGreaterThanOrEqual(2 * recs.length);
    const audit = readFileSync(join(files.dir, 'audit.jsonl'), 'utf8');
    for (const step of ['create', 'deliver', 'verify', 'adopt', 'delete'])
      expect(audit).toContain(`"rotation.${step}.result"`);
    expect(outputs.filter((o) => o.where.startsWith('cli stdout') && o.text.length > 0).length).toBe(
      1 + 2 * recs.length,
    );
    // The search finds a planted canary in every form it looks for.
    const probe = delivered[0]!;
    for (const form of [
      probe.value,
      encodeURIComponent(probe.value),
      JSON.stringify(probe.value).slice(1, -1),
      Buffer.from(probe.value).toString('base64'),
      Buffer.from(probe.value).toString('hex'),
    ])
      expect(findLeaks([probe], [{ where: 'probe', text: `x${form}y` }])).toHaveLength(1);

    expect(findLeaks(canaries, haystacks)).toEqual([]);
  }, 30_000);
});
