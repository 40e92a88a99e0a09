/**
 * The Vault actions (revoke-token, destroy-secret-id, revoke-lease, notify-owner) against a REAL
 * OpenBao (`bao server -dev`) and the machine's PostgreSQL, through VaultApiWritePort over
 * node-vault. Credentials come from a real scan; plans from each action's plan(). The port acts
 * with a remediation token whose only policy is generated from the actions' `permissions.vault`
 * (no default policy), so every run here also proves those lists complete and sufficient.
 *
 * Asserted: exactly the target changes (accessor lists, secret-id lists, logins, leases, the
 * PostgreSQL role) and nothing else; revoke-accessor takes the child token along; exact call
 * counts, and none on a re-run; a wrong-role secret-id accessor is never destroyed; a token
 * lacking a capability gets VAULT_PERMISSION naming it; plan() skips. Seals, chosen 5xx and an
 * old Vault's lookup answer are in actions-vault-double.test.ts.
 */
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ActionType } from '../../src/actions/action-type.js';
import { destroySecretId } from '../../src/actions/destroy-secret-id.action.js';
import { notifyOwner } from '../../src/actions/notify-owner.action.js';
import type { ActionPorts, AwsWritePort } from '../../src/actions/ports.js';
import { revokeLease } from '../../src/actions/revoke-lease.action.js';
import { revokeToken } from '../../src/actions/revoke-token.action.js';
import { type VaultApiWritePort, vaultWritePortFrom } from '../../src/actions/vault-port.js';
import type { VaultClusterConfig } from '../../src/config/schema.js';
import { CwError, ErrorCodes } from '../../src/errors.js';
import { type App, realVaultHttp } from '../../src/main.js';
import type { ActionPlan, TargetState } from '../../src/model/action.js';
import type { Credential } from '../../src/model/credential.js';
import { vaultSecretIdId } from '../../src/model/ids.js';
import { diffCounts } from '../../src/sources/api-calls.js';
import { OPENBAO_SCANNER_POLICY, registry } from '../fixtures/vault-estate.js';
import { testApp, writeTestFiles } from '../support/app.js';
import { type DatabaseEngine, postgresReachable, useOpenBao } from '../support/openbao.js';
import { useRedis } from '../support/redis.js';

const envRef = (name: string) => ['$', `{env:${name}}`].join('');
const r = useRedis('actions-vault');
const bao = useOpenBao();
const ACTIONS = [revokeToken, destroySecretId, revokeLease, notifyOwner];
const WRITES = /revoke-accessor|secret-id-accessor\/destroy|leases\/revoke/;

/** HCL from `permissions.vault` lines, as written and one namespace down (`+/`). */
function policyFrom(lines: string[]): string {
  return lines
    .flatMap((line) => {
      const [path, caps] = line.replace('<approle mount>', 'approle').split(': ') as [string, string];
      const list = caps
        .replace(/\(.*\)/, '')
        .split(/[\s,]+/)
        .filter(Boolean);
      const c = list.map((x) => `"${x}"`).join(', ');
      return [`path "${path}" { capabilities = [${c}] }`, `path "+/${path}" { capabilities = [${c}] }`];
    })
    .join('\n');
}

type Tok = { token: string; accessor: string };
let app: App;
let port: VaultApiWritePort;
let weak: VaultApiWritePort;
let remediation: Tok;
let db: DatabaseEngine;
const t = {} as Record<'scanner' | 'victim' | 'child' | 'sibling' | 'nsBot', Tok>;
const sid = {} as Record<'mine' | 'other' | 'theirs', { secretId: string; accessor: string }>;
const roleIds = {} as Record<string, string>;
const leases = {} as Record<'gone' | 'kept', { leaseId: string; username: string }>;
let creds: Credential[];
const closers: (() => void)[] = [];

const noAws = new Proxy({}, { get: () => expect.fail('an AWS port was used') }) as AwsWritePort;
const ports = (vault = port): ActionPorts => ({ aws: noAws, vault });
const refuseCtx = { now: new Date(), lastDoneBy: () => null };
const find = (pred: (c: Credential) => boolean) => creds.find(pred) ?? expect.fail('credential not scanned');
const tokenCred = (accessor: string) => find((c) => c.kind === 'vault-token' && c.attributes.accessor === accessor);
const sidCred = (a: string) => find((c) => c.kind === 'vault-approle-secret-id' && c.attributes.secretIdAccessor === a);
const leaseCred = (id: string) => find((c) => c.kind === 'vault-lease' && c.attributes.leaseId === id);

