/**
 * The evidence pack as a container over the seeded history of test/support/evidence-scenario.ts:
 * it verifies offline; GET /api/v1/evidence streams it to an auditor and refuses a viewer and bad
 * input; `credwarden evidence export` names the flag of bad input (exit 2, nothing written) and
 * writes a pack that verifies.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../src/cli/main.js';
import { buildEvidence } from '../../src/evidence/export.js';
import { writePack } from '../../src/evidence/pack.js';
import { loadSigningKey } from '../../src/evidence/signing.js';
import { verifyPack } from '../../src/evidence/verifier.js';
import type { App } from '../../src/main.js';
import { testApi } from '../support/api.js';
import { writeTestFiles } from '../support/app.js';
import { captureIo } from '../support/capture.js';
import { type EvidenceScenario, FROM, iso, seedEvidenceHistory, TO } from '../support/evidence-scenario.js';
import { useMoto } from '../support/moto.js';
import { useRedis } from '../support/redis.js';
import { REGISTRY } from '../support/remediation-env.js';

const moto = useMoto();
const r = useRedis('evidence-pack-io');
let s: EvidenceScenario;
let app: App;
beforeAll(async () => {
  s = await seedEvidenceHistory(moto.endpoint, r.prefix);
  app = s.app;
}, 180_000);
afterAll(async () => {
  await s?.app.close();
});

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const exportEvents = async () => (await app.audit.read(1)).filter((e) => e.type === 'evidence.exported');
/** The newest `evidence.exported` event, if any. */
const lastExport = async () => (await exportEvents()).at(-1);
const exportCount = async () => (await exportEvents()).length;

