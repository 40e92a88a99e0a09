/**
 * rotate-secret-id and rotate-token end to end against a REAL OpenBao: scan → evaluate → plan →
 * guard → the rotation runner's steps, with the real audit log and Redis. The remediation token's
 * only policy is generated from the action's own `permissions.vault` lines (no default policy),
 * so the rotation's calls are shown sufficient; the scanner token is read-only.
 *
 * Asserted at OpenBao itself: after a secret-ID rotation the secret_id in KV logs in with the
 * role's role_id, the old secret ID is destroyed, the role lists exactly one new secret ID of
 * credwarden's (its metadata names the rotation) beside the untouched other one, and the KV
 * history has exactly one new version; after a token rotation the token in KV passes lookup-self
 * with the old token's policies and meta, and the old token is revoked. Crashes between and inside
 * the steps, a concurrent KV writer, rollback, and the refusals (root, credwarden's own token).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import type { ActionType } from '../../src/actions/action-type.js';
import { rotateSecretId } from '../../src/actions/rotate-secret-id.action.js';
import { rotateToken } from '../../src/actions/rotate-token.action.js';
import { ManualClock } from '../../src/clock.js';
import { CwError, ErrorCodes } from '../../src/errors.js';
import type { ActionRecord } from '../../src/model/action.js';
import { OPENBAO_SCANNER_POLICY } from '../fixtures/vault-estate.js';
import { testApp, writeTestFiles } from '../support/app.js';
import { useOpenBao } from '../support/openbao.js';
import { keysOfPrefix, useRedis } from '../support/redis.js';
import { type Drive, drive } from '../support/remediation-env.js';

const envRef = (name: string) => ['$', `{env:${name}}`].join('');
const r = useRedis('rot-vault');
const bao = useOpenBao();
let n = 0;
let d: Drive | undefined;

type Tok = { token: string; accessor: string };
type Sid = { secretId: string; accessor: string };

const ROLE = 'deploy-agent';
const SID_AGENT = 'sid-agent';
const TOK_AGENT = 'tok-agent';
const TOK_NAME = 'rot-bot';

/** HCL from `permissions.vault` lines ("<path>: <caps> (note)"), for this test's mounts and KV base. */
const policyFrom = (lines: readonly string[], base: string) =>
  lines
    .map((line) => {
      const [path, caps] = line
        .replace('<approle mount>', 'approle')
        .replace('<delivery mount>/data/<delivery path>', `secret/data/${base}/*`)
        .split(': ') as [string, string];
      const list = caps
        .replace(/\(.*\)/, '')
        .split(/[\s,]+/)
        .filter(Boolean);
      return `path "${path}" { capabilities = [${list.map((c) => `"${c}"`).join(', ')}] }`;
    })
    .join('\n');

/** One policy per action (never-expires on its kind), so a test runs only the rotation it is about. */
const policies = (params: string, actions: readonly ActionType[]) => {
  const p = params ? `\n        ${params.split('\n').join('\n        ')}` : '';
  const entry = (name: string, kind: string, agent: string, action: string) => `
  - name: ${name}
    description: Agent credentials that never expire are rotated
    resource: { kinds: [${kind}], agents: ["${agent}"] }
    rules: [{ type: never-expires }]
    severity: high
    mode: enforce
    remediation:
      - action: ${action}${p}`;
  const out = [];
  if (actions.includes(rotateSecretId))
    out.push(entry('agent-secret-id-rotation', 'vault-approle-secret-id', SID_AGENT, 'rotate-secret-id'));
  if (actions.includes(rotateToken)) out.push(entry('agent-token-rotation', 'vault-token', TOK_AGENT, 'rotate-token'));
  return `policies:${out.join('')}\n`;
};

const token = async (body: Record<string, unknown>): Promise<Tok> => {
  const res = await bao.call('POST', 'auth/token/create', body);
  return { token: String(res.auth.client_token), accessor: String(res.auth.accessor) };
};
const lookupSelf = async (t: string) => {
  const res = await bao.request('GET', 'auth/token/lookup-self', { token: t });
  return res.status === 200 ? (res.json.data as Record<string, unknown>) : null;
};
const tokenValid = async (accessor: string) =>
  (await bao.request('POST', 'auth/token/lookup-accessor', { body: { accessor } })).status === 200;
