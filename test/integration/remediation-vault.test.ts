/**
 * The remediation engine end to end against a REAL OpenBao: scan → evaluate → plan → guard →
 * execute, with the real audit log and Redis. The remediation token's only policy is generated
 * from the actions' own `permissions.vault` (no default policy), so the engine's calls — the live
 * re-check goes through the read-only scanner token — are shown sufficient.
 *
 * Asserted at OpenBao itself: enforce revokes exactly the matched agent token (its sibling of the
 * same agent, a token of no agent, and credwarden's own tokens stay valid) and destroys exactly the
 * matched secret ID (the role's other secret ID still logs in); dry-run changes nothing at all.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { destroySecretId } from '../../src/actions/destroy-secret-id.action.js';
import { revokeToken } from '../../src/actions/revoke-token.action.js';
import { ManualClock } from '../../src/clock.js';
import { OPENBAO_SCANNER_POLICY, registry } from '../fixtures/vault-estate.js';
import { testApp, writeTestFiles } from '../support/app.js';
import { useOpenBao } from '../support/openbao.js';
import { useRedis } from '../support/redis.js';
import { type Drive, drive } from '../support/remediation-env.js';

const envRef = (name: string) => ['$', `{env:${name}}`].join('');
const r = useRedis('rem-vault');
const bao = useOpenBao();
let n = 0;
let d: Drive | undefined;

type Tok = { token: string; accessor: string };
type Sid = { secretId: string; accessor: string };

/** HCL from `permissions.vault` lines ("<path>: <caps> (note)"). */
const policyFrom = (lines: string[]) =>
  lines
    .map((line) => {
      const [path, caps] = line.replace('<approle mount>', 'approle').split(': ') as [string, string];
      const list = caps
        .replace(/\(.*\)/, '')
        .split(/[\s,]+/)
        .filter(Boolean);
      return `path "${path}" { capabilities = [${list.map((c) => `"${c}"`).join(', ')}] }`;
    })
    .join('\n');

const POLICIES = (mode: 'enforce' | 'observe' = 'enforce') => `policies:
  - name: agent-token-never-expires
    description: Agent Vault tokens that never expire
    resource: { kinds: [vault-token], agents: [invoice-bot] }
    rules: [{ type: never-expires }]
    severity: high
    mode: ${mode}
    remediation: [revoke-token]
  - name: agent-secret-id-never-expires
    description: Agent AppRole secret IDs issued without a TTL
    resource: { kinds: [vault-approle-secret-id], agents: [deploy-agent] }
    rules: [{ type: never-expires }]
    severity: high
    mode: ${mode}
    remediation: [destroy-secret-id]
`;

const token = async (body: Record<string, unknown>): Promise<Tok> => {
  const res = await bao.call('POST', 'auth/token/create', body);
  return { token: String(res.auth.client_token), accessor: String(res.auth.accessor) };
};
const valid = async (t: Tok) => (await bao.request('GET', 'auth/token/lookup-self', { token: t.token })).status === 200;
const accessors = async (): Promise<string[]> =>
  ((await bao.call('GET', 'auth/token/accessors?list=true')).data.keys as string[]).sort();
const listed = async (role: string): Promise<string[]> =>
  ((await bao.request('GET', `auth/approle/role/${role}/secret-id?list=true`)).json?.data?.keys ?? []).sort();
const roleIds: Record<string, string> = {};
const login = async (role: string, secretId: string) =>
  (await bao.request('POST', 'auth/approle/login', { body: { role_id: roleIds[role], secret_id: secretId } })).status;

interface Estate {
  scanner: Tok;
  remediation: Tok;
  victim: Tok;
  sibling: Tok;
  stranger: Tok;
  never: Sid;
  bounded: Sid;
  theirs: Sid;
}

