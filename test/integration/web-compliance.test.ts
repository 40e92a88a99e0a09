/**
 * The dashboard's compliance page over the seeded history of test/support/evidence-scenario.ts:
 * every control of a framework with the status the evidence pack gives it for the same period,
 * the signed pack downloaded and verified offline (its evidence.exported event names the
 * signed-in person, via dashboard), the audit verification and the last checkpoint, a viewer
 * refused, and without evidence.signingKey the controls still shown while the download explains.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { framework } from '../../src/evidence/frameworks.js';
import { loadSigningKey } from '../../src/evidence/signing.js';
import { verifyPack } from '../../src/evidence/verifier.js';
import type { App } from '../../src/main.js';
import { escapeHtml } from '../../src/web/html.js';
import { testApp } from '../support/app.js';
import { type Browserless, dashboard } from '../support/dashboard.js';
import { at, controlsOf, type EvidenceScenario, seedEvidenceHistory } from '../support/evidence-scenario.js';
import { useMoto } from '../support/moto.js';
import { useRedis } from '../support/redis.js';

const moto = useMoto();
const r = useRedis('web-compliance');
let s: EvidenceScenario;
let app: App;
let b: Browserless;
const cookies: Record<string, string> = {};

beforeAll(async () => {
  s = await seedEvidenceHistory(moto.endpoint, r.prefix);
  app = s.app;
  b = await dashboard(app, s.tokens);
  for (const who of ['viewer', 'auditor', 'oncall-a', 'admin-a'] as const) cookies[who] = await b.signIn(who);
}, 240_000);
afterAll(async () => {
  await b?.close();
  await s?.app.close();
});

const day = (d: Date) => d.toISOString().slice(0, 10);
/** The period as the form sends it: d0 to d6 (dates; `to` is its last millisecond). */
const FROM_DAY = day(at(0));
const TO_DAY = day(at(6));
const PERIOD = `from=${FROM_DAY}&to=${TO_DAY}`;
const get = async (who: string, url: string, status = 200) => {
  const res = await b.get(url, cookies[who]!);
  expect(res.statusCode, res.body.slice(0, 400)).toBe(status);
  return res;
};
/** The controls table's rows: id → status, in order. */
const statuses = (body: string) =>
  [
    ...body.matchAll(
      /<tr><td><span class="mono">([^<]+)<\/span><\/td><td>[^<]*<\/td><td><span class="badge state-([a-z-]+)">/g,
    ),
  ].map((m) => [m[1], m[2]]);
const sha256 = (x: Buffer) => createHash('sha256').update(x).digest('hex');