const listed = async (role = ROLE): Promise<string[]> =>
  ((await bao.request('GET', `auth/approle/role/${role}/secret-id?list=true`)).json?.data?.keys ?? []).sort();
const secretIdMeta = async (accessor: string, role = ROLE): Promise<Record<string, string>> =>
  (await bao.call('POST', `auth/approle/role/${role}/secret-id-accessor/lookup`, { secret_id_accessor: accessor })).data
    .metadata ?? {};
const login = async (roleId: string, secretId: string) =>
  (await bao.request('POST', 'auth/approle/login', { body: { role_id: roleId, secret_id: secretId }, token: null }))
    .status;

interface Setup {
  d: Drive;
  base: string;
  roleId: string;
  old: Sid;
  /** Another secret ID of the role, with a TTL: not the target, never touched. */
  other: Sid;
  oldToken: Tok;
  remediation: Tok;
  kvPath(agent: string): string;
  kv(agent: string, version?: number): Promise<{ version: number; data: Record<string, string> } | null>;
  putKv(agent: string, data: Record<string, string>): Promise<number>;
  kvVersions(agent: string): Promise<number[]>;
}

/**
 * A reset OpenBao with an AppRole role (one never-expiring secret ID, the target, and one with a
 * TTL), a periodic agent token, their delivery secrets at version 1, and an App whose remediation
 * token has only the policy generated from `actions`' permissions.
 */
