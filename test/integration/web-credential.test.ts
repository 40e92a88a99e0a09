/**
 * The credential page (/credentials/:id) over the seeded history of
 * test/support/evidence-scenario.ts, plus one agent user whose name and tag are markup, found by a
 * tenth scan. Its facts, score, findings and actions are checked against GET
 * /api/v1/credentials/{id} for the same id; its timeline against the audit chain.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../src/audit/event.js';
import type { Credential } from '../../src/model/credential.js';
import type { Finding } from '../../src/model/finding.js';
import type { CredentialScore } from '../../src/policy/score.js';
import { escapeHtml } from '../../src/web/html.js';
import { createUser, seederFor } from '../support/aws-seed.js';
import { type Browserless, dashboard } from '../support/dashboard.js';
import { ACCOUNT, type EvidenceScenario, seedEvidenceHistory } from '../support/evidence-scenario.js';
import { useMoto } from '../support/moto.js';
import { useRedis } from '../support/redis.js';
import { drive } from '../support/remediation-env.js';

const moto = useMoto();
const r = useRedis('web-credential');
const HOSTILE = '<img src=x onerror=alert(1)>';
const HOSTILE_USER = `agent-x${HOSTILE}`;
let s: EvidenceScenario;
let ui: Browserless;
let cookie: string;
let hostileId: string;

beforeAll(async () => {
  s = await seedEvidenceHistory(moto.endpoint, r.prefix);
  const seeder = await seederFor(moto.endpoint, ACCOUNT);
  try {
    await createUser(
      seeder,
      { name: HOSTILE_USER, keys: ['active'], tags: { lane: 'plain', note: HOSTILE } },
      moto.endpoint,
    );
  } finally {
    seeder.iam.destroy();
  }
  await drive(s.app, s.clock).scan('scan-9');
  hostileId = (await s.app.scans.currentInventory()).find((c) => c.principal.endsWith(HOSTILE_USER))!.id;
  ui = await dashboard(s.app, s.tokens);
  cookie = await ui.signIn('viewer');
}, 180_000);

afterAll(async () => {
  await ui?.close();
  await s?.app.close();
});

interface Detail {
  credential: Credential;
  score: (CredentialScore & Record<string, unknown>) | null;
  findings: Finding[];
  actions: { id: string; action: string; state: string; policy: string; approvals: { by: string }[] }[];
}

const url = (id: string) => `/credentials/${encodeURIComponent(id)}`;
const page = async (id: string) => {
  const res = await ui.get(url(id), cookie);
  expect(res.statusCode, res.body.slice(0, 300)).toBe(200);
  return res.body;
};
const api = async (id: string): Promise<Detail> => {
  const res = await ui.api.call('GET', `/api/v1${url(id)}`, { as: 'viewer' });
  expect(res.statusCode, res.body).toBe(200);
  return JSON.parse(res.body) as Detail;
};
/** The text of a section of the page, by its heading id. */
const section = (body: string, id: string) => {
  const m = new RegExp(`<section aria-labelledby="h-${id}">([\\s\\S]*?)</section>`).exec(body);
  expect(m, id).not.toBeNull();
  return m![1]!;
};
const fpsOf = (html: string) => [...html.matchAll(/<small class="mono fp">([^<]*)<\/small>/g)].map((m) => m[1]!);
const e = escapeHtml;