function planOf(action: ActionType, cred: Credential): ActionPlan {
  const out = action.plan(cred, {}, { now: new Date(), hits: [] });
  if (!('target' in out)) return expect.fail(`${action.name} skipped ${cred.id}: ${out.skip}`);
  return {
    id: `p-${action.name}`,
    action: action.name,
    params: {},
    policy: 'test',
    policyMode: 'enforce',
    findingFingerprint: 'f',
    severity: 'high',
    agentId: cred.agentId,
    owner: cred.owner,
    environment: null,
    tags: {},
    credentialCreatedAt: cred.createdAt,
    target: out.target,
    reversible: action.reversible,
    evidenceHash: 'h',
    facts: [],
    message: 'test',
    scanId: 'av-1',
    plannedAt: new Date().toISOString(),
  };
}

/** The engine's order: inspect → isDone? → refuse? → execute → inspect → verify; with the calls made. */
async function run(action: ActionType, plan: ActionPlan, vault = port) {
  const before = vault.calls;
  const pre = await action.inspect(plan, ports(vault));
  const calls = () => diffCounts(vault.calls, before).byOperation;
  if (action.isDone(plan, pre)) return { outcome: 'already-done', pre, calls: calls() };
  const refused = action.refuse(plan, pre, refuseCtx);
  if (refused) return { outcome: 'refused', pre, refused, calls: calls() };
  await action.execute(plan, ports(vault), pre);
  const post: TargetState = await action.inspect(plan, ports(vault));
  return { outcome: action.verify(plan, post) ? 'done' : 'unverified', pre, post, calls: calls() };
}

const accessors = async (): Promise<string[]> => (await bao.call('GET', 'auth/token/accessors?list=true')).data.keys;
const valid = async (tok: Tok, namespace = '') =>
  (await bao.request('GET', 'auth/token/lookup-self', { token: tok.token, namespace })).status === 200;
const listed = async (role: string): Promise<string[]> =>
  (await bao.request('GET', `auth/approle/role/${role}/secret-id?list=true`)).json?.data?.keys ?? [];
const login = async (role: string, secretId: string) =>
  (await bao.request('POST', 'auth/approle/login', { body: { role_id: roleIds[role], secret_id: secretId } })).status;
const leaseStatus = async (leaseId: string) =>
  (await bao.request('POST', 'sys/leases/lookup', { body: { lease_id: leaseId } })).status;