async function setUp(
  o: {
    actions?: readonly ActionType[];
    params?: string;
    /** More settings of the AppRole role (e.g. secret_id_num_uses). */
    role?: Record<string, unknown>;
    extraTokenNames?: string[];
    remediationName?: string;
  } = {},
): Promise<Setup> {
  await bao.reset();
  const base = `rotv${process.pid}x${++n}${Date.now().toString(36)}`;
  const actions = o.actions ?? [rotateSecretId, rotateToken];
  const perms = actions.flatMap((a) => a.permissions.vault);
  await bao.call('PUT', 'sys/policies/acl/credwarden-scanner', { policy: OPENBAO_SCANNER_POLICY });
  await bao.call('PUT', 'sys/policies/acl/credwarden-remediation', { policy: policyFrom([...new Set(perms)], base) });
  await bao.call('PUT', 'sys/policies/acl/agent-pol', {
    policy: `path "secret/data/${base}/app/*" { capabilities = ["read"] }`,
  });
  const scanner = await token({ policies: ['credwarden-scanner'], display_name: 'credwarden', no_parent: true });
  const remediation = await token({
    policies: ['credwarden-remediation'],
    display_name: o.remediationName ?? 'remediator',
    no_parent: true,
    no_default_policy: true,
    // Periodic with no max: a never-expiring token, so a policy can select it (the refusal test).
    ...(o.remediationName ? { period: '24h' } : {}),
  });

  await bao.enableAppRole();
  await bao.call('POST', `auth/approle/role/${ROLE}`, {
    token_policies: ['default'],
    secret_id_ttl: 0,
    ...o.role,
  });
  const roleId = String((await bao.call('GET', `auth/approle/role/${ROLE}/role-id`)).data.role_id);
  const mint = async (body: Record<string, unknown>): Promise<Sid> => {
    const out = (await bao.call('POST', `auth/approle/role/${ROLE}/secret-id`, body)).data;
    return { secretId: String(out.secret_id), accessor: String(out.secret_id_accessor) };
  };
  const old = await mint({ metadata: JSON.stringify({ purpose: 'ci', team: 'platform' }) });
  const other = await mint({ ttl: '2h' });
  const oldToken = await token({
    policies: ['agent-pol', 'default'],
    display_name: TOK_NAME,
    period: '24h',
    meta: { agent: TOK_AGENT, env: 'prod' },
    no_parent: true,
  });

  const kvPath = (agent: string) => `${base}/${agent}`;
  const putKv = async (agent: string, data: Record<string, string>) =>
    (await bao.call('POST', `secret/data/${kvPath(agent)}`, { data })).data.version as number;
  await putKv(SID_AGENT, { role_id: roleId, secret_id_accessor: old.accessor, secret_id: old.secretId });
  await putKv(TOK_AGENT, { accessor: oldToken.accessor, token: oldToken.token, address: bao.address });

  process.env.CW_TEST_ROTV_TOKEN = scanner.token;
  process.env.CW_TEST_ROTV_REMEDIATION = remediation.token;
  const delivery = (agent: string) => ({ vault: { cluster: 'main', path: `secret/data/${kvPath(agent)}` } });
  const registry = {
    agents: [
      {
        id: SID_AGENT,
        name: 'Secret ID agent',
        owner: { team: 'platform', contact: 'platform@example.com' },
        version: '1.0.0',
        environment: 'prod',
        selectors: { vault: { approleRoles: [`approle/${ROLE}`] } },
        delivery: delivery(SID_AGENT),
      },
      {
        id: TOK_AGENT,
        name: 'Token agent',
        owner: { team: 'platform', contact: 'platform@example.com' },
        version: '1.0.0',
        environment: 'prod',
        selectors: {
          vault: { displayNames: [`token-${TOK_NAME}`, ...(o.extraTokenNames ?? []).map((x) => `token-${x}`)] },
        },
        delivery: delivery(TOK_AGENT),
      },
    ],
  };
  const files = writeTestFiles(
    {
      redis: { prefix: `${r.prefix}-${n}` },
      vault: [
        {
          name: 'main',
          address: bao.address,
          token: envRef('CW_TEST_ROTV_TOKEN'),
          remediationToken: envRef('CW_TEST_ROTV_REMEDIATION'),
          namespaces: ['root'],
          approleMounts: ['approle'],
          leasePrefixes: [],
          awsMounts: [],
          requestTimeoutMs: 5000,
        },
      ],
      policies: ['policies'],
      remediation: { mode: 'enforce', minAgeHours: 0, cooldownHours: 0, approvals: { required: [] } },
    },
    registry,
  );
  mkdirSync(join(files.dir, 'policies'));
  writeFileSync(join(files.dir, 'policies', 'p.yaml'), policies(o.params ?? 'graceHours: 0', actions));
  const clock = new ManualClock(Date.now());
  d = drive(await testApp(files, clock), clock);
  return {
    d,
    base,
    roleId,
    old,
    other,
    oldToken,
    remediation,
    kvPath,
    async kv(agent, version) {
      const q = version !== undefined ? `?version=${version}` : '';
      const res = await bao.request('GET', `secret/data/${kvPath(agent)}${q}`);
      if (res.status !== 200 || !res.json?.data?.data) return null;
      return { version: res.json.data.metadata.version as number, data: res.json.data.data as Record<string, string> };
    },
    putKv,
    async kvVersions(agent) {
      const res = await bao.request('GET', `secret/metadata/${kvPath(agent)}`);
      if (res.status !== 200) return [];
      return Object.keys(res.json.data.versions as Record<string, unknown>)
        .map(Number)
        .sort((a, b) => a - b);
    },
  };
}

const byAction = (recs: ActionRecord[], action: string) => recs.filter((x) => x.plan.action === action);

/** Advances the clock and runs the rotation again until it leaves in-progress (at most `max` times). */
async function settle(s: Setup, rec: ActionRecord, stepMs: number, max = 6): Promise<ActionRecord> {
  let out = rec;
  for (let i = 0; i < max && out.state === 'in-progress'; i++) {
    s.d.clock.advance(stepMs);
    out = (await s.d.execute([out.plan.id]))[0]!;
  }
  return out;
}