describe('the credential page', () => {
  it('shows the facts, open findings and actions GET /api/v1/credentials/{id} answers for the same id', async () => {
    for (const user of ['agent-admin', 'agent-new', 'agent-idle-2', 'agent-human', 'agent-far']) {
      const id = s.ids[user]!;
      const [body, json] = [await page(id), await api(id)];
      const c = json.credential;
      const identity = section(body, 'identity');
      for (const fact of [c.id, c.kind, c.source, c.principal, c.status, c.attributes.userName as string])
        expect(identity, `${user}: ${fact}`).toContain(e(fact));
      if (c.kind === 'aws-access-key') expect(identity).toContain(`<code>${c.attributes.accessKeyId}</code>`);
      expect(identity).toContain(`<time datetime="${c.createdAt}"`);
      expect(body).toContain(`<h1>Credential ${user} <small>${c.kind}</small></h1>`);
      expect(fpsOf(section(body, 'findings')), user).toEqual(json.findings.map((f) => f.fingerprint));
      const actions = section(body, 'actions');
      expect(actions).toContain(`Remediation actions on it (${json.actions.length}), newest first`);
      for (const a of json.actions) {
        expect(actions).toContain(`${a.action}<br><small class="mono">${a.id}</small>`);
        expect(actions).toContain(`<span class="badge state-${a.state}">${a.state}</span>`);
      }
      expect(actions).toContain(
        `href="/actions?${new URLSearchParams({ credential: id })}">All actions on this credential</a>`,
      );
      expect(section(body, 'grants')).toContain(
        `<caption>Grants (${c.grants.length}) and where each came from</caption>`,
      );
    }
    // What the history left: the admin key's detach rolled back, idle-2's deactivation denied.
    expect((await api(s.ids['agent-admin']!)).actions.map((a) => a.state)).toEqual(['rolled-back']);
    expect((await api(s.ids['agent-idle-2']!)).actions.map((a) => a.state)).toEqual(['denied']);
    expect(section(await page(s.ids['agent-admin']!), 'actions')).toContain('approved by user:alice, user:bob');
  });

  it('explains the score as the API does: the number, the factors, each top contribution and the statements behind it', async () => {
    for (const user of ['agent-admin', 'agent-new']) {
      const id = s.ids[user]!;
      const [score, json] = [section(await page(id), 'score'), await api(id)];
      const sc = json.score!;
      expect(sc).toEqual(await s.app.findings.credentialScore(id));
      expect(score).toContain(`<span class="tile-value score">${sc.score}</span> of 100`);
      for (const f of sc.factors) expect(score).toContain(e(f));
      for (const [d, p] of Object.entries(sc.vector)) expect(score).toContain(`<code>${d}</code> ${p}`);
      const items = score.split('<li class="panel">').slice(1);
      expect(items).toHaveLength(sc.top.length);
      sc.top.forEach((t, i) => {
        expect(items[i]).toContain(`<strong>+${t.points}</strong> <code>${t.detector}</code>`);
        expect(items[i]).toContain(`<p>${e(t.message)}</p>`);
        expect(items[i]).toContain(t.fingerprint);
        for (const ev of t.evidence) {
          if (ev.statement) expect(items[i]).toContain(`<code>${e(ev.statement.summary)}</code>`);
          if (ev.field) expect(items[i]).toContain(`<code>${e(ev.field)}</code>`);
        }
      });
    }
    expect((await api(s.ids['agent-admin']!)).score!.score).toBe(100);
    // No open finding, no score: said in words.
    expect((await api(s.ids['agent-human']!)).score).toBeNull();
    const human = await page(s.ids['agent-human']!);
    expect(section(human, 'score')).toContain('No score: it has no open findings');
    expect(section(human, 'findings')).toContain('Its other findings: 1 suppressed');
  });

  it('shows the grants with their provenance as stored', async () => {
    const json = await api(s.ids['agent-admin']!);
    const [g] = json.credential.grants;
    expect(json.credential.grants).toHaveLength(1);
    expect(g).toMatchObject({ type: 'aws-statement', effect: 'Allow', provenance: { attachment: 'managed' } });
    const grants = section(await page(s.ids['agent-admin']!), 'grants');
    expect(grants).toContain(
      `<tr><td>Allow</td><td><code>*</code></td><td><code>*</code></td><td><span class="muted">none</span></td><td>${g!.provenance.policy}<br><code>${g!.provenance.policyArn}</code></td><td>managed policy</td></tr>`,
    );
    expect(section(await page(s.ids['agent-new']!), 'grants')).toContain(
      'No grants: the source recorded no permissions',
    );
  });

  it('joins the registry for the owner and agent, and flags an unregistered agent credential', async () => {
    const owner = section(await page(s.ids['agent-admin']!), 'owner');
    const agent = s.app.registry.agents.find((a) => a.id === 'bot')!;
    expect(owner).toContain(`<span class="badge state-ok">registered</span> ${agent.name} (<code>bot</code>)`);
    expect(owner).toContain(`${agent.owner!.team} <small>${agent.owner!.contact}</small>`);
    expect(owner).toContain(`<dt>Environment</dt><dd>${agent.environment}</dd>`);
    // The registry in this history claims every agent-* user; a record no entry claims, as a scan stores it:
    const far = (await s.app.scans.credential(s.ids['agent-far']!))!;
    const lone = { ...far, id: `${far.id}-lone`, agentId: null, owner: null, unregisteredAgent: true };
    await r.redis.hset(`${r.keyPrefix}:inv:creds`, lone.id, JSON.stringify(lone));
    const flagged = section(await page(lone.id), 'owner');
    expect(flagged).toContain('<span class="badge state-fail">unregistered agent</span>');
    expect(flagged).toContain('<span class="badge state-fail">no owner</span>');
    await r.redis.hdel(`${r.keyPrefix}:inv:creds`, lone.id);
  });

  it('shows its timeline: the audit events about it, newest first, with its creation', async () => {
    const id = s.ids['agent-admin']!;
    const chain: AuditEvent[] = await s.app.audit.read(1);
    const about = chain
      .filter((x) => x.subject === id || (x.type.startsWith('finding.') && x.data.credentialId === id))
      .reverse();
    expect(about.map((x) => x.type)).toEqual(
      expect.arrayContaining([
        'credential.added',
        'finding.opened',
        'action.planned',
        'approval.granted',
        'action.result',
        'credential.grants-changed',
        'finding.resolved',
        'action.rolled-back',
        'finding.reopened',
      ]),
    );
    const timeline = section(await page(id), 'timeline');
    const seqs = [...timeline.matchAll(/ · audit #(\d+)<\/small>/g)].map((m) => Number(m[1]));
    expect(seqs).toEqual(about.map((x) => x.seq));
    expect(timeline).toContain(`among the newest ${chain.length} of the chain`);
    expect(timeline).toContain('<strong>Finding opened: admin-keys</strong>');
    expect(timeline).toContain('<strong>user:alice approved detach-policy</strong>');
    expect(timeline).toContain('<strong>user:erin asked to roll back detach-policy</strong>');
    expect(timeline).toContain('removed: Allow * on * (managed arn:aws:iam::111111111111:policy/agent-admin)');
    expect(timeline).toContain('<strong>Created (per the source)</strong>');
    // Another credential's events are not in it.
    expect(timeline).not.toContain(s.ids['agent-idle-1']!);
  });

  it('answers 404, laid out, for an id the inventory does not hold (a removed key too)', async () => {
    for (const id of [`aws/${ACCOUNT}/access-key/AKIANOSUCHKEY0000000`, s.ids['agent-idle-1']!, HOSTILE]) {
      const res = await ui.get(url(id), cookie);
      expect(res.statusCode, id).toBe(404);
      expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(res.body).toContain('<h1>No such credential</h1>');
      expect(res.body).toContain(`no credential <code>${e(id)}</code>`);
      expect(res.body).toContain('<main id="main"');
      expect(res.body).toContain('aria-current="page">Findings</a>');
      expect(res.body).not.toContain('<img');
    }
  });

  it('escapes estate text: a user name and a tag that are markup show as text', async () => {
    const body = await page(hostileId);
    expect(body).toContain(`<code>note</code> = <code>${e(HOSTILE)}</code>`);
    expect(body).toContain(`<h1>Credential ${e(HOSTILE_USER)} <small>aws-access-key</small></h1>`);
    expect(body).toContain(`<title>Credential ${e(HOSTILE_USER)} · credwarden</title>`);
    expect(body).not.toContain(HOSTILE);
    expect(body).not.toContain('<img');
    // Its open finding (never used), in the page and in the API alike.
    expect(fpsOf(section(body, 'findings'))).toEqual((await api(hostileId)).findings.map((f) => f.fingerprint));
  });

  it('needs a session; every role reads it (all hold posture:read)', async () => {
    const target = url(s.ids['agent-admin']!);
    const res = await ui.get(target, null);
    expect([res.statusCode, res.headers.location]).toEqual([303, `/login?next=${encodeURIComponent(target)}`]);
    for (const who of ['auditor', 'oncall-a', 'admin-a'] as const)
      expect((await ui.get(target, await ui.signIn(who))).statusCode, who).toBe(200);
  });
});