describe('Vault actions against OpenBao', () => {
  beforeAll(async () => {
    if (!(await postgresReachable())) throw new Error('PostgreSQL is not reachable at 127.0.0.1:5432 (trust auth)');
    const policy = (name: string, text: string) => bao.call('PUT', `sys/policies/acl/${name}`, { policy: text });
    const token = async (body: Record<string, unknown>, opts: { token?: string; namespace?: string } = {}) => {
      const res = await bao.call('POST', 'auth/token/create', body, opts);
      return { token: String(res.auth.client_token), accessor: String(res.auth.accessor) };
    };
    const all = ACTIONS.flatMap((a) => a.permissions.vault);
    await policy('credwarden-scanner', OPENBAO_SCANNER_POLICY);
    await policy('credwarden-remediation', policyFrom(all));
    await policy('credwarden-remediation-weak', policyFrom(all.filter((l) => !WRITES.test(l))));
    await policy('token-maker', 'path "auth/token/create" { capabilities = ["update"] }');
    await bao.createNamespace('team-a');
    const orphan = { no_parent: true, no_default_policy: true };
    t.scanner = await token({ policies: ['credwarden-scanner'], display_name: 'credwarden', no_parent: true });
    remediation = await token({ policies: ['credwarden-remediation'], display_name: 'remediator', ...orphan });
    const weakTok = await token({ policies: ['credwarden-remediation-weak'], ...orphan });
    t.victim = await token({ policies: ['token-maker'], display_name: 'victim-agent' });
    t.child = await token({ policies: ['default'], display_name: 'victim-child' }, { token: t.victim.token });
    t.sibling = await token({ policies: ['token-maker'], display_name: 'sibling-agent' });
    t.nsBot = await token({ policies: ['default'], display_name: 'ns-bot' }, { namespace: 'team-a' });

    await bao.enableAppRole();
    for (const role of ['deploy-agent', 'other-role']) {
      await bao.call('POST', `auth/approle/role/${role}`, { token_policies: ['default'], secret_id_ttl: 0 });
      roleIds[role] = (await bao.call('GET', `auth/approle/role/${role}/role-id`)).data.role_id;
    }
    const mint = async (role: string) => {
      const d = (await bao.call('POST', `auth/approle/role/${role}/secret-id`, {})).data;
      return { secretId: String(d.secret_id), accessor: String(d.secret_id_accessor) };
    };
    sid.mine = await mint('deploy-agent');
    sid.other = await mint('deploy-agent');
    sid.theirs = await mint('other-role');
    db = await bao.mountDatabase();
    leases.gone = await db.creds();
    leases.kept = await db.creds();

    process.env.CW_TEST_VAULT_TOKEN = t.scanner.token;
    process.env.CW_TEST_VAULT_REMEDIATION_TOKEN = remediation.token;
    const cluster = { name: 'main', address: bao.address, token: envRef('CW_TEST_VAULT_TOKEN') };
    const files = writeTestFiles(
      {
        redis: { prefix: r.prefix },
        vault: [
          {
            ...cluster,
            remediationToken: envRef('CW_TEST_VAULT_REMEDIATION_TOKEN'),
            ...{ namespaces: ['root', 'team-a'], approleMounts: ['approle'], leasePrefixes: ['database/creds/'] },
            ...{ awsMounts: [], requestTimeoutMs: 5000 },
          },
        ],
      },
      registry,
    );
    app = await testApp(files);
    const s = await app.orchestrator.runInProcess('av-1', 'test', app.orchestrator.units({ sourceType: 'vault' }), 2);
    expect(s.status).toBe('complete');
    creds = await app.scans.observed('av-1');
    const http = (c: VaultClusterConfig) => {
      const h = realVaultHttp({ ...c, token: c.remediationToken! });
      closers.push(() => h.close());
      return h;
    };
    port = vaultWritePortFrom(app.config.vault, http);
    weak = vaultWritePortFrom([{ ...app.config.vault[0]!, remediationToken: weakTok.token }], http);
  });
  afterAll(async () => {
    for (const close of closers) close();
    await app?.close();
  });

  it('revoke-token revokes exactly that accessor and its child; a sibling stays; a re-run calls no revoke', async () => {
    const before = await accessors();
    const plan = planOf(revokeToken, tokenCred(t.victim.accessor));
    expect(plan.target.identity).toEqual({ cluster: 'main', namespace: '', accessor: t.victim.accessor });
    const res = await run(revokeToken, plan);
    expect(res).toMatchObject({ outcome: 'done', pre: { exists: true, facts: { orphan: false } } });
    expect(res.calls).toEqual({ 'vault:lookup-accessor': 2, 'vault:lookup-self': 1, 'vault:revoke-accessor': 1 });
    const after = await accessors();
    expect(before.filter((a) => !after.includes(a)).sort()).toEqual([t.victim.accessor, t.child.accessor].sort());
    expect(after.filter((a) => !before.includes(a))).toEqual([]);
    expect([await valid(t.victim), await valid(t.child), await valid(t.sibling)]).toEqual([false, false, true]);

    const again = await run(revokeToken, plan);
    expect(again).toMatchObject({ outcome: 'already-done', pre: { exists: false } });
    expect(again.calls).toEqual({ 'vault:lookup-accessor': 1 });
    // OpenBao answers revoke-accessor on an unknown accessor 200 + a warning; the port takes it as done.
    const raw = await bao.request('POST', 'auth/token/revoke-accessor', { body: { accessor: t.victim.accessor } });
    expect([raw.status, raw.json.warnings]).toEqual([200, ['No token found with this accessor']]);
    await expect(port.revokeTokenAccessor('main', '', t.victim.accessor)).resolves.toBeUndefined();
  });

  it('revoke-token acts in the namespace of the id, and never on the remediation token itself', async () => {
    const plan = planOf(revokeToken, tokenCred(t.nsBot.accessor));
    expect(plan.target.identity.namespace).toBe('team-a');
    expect((await run(revokeToken, plan)).outcome).toBe('done');
    expect(await valid(t.nsBot, 'team-a')).toBe(false);

    const self = planOf(revokeToken, tokenCred(remediation.accessor));
    const before = port.calls;
    await expect(run(revokeToken, self)).rejects.toMatchObject({ code: ErrorCodes.GUARDRAIL });
    // lookup-self of the root namespace was read (and cached) by the first revoke.
    expect(diffCounts(port.calls, before).byOperation).toEqual({ 'vault:lookup-accessor': 1 });
    expect(await valid(remediation)).toBe(true);
  });

  it('destroy-secret-id destroys exactly that accessor; the role’s other secret ID still logs in', async () => {
    const res = await run(destroySecretId, planOf(destroySecretId, sidCred(sid.mine.accessor)));
    expect(res).toMatchObject({ outcome: 'done', pre: { exists: true, facts: { ownedByRole: true, found: true } } });
    expect(res.post).toEqual({ exists: false, facts: { ownedByRole: false, found: false } });
    expect(res.calls).toEqual({
      'vault:list-secret-ids': 2,
      'vault:lookup-secret-id': 2,
      'vault:destroy-secret-id': 1,
    });
    expect(await listed('deploy-agent')).toEqual([sid.other.accessor]);
    expect(await listed('other-role')).toEqual([sid.theirs.accessor]);
    expect([await login('deploy-agent', sid.mine.secretId), await login('deploy-agent', sid.other.secretId)]).toEqual([
      400, 200,
    ]);
    const again = await run(destroySecretId, planOf(destroySecretId, sidCred(sid.mine.accessor)));
    expect(again.outcome).toBe('already-done');
    expect(again.calls).toEqual({ 'vault:list-secret-ids': 1, 'vault:lookup-secret-id': 1 });
  });

  it('destroy-secret-id never destroys an accessor of another role planned under the wrong role path', async () => {
    const theirs = sidCred(sid.theirs.accessor);
    const forged: Credential = {
      ...theirs,
      id: vaultSecretIdId('main', '', 'approle', 'deploy-agent', sid.theirs.accessor),
      attributes: { ...theirs.attributes, role: 'deploy-agent' },
    };
    const plan = planOf(destroySecretId, forged);
    const before = port.calls;
    const state = await destroySecretId.inspect(plan, ports());
    // OpenBao 2.7 checks ownership on lookup (204 under another role): the target reads as absent.
    expect(state).toEqual({ exists: false, facts: { ownedByRole: false, found: false } });
    expect(destroySecretId.isDone(plan, state)).toBe(true);
    expect(destroySecretId.refuse(plan, state, refuseCtx)).toMatch(
      /not listed under AppRole role "deploy-agent" on auth\/approle.*CVE-2023-24999/,
    );
    await expect(destroySecretId.execute(plan, ports(), state)).rejects.toMatchObject({ code: ErrorCodes.GUARDRAIL });
    expect(diffCounts(port.calls, before).byOperation).toEqual({
      'vault:list-secret-ids': 1,
      'vault:lookup-secret-id': 1,
    });
    // OpenBao itself also refuses the wrong-role destroy: 403 "invalid secret id accessor".
    const raw = await bao.request('POST', 'auth/approle/role/deploy-agent/secret-id-accessor/destroy', {
      body: { secret_id_accessor: sid.theirs.accessor },
    });
    expect([raw.status, raw.json.errors]).toEqual([403, ['invalid secret id accessor']]);
    expect(await listed('other-role')).toEqual([sid.theirs.accessor]);
    expect(await login('other-role', sid.theirs.secretId)).toBe(200);
  });

  it('revoke-lease revokes synchronously: the lease and its PostgreSQL role are gone, the other stays', async () => {
    const plan = planOf(revokeLease, leaseCred(leases.gone.leaseId));
    const res = await run(revokeLease, plan);
    expect(res).toMatchObject({ outcome: 'done', pre: { exists: true }, post: { exists: false } });
    expect(res.calls).toEqual({ 'vault:lookup-lease': 2, 'vault:revoke-lease': 1 });
    expect([await leaseStatus(leases.gone.leaseId), await leaseStatus(leases.kept.leaseId)]).toEqual([400, 200]);
    const names = [leases.gone.username, leases.kept.username].map((n) => `'${n}'`).join(',');
    const sql = `select rolname from pg_roles where rolname in (${names})`;
    const pg = spawnSync('psql', ['-h', '127.0.0.1', '-U', 'postgres', '-d', 'postgres', '-tAc', sql], {
      encoding: 'utf8',
    });
    if (pg.error) console.warn(`psql unavailable (${pg.error.message}): PostgreSQL role check skipped`);
    else expect(pg.stdout.trim().split('\n')).toEqual([leases.kept.username]);
    const again = await run(revokeLease, plan);
    expect([again.outcome, again.calls]).toEqual(['already-done', { 'vault:lookup-lease': 1 }]);
  });

  it('notify-owner makes no backend call and changes nothing', async () => {
    const before = port.calls;
    for (const c of [tokenCred(t.sibling.accessor), sidCred(sid.other.accessor), leaseCred(leases.kept.leaseId)]) {
      const plan = planOf(notifyOwner, c);
      expect(plan.target.identity).toEqual({});
      expect(await run(notifyOwner, plan)).toMatchObject({ outcome: 'done', pre: { exists: true, facts: {} } });
    }
    expect(diffCounts(port.calls, before)).toEqual({ total: 0, attempts: 0, byOperation: {} });
    expect([await valid(t.sibling), await login('deploy-agent', sid.other.secretId)]).toEqual([true, 200]);
    expect(await leaseStatus(leases.kept.leaseId)).toBe(200);
  });

  it('a remediation token lacking the write capability gets VAULT_PERMISSION naming it; nothing changes', async () => {
    const cases: [ActionType, Credential, string][] = [
      [revokeToken, tokenCred(t.sibling.accessor), 'update on auth/token/revoke-accessor'],
      [
        destroySecretId,
        sidCred(sid.other.accessor),
        'update on auth/approle/role/deploy-agent/secret-id-accessor/destroy',
      ],
      [revokeLease, leaseCred(leases.kept.leaseId), 'update on sys/leases/revoke'],
    ];
    for (const [action, cred, need] of cases) {
      const err = await run(action, planOf(action, cred), weak).catch((e: unknown) => e);
      expect(err, action.name).toBeInstanceOf(CwError);
      expect(err, action.name).toMatchObject({ code: ErrorCodes.VAULT_PERMISSION, retryable: false });
      expect((err as Error).message, action.name).toContain(`permission denied: needs ${need}`);
    }
    expect([await valid(t.sibling), await login('deploy-agent', sid.other.secretId)]).toEqual([true, 200]);
    expect(await leaseStatus(leases.kept.leaseId)).toBe(200);
  });

  it('plan() skips the scanner’s own token, other kinds and ids that disagree with their attributes', () => {
    const plan = (a: ActionType, c: Credential) => a.plan(c, {}, { now: new Date(), hits: [] });
    const scanner = tokenCred(t.scanner.accessor);
    expect(scanner.attributes.self).toBe(true);
    expect(plan(revokeToken, scanner)).toEqual({ skip: expect.stringMatching(/own scanner token/) });
    const lease = leaseCred(leases.kept.leaseId);
    expect(plan(revokeToken, lease)).toEqual({ skip: 'revoke-token acts on vault-token credentials, not vault-lease' });
    expect(plan(destroySecretId, lease)).toMatchObject({ skip: expect.stringMatching(/not vault-lease/) });
    expect(plan(revokeLease, scanner)).toMatchObject({ skip: expect.stringMatching(/not vault-token/) });
    const sibling = tokenCred(t.sibling.accessor);
    const mismatched = { ...sibling, attributes: { ...sibling.attributes, accessor: t.scanner.accessor } };
    expect(plan(revokeToken, mismatched)).toMatchObject({ skip: expect.stringMatching(/refusing to guess/) });
    expect(plan(notifyOwner, scanner)).toHaveProperty('target');
  });

  it('a cluster without remediationToken (or not configured) is CONFIG naming it, before any client is built', async () => {
    let built = 0;
    const none = vaultWritePortFrom([{ ...app.config.vault[0]!, remediationToken: undefined }], () => {
      built++;
      return { request: async () => ({}) };
    });
    const e1 = await none.lookupTokenAccessor('main', '', t.sibling.accessor).catch((e: unknown) => e);
    expect(e1).toMatchObject({
      code: ErrorCodes.CONFIG,
      message: expect.stringMatching(/^vault main: no remediationToken/),
    });
    await expect(none.lookupLease('elsewhere', '', 'x')).rejects.toMatchObject({ code: ErrorCodes.CONFIG });
    expect([built, none.calls.total]).toEqual([0, 0]);
  });
});