/** Throws a retryable error (a worker that died here) the first time, then behaves. */
function crashOnce<T extends object, K extends keyof T>(obj: T, key: K, after: boolean): void {
  const orig = (obj[key] as (...a: unknown[]) => Promise<unknown>).bind(obj);
  let crashed = false;
  (obj as Record<K, unknown>)[key] = async (...args: unknown[]) => {
    if (crashed) return orig(...args);
    crashed = true;
    if (after) await orig(...args);
    throw new CwError(ErrorCodes.UNREACHABLE, `simulated worker crash ${after ? 'after' : 'before'} ${String(key)}`, {
      retryable: true,
    });
  };
}

/** Every string value kept under the App's Redis prefix. */
async function redisDump(s: Setup): Promise<string> {
  const app = s.d.app;
  const out: string[] = [];
  for (const key of await keysOfPrefix(app.redis, `${app.config.redis.prefix}:`)) {
    const type = await app.redis.type(key);
    if (type === 'string') out.push((await app.redis.get(key)) ?? '');
    else if (type === 'hash') out.push(JSON.stringify(await app.redis.hgetall(key)));
    else if (type === 'list') out.push(JSON.stringify(await app.redis.lrange(key, 0, -1)));
    else if (type === 'zset') out.push(JSON.stringify(await app.redis.zrange(key, 0, -1)));
    else if (type === 'set') out.push(JSON.stringify(await app.redis.smembers(key)));
    else if (type === 'stream') out.push(JSON.stringify(await app.redis.xrange(key, '-', '+')));
  }
  return out.join('\n');
}

beforeEach(async () => {
  await d?.close();
  d = undefined;
});
afterAll(async () => {
  await d?.close();
});

