/**
 * The dashboard's actions page over the seeded history of test/support/evidence-scenario.ts (F1's
 * key deactivated, F2's refused as protected, the detach approved by two, run and rolled back),
 * plus two new admin keys whose detach-policy waits for two approvers: the held actions first with
 * their reasons and facts, Approve and Deny only for people who may decide, the decisions recorded
 * as the API records them (source `dashboard`), four-eyes refusals as error notices, and every
 * POST refused without the CSRF token, from another site, or without the permission.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/main.js';
import type { ActionRecord } from '../../src/model/action.js';
import { escapeHtml } from '../../src/web/html.js';
import { rotationSteps } from '../../src/web/pages/actions-parts.js';
import { createPolicy, createUser, doc } from '../support/aws-seed.js';
import { type Browserless, dashboard } from '../support/dashboard.js';
import { at, type EvidenceScenario, seedEvidenceHistory } from '../support/evidence-scenario.js';
import { useMoto } from '../support/moto.js';
import { useRedis } from '../support/redis.js';
import { drive, withIam } from '../support/remediation-env.js';

const moto = useMoto();
const r = useRedis('web-actions');
let s: EvidenceScenario;
let app: App;
let b: Browserless;
/** The two new detach-policy actions waiting for two approvers: [to approve, to deny]. */
let held: ActionRecord[];
const cookies: Record<string, string> = {};
const HOSTILE = '<img src=x onerror=alert(1)>';

beforeAll(async () => {
  s = await seedEvidenceHistory(moto.endpoint, r.prefix);
  app = s.app;
  await withIam(moto.endpoint, async (a) => {
    const arn = await createPolicy(a, 'agent-root', doc(['*']));
    for (const name of ['agent-root-1', 'agent-root-2'])
      await createUser(a, { name, keys: ['used'], tags: { lane: 'admin' }, managed: [arn] }, moto.endpoint);
  });
  s.clock.set(at(7, 1));
  const d = drive(app, s.clock);
  await d.scan('scan-9');
  await d.plan('scan-9');
  held = (await app.remediation.list()).filter(
    (x) => x.state === 'awaiting-approval' && x.plan.target.identity.userName?.startsWith('agent-root-'),
  );
  held.sort((x, y) => x.plan.target.identity.userName!.localeCompare(y.plan.target.identity.userName!));
  expect(held).toHaveLength(2);
  b = await dashboard(app, s.tokens);
  for (const who of ['viewer', 'auditor', 'oncall-a', 'oncall-b', 'admin-a'] as const)
    cookies[who] = await b.signIn(who);
}, 240_000);
afterAll(async () => {
  await b?.close();
  await s?.app.close();
});

const page = async (who: string, url = '/actions') => {
  const res = await b.get(url, cookies[who]!);
  expect(res.statusCode, res.body.slice(0, 300)).toBe(200);
  return res.body;
};
const approveUrl = (id: string) => `/actions/${encodeURIComponent(id)}/approve`;
const denyUrl = (id: string) => `/actions/${encodeURIComponent(id)}/deny`;
const rollbackUrl = (id: string) => `/actions/${encodeURIComponent(id)}/rollback`;
const auditLength = async () => (await app.audit.head()).seq;
/** The page a form's redirect leads to (303 to /actions with the notice). */
const follow = async (who: string, res: { statusCode: number; headers: Record<string, unknown> }) => {
  expect(res.statusCode).toBe(303);
  const location = String(res.headers.location);
  expect(location.startsWith('/actions?')).toBe(true);
  return page(who, location);
};
/** The ids of the list's rows, in order (each row shows its action id in a small mono line). */
const rowIds = (body: string) =>
  [...body.slice(body.indexOf('id="all-h"')).matchAll(/<br><small class="mono">([^<]+)<\/small>/g)].map((m) => m[1]);

