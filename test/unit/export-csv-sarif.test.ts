/**
 * The CSV export (RFC 4180, formula injection defused) and the SARIF 2.1.0 export, validated
 * against the SARIF 2.1.0 rtm.5 JSON Schema (test/fixtures/sarif-2.1.0, from npm
 * @microsoft/jest-sarif) with ajv-draft-04 and ajv-formats.
 */
import { describe, expect, it } from 'vitest';
import { CSV_COLUMNS, toCsv } from '../../src/export/csv.js';
import { renderExport } from '../../src/export/index.js';
import { toSarif } from '../../src/export/sarif.js';
import { csvField, formatCsv, parseCsv } from '../../src/util/csv.js';
import {
  ACCT,
  ALL,
  exportInput,
  MERGED,
  OPEN_AWS,
  RESOLVED_VAULT,
  SUPPRESSED_AWS,
  USER_ARN,
} from '../support/export-fixtures.js';
import { sarifSchemaErrors } from '../support/export-schemas.js';

describe('CSV', () => {
  it('defuses formula cells and quotes what RFC 4180 needs quoted', () => {
    expect(
      ['=1+1', '+SUM(A1)', '-2', '@cmd', '\tx', '\rx', 'plain', 'a,b', 'say "hi"', 'two\nlines', '', null].map(
        csvField,
      ),
    ).toEqual([
      "'=1+1",
      "'+SUM(A1)",
      "'-2",
      "'@cmd",
      "'\tx",
      `"'\rx"`,
      'plain',
      '"a,b"',
      '"say ""hi"""',
      '"two\nlines"',
      '',
      '',
    ]);
    expect(csvField('=HYPERLINK("http://evil.example","x")')).toBe(`"'=HYPERLINK(""http://evil.example"",""x"")"`);
    expect(
      formatCsv([
        ['a', 1],
        [true, null],
      ]),
    ).toBe('a,1\r\ntrue,\r\n');
  });

  it('one row per finding under a header, hostile text intact but inert after a parse back', () => {
    const hostile = { ...OPEN_AWS, message: '=cmd|" /C calc"!A0, then\r\na new line', agentId: '@agent' };
    const text = toCsv(exportInput([hostile, SUPPRESSED_AWS, RESOLVED_VAULT, MERGED]));
    expect(text.endsWith('\r\n')).toBe(true);
    const rows = parseCsv(text);
    expect(rows[0]).toEqual([...CSV_COLUMNS]);
    expect(rows).toHaveLength(4); // merged left out
    const row = Object.fromEntries(CSV_COLUMNS.map((c, i) => [c, rows[1]![i]]));
    expect(row).toEqual({
      fingerprint: OPEN_AWS.fingerprint,
      state: 'open',
      severity: 'medium',
      policy: 'agent-key-unused-30d',
      policies: 'agent-key-unused-30d',
      rules: 'unused-for',
      controls: 'cis-aws-v5 1.11;nist-800-53 AC-2(3)',
      credential_id: OPEN_AWS.credentialId,
      kind: 'aws-access-key',
      principal: USER_ARN,
      principal_name: 'agent-deploy-1',
      principal_type: 'iam-user',
      source: ACCT,
      account_id: ACCT,
      account_name: 'prod',
      agent: "'@agent",
      owner_team: 'platform',
      owner_contact: 'platform-oncall@example.com',
      score: '42',
      message: `'=cmd|" /C calc"!A0, then\r\na new line`,
      first_seen: '2026-11-01T00:00:00.000Z',
      last_seen: '2026-12-01T00:00:00.000Z',
      resolved_at: '',
      reopened: '0',
      exception_id: '',
    });
    const vault = Object.fromEntries(CSV_COLUMNS.map((c, i) => [c, rows[3]![i]]));
    expect(vault).toMatchObject({
      state: 'resolved',
      source: 'main/root',
      account_id: '',
      resolved_at: '2026-11-21T12:00:00.000Z',
      reopened: '1',
    });
    expect(rows[2]![CSV_COLUMNS.indexOf('exception_id')]).toBe('exc-break-glass');
  });

  it('webhook parts each start with the header', () => {
    const many = Array.from({ length: 2500 }, (_, i) => ({ ...OPEN_AWS, fingerprint: `p:${i}` }));
    const parts = renderExport('csv', exportInput(many)).parts();
    expect(parts.map((p) => p.count)).toEqual([1000, 1000, 500]);
    for (const p of parts) expect(parseCsv(p.payload.csv as string)[0]).toEqual([...CSV_COLUMNS]);
  });
});

