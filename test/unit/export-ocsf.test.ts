/**
 * The OCSF export: hand-written expected events for an open AWS finding, a suppressed one and a
 * resolved Vault one, and every event validated against the OCSF 1.5.0 JSON Schema of its class
 * (test/fixtures/ocsf-1.5.0, generated from the schema server's 1.5.0 export; its README says
 * how), with the `cloud` profile's schema for AWS events.
 */
import { describe, expect, it } from 'vitest';
import { complianceFindings, detectionFinding, OCSF_VERSION, type OcsfEvent, toOcsf } from '../../src/export/ocsf.js';
import {
  ACCT,
  exportInput,
  MERGED,
  msOf,
  OPEN_AWS,
  RESOLVED_VAULT,
  SUPPRESSED_AWS,
  USER_ARN,
} from '../support/export-fixtures.js';
import { ocsfSchemaErrors } from '../support/export-schemas.js';

const schemaErrors = (e: OcsfEvent): string[] => ocsfSchemaErrors(e);

const input = exportInput();
const [open, suppressed, resolved] = input.findings as [
  (typeof input.findings)[0],
  (typeof input.findings)[0],
  (typeof input.findings)[0],
];
const product = { name: 'credwarden', vendor_name: 'credwarden', version: '9.9.9' };
const t = (iso: string) => msOf(iso);

describe('OCSF Detection Finding (2004)', () => {
  it('an open AWS finding: Create, New, cloud profile, the credential as the resource', () => {
    const at = t('2026-12-01T00:00:00.000Z');
    expect(detectionFinding(open, input)).toEqual({
      activity_id: 1,
      activity_name: 'Create',
      category_uid: 2,
      category_name: 'Findings',
      class_uid: 2004,
      class_name: 'Detection Finding',
      type_uid: 200401,
      type_name: 'Detection Finding: Create',
      severity_id: 3,
      severity: 'Medium',
      time: at,
      metadata: { version: '1.5.0', product, uid: `${OPEN_AWS.fingerprint}#1#${at}`, profiles: ['cloud'] },
      cloud: {
        provider: 'AWS',
        cloud_partition: 'aws',
        account: { uid: ACCT, name: 'prod', type_id: 10, type: 'AWS Account' },
      },
      message: 'access key unused for 45 days (limit 30)',
      status_id: 1,
      status: 'New',
      finding_info: {
        uid: OPEN_AWS.fingerprint,
        title: 'An agent access key unused for 30 days',
        desc: 'access key unused for 45 days (limit 30)',
        types: ['unused-for'],
        analytic: { type_id: 1, type: 'Rule', name: 'agent-key-unused-30d', uid: 'agent-key-unused-30d' },
        created_time: t('2026-11-01T00:00:00.000Z'),
        first_seen_time: t('2026-11-01T00:00:00.000Z'),
        last_seen_time: at,
        modified_time: at,
      },
      is_alert: true,
      confidence_id: 3,
      confidence: 'High',
      risk_score: 42,
      resources: [
        {
          uid: OPEN_AWS.credentialId,
          uid_alt: USER_ARN,
          name: 'agent-deploy-1',
          type: 'aws-access-key',
          cloud_partition: 'aws',
          data: { principal_type: 'iam-user', source: ACCT },
        },
      ],
      evidences: [
        {
          name: 'unused',
          data: {
            message: 'access key unused for 45 days (limit 30)',
            confidence: 'confirmed',
            evidence: [{ field: 'lastUsed.at', value: '2026-10-17T00:00:00.000Z', note: 'credential-report' }],
          },
        },
      ],
      unmapped: {
        credwarden: {
          state: 'open',
          agent: 'deploy-agent',
          owner: { team: 'platform', contact: 'platform-oncall@example.com' },
          score: 42,
          policies: ['agent-key-unused-30d'],
          rules: ['unused-for'],
          controls: { 'nist-800-53': ['AC-2(3)'], 'cis-aws-v5': ['1.11'] },
          reopened: 0,
        },
      },
    });
  });

  it('a suppressed finding: Update, Suppressed, naming its exception; not an alert', () => {
    const e = detectionFinding(suppressed, input);
    expect(e).toMatchObject({
      activity_id: 2,
      activity_name: 'Update',
      type_uid: 200402,
      severity_id: 5,
      severity: 'Critical',
      status_id: 3,
      status: 'Suppressed',
      status_detail: 'exception exc-break-glass',
      is_alert: false,
      confidence_id: 2,
      cloud: { provider: 'AWS', cloud_partition: 'aws', account: { uid: ACCT, type_id: 10, type: 'AWS Account' } },
      unmapped: { credwarden: { state: 'suppressed', exception: 'exc-break-glass', agent: null, owner: null } },
    });
    expect(e).not.toHaveProperty('risk_score');
  });

  it('a resolved Vault finding: Close, Resolved, no cloud profile, the namespace on the resource', () => {
    const at = t('2026-11-21T12:00:00.000Z');
    expect(detectionFinding(resolved, input)).toEqual({
      activity_id: 3,
      activity_name: 'Close',
      category_uid: 2,
      category_name: 'Findings',
      class_uid: 2004,
      class_name: 'Detection Finding',
      type_uid: 200403,
      type_name: 'Detection Finding: Close',
      severity_id: 4,
      severity: 'High',
      time: at,
      metadata: { version: '1.5.0', product, uid: `${RESOLVED_VAULT.fingerprint}#3#${at}` },
      message: 'granted secret/* [read, list]',
      status_id: 4,
      status: 'Resolved',
      finding_info: {
        uid: RESOLVED_VAULT.fingerprint,
        title: 'A Vault credential granted a mount-wide or global glob',
        desc: 'granted secret/* [read, list]',
        types: ['vault-broad-glob'],
        analytic: { type_id: 1, type: 'Rule', name: 'agent-vault-broad-glob', uid: 'agent-vault-broad-glob' },
        created_time: t('2026-11-05T00:00:00.000Z'),
        first_seen_time: t('2026-11-05T00:00:00.000Z'),
        last_seen_time: t('2026-11-20T00:00:00.000Z'),
        modified_time: at,
      },
      is_alert: false,
      resources: [
        {
          uid: 'vault/main/root/token/hmac-acc-1',
          uid_alt: 'token-invoice-bot',
          name: 'invoice-bot',
          type: 'vault-token',
          namespace: 'main/root',
          data: { principal_type: 'vault-token', source: 'main/root' },
        },
      ],
      evidences: [
        { name: 'broad-glob', data: { message: 'granted secret/* [read, list]', evidence: [{ field: 'grants[0]' }] } },
      ],
      unmapped: {
        credwarden: {
          state: 'resolved',
          agent: 'invoice-bot',
          owner: { team: 'billing', contact: '#billing-oncall' },
          policies: ['agent-vault-broad-glob'],
          rules: ['vault-broad-glob'],
          controls: { soc2: ['CC6.3'] },
          reopened: 1,
        },
      },
    });
  });

  it('an open finding seen again after a resolve is an Update, still New', () => {
    const again = exportInput([{ ...OPEN_AWS, reopened: 2 }]);
    expect(detectionFinding(again.findings[0]!, again)).toMatchObject({
      activity_id: 2,
      type_uid: 200402,
      status_id: 1,
    });
  });
});