describe('the actions page', () => {
  it('shows the held actions first, each with the guardrails’ reasons and its facts', async () => {
    const body = await page('viewer');
    const all = await app.remediation.list();
    const waiting = all.filter((x) => x.state === 'awaiting-approval' || x.state === 'held');
    expect(body).toContain(`Held for a decision (${waiting.length})`);
    const heldPart = body.slice(body.indexOf('id="held-h"'), body.indexOf('id="all-h"'));
    for (const x of held) {
      expect(heldPart).toContain(x.plan.id);
      expect(x.decision.reasons.length).toBeGreaterThan(0);
      for (const reason of x.decision.reasons) expect(heldPart).toContain(escapeHtml(reason.message));
      expect(heldPart).toContain(escapeHtml(x.plan.target.credentialId));
      expect(heldPart).toContain(`>${x.plan.policy} <small>`);
      expect(heldPart).toContain(escapeHtml(x.plan.target.identity.userName!));
    }
    expect(heldPart).toContain('0 of 2 (none yet)');
    const expires = new Date(Date.parse(held[0]!.approvalRequestedAt!) + 24 * 3_600_000).toISOString();
    expect(heldPart).toContain(`datetime="${expires}"`);
    // The rest, newest first, as the service lists them.
    const rest = all.filter((x) => !waiting.includes(x)).map((x) => x.plan.id);
    expect(rowIds(body)).toEqual(rest);
    expect(rest).toEqual(expect.arrayContaining([s.f1PlanId, s.f2PlanId, s.detachId]));
  });

  it('filters by state and credential, and pages', async () => {
    const denied = await page('viewer', '/actions?state=denied');
    expect(rowIds(denied)).toEqual([s.f2PlanId]);
    const one = await page('viewer', `/actions?credential=${encodeURIComponent(s.ids['agent-idle-1']!)}`);
    expect(rowIds(one)).toEqual([s.f1PlanId]);
    expect(one).toContain('Nothing is held for a decision for this credential.');
    const all = rowIds(await page('viewer'));
    const second = await page('viewer', '/actions?offset=1');
    expect(rowIds(second)).toEqual(all.slice(1));
    expect(second).toContain(`Showing 2–${all.length} of ${all.length}`);
  });

  it('offers Approve and Deny to on-call, never to a viewer or an auditor; Rollback to an admin', async () => {
    const id = held[0]!.plan.id;
    const oncall = await page('oncall-a');
    expect(oncall).toContain(`action="${approveUrl(id)}"`);
    expect(oncall).toContain(`action="${denyUrl(id)}"`);
    expect(oncall).toMatch(/data-confirm="Approve detach-policy on [^"]+agent-root-1\?"/);
    expect(oncall).toMatch(/<label for="approve-reason-0">Reason to approve \(optional\)<\/label>/);
    expect(oncall).not.toContain(`action="${rollbackUrl(s.f1PlanId)}"`);
    for (const who of ['viewer', 'auditor']) {
      const body = await page(who);
      expect(body).toContain(held[0]!.plan.id);
      expect(body).not.toContain('/approve"');
      expect(body).not.toContain('/deny"');
    }
    const admin = await page('admin-a');
    expect(admin).toContain(`action="${rollbackUrl(s.f1PlanId)}"`);
    expect(admin).not.toContain(`action="${rollbackUrl(s.detachId)}"`); // rolled back already
  });

  it('refuses a POST without the CSRF token, from another site, or without the permission; nothing changes', async () => {
    const id = held[1]!.plan.id;
    const before = await auditLength();
    const oncall = await page('oncall-a');
    const noToken = await b.post(denyUrl(id), cookies['oncall-a']!, { reason: 'no' });
    expect(noToken.statusCode).toBe(403);
    expect(noToken.body).toContain('CSRF check failed');
    const wrong = await b.post(denyUrl(id), cookies['oncall-a']!, { _csrf: 'x'.repeat(43), reason: 'no' });
    expect(wrong.statusCode).toBe(403);
    const foreign = await b.post(
      denyUrl(id),
      cookies['oncall-a']!,
      { reason: 'no' },
      { csrfFrom: oncall, headers: { origin: 'https://evil.example' } },
    );
    expect(foreign.statusCode).toBe(403);
    const viewer = await page('viewer');
    const asViewer = await b.post(approveUrl(id), cookies.viewer!, {}, { csrfFrom: viewer });
    expect(asViewer.statusCode).toBe(403);
    expect(asViewer.body).toContain('do not grant actions:decide');
    const rollbackAsOncall = await b.post(rollbackUrl(s.f1PlanId), cookies['oncall-a']!, {}, { csrfFrom: oncall });
    expect(rollbackAsOncall.statusCode).toBe(403);
    const signedOut = await b.post(approveUrl(id), null, {});
    expect(signedOut.statusCode).toBe(401);
    expect(await auditLength()).toBe(before);
    const after = (await app.remediation.show(id))!;
    expect([after.state, after.approvals]).toEqual(['awaiting-approval', []]);
  });

  it('approves as on-call: recorded with the person and source dashboard; twice is refused with the reason', async () => {
    const id = held[0]!.plan.id;
    const from = (await auditLength()) + 1;
    const res = await b.post(
      approveUrl(id),
      cookies['oncall-a']!,
      { reason: 'checked the grant' },
      {
        csrfFrom: await page('oncall-a'),
      },
    );
    const ok = await follow('oncall-a', res);
    expect(ok).toMatch(/<p class="notice ok" role="status">Approved detach-policy on [^<]+: 1 of 2 approvals\.<\/p>/);
    const rec = (await app.remediation.show(id))!;
    expect(rec.state).toBe('awaiting-approval');
    expect(rec.approvals.map((a) => a.by)).toEqual(['user:oncall-a']);
    const granted = (await app.audit.read(from)).filter((e) => e.type === 'approval.granted');
    expect(granted).toHaveLength(1);
    expect(granted[0]).toMatchObject({
      actor: 'user:oncall-a',
      data: { planId: id, approvals: 1, needed: 2, source: 'dashboard', reason: 'checked the grant' },
    });
    // Four-eyes: the same person again is refused, and the page says why.
    const again = await b.post(approveUrl(id), cookies['oncall-a']!, {}, { csrfFrom: await page('oncall-a') });
    const refused = await follow('oncall-a', again);
    expect(refused).toContain('<p class="notice error" role="alert">Not done: ');
    expect(refused).toContain(`already approved by user:oncall-a: a second approver must be someone else`);
    expect((await app.remediation.show(id))!.approvals).toHaveLength(1);
    // A second person completes it: queued to run.
    const second = await b.post(approveUrl(id), cookies['oncall-b']!, {}, { csrfFrom: await page('oncall-b') });
    expect(await follow('oncall-b', second)).toContain('2 of 2 approvals; it is queued to run.');
    const done = (await app.remediation.show(id))!;
    expect([done.state, done.approvals.map((a) => a.by).sort()]).toEqual([
      'queued',
      ['user:oncall-a', 'user:oncall-b'],
    ]);
    // No longer held: a decision on it now is refused.
    const late = await b.post(denyUrl(id), cookies['oncall-b']!, {}, { csrfFrom: await page('oncall-b') });
    expect(await follow('oncall-b', late)).toContain(`is queued, not awaiting approval`);
  });

  it('denies with a reason, shown escaped wherever it appears', async () => {
    const id = held[1]!.plan.id;
    const from = (await auditLength()) + 1;
    const res = await b.post(
      denyUrl(id),
      cookies['oncall-b']!,
      { reason: HOSTILE },
      {
        csrfFrom: await page('oncall-b'),
      },
    );
    const notice = await follow('oncall-b', res);
    const rec = (await app.remediation.show(id))!;
    expect([rec.state, rec.denial?.by, rec.denial?.reason]).toEqual(['denied', 'user:oncall-b', HOSTILE]);
    const denied = (await app.audit.read(from)).filter((e) => e.type === 'approval.denied');
    expect(denied[0]).toMatchObject({
      actor: 'user:oncall-b',
      data: { planId: id, source: 'dashboard', reason: HOSTILE },
    });
    const list = await page('viewer', '/actions?state=denied');
    for (const body of [notice, list]) {
      expect(body).toContain(escapeHtml(HOSTILE));
      expect(body).not.toContain('<img');
    }
    expect(rowIds(list)).toEqual(expect.arrayContaining([id, s.f2PlanId]));
  });

  it('asks for a rollback that needs approval; it is held, its asker may not approve it, two others run it', async () => {
    const id = held[0]!.plan.id;
    expect((await app.executor.execute(id)).state).toBe('done');
    const admin = await page('admin-a');
    expect(admin).toContain(`action="${rollbackUrl(id)}"`);
    expect(admin).toContain('>Ask for rollback</button>');
    const asked = await b.post(rollbackUrl(id), cookies['admin-a']!, {}, { csrfFrom: admin });
    expect(await follow('admin-a', asked)).toContain('it runs once 2 other approver(s) approve it.');
    expect((await app.remediation.show(id))!.rollbackRequest?.by).toBe('user:admin-a');
    const body = await page('oncall-a');
    const heldPart = body.slice(body.indexOf('id="held-h"'), body.indexOf('id="all-h"'));
    expect(heldPart).toMatch(/<h3 id="held-\d+">Rollback of detach-policy on [^<]+agent-root-1<\/h3>/);
    expect(heldPart).toContain('<dt>Rollback asked for by</dt><dd>user:admin-a');
    expect(heldPart).toContain(`action="${approveUrl(id)}"`);
    // Four-eyes: whoever asked for the rollback may not approve it.
    const own = await b.post(approveUrl(id), cookies['admin-a']!, {}, { csrfFrom: admin });
    expect(await follow('admin-a', own)).toContain('user:admin-a asked for this rollback and may not approve it');
    for (const who of ['oncall-a', 'oncall-b']) {
      const res = await b.post(approveUrl(id), cookies[who]!, {}, { csrfFrom: await page(who) });
      await follow(who, res);
    }
    const after = (await app.remediation.show(id))!;
    expect(after.state).toBe('rolled-back');
    expect((after.rollbackApprovals ?? []).map((a) => a.by).sort()).toEqual(['user:oncall-a', 'user:oncall-b']);
  });

  it('shows no notice a link made up', async () => {
    const body = await page(
      'viewer',
      '/actions?done=refused&id=x&msg=Call+0800+now&sig=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
    );
    expect(body).not.toContain('Call 0800 now');
    expect(body).not.toContain('class="notice');
  });

  it('rolls back as an admin through the same call as the API, with the outcome as a notice', async () => {
    const before = (await app.remediation.show(s.f1PlanId))!;
    expect(before.state).toBe('done');
    const res = await b.post(rollbackUrl(s.f1PlanId), cookies['admin-a']!, {}, { csrfFrom: await page('admin-a') });
    const body = await follow('admin-a', res);
    const after = (await app.remediation.show(s.f1PlanId))!;
    // agent-idle-1's key was deleted on day 4: the rollback cannot restore it, and says so.
    expect(after.state).toBe('done');
    expect(body).toContain(`<p class="notice error" role="alert">Not done: action ${s.f1PlanId}: `);
    expect(body).toContain('changed since the action');
    expect(body).toContain('not rolled back</p>');
  });
});

describe('rotation progress', () => {
  it('marks each step done or current in words', () => {
    const rec = {
      rotation: {
        kind: 'aws-key',
        step: 'verify',
        done: ['prepare', 'create', 'deliver'].map((step) => ({ step, at: '2026-01-01T00:00:00Z', detail: '' })),
        tries: {},
        delivery: { type: 'vault', cluster: 'c', namespace: 'root', mount: 'secret', path: 'a/b' },
        orphans: [],
      },
    } as unknown as ActionRecord;
    const out = rotationSteps(rec).value;
    expect(out).toContain('<ol class="steps" aria-label="Rotation steps (aws-key)">');
    for (const step of ['prepare', 'create', 'deliver'])
      expect(out).toContain(`<li class="done">${step} <span class="sr-only">(done)</span>`);
    expect(out).toContain('<li class="current" aria-current="step">verify <span class="sr-only">(current)</span>');
    for (const step of ['adopt', 'deactivate', 'delete']) expect(out).toContain(`<li>${step}</li>`);
  });
});