describe('rotate-secret-id against OpenBao', () => {
  it('rotates end to end: the KV secret_id logs in, the old one is destroyed, one new secret ID of credwarden’s', async () => {
    const s = await setUp({ actions: [rotateSecretId], params: 'graceHours: 1\npollMinutes: 30' });
    const { executed } = await s.d.run('sid-1');
    const [first, ...rest] = byAction(executed, 'rotate-secret-id');
    expect(rest).toEqual([]);
    expect(first!.plan.target.identity.secretIdAccessor).toBe(s.old.accessor);
    expect(first!.state).toBe('in-progress');
    expect(first!.rotation?.step).toBe('adopt');
    const newId = first!.rotation!.newId!;

    // Delivered as version 2 with the other field kept; both secret IDs work during the grace.
    const kv = (await s.kv(SID_AGENT))!;
    expect(kv.version).toBe(2);
    expect(kv.data).toMatchObject({
      role_id: s.roleId,
      secret_id_accessor: newId,
      credwarden_rotation: first!.plan.id,
    });
    expect(await login(s.roleId, kv.data.secret_id!)).toBe(200);
    expect(await login(s.roleId, s.old.secretId)).toBe(200);
    expect(await listed()).toEqual([s.old.accessor, s.other.accessor, newId].sort());
    // The new secret ID copies the old one's metadata, marked with the rotation.
    expect(await secretIdMeta(newId)).toEqual({ purpose: 'ci', team: 'platform', credwarden_rotation: first!.plan.id });

    // Grace of 1 h polled every 30 min: waits once more, then destroys the old secret ID.
    s.d.clock.advance(30 * 60_000);
    let [rec] = await s.d.execute([first!.plan.id]);
    expect(rec!.state).toBe('in-progress');
    expect(rec!.rotation?.waiting).toMatch(/Vault records no use of a secret ID/);
    rec = await settle(s, rec!, 30 * 60_000);
    expect(rec.state).toBe('done');
    expect(rec.rotation?.adopt?.observed).toBe('grace-elapsed');
    expect(rec.rotation?.done.map((x) => x.step)).toEqual([
      'prepare',
      'create',
      'deliver',
      'verify',
      'adopt',
      'delete',
    ]);

    expect(await listed()).toEqual([s.other.accessor, newId].sort());
    expect(await login(s.roleId, s.old.secretId)).toBe(400);
    expect(await login(s.roleId, (await s.kv(SID_AGENT))!.data.secret_id!)).toBe(200);
    expect(await login(s.roleId, s.other.secretId)).toBe(200);
    expect(await s.kvVersions(SID_AGENT)).toEqual([1, 2]);
    // Exactly one secret ID of credwarden's.
    const mine = [];
    for (const a of await listed()) if ((await secretIdMeta(a)).credwarden_rotation === rec.plan.id) mine.push(a);
    expect(mine).toEqual([newId]);

    // Every step has its intent before its result; no secret value anywhere credwarden keeps.
    const events = await s.d.audit();
    const types = events.filter((e) => e.type.startsWith('rotation.')).map((e) => e.type);
    for (const step of ['prepare', 'create', 'deliver', 'verify', 'adopt', 'delete'])
      expect(types.indexOf(`rotation.${step}.intent`)).toBeLessThan(types.lastIndexOf(`rotation.${step}.result`));
    const secrets = [kv.data.secret_id!, s.old.secretId];
    const dump = [JSON.stringify(events), JSON.stringify(rec), await redisDump(s)].join('\n');
    for (const x of secrets) expect(dump).not.toContain(x);
  });

  it('a crash between create and deliver: the orphan is destroyed and a new secret ID delivered', async () => {
    const s = await setUp({ actions: [rotateSecretId] });
    // The worker dies at deliver's proof: the new secret ID exists, its value only in that memory.
    crashOnce(s.d.app.remediation.d.ports.vault, 'approleLoginWorks', false);
    await s.d.scan('sid-crash');
    const { ids } = await s.d.plan('sid-crash');
    await expect(s.d.execute(ids)).rejects.toThrow(/simulated worker crash/);
    const [mid] = await s.d.app.remediation.list();
    const lost = mid!.rotation!.newId!;
    expect(mid!.rotation?.step).toBe('deliver');
    expect(await listed()).toEqual([s.old.accessor, s.other.accessor, lost].sort());

    // A fresh run has no secret in memory: the orphan goes, create runs again, the rest goes on.
    const [rec] = await s.d.execute(ids);
    expect(rec!.state).toBe('done');
    const newId = rec!.rotation!.newId!;
    expect(newId).not.toBe(lost);
    expect(rec!.rotation?.orphans).toEqual([lost]);
    expect(await listed()).toEqual([s.other.accessor, newId].sort());
    const kv = (await s.kv(SID_AGENT))!;
    expect(kv.data.secret_id_accessor).toBe(newId);
    expect(await login(s.roleId, kv.data.secret_id!)).toBe(200);
    expect(await s.kvVersions(SID_AGENT)).toEqual([1, 2]);
    const deliver = (await s.d.audit()).filter((e) => e.type === 'rotation.deliver.result').map((e) => e.data.outcome);
    expect(deliver).toEqual(['back', 'next']);
  });

  it('a crash inside create, after Vault issued the secret ID: found by its metadata and destroyed', async () => {
    const s = await setUp({ actions: [rotateSecretId] });
    crashOnce(s.d.app.remediation.d.ports.vault, 'createSecretId', true);
    await s.d.scan('sid-crash2');
    const { ids } = await s.d.plan('sid-crash2');
    await expect(s.d.execute(ids)).rejects.toThrow(/simulated worker crash/);
    const [mid] = await s.d.app.remediation.list();
    expect(mid!.rotation?.step).toBe('create');
    expect(mid!.rotation?.newId).toBeUndefined();
    const leftover = (await listed()).filter((a) => a !== s.old.accessor && a !== s.other.accessor);
    expect(leftover).toHaveLength(1);

    const [rec] = await s.d.execute(ids);
    expect(rec!.state).toBe('done');
    expect(rec!.rotation?.orphans).toEqual(leftover);
    expect(await listed()).toEqual([s.other.accessor, rec!.rotation!.newId!].sort());
    expect(rec!.rotation?.done.find((x) => x.step === 'create')?.detail).toContain(
      `destroyed secret ID ${leftover[0]} (created by an attempt that died before recording it)`,
    );
    expect(await login(s.roleId, (await s.kv(SID_AGENT))!.data.secret_id!)).toBe(200);
  });

  it('reports a check-and-set conflict: nothing is overwritten, the new secret ID is destroyed, the old untouched', async () => {
    const s = await setUp({ actions: [rotateSecretId] });
    const port = s.d.app.remediation.d.ports.vault;
    const create = port.createSecretId.bind(port);
    port.createSecretId = async (...args) => {
      const out = await create(...args);
      await s.putKv(SID_AGENT, { role_id: s.roleId, secret_id: 'written-by-someone-else' });
      return out;
    };
    const { executed } = await s.d.run('sid-cas');
    const [rec] = byAction(executed, 'rotate-secret-id');
    expect(rec!.state).toBe('failed');
    expect(rec!.result?.detail).toMatch(/check-and-set conflict/);
    expect(rec!.result?.detail).toContain(`destroyed secret ID ${rec!.rotation!.newId}`);
    expect((await s.kv(SID_AGENT))?.data.secret_id).toBe('written-by-someone-else');
    expect(await s.kvVersions(SID_AGENT)).toEqual([1, 2]);
    expect(await listed()).toEqual([s.old.accessor, s.other.accessor].sort());
    expect(await login(s.roleId, s.old.secretId)).toBe(200);
  });

  it('rolls back before the delete: the old secret ID is back in KV and works, the new one is destroyed', async () => {
    const s = await setUp({ actions: [rotateSecretId], params: 'graceHours: 24' });
    const { executed } = await s.d.run('sid-rb');
    const [rec] = byAction(executed, 'rotate-secret-id');
    expect(rec!.state).toBe('in-progress');
    const newId = rec!.rotation!.newId!;

    const back = await s.d.app.people.rollback(rec!.plan.id, 'alice');
    expect(back.state).toBe('rolled-back');
    expect(back.rollback?.by).toBe('alice');
    expect(back.rollback?.detail).toContain(`destroyed secret ID ${newId} (rolled back)`);
    const kv = (await s.kv(SID_AGENT))!;
    expect(kv.version).toBe(3);
    expect(kv.data).toEqual({ role_id: s.roleId, secret_id_accessor: s.old.accessor, secret_id: s.old.secretId });
    expect(await login(s.roleId, kv.data.secret_id!)).toBe(200);
    expect(await listed()).toEqual([s.old.accessor, s.other.accessor].sort());
    // A rolled-back rotation is settled: a queued wake-up does nothing.
    s.d.clock.advance(25 * 3_600_000);
    const [after] = await s.d.execute([rec!.plan.id]);
    expect(after!.state).toBe('rolled-back');
    expect(await listed()).toEqual([s.old.accessor, s.other.accessor].sort());
    expect(JSON.stringify(await s.d.audit())).not.toContain(s.old.secretId);
  });

  it('proves a use-limited secret ID by value: the new one keeps every use for the agent', async () => {
    const s = await setUp({ actions: [rotateSecretId], role: { secret_id_num_uses: 2 } });
    const { executed } = await s.d.run('sid-uses');
    const [rec] = byAction(executed, 'rotate-secret-id');
    expect(rec!.state).toBe('done');
    expect(rec!.rotation?.done.find((x) => x.step === 'deliver')?.detail).toMatch(/^a lookup by value .*; delivered /);
    const newId = rec!.rotation!.newId!;
    const uses = async (a: string) =>
      (await bao.call('POST', `auth/approle/role/${ROLE}/secret-id-accessor/lookup`, { secret_id_accessor: a })).data
        .secret_id_num_uses;
    expect(await uses(newId)).toBe(2);
    expect(await listed()).toEqual([s.other.accessor, newId].sort());
    const kv = (await s.kv(SID_AGENT))!;
    expect(await login(s.roleId, kv.data.secret_id!)).toBe(200);
    expect(await uses(newId)).toBe(1);
  });

  it('stops at prepare when the delivery secret holds another secret ID, and changes nothing', async () => {
    const s = await setUp({ actions: [rotateSecretId] });
    await s.putKv(SID_AGENT, { role_id: s.roleId, secret_id_accessor: s.other.accessor, secret_id: s.other.secretId });
    const { executed } = await s.d.run('sid-foreign');
    const [rec] = byAction(executed, 'rotate-secret-id');
    expect(rec!.state).toBe('failed');
    expect(rec!.result?.detail).toContain(`holds secret ID accessor ${s.other.accessor}, not the one being rotated`);
    expect(await listed()).toEqual([s.old.accessor, s.other.accessor].sort());
    expect(await s.kvVersions(SID_AGENT)).toEqual([1, 2]);
  });
});