/** A fresh estate on a reset OpenBao, and an App over it (its own Redis prefix). */
async function setUp(opts: { mode?: 'dry-run' | 'enforce'; policyMode?: 'enforce' | 'observe' } = {}) {
  await bao.reset();
  await bao.call('PUT', 'sys/policies/acl/credwarden-scanner', { policy: OPENBAO_SCANNER_POLICY });
  const perms = [...revokeToken.permissions.vault, ...destroySecretId.permissions.vault];
  await bao.call('PUT', 'sys/policies/acl/credwarden-remediation', { policy: policyFrom(perms) });
  const orphan = { no_parent: true, no_default_policy: true };
  const e = {} as Estate;
  e.scanner = await token({ policies: ['credwarden-scanner'], display_name: 'credwarden', no_parent: true });
  e.remediation = await token({ policies: ['credwarden-remediation'], display_name: 'remediator', ...orphan });
  // Two tokens of the same agent (display name token-invoice-bot): only the periodic one, with no
  // explicit max TTL, never expires. A third never-expiring token belongs to no registered agent.
  e.victim = await token({ policies: ['default'], display_name: 'invoice-bot', period: '24h', no_parent: true });
  e.sibling = await token({ policies: ['default'], display_name: 'invoice-bot', ttl: '2h', no_parent: true });
  e.stranger = await token({ policies: ['default'], display_name: 'ci-runner', period: '24h', no_parent: true });

  await bao.enableAppRole();
  for (const role of ['deploy-agent', 'other-role']) {
    await bao.call('POST', `auth/approle/role/${role}`, { token_policies: ['default'], secret_id_ttl: 0 });
    roleIds[role] = (await bao.call('GET', `auth/approle/role/${role}/role-id`)).data.role_id;
  }
  const mint = async (role: string, body: Record<string, unknown> = {}): Promise<Sid> => {
    const out = (await bao.call('POST', `auth/approle/role/${role}/secret-id`, body)).data;
    return { secretId: String(out.secret_id), accessor: String(out.secret_id_accessor) };
  };
  e.never = await mint('deploy-agent');
  e.bounded = await mint('deploy-agent', { ttl: '2h' });
  e.theirs = await mint('other-role');

  process.env.CW_TEST_VAULT_TOKEN = e.scanner.token;
  process.env.CW_TEST_VAULT_REMEDIATION_TOKEN = e.remediation.token;
  const files = writeTestFiles(
    {
      redis: { prefix: `${r.prefix}-${++n}` },
      vault: [
        {
          name: 'main',
          address: bao.address,
          token: envRef('CW_TEST_VAULT_TOKEN'),
          remediationToken: envRef('CW_TEST_VAULT_REMEDIATION_TOKEN'),
          ...{
            namespaces: ['root'],
            approleMounts: ['approle'],
            leasePrefixes: [],
            awsMounts: [],
            requestTimeoutMs: 5000,
          },
        },
      ],
      policies: ['policies'],
      remediation: { mode: opts.mode ?? 'enforce', minAgeHours: 0, approvals: { required: [] } },
    },
    registry,
  );
  mkdirSync(join(files.dir, 'policies'));
  writeFileSync(join(files.dir, 'policies', 'p.yaml'), POLICIES(opts.policyMode));
  const clock = new ManualClock(Date.now());
  d = drive(await testApp(files, clock), clock);
  return { d, e };
}

beforeEach(async () => {
  await d?.close();
  d = undefined;
});
afterAll(async () => {
  await d?.close();
});

