/**
 * Drills as control evidence in a pack, over a real App (real Redis, the default policy packs, no
 * scan sources) whose drills are recorded as the drill engine records them (test/support/drills.ts).
 * Timeline (T0 a UTC midnight):
 *   d-1 12:00  d-before (admin-key) passes            — before every period
 *   d0 01:00   d-pass (admin-key) starts; passes 01:04
 *   d0 03:00   d-fail (stale-token) starts; fails 03:04 at the alert stage; one cleanup failure
 *   d0 05:00   d-run (runaway) starts and never finishes
 * Periods: P1 = d0 (both), P3 = d0 02:00..d0 end (d-fail only), P2 = d2 (none).
 * The verdicts of the drill-evidenced controls (SOC 2 CC7.2; ISO A.5.24, A.5.26; NIST IR-3, SI-4;
 * PCI 12.10.2), drills.csv, report.html, and the pack verifies offline. The drills come from the
 * audit chain: a pack built after the live record is gone says the same.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../src/cli/main.js';
import { ManualClock } from '../../src/clock.js';
import { NO_DRILL } from '../../src/evidence/controls-drills.js';
import { buildEvidence, exportEvidence } from '../../src/evidence/export.js';
import type { FrameworkId } from '../../src/evidence/frameworks.js';
import { loadSigningKey } from '../../src/evidence/signing.js';
import { verifyPack } from '../../src/evidence/verifier.js';
import type { App } from '../../src/main.js';
import { parseCsv } from '../../src/util/csv.js';
import { testApp, writeTestFiles } from '../support/app.js';
import { appendDrill, drillRecord, recordDrill, startedRecord } from '../support/drills.js';
import { readAll } from '../support/evidence-pack.js';
import { useRedis } from '../support/redis.js';

const r = useRedis('evidence-drills');
const DAY = 86_400_000;
const T0 = Math.ceil((Date.now() + 5 * DAY) / DAY) * DAY;
const at = (d: number, hh = 0, mm = 0) => new Date(T0 + d * DAY + hh * 3_600_000 + mm * 60_000);
const P1 = { from: at(0), to: new Date(at(1).getTime() - 1) };
const P2 = { from: at(2), to: new Date(at(3).getTime() - 1) };
const P3 = { from: at(0, 2), to: P1.to };
const FAIL_REASON = 'no alert within the 15-minute deadline';
const FAILED = `drill d-fail (stale-token) failed at stage alert: ${FAIL_REASON}`;
const PASSED = 'd-pass (admin-key): detected in 42 s, alerted in 1 min 5 s, remediated in 3 min 5 s';

let app: App;
let clock: ManualClock;
let dir: string;
const pass = drillRecord('d-pass', at(0, 1));
const fail = drillRecord('d-fail', at(0, 3), {
  scenario: 'stale-token',
  target: { sourceType: 'vault', source: 'main/drills' },
  status: 'failed',
  stage: 'alert',
  reason: FAIL_REASON,
  times: { detectMs: 30_000 },
  alert: null,
  remediation: null,
  planted: [{ kind: 'vault-token', id: 'acc-1', source: 'main/drills', credentialId: 'vault/main/drills/token/acc-1' }],
  cleanup: { at: at(0, 3, 4).toISOString(), removed: ['acc-1'], gone: [], failed: [{ id: 'pol-1', error: 'denied' }] },
});

beforeAll(async () => {
  const files = writeTestFiles(
    { redis: { prefix: r.prefix }, evidence: { signingKey: 'evidence.key' } },
    { agents: [] },
  );
  dir = files.dir;
  const { privateKey } = generateKeyPairSync('ed25519');
  writeFileSync(join(dir, 'evidence.key'), privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
  clock = new ManualClock(at(-1, 12));
  app = await testApp(files, clock);
  await recordDrill(app, clock, drillRecord('d-before', at(-1, 12)));
  await recordDrill(app, clock, pass);
  await recordDrill(app, clock, fail);
  await appendDrill(app, 'drill.started', startedRecord(drillRecord('d-run', at(0, 5), { scenario: 'runaway' })), {
    clock,
    at: at(0, 5),
  });
  clock.set(at(4));
}, 60_000);
afterAll(async () => {
  await app?.close();
});

async function controls(framework: FrameworkId, p: { from: Date; to: Date }) {
  const built = await buildEvidence(app, { framework, ...p });
  await built.cleanup();
  return { ev: built.evidence, by: Object.fromEntries(built.controls.map((c) => [c.id, c])) };
}

describe('drills in the evidence', () => {
  it('collects the drills whose drill.finished falls in the period, from the audit chain', async () => {
    const { ev } = await controls('nist-800-53', P1);
    expect(ev.drills.map((d) => [d.id, d.status, d.stage])).toEqual([
      ['d-pass', 'passed', 'done'],
      ['d-fail', 'failed', 'alert'],
    ]);
    const finished = (await app.audit.read(1)).filter((e) => e.type === 'drill.finished');
    expect(ev.drills[1]).toEqual({
      id: 'd-fail',
      scenario: 'stale-token',
      trigger: 'schedule',
      by: 'credwarden',
      target: 'vault main/drills',
      startedAt: fail.startedAt,
      finishedAt: fail.finishedAt,
      event: { seq: finished.find((e) => e.subject === 'd-fail')!.seq, time: fail.finishedAt },
      status: 'failed',
      stage: 'alert',
      reason: FAIL_REASON,
      times: { detectMs: 30_000, alertMs: null, remediateMs: null, approvalMs: null },
      detection: { policy: 'aws-admin-key', at: fail.detection!.at },
      alert: null,
      remediation: null,
      planted: [{ kind: 'vault-token', id: 'acc-1', credentialId: 'vault/main/drills/token/acc-1' }],
      cleanup: { removed: ['acc-1'], gone: [], failed: [{ id: 'pol-1', error: 'denied' }] },
    });
  });

  it('a passed drill in the period: the incident-response controls pass, the failed drill named', async () => {
    const summary = `2 drills finished in the period, 1 passed (${PASSED}); 1 failed: ${FAILED}`;
    for (const [fw, ids] of [
      ['nist-800-53', ['IR-3', 'SI-4']],
      ['iso27001', ['A.5.24', 'A.5.26']],
      ['pci-dss-4', ['12.10.2']],
    ] as const) {
      const { by } = await controls(fw, P1);
      for (const id of ids) {
        expect(by[id], `${fw} ${id}`).toMatchObject({ status: 'pass', reason: summary, problems: [] });
        expect(by[id]!.drills!.map((d) => d.id)).toEqual(['d-pass', 'd-fail']);
      }
      // Controls that drills do not evidence carry none.
      expect(
        Object.values(by)
          .filter((c) => c.drills)
          .map((c) => c.id),
      ).toEqual(ids);
    }
    // SOC 2 CC7.2: judged by its policies and coverage as before, the drills part of the reason.
    const { by } = await controls('soc2', P1);
    expect(by['CC7.2']).toMatchObject({ status: 'pass', reason: `no findings in the period; ${summary}` });
    expect(by['CC6.1']!.drills).toBeUndefined();
  });

  it('drills ran and none passed: fail, with every failed drill', async () => {
    const { by } = await controls('nist-800-53', P3);
    expect(by['IR-3']).toMatchObject({
      status: 'fail',
      reason: `the one drill that finished in the period did not pass; ${FAILED}`,
      problems: ['the one drill that finished in the period did not pass', FAILED],
    });
    expect((await controls('soc2', P3)).by['CC7.2']).toMatchObject({
      status: 'fail',
      reason: `the one drill that finished in the period did not pass; ${FAILED}`,
    });
  });

  it('no drill in the period: not-evidenced, saying so (CC7.2 stays judged by its other rules)', async () => {
    const { ev, by } = await controls('nist-800-53', P2);
    expect(ev.drills).toEqual([]);
    expect(by['IR-3']).toMatchObject({ status: 'not-evidenced', reason: NO_DRILL, problems: [NO_DRILL], drills: [] });
    expect(by['SI-4']).toMatchObject({ status: 'not-evidenced', reason: NO_DRILL });
    expect((await controls('pci-dss-4', P2)).by['12.10.2']).toMatchObject({
      status: 'not-evidenced',
      reason: NO_DRILL,
    });
    expect((await controls('soc2', P2)).by['CC7.2']).toMatchObject({
      status: 'pass',
      reason: 'no findings in the period',
    });
  });

  it('the pack: drills.csv, the report section, and it verifies offline', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'cw-drills-pack-')), 'pack.tar.gz');
    await exportEvidence(app, { framework: 'nist-800-53', ...P1 }, out);
    const key = loadSigningKey('evidence.key', dir)!;
    const report = await verifyPack(out, { publicKeyPem: key.publicPem });
    expect(report.failure).toBeUndefined();
    expect(report.ok).toBe(true);
    const said: string[] = [];
    const io = { out: (x: string) => said.push(x), err: (x: string) => said.push(x), stderrIsTty: false };
    expect(await run(['--json', 'evidence', 'verify', out], io), said.join('\n')).toBe(0);
    expect(JSON.parse(said.join('\n'))).toMatchObject({ ok: true });
    const entries = await readAll(out);
    const text = (p: string) => entries.find((e) => e.path === p)!.data.toString('utf8');
    expect(entries.map((e) => e.path)).toContain('drills.csv');

    const [header, ...rows] = parseCsv(text('drills.csv'));
    const cell = (row: string[], name: string) => row[header!.indexOf(name)];
    expect(rows.map((row) => [cell(row, 'drill_id'), cell(row, 'scenario'), cell(row, 'result')])).toEqual([
      ['d-pass', 'admin-key', 'passed'],
      ['d-fail', 'stale-token', 'failed'],
    ]);
    const [p, f] = rows;
    expect([cell(p!, 'detect_ms'), cell(p!, 'alert_ms'), cell(p!, 'remediate_ms'), cell(p!, 'approval_ms')]).toEqual([
      '42000',
      '65000',
      '185000',
      '',
    ]);
    expect(cell(p!, 'stage_reached')).toBe('done');
    expect(cell(p!, 'remediation')).toBe('deactivate-key: allow, done');
    expect(cell(p!, 'alert_sink')).toBe('digest (digest)');
    expect(cell(p!, 'cleanup_removed')).toBe(pass.cleanup!.removed.join('; '));
    expect(cell(p!, 'planted_credentials')).toBe(pass.planted[1]!.credentialId);
    expect(cell(p!, 'controls')).toBe('IR-3; SI-4');
    expect(cell(f!, 'stage_reached')).toBe('alert');
    expect(cell(f!, 'reason')).toBe(FAIL_REASON);
    expect(cell(f!, 'cleanup_failed')).toBe('pol-1: denied');
    expect(cell(f!, 'started_at')).toBe(fail.startedAt);

    const controlsCsv = parseCsv(text('controls.csv'));
    const ir3 = controlsCsv.find((row) => row[1] === 'IR-3')!;
    expect(ir3[controlsCsv[0]!.indexOf('status')]).toBe('pass');
    expect(ir3[controlsCsv[0]!.indexOf('drills')]).toBe('d-pass passed; d-fail failed');

    const html = text('report.html');
    expect(html).toContain('<section id="drills"><h2>Drills</h2>');
    expect(html).toContain('2 drills finished in the period (1 passed, 1 failed)');
    expect(html).toContain('They are evidence for IR-3, SI-4.');
    expect(html).toContain(`at stage alert: ${FAIL_REASON}`);
    const json = JSON.parse(text('evidence.json'));
    expect(json.summary.drills).toBe(2);
    expect(json.drills.map((d: { id: string }) => d.id)).toEqual(['d-pass', 'd-fail']);
  });

  it('is reproducible from the audit chain: the live records gone, the same drills', async () => {
    const before = (await controls('nist-800-53', P1)).ev.drills;
    await app.redis.del(app.drills.keys.record('d-pass'), app.drills.keys.record('d-fail'));
    expect(await app.drills.get('d-pass')).toBeNull();
    expect((await controls('nist-800-53', P1)).ev.drills).toEqual(before);
  });
});