const sarifErrors = sarifSchemaErrors;

describe('SARIF 2.1.0', () => {
  const log = toSarif(exportInput([...ALL, MERGED]));
  const run = log.runs[0];

  it('validates against the SARIF 2.1.0 schema; the validator refuses a broken log', () => {
    expect(sarifErrors(log)).toEqual([]);
    expect(sarifErrors({ ...log, version: '2.2.0' }).join()).toContain('must be equal to one of the allowed values');
    const noMessage = structuredClone(log) as unknown as { runs: { results: Record<string, unknown>[] }[] };
    delete noMessage.runs[0]!.results[0]!.message;
    expect(sarifErrors(noMessage).join()).toContain("must have required property 'message'");
  });

  it('the driver is credwarden with every policy as a rule', () => {
    expect(log.version).toBe('2.1.0');
    expect(run.tool.driver).toMatchObject({ name: 'credwarden', version: '9.9.9', semanticVersion: '9.9.9' });
    expect(run.tool.driver.rules).toEqual([
      {
        id: 'agent-admin-equivalent',
        name: 'agent-admin-equivalent',
        shortDescription: { text: 'An agent credential that can do anything' },
        defaultConfiguration: { level: 'error' },
        properties: { tags: ['security', 'owasp-nhi/NHI5'], severity: 'critical', 'security-severity': '9.5' },
      },
      {
        id: 'agent-key-unused-30d',
        name: 'agent-key-unused-30d',
        shortDescription: { text: 'An agent access key unused for 30 days' },
        defaultConfiguration: { level: 'warning' },
        properties: {
          tags: ['security', 'cis-aws-v5/1.11', 'nist-800-53/AC-2(3)'],
          severity: 'medium',
          'security-severity': '5.5',
        },
      },
      {
        id: 'agent-vault-broad-glob',
        name: 'agent-vault-broad-glob',
        shortDescription: { text: 'A Vault credential granted a mount-wide or global glob' },
        defaultConfiguration: { level: 'error' },
        properties: { tags: ['security', 'soc2/CC6.3'], severity: 'high', 'security-severity': '8.0' },
      },
    ]);
  });

  it('one result per finding: level from severity, the credential as a logical location', () => {
    expect(run.results).toHaveLength(3);
    expect(run.results[0]).toEqual({
      ruleId: 'agent-key-unused-30d',
      ruleIndex: 1,
      kind: 'fail',
      level: 'warning',
      message: { text: 'access key unused for 45 days (limit 30)' },
      locations: [
        {
          logicalLocations: [{ name: 'agent-deploy-1', fullyQualifiedName: OPEN_AWS.credentialId, kind: 'resource' }],
        },
      ],
      partialFingerprints: { 'credwarden/v1': OPEN_AWS.fingerprint },
      properties: {
        state: 'open',
        severity: 'medium',
        policies: ['agent-key-unused-30d'],
        credentialKind: 'aws-access-key',
        principal: USER_ARN,
        source: ACCT,
        agent: 'deploy-agent',
        owner: { team: 'platform', contact: 'platform-oncall@example.com' },
        score: 42,
        firstSeen: '2026-11-01T00:00:00.000Z',
        lastSeen: '2026-12-01T00:00:00.000Z',
        resolvedAt: null,
      },
    });
    expect(run.results[1]).toMatchObject({
      ruleId: 'agent-admin-equivalent',
      ruleIndex: 0,
      kind: 'fail',
      level: 'error',
      suppressions: [{ kind: 'external', status: 'accepted', justification: 'exception exc-break-glass' }],
    });
    expect(run.results[2]).toMatchObject({
      ruleId: 'agent-vault-broad-glob',
      kind: 'pass',
      level: 'none',
      locations: [
        {
          logicalLocations: [
            { name: 'invoice-bot', fullyQualifiedName: RESOLVED_VAULT.credentialId, kind: 'resource' },
          ],
        },
      ],
    });
  });

  it('webhook parts are each a whole SARIF log', () => {
    const many = Array.from({ length: 1200 }, (_, i) => ({ ...OPEN_AWS, fingerprint: `p:${i}` }));
    const parts = renderExport('sarif', exportInput(many)).parts();
    expect(parts.map((p) => p.count)).toEqual([500, 500, 200]);
    for (const p of parts) expect(sarifErrors(p.payload.sarif)).toEqual([]);
  });
});