describe('remediation against OpenBao', () => {
  it('enforce: revokes exactly the matched agent token and destroys exactly the matched secret ID', async () => {
    const { d, e } = await setUp();
    const before = await accessors();
    const { summary, executed } = await d.run('rv-1');
    expect(summary.byDecision).toEqual({ allow: 2 });
    expect(executed.map((x) => [x.plan.action, x.plan.target.identity, x.state, x.result?.outcome]).sort()).toEqual([
      [
        'destroy-secret-id',
        { cluster: 'main', namespace: '', mount: 'approle', role: 'deploy-agent', secretIdAccessor: e.never.accessor },
        'done',
        'done',
      ],
      ['revoke-token', { cluster: 'main', namespace: '', accessor: e.victim.accessor }, 'done', 'done'],
    ]);

    // Tokens: only the victim's accessor is gone; its sibling, the stranger and credwarden's own stay.
    const after = await accessors();
    expect(before.filter((a) => !after.includes(a))).toEqual([e.victim.accessor]);
    expect(after.filter((a) => !before.includes(a))).toEqual([]);
    const still = await Promise.all([e.victim, e.sibling, e.stranger, e.scanner, e.remediation].map(valid));
    expect(still).toEqual([false, true, true, true, true]);

    // Secret IDs: only the never-expiring one of deploy-agent; the other role's is not the agent's.
    expect(await listed('deploy-agent')).toEqual([e.bounded.accessor]);
    expect(await listed('other-role')).toEqual([e.theirs.accessor]);
    expect([
      await login('deploy-agent', e.never.secretId),
      await login('deploy-agent', e.bounded.secretId),
      await login('other-role', e.theirs.secretId),
    ]).toEqual([400, 200, 200]);

    // The audit trail per action: planned, intent, checked (with the pre-state), result.
    const events = await d.audit();
    for (const x of executed) {
      const mine = events.filter((ev) => ev.data.planId === x.plan.id);
      expect(mine.map((ev) => ev.type)).toEqual(['action.planned', 'action.intent', 'action.checked', 'action.result']);
      expect(mine.every((ev) => ev.subject === x.plan.target.credentialId)).toBe(true);
      expect(mine[2]!.data.preState).toMatchObject({ exists: true });
    }
    expect(JSON.stringify(events)).not.toContain(e.victim.token);
    expect(JSON.stringify(events)).not.toContain(e.never.secretId);

    // A second run finds nothing left to do and calls no write.
    const writes = () =>
      Object.entries(d.app.remediation.d.ports.vault.calls.byOperation).filter(([op]) => /revoke|destroy/.test(op));
    const w = writes();
    const again = await d.run('rv-2');
    expect(again.executed).toEqual([]);
    expect(writes()).toEqual(w);
  });

  it('dry-run (global) records what it would do and touches nothing', async () => {
    const { d, e } = await setUp({ mode: 'dry-run' });
    const before = await accessors();
    const { summary, executed } = await d.run('rv-dry');
    expect([summary.byDecision, summary.queued, executed]).toEqual([{ 'dry-run': 2 }, [], []]);
    const recs = await d.app.remediation.list();
    expect(recs.map((x) => [x.plan.action, x.state, x.decision.reasons.map((y) => y.code)]).sort()).toEqual([
      ['destroy-secret-id', 'dry-run', ['global-dry-run']],
      ['revoke-token', 'dry-run', ['global-dry-run']],
    ]);
    expect(recs.find((x) => x.plan.action === 'revoke-token')!.plan.target.identity.accessor).toBe(e.victim.accessor);
    expect(await accessors()).toEqual(before);
    expect(await Promise.all([e.victim, e.sibling, e.stranger].map(valid))).toEqual([true, true, true]);
    expect(await listed('deploy-agent')).toEqual([e.never.accessor, e.bounded.accessor].sort());
    expect((await d.audit()).filter((ev) => ev.type === 'action.intent')).toEqual([]);
    expect(d.app.remediation.d.ports.vault.calls.total).toBe(0);
  });

  it('a policy in mode observe dry-runs even when remediation.mode is enforce', async () => {
    const { d, e } = await setUp({ policyMode: 'observe' });
    const { summary, executed } = await d.run('rv-observe');
    expect([summary.byDecision, executed]).toEqual([{ 'dry-run': 2 }, []]);
    for (const x of await d.app.remediation.list())
      expect(x.decision.reasons.map((y) => y.code)).toEqual(['policy-observe']);
    expect(await valid(e.victim)).toBe(true);
    expect(await login('deploy-agent', e.never.secretId)).toBe(200);
    expect(d.app.remediation.d.ports.vault.calls.total).toBe(0);
  });
});