describe('OCSF Compliance Finding (2003): one per finding × control', () => {
  it('every standard/control pair of the policies, Fail while open', () => {
    const events = complianceFindings(open, input);
    expect(events.map((e) => e.compliance)).toEqual([
      {
        standards: ['cis-aws-v5'],
        control: '1.11',
        status_id: 3,
        status: 'Fail',
        status_detail: 'access key unused for 45 days (limit 30)',
      },
      {
        standards: ['nist-800-53'],
        control: 'AC-2(3)',
        status_id: 3,
        status: 'Fail',
        status_detail: 'access key unused for 45 days (limit 30)',
      },
    ]);
    const [first] = events;
    const at = t('2026-12-01T00:00:00.000Z');
    expect(first).toMatchObject({
      class_uid: 2003,
      class_name: 'Compliance Finding',
      category_uid: 2,
      activity_id: 1,
      type_uid: 200301,
      severity_id: 3,
      time: at,
      status_id: 1,
      metadata: { version: OCSF_VERSION, product, uid: `${OPEN_AWS.fingerprint}#cis-aws-v5#1.11#1#${at}` },
      finding_info: { uid: `${OPEN_AWS.fingerprint}#cis-aws-v5#1.11`, uid_alt: OPEN_AWS.fingerprint },
      resources: [{ uid: OPEN_AWS.credentialId, uid_alt: USER_ARN }],
    });
  });

  it('Pass once resolved; a suppressed finding still fails its control', () => {
    expect(complianceFindings(resolved, input).map((e) => [e.type_uid, e.compliance])).toEqual([
      [
        200303,
        {
          standards: ['soc2'],
          control: 'CC6.3',
          status_id: 1,
          status: 'Pass',
          status_detail: 'resolved 2026-11-21T12:00:00.000Z',
        },
      ],
    ]);
    expect(complianceFindings(suppressed, input).map((e) => [e.type_uid, e.status_id, e.compliance])).toEqual([
      [200302, 3, expect.objectContaining({ standards: ['owasp-nhi'], control: 'NHI5', status_id: 3 })],
    ]);
  });
});

describe('OCSF schema validation (1.5.0)', () => {
  it('every event of the export validates against its class schema', () => {
    const events = toOcsf(exportInput([OPEN_AWS, SUPPRESSED_AWS, RESOLVED_VAULT, MERGED]));
    // Merged tombstones are not exported: 3 detection findings, 2 + 1 + 1 compliance findings.
    expect(events.map((e) => e.class_uid)).toEqual([2004, 2003, 2003, 2004, 2003, 2004, 2003]);
    for (const e of events) expect(schemaErrors(e), JSON.stringify(e.finding_info)).toEqual([]);
  });

  it('the validator catches what the schema forbids', () => {
    const good = detectionFinding(open, input);
    const missing = structuredClone(good) as Record<string, unknown>;
    delete (missing.finding_info as Record<string, unknown>).uid;
    expect(schemaErrors(missing as OcsfEvent).join()).toContain("must have required property 'uid'");
    expect(schemaErrors({ ...good, activity_id: 7 }).join()).toContain('must be equal to one of the allowed values');
    expect(schemaErrors({ ...good, class_uid: 2004, type_uid: 200407 }).join()).toContain('allowed values');
    expect(schemaErrors({ ...good, credwarden: {} } as OcsfEvent).join()).toContain(
      'must NOT have additional properties',
    );
    // A cloud field without the cloud profile declared is refused.
    const noProfile = { ...good, metadata: { ...good.metadata, profiles: [] } };
    expect(schemaErrors(noProfile).join()).toContain('must NOT have additional properties');
    // A Compliance Finding needs its compliance object.
    const c = complianceFindings(open, input)[0]!;
    const { compliance: _dropped, ...noCompliance } = c;
    expect(schemaErrors(noCompliance as OcsfEvent).join()).toContain("must have required property 'compliance'");
  });
});