describe('rotate-token against OpenBao', () => {
  it('rotates end to end: the KV token has the same policies and meta, the old token is revoked', async () => {
    const s = await setUp({ actions: [rotateToken] });
    const before = await lookupSelf(s.oldToken.token);
    const { executed } = await s.d.run('tok-1');
    const [rec, ...rest] = byAction(executed, 'rotate-token');
    expect(rest).toEqual([]);
    expect(rec!.plan.target.identity.accessor).toBe(s.oldToken.accessor);
    expect(rec!.state).toBe('done');
    expect(rec!.rotation?.done.map((x) => x.step)).toEqual([
      'prepare',
      'create',
      'deliver',
      'verify',
      'adopt',
      'delete',
    ]);
    const newId = rec!.rotation!.newId!;

    const kv = (await s.kv(TOK_AGENT))!;
    expect(kv.version).toBe(2);
    expect(kv.data).toMatchObject({ accessor: newId, address: bao.address, credwarden_rotation: rec!.plan.id });
    const self = (await lookupSelf(kv.data.token!))!;
    expect(self.accessor).toBe(newId);
    expect([...(self.policies as string[])].sort()).toEqual(['agent-pol', 'default']);
    expect(self.meta).toEqual({ agent: TOK_AGENT, env: 'prod', credwarden_rotation: rec!.plan.id });
    expect(self.display_name).toBe(before!.display_name);
    expect(self.period).toBe(before!.period);
    expect(self.renewable).toBe(true);
    expect(self.orphan).toBe(true);
    expect(await lookupSelf(s.oldToken.token)).toBeNull();
    expect(await tokenValid(s.oldToken.accessor)).toBe(false);
    expect(await tokenValid(s.remediation.accessor)).toBe(true);
    expect(await s.kvVersions(TOK_AGENT)).toEqual([1, 2]);

    const dump = [JSON.stringify(await s.d.audit()), JSON.stringify(rec), await redisDump(s)].join('\n');
    for (const x of [kv.data.token!, s.oldToken.token]) expect(dump).not.toContain(x);
  });

  it('a crash between create and deliver: the orphan token is revoked and a new one delivered', async () => {
    const s = await setUp({ actions: [rotateToken] });
    crashOnce(s.d.app.remediation.d.ports.vault, 'lookupSelfWith', false);
    await s.d.scan('tok-crash');
    const { ids } = await s.d.plan('tok-crash');
    await expect(s.d.execute(ids)).rejects.toThrow(/simulated worker crash/);
    const [mid] = await s.d.app.remediation.list();
    const lost = mid!.rotation!.newId!;
    expect(await tokenValid(lost)).toBe(true);

    const [rec] = await s.d.execute(ids);
    expect(rec!.result?.detail).toMatch(/^rotated/);
    expect(rec!.state).toBe('done');
    expect(rec!.rotation?.orphans).toEqual([lost]);
    expect(await tokenValid(lost)).toBe(false);
    const kv = (await s.kv(TOK_AGENT))!;
    expect((await lookupSelf(kv.data.token!))?.accessor).toBe(rec!.rotation!.newId);
    expect(await tokenValid(s.oldToken.accessor)).toBe(false);
    expect(await s.kvVersions(TOK_AGENT)).toEqual([1, 2]);
  });

  it('a crash inside create, after Vault made the token: found by difference and its meta, and revoked', async () => {
    const s = await setUp({ actions: [rotateToken] });
    crashOnce(s.d.app.remediation.d.ports.vault, 'createOrphanToken', true);
    await s.d.scan('tok-crash2');
    const { ids } = await s.d.plan('tok-crash2');
    const accessors = async (): Promise<string[]> =>
      (await bao.call('GET', 'auth/token/accessors?list=true')).data.keys as string[];
    const before = await accessors();
    await expect(s.d.execute(ids)).rejects.toThrow(/simulated worker crash/);
    const leftover = (await accessors()).filter((a) => !before.includes(a));
    expect(leftover).toHaveLength(1);

    const [rec] = await s.d.execute(ids);
    expect(rec!.state).toBe('done');
    expect(rec!.rotation?.orphans).toEqual(leftover);
    expect(await tokenValid(leftover[0]!)).toBe(false);
    expect((await lookupSelf((await s.kv(TOK_AGENT))!.data.token!))?.accessor).toBe(rec!.rotation!.newId);
  });

  it('reports a check-and-set conflict: nothing is overwritten, the new token is revoked, the old untouched', async () => {
    const s = await setUp({ actions: [rotateToken] });
    const port = s.d.app.remediation.d.ports.vault;
    const create = port.createOrphanToken.bind(port);
    let made = '';
    port.createOrphanToken = async (...args) => {
      const out = await create(...args);
      made = out.accessor;
      await s.putKv(TOK_AGENT, { token: 'written-by-someone-else' });
      return out;
    };
    const { executed } = await s.d.run('tok-cas');
    const [rec] = byAction(executed, 'rotate-token');
    expect(rec!.state).toBe('failed');
    expect(rec!.result?.detail).toMatch(/check-and-set conflict/);
    expect(await tokenValid(made)).toBe(false);
    expect((await s.kv(TOK_AGENT))?.data.token).toBe('written-by-someone-else');
    expect(await s.kvVersions(TOK_AGENT)).toEqual([1, 2]);
    expect((await lookupSelf(s.oldToken.token))?.accessor).toBe(s.oldToken.accessor);
  });

  it('rolls back before the delete: the old token is back in KV and works, the new one is revoked', async () => {
    const s = await setUp({ actions: [rotateToken], params: 'graceHours: 24' });
    const { executed } = await s.d.run('tok-rb');
    const [rec] = byAction(executed, 'rotate-token');
    expect(rec!.state).toBe('in-progress');
    const newId = rec!.rotation!.newId!;
    expect(await tokenValid(newId)).toBe(true);

    const back = await s.d.app.people.rollback(rec!.plan.id, 'alice');
    expect(back.state).toBe('rolled-back');
    const kv = (await s.kv(TOK_AGENT))!;
    expect(kv.version).toBe(3);
    expect(kv.data).toEqual({ accessor: s.oldToken.accessor, token: s.oldToken.token, address: bao.address });
    expect((await lookupSelf(kv.data.token!))?.accessor).toBe(s.oldToken.accessor);
    expect(await tokenValid(newId)).toBe(false);
  });

  it('never rotates a root token or credwarden’s own remediation token', async () => {
    const s = await setUp({
      actions: [rotateToken],
      extraTokenNames: ['rootish', 'cw-remediation'],
      remediationName: 'cw-remediation',
    });
    const root = await token({ policies: ['root'], display_name: 'rootish', no_parent: true });
    const { executed } = await s.d.run('tok-refuse');
    const recs = byAction(executed, 'rotate-token');
    const of = (accessor: string) => recs.find((x) => x.plan.target.identity.accessor === accessor);
    expect(of(root.accessor)?.state).toBe('cancelled');
    expect(of(root.accessor)?.result?.detail).toMatch(/root policy/);
    expect(of(s.remediation.accessor)?.state).toBe('failed');
    expect(of(s.remediation.accessor)?.result?.detail).toMatch(/credwarden's own remediation token/);
    expect(await tokenValid(root.accessor)).toBe(true);
    expect(await tokenValid(s.remediation.accessor)).toBe(true);
    // The agent's own token was rotated all the same (another principal).
    expect(of(s.oldToken.accessor)?.state).toBe('done');
  });
});