describe('the compliance page', () => {
  it('lists every control of the framework with the evidence pack’s status for the same period', async () => {
    for (const fw of ['soc2', 'pci-dss-4'] as const) {
      const body = (await get('auditor', `/compliance?framework=${fw}&${PERIOD}`)).body;
      const { by } = await controlsOf(app, fw, at(0), new Date(at(7).getTime() - 1));
      const want = framework(fw).controls.map((c) => [c.id, by[c.id]!.status]);
      expect(statuses(body)).toEqual(want);
      for (const c of Object.values(by)) expect(body).toContain(escapeHtml(c.reason));
      if (fw === 'soc2') expect(new Set(want.map((w) => w[1])).size).toBeGreaterThan(1);
      const count = (st: string) => want.filter((w) => w[1] === st).length;
      expect(body).toContain(`<span class="tile-value">${count('pass')}</span><span class="tile-label">pass</span>`);
      expect(body).toContain(`<span class="tile-value">${count('fail')}</span><span class="tile-label">fail</span>`);
      expect(body).toContain(`<option value="${fw}" selected>`);
    }
  });

  it('defaults to SOC 2 over the last 30 days', async () => {
    const body = (await get('auditor', '/compliance')).body;
    const now = s.clock.now().getTime();
    expect(body).toContain(`name="from" type="date" value="${day(new Date(now - 29 * 86_400_000))}"`);
    expect(body).toContain(`name="to" type="date" value="${day(new Date(now))}"`);
    expect(body).toContain('<option value="soc2" selected>');
    expect(statuses(body).map((x) => x[0])).toEqual(framework('soc2').controls.map((c) => c.id));
  });

  it('says what is wrong with a period instead of judging it', async () => {
    const body = (await get('auditor', `/compliance?framework=soc2&from=${TO_DAY}&to=${FROM_DAY}`)).body;
    expect(body).toContain('<p class="notice error" role="alert">from: ');
    expect(body).toContain('is after to');
    expect(statuses(body)).toEqual([]);
  });

  it('downloads the signed pack, which verifies; evidence.exported names the dashboard user', async () => {
    const page = (await get('auditor', `/compliance?framework=soc2&${PERIOD}`)).body;
    const link = `/compliance/evidence?framework=soc2&from=${FROM_DAY}&to=${TO_DAY}`;
    // The download form is prefilled with the period shown.
    const form = page.slice(page.indexOf('<form class="panel download" method="get" action="/compliance/evidence"'));
    expect(form.length).toBeLessThan(page.length);
    expect(form).toContain('<option value="soc2" selected>');
    expect(form).toContain(`<input id="dl-from" name="from" type="date" value="${FROM_DAY}">`);
    expect(form).toContain(`<input id="dl-to" name="to" type="date" value="${TO_DAY}">`);
    expect(form).toContain('<button type="submit">Download evidence pack</button>');
    const res = await get('auditor', link);
    expect(res.headers['content-type']).toBe('application/gzip');
    expect(res.headers['content-disposition']).toBe(
      `attachment; filename="credwarden-evidence-soc2-${FROM_DAY}-${TO_DAY}.tar.gz"`,
    );
    const file = join(mkdtempSync(join(tmpdir(), 'cw-web-pack-')), 'p.tar.gz');
    writeFileSync(file, res.rawPayload);
    const key = loadSigningKey('evidence.key', s.dir)!;
    const report = await verifyPack(file, { publicKeyPem: key.publicPem });
    expect(report.failure).toBeUndefined();
    expect(report.ok).toBe(true);
    const exported = (await app.audit.read(1)).filter((e) => e.type === 'evidence.exported').at(-1);
    expect(exported).toMatchObject({
      actor: 'user:auditor',
      subject: 'evidence/soc2',
      data: { framework: 'soc2', via: 'dashboard', sha256: sha256(res.rawPayload), keyid: key.keyid },
    });
    // Bad input is a page that names the field; nothing is exported.
    const count = async () => (await app.audit.read(1)).filter((e) => e.type === 'evidence.exported').length;
    const before = await count();
    const bad = await get('auditor', '/compliance/evidence?framework=hipaa&from=2026-01-01&to=2026-01-02', 400);
    expect(bad.body).toContain('framework: unknown framework &quot;hipaa&quot;');
    expect(await count()).toBe(before);
  });

  it('refuses a viewer and on-call (no audit:read), the page and the download', async () => {
    for (const who of ['viewer', 'oncall-a']) {
      const page = await get(who, '/compliance', 403);
      expect(page.body).toContain('Your roles do not grant audit:read.');
      const pack = await get(who, `/compliance/evidence?framework=soc2&${PERIOD}`, 403);
      expect(pack.body).toContain('Your roles do not grant evidence:read.');
      expect(page.body).not.toContain('href="/compliance"');
    }
    expect((await get('admin-a', '/compliance')).body).toContain('Download evidence pack');
  });

  it('shows the audit verification: ok, and the last checkpoint with where it was read from', async () => {
    const cp = await app.checkpoints.checkpointNow();
    expect(cp.status).toBe('written');
    const api = await b.api.call('GET', '/api/v1/audit/verify', { as: 'auditor' });
    const verify = api.json() as {
      ok: boolean;
      checkpoint: { checked: { seq: number; time: string; source: string } };
    };
    expect(verify.ok).toBe(true);
    const body = (await get('auditor', '/compliance')).body;
    const part = body.slice(body.indexOf('id="audit-h"'));
    expect(part).toContain('<span class="badge state-ok">ok</span> The audit log holds:');
    const checked = verify.checkpoint.checked;
    expect(checked.seq).toBe(cp.status === 'written' ? cp.checkpoint.seq : -1);
    expect(part).toContain(`<dt>Seq</dt><dd>${checked.seq}</dd>`);
    expect(part).toContain(`<small class="mono">${checked.time}</small>`);
    expect(part).toContain(`<dd class="mono">${escapeHtml(checked.source)}</dd>`);
    expect(checked.source).toMatch(/^mirror .*audit\.jsonl:\d+$/);
  });

  it('without evidence.signingKey: the controls still show, the download explains the key is missing', async () => {
    const config = parse(readFileSync(s.configPath, 'utf8')) as Record<string, unknown>;
    delete config.evidence;
    const configPath = join(s.dir, 'credwarden-nokey.yaml');
    writeFileSync(configPath, stringify(config));
    const bare = await testApp({ dir: s.dir, configPath }, s.clock);
    const nb = await dashboard(bare, s.tokens);
    try {
      const cookie = await nb.signIn('auditor');
      const page = await nb.get(`/compliance?framework=soc2&${PERIOD}`, cookie);
      expect(page.statusCode).toBe(200);
      const { by } = await controlsOf(app, 'soc2', at(0), new Date(at(7).getTime() - 1));
      expect(statuses(page.body)).toEqual(framework('soc2').controls.map((c) => [c.id, by[c.id]!.status]));
      expect(page.body).toContain('The evidence pack cannot be downloaded: evidence.signingKey is not configured');
      expect(page.body).not.toContain('Download evidence pack');
      expect(page.body).toContain('no checkpoint checked: evidence.signingKey is not set');
      const before = (await bare.audit.head()).seq;
      const pack = await nb.get(`/compliance/evidence?framework=soc2&${PERIOD}`, cookie);
      expect(pack.statusCode).toBe(409);
      expect(pack.headers['content-type']).toMatch(/^text\/html/);
      expect(pack.body).toContain('No pack: evidence.signingKey is not configured');
      expect((await bare.audit.head()).seq).toBe(before);
    } finally {
      await nb.close();
      await bare.close();
    }
  });
});
