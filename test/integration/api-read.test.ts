/**
 * The read routes of the HTTP API over a real App: the seeded Vault estate (the Vault double) is
 * scanned, evaluated against a small policy file and planned (remediation in dry-run), then every
 * read route answers from it. Filters narrow to exactly what the services hold; a wrong filter
 * value or an unknown query field is a 400 naming `query.<field>`; ids with slashes and colons
 * travel URL-encoded; the audit log reads by range and verifies, and a tampered Redis chain
 * verifies as ok: false with its break named.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../src/cli/main.js';
import { ManualClock } from '../../src/clock.js';
import type { App } from '../../src/main.js';
import type { Finding } from '../../src/model/finding.js';
import { registry, type SeededVault, seedVault } from '../fixtures/vault-estate.js';
import { type TestApi, testApi, testTokens } from '../support/api.js';
import { type TestAppFiles, testApp, writeTestFiles } from '../support/app.js';
import { captureIo } from '../support/capture.js';
import { useRedis } from '../support/redis.js';
import { startVaultDouble, type VaultDouble } from '../support/vault-double/index.js';

const r = useRedis('api-read');
const SCAN = 'api-read-1';
const POLICIES = `policies:
  - name: vault-root
    description: Tokens with the root policy
    resource: { kinds: [vault-token] }
    rules: [{ type: vault-root-policy }]
    severity: critical
  - name: vault-sudo
    description: Tokens with sudo anywhere
    resource: { kinds: [vault-token] }
    rules: [{ type: vault-sudo }]
    severity: high
  - name: shadow-agent
    description: Agent-looking credentials nobody registered
    rules: [{ type: unregistered-agent }]
    severity: medium
  - name: agent-token-never-expires
    description: Agent tokens that never expire
    resource: { kinds: [vault-token], agents: [invoice-bot] }
    rules: [{ type: never-expires }]
    severity: low
    mode: enforce
    remediation: [revoke-token]
exceptions:
  - id: nobody-exception
    selector: { agents: [nobody] }
    owner: security@example.com
    reason: listed by the API
    expires: "2099-12-31"
`;

let vault: VaultDouble;
let sv: SeededVault;
let app: App;
let api: TestApi;
let files: TestAppFiles;

const get = async (url: string, as: 'viewer' | 'auditor' = 'viewer') => {
  const res = await api.call('GET', url, { as });
  return { status: res.statusCode, body: res.json(), text: res.body };
};
const tokenId = (accessor: string, ns = 'root') => `vault/main/${ns}/token/${accessor}`;
const enc = encodeURIComponent;

beforeAll(async () => {
  vault = await startVaultDouble();
  sv = seedVault(vault);
  process.env.CW_API_READ_VAULT_TOKEN = sv.scanner.token;
  const tokens = await testTokens();
  files = writeTestFiles(
    {
      redis: { prefix: r.prefix },
      vault: [
        {
          name: 'main',
          address: vault.address,
          token: ['$', '{env:CW_API_READ_VAULT_TOKEN}'].join(''),
          namespaces: ['root', 'team-a'],
          leasePrefixes: ['aws/creds/'],
          awsMounts: ['aws'],
        },
      ],
      policies: ['policies'],
      api: { tokens: tokens.config },
    },
    registry,
  );
  mkdirSync(join(files.dir, 'policies'));
  writeFileSync(join(files.dir, 'policies', 'p.yaml'), POLICIES);
  app = await testApp(files, new ManualClock(Date.now() + 3_600_000));
  app.remediation.setEnqueue(async () => {});
  await app.orchestrator.runInProcess(SCAN, 'test', app.orchestrator.units(), 2);
  await app.findings.evaluateScan(SCAN);
  await app.remediation.planScan(SCAN);
  api = await testApi(app, tokens);
  return async () => {
    await api.close();
    await app.close();
    await vault.close();
  };
});

describe('inventory and credentials', () => {
  it('lists the stored credentials, holding no secret value, and filters narrow exactly', async () => {
    // The route serves them by id.
    const stored = (await app.scans.currentInventory()).sort((a, b) => (a.id < b.id ? -1 : 1));
    const all = await get('/api/v1/inventory?limit=1000');
    expect(all.status).toBe(200);
    expect(all.body.total).toBe(stored.length);
    expect(all.body.items).toEqual(stored);
    for (const secret of [sv.scanner.token, sv.invoice.token, sv.rogue.token, sv.teamA.token, vault.rootToken])
      expect(all.text).not.toContain(secret);

    const tokens = await get('/api/v1/inventory?kind=vault-token&limit=1000');
    expect(tokens.body.total).toBe(stored.filter((c) => c.kind === 'vault-token').length);
    expect(tokens.body.items.every((c: { kind: string }) => c.kind === 'vault-token')).toBe(true);
    const teamA = await get(`/api/v1/inventory?account=${enc('main/team-a')}`);
    expect(teamA.body.items.map((c: { id: string }) => c.id)).toEqual([tokenId(sv.teamA.accessor, 'team-a')]);
    // A cluster name alone covers all its namespaces.
    expect((await get('/api/v1/inventory?account=main')).body.total).toBe(stored.length);
    const invoice = await get('/api/v1/inventory?agent=invoice-bot');
    expect(invoice.body.total).toBe(stored.filter((c) => c.agentId === 'invoice-bot').length);
    expect(invoice.body.total).toBeGreaterThan(0);
    expect((await get('/api/v1/inventory?source=aws')).body.total).toBe(0);

    const paged = await get('/api/v1/inventory?limit=2&offset=1');
    expect(paged.body).toMatchObject({ items: stored.slice(1, 3), total: stored.length, next: 3 });
  });

  it('refuses a wrong filter value and an unknown query field, naming the field', async () => {
    const kind = await get('/api/v1/inventory?kind=vault-password');
    expect(kind.status).toBe(400);
    expect(kind.body.error).toMatchObject({ code: 'CW_ERR_INPUT', field: 'query.kind' });
    const unknown = await get('/api/v1/inventory?colour=red');
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.field).toBe('query.colour');
    expect(unknown.body.error.message).toMatch(/query\.colour is not a known field/);
  });

  it('answers one credential by its URL-encoded id: grants, score, open findings, actions', async () => {
    const id = tokenId(sv.rogue.accessor);
    const res = await get(`/api/v1/credentials/${enc(id)}`);
    expect(res.status).toBe(200);
    expect(res.body.credential).toEqual(await app.scans.credential(id));
    expect(res.body.credential.grants.length).toBeGreaterThan(0);
    expect(res.body.credential.grants[0].provenance).toHaveProperty('policy');
    expect(res.body.score).toEqual(await app.findings.credentialScore(id));
    expect(res.body.score.score).toBeGreaterThan(0);
    const open = (await app.findings.all()).filter((f) => f.credentialId === id && f.state === 'open');
    expect(res.body.findings.map((f: Finding) => f.policy).sort()).toEqual(open.map((f) => f.policy).sort());
    expect(res.body.findings.map((f: Finding) => f.policy)).toContain('shadow-agent');

    const invoice = await get(`/api/v1/credentials/${enc(tokenId(sv.invoice.accessor))}`);
    expect(invoice.body.actions).toHaveLength(1);
    expect(invoice.body.actions[0]).toMatchObject({ action: 'revoke-token', policy: 'agent-token-never-expires' });
  });

  it('404s an unknown credential, decoding the id exactly once', async () => {
    const id = 'vault/main/team-a%2Fsub/token/no-such-accessor';
    const res = await get(`/api/v1/credentials/${enc(id)}`);
    expect(res.status).toBe(404);
    expect(res.body.error).toMatchObject({
      code: 'CW_ERR_NOT_FOUND',
      message: `no credential ${id} in the current inventory`,
    });
    // Unencoded slashes are another path, which no route serves.
    expect((await get(`/api/v1/credentials/${id}`)).status).toBe(404);
  });
});

describe('findings and agents', () => {
  it('filters findings by severity, state, policy and agent to exactly the stored ones', async () => {
    const stored = await app.findings.all();
    const critical = stored.filter((f) => f.severity === 'critical');
    expect(critical.length).toBeGreaterThan(0);
    expect(critical.length).toBeLessThan(stored.length);
    const res = await get('/api/v1/findings?severity=critical');
    expect(res.body.total).toBe(critical.length);
    expect(res.body.items.every((f: Finding) => f.severity === 'critical')).toBe(true);

    const all = await get('/api/v1/findings?state=open&limit=1000');
    const order = ['critical', 'high', 'medium', 'low', 'info'];
    const ranks = all.body.items.map((f: Finding) => order.indexOf(f.severity));
    expect(ranks).toEqual([...ranks].sort((a, b) => a - b));
    expect(all.body.total).toBe(stored.filter((f) => f.state === 'open').length);

    const shadow = await get('/api/v1/findings?policy=shadow-agent');
    expect(shadow.body.total).toBe(stored.filter((f) => f.policy === 'shadow-agent').length);
    const invoice = await get('/api/v1/findings?agent=invoice-bot');
    expect(invoice.body.items.map((f: Finding) => f.policy)).toEqual(['agent-token-never-expires']);
    expect((await get(`/api/v1/findings?account=${enc('main/team-a')}&severity=critical`)).body.total).toBe(0);
  });

  it('refuses a severity outside the domain, naming query.severity', async () => {
    const res = await get('/api/v1/findings?severity=urgent');
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: 'CW_ERR_INPUT', field: 'query.severity' });
    expect(res.body.error.message).toMatch(/must be one of critical, high, medium, low, info/);
    expect((await get('/api/v1/findings?state=closed')).body.error.field).toBe('query.state');
  });

  it('answers one finding by its encoded fingerprint with its audit history', async () => {
    const f = (await app.findings.all()).find((x) => x.policy === 'vault-root')!;
    expect(f.fingerprint).toMatch(/:vault\/main\//);
    const res = await get(`/api/v1/findings/${enc(f.fingerprint)}`);
    expect(res.status).toBe(200);
    expect(res.body.finding).toEqual(f);
    expect(res.body.history.map((e: { type: string }) => e.type)).toEqual(['finding.opened']);
    expect(res.body.history[0].subject).toBe(f.fingerprint);
    expect(res.body.historyScan).toEqual({ fromSeq: 1, toSeq: (await app.audit.head()).seq, truncated: false });
    const missing = await get(`/api/v1/findings/${enc('vault-root:vault/main/root/token/none')}`);
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('CW_ERR_NOT_FOUND');
  });

  it('lists the registry agents with scores, open findings and credential counts', async () => {
    const res = await get('/api/v1/agents');
    expect(res.body.items.map((a: { id: string }) => a.id)).toEqual(registry.agents.map((a) => a.id));
    const inventory = await app.scans.currentInventory();
    const findings = await app.findings.all();
    for (const a of res.body.items) {
      expect(a.credentials).toBe(inventory.filter((c) => c.agentId === a.id).length);
      expect(a.openFindings).toBe(findings.filter((f) => f.agentId === a.id && f.state === 'open').length);
      expect(a.score).toEqual(await app.findings.agentScore(a.id));
    }
    const invoice = res.body.items.find((a: { id: string }) => a.id === 'invoice-bot');
    expect(invoice).toMatchObject({ name: 'Invoice bot', openFindings: 1, openBySeverity: { low: 1, critical: 0 } });
  });
});

describe('scans, actions, remediation, silences and exceptions', () => {
  it('lists scans and answers one with its evaluation and drift', async () => {
    const list = await get('/api/v1/scans');
    expect(list.body).toMatchObject({ total: 1, next: null });
    expect(list.body.items[0]).toMatchObject({ id: SCAN, status: 'complete' });
    const one = await get(`/api/v1/scans/${SCAN}`);
    expect(one.body.scan).toEqual(await app.scans.summary(SCAN));
    expect(one.body.evaluation).toEqual(await app.findings.evaluation(SCAN));
    expect(one.body.evaluation.transitions['finding.opened']).toBe((await app.findings.all()).length);
    expect(one.body.drift).toEqual(await app.scans.drift(SCAN));
    expect((await get('/api/v1/scans/no-such-scan')).status).toBe(404);
  });

  it('lists actions with their filters and answers one in full', async () => {
    const stored = await app.remediation.list({}, 1000);
    expect(stored.length).toBeGreaterThan(0);
    const list = await get('/api/v1/actions');
    expect(list.body.total).toBe(stored.length);
    const a = list.body.items[0];
    expect(a).toMatchObject({ action: 'revoke-token', credentialId: tokenId(sv.invoice.accessor) });
    expect((await get(`/api/v1/actions?state=${a.state}&action=revoke-token`)).body.total).toBe(1);
    expect((await get('/api/v1/actions?action=delete-key')).body.total).toBe(0);
    expect((await get('/api/v1/actions?agent=team-a-bot')).body.total).toBe(0);
    expect((await get('/api/v1/actions?state=finished')).body.error.field).toBe('query.state');
    expect((await get('/api/v1/actions?action=explode')).body.error.field).toBe('query.action');

    const one = await get(`/api/v1/actions/${enc(a.id)}`);
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({ id: a.id, rollbackRequest: null, rollbackApprovals: [], approvals: [] });
    expect(one.body.plan.target.credentialId).toBe(a.credentialId);
    expect(one.body.history.length).toBeGreaterThan(0);
    expect((await get('/api/v1/actions/no-such-action')).status).toBe(404);
  });

  it('says where remediation stands, counting actions by state', async () => {
    const res = await get('/api/v1/remediation');
    const stored = await app.remediation.list({}, 1000);
    expect(res.body).toMatchObject({ mode: 'dry-run', paused: null, breaker: null, rate: { used: 0 } });
    expect(Object.values(res.body.actions as Record<string, number>).reduce((n, v) => n + v, 0)).toBe(stored.length);
  });

  it('answers as the CLI does: actions list --json and remediation status --json (one shared shape)', async () => {
    const cli = async (...args: string[]) => {
      const io = captureIo();
      expect(await run(['--config', files.configPath, '--json', ...args], io)).toBe(0);
      return JSON.parse(io.stdout.join('\n'));
    };
    expect(await cli('actions', 'list')).toEqual((await get('/api/v1/actions')).body.items);
    expect(await cli('remediation', 'status')).toEqual((await get('/api/v1/remediation')).body);
  });

  it('lists silences and exceptions from config and the API', async () => {
    const expires = new Date(app.clock.now().getTime() + 86_400_000).toISOString();
    const s = await app.silences.create(
      { matchers: { agents: ['nobody'] }, owner: 'o@example.com', reason: 'r', expires },
      'user:viewer',
    );
    const silences = await get('/api/v1/silences');
    expect(silences.body.items).toEqual([expect.objectContaining({ id: s.id, source: 'api', active: true })]);
    const exceptions = await get('/api/v1/exceptions');
    expect(exceptions.body.items).toEqual([expect.objectContaining({ id: 'nobody-exception', source: 'config' })]);
  });
});

describe('audit', () => {
  it('reads a seq range with the head and the next page, and filters by type', async () => {
    const head = await app.audit.head();
    const res = await get('/api/v1/audit?from=2&limit=5', 'auditor');
    expect(res.status).toBe(200);
    expect(res.body.events.map((e: { seq: number }) => e.seq)).toEqual([2, 3, 4, 5, 6]);
    expect(res.body).toMatchObject({ head, next: 7 });
    const last = await get(`/api/v1/audit?from=${head.seq}`, 'auditor');
    expect(last.body).toMatchObject({ next: null, events: [{ seq: head.seq }] });

    const opened = await get('/api/v1/audit?type=finding.opened&limit=1000', 'auditor');
    const expected = (await app.audit.read(1)).filter((e) => e.type === 'finding.opened');
    expect(opened.body.events).toEqual(expected);
    expect((await get('/api/v1/audit?type=finding.exploded', 'auditor')).body.error.field).toBe('query.type');
    expect((await get('/api/v1/audit?limit=1001', 'auditor')).body.error.field).toBe('query.limit');
  });

  it('verifies the chain and its file copy; a tampered Redis entry is ok: false with the break named', async () => {
    const good = await get('/api/v1/audit/verify', 'auditor');
    expect(good.status).toBe(200);
    expect(good.body).toMatchObject({ ok: true, breaks: [] });
    expect(good.body.checks.map((c: { where: string }) => c.where)).toEqual([
      `redis ${r.keyPrefix}:audit`,
      app.config.audit.file,
      'cross-check',
    ]);

    await r.redis.xdel(app.audit.eventsKey, '3-0');
    const bad = await get('/api/v1/audit/verify', 'auditor');
    expect(bad.status).toBe(200);
    expect(bad.body.ok).toBe(false);
    expect(bad.body.breaks[0]).toMatchObject({ where: `redis ${r.keyPrefix}:audit`, reason: 'seq-gap', seq: 4 });
    // The file copy still holds: the break is Redis's alone (a gap is left to each copy's own verify).
    expect(bad.body.breaks).toHaveLength(1);
    expect(bad.body.checks[1]).toMatchObject({ where: app.config.audit.file, result: { ok: true } });
  });
});