describe('the evidence pack, the API route and the CLI', () => {
  it('the pack: signed, every digest and the chain proof verify offline', async () => {
    const built = await buildEvidence(app, { framework: 'soc2', from: FROM, to: TO });
    try {
      expect(built.files.map((f) => f.path)).toEqual([
        'report.html',
        'evidence.json',
        'population.csv',
        'findings.csv',
        'actions.csv',
        'controls.csv',
        'coverage.csv',
        'coverage-units.csv',
        'drills.csv',
        'audit/slice.jsonl',
        'audit/proof.json',
      ]);
      const key = loadSigningKey('evidence.key', s.dir)!;
      const out = join(mkdtempSync(join(tmpdir(), 'cw-pack-')), 'pack.tar.gz');
      await writePack(built.files, built.meta, key, out, s.clock.now());
      const report = await verifyPack(out, { publicKeyPem: key.publicPem });
      expect(report.failure).toBeUndefined();
      expect(report.ok).toBe(true);
    } finally {
      await built.cleanup();
    }
  });

  it('GET /api/v1/evidence streams the pack to an auditor; a viewer is refused; bad input is a 400', async () => {
    const api = await testApi(app, s.tokens);
    try {
      const q = `framework=soc2&from=${iso(0)}&to=${iso(6, 12)}`;
      const res = await api.call('GET', `/api/v1/evidence?${q}`, { as: 'auditor' });
      expect(res.statusCode, res.body).toBe(200);
      expect(res.headers['content-type']).toBe('application/gzip');
      expect(res.headers['content-disposition']).toBe(
        `attachment; filename="credwarden-evidence-soc2-${iso(0).slice(0, 10)}-${iso(6).slice(0, 10)}.tar.gz"`,
      );
      const file = join(mkdtempSync(join(tmpdir(), 'cw-api-')), 'p.tar.gz');
      writeFileSync(file, res.rawPayload);
      const key = loadSigningKey('evidence.key', s.dir)!;
      expect((await verifyPack(file, { publicKeyPem: key.publicPem })).ok).toBe(true);
      // Who pulled it is on the record, with the digest of exactly what they were sent.
      const pulled = await lastExport();
      expect(pulled).toMatchObject({
        actor: 'user:auditor',
        subject: 'evidence/soc2',
        data: { framework: 'soc2', via: 'api', sha256: sha256(res.rawPayload), keyid: key.keyid },
      });
      const pulls = await exportCount();
      expect((await api.call('GET', `/api/v1/evidence?${q}`, { as: 'viewer' })).statusCode).toBe(403);
      const bad = await api.call('GET', '/api/v1/evidence?framework=hipaa&from=2026-01-01&to=2026-01-02', {
        as: 'auditor',
      });
      expect([bad.statusCode, bad.json().error.field]).toEqual([400, 'query.framework']);
      const backwards = await api.call('GET', '/api/v1/evidence?framework=soc2&from=2026-02-01&to=2026-01-02', {
        as: 'auditor',
      });
      expect([backwards.statusCode, backwards.json().error.message]).toEqual([
        400,
        'from: 2026-02-01T00:00:00.000Z is after to 2026-01-02T23:59:59.999Z',
      ]);
      expect(await exportCount()).toBe(pulls); // refused requests recorded no export
    } finally {
      await api.close();
    }
  });

  it('evidence export: bad input names the flag, exits 2, writes nothing; a good run writes a pack that verifies', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'cw-cli-')), 'p.tar.gz');
    const before = await exportCount();
    const period = ['--from', '2026-01-01', '--to', '2026-01-31'];
    const cases: [string[], RegExp][] = [
      [
        ['--framework', 'hipaa', ...period, '--out', out],
        /--framework: unknown framework "hipaa" \(one of soc2, iso27001/,
      ],
      [['--from', '2026-01-01', '--to', '2026-01-31', '--out', out], /--framework: is required/],
      [
        ['--framework', 'soc2', '--from', '2026-02-01', '--to', '2026-01-31', '--out', out],
        /--from: 2026-02-01T00:00:00.000Z is after --to/,
      ],
      [
        ['--framework', 'soc2', '--from', 'last tuesday', '--to', '2026-01-31', '--out', out],
        /--from: "last tuesday" is not a date/,
      ],
      [
        ['--framework', 'soc2', '--from', '2026-02-30', '--to', '2026-03-31', '--out', out],
        /--from: "2026-02-30" is not a real date/,
      ],
      [['--framework', 'soc2', '--from', '2026-01-01', '--out', out], /--to: is required/],
      [['--framework', 'soc2', ...period], /--out: is required/],
    ];
    for (const [args, want] of cases) {
      const io = captureIo();
      expect(await run(['--config', s.configPath, 'evidence', 'export', ...args], io), args.join(' ')).toBe(2);
      expect(io.stderr).toHaveLength(1);
      expect(io.stderr[0]).toMatch(/^credwarden: CW_ERR_INPUT: /);
      expect(io.stderr[0]).toMatch(want);
      expect(existsSync(out)).toBe(false);
    }
    expect(await exportCount()).toBe(before); // refused input exported nothing, and recorded nothing
    // No evidence.signingKey: refused before anything connects.
    const bare = writeTestFiles({ redis: { prefix: `${r.prefix}-nokey` } }, REGISTRY);
    const io = captureIo();
    expect(
      await run(
        ['--config', bare.configPath, 'evidence', 'export', '--framework', 'soc2', ...period, '--out', out],
        io,
      ),
    ).toBe(2);
    expect(io.stderr.join('\n')).toMatch(/^credwarden: CW_ERR_CONFIG: evidence\.signingKey is not configured/);
    expect(existsSync(out)).toBe(false);

    const day = (x: Date) => x.toISOString().slice(0, 10);
    const good = captureIo();
    const argv = [
      '--config',
      s.configPath,
      '--json',
      'evidence',
      'export',
      '--framework',
      'nist-800-53',
      '--from',
      day(FROM),
      '--to',
      day(TO),
      '--out',
      out,
      '--as',
      'dana',
    ];
    expect(await run(argv, good), good.stderr.join('\n')).toBe(0);
    const printed = JSON.parse(good.stdout.join('\n')) as { controls: { id: string; status: string }[]; out: string };
    expect(printed.out).toBe(out);
    expect(printed.controls.map((c) => c.id)).toEqual(['AC-2(3)', 'AC-6', 'IA-5', 'IR-3', 'SI-4']);
    expect((await verifyPack(out)).ok).toBe(true);
    const pulled = await lastExport();
    expect(pulled).toMatchObject({
      actor: 'user:dana',
      subject: 'evidence/nist-800-53',
      data: { framework: 'nist-800-53', via: 'cli', sha256: sha256(readFileSync(out)) },
    });
    // The event follows the pack's slice: the next pack holds it.
    const slice = (pulled!.data as { audit: { toSeq: number } }).audit;
    expect(pulled!.seq).toBeGreaterThan(slice.toSeq);
  });
});
