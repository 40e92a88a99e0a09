/**
 * SARIF 2.1.0 export (validated against the SARIF 2.1.0 rtm.5 JSON Schema,
 * test/fixtures/sarif-2.1.0): one run whose tool.driver is credwarden with every loaded policy as
 * a rule (id = policy name, its description, default level from its severity, its controls as
 * tags, `security-severity` for code-scanning UIs), and one result per finding:
 * - ruleId/ruleIndex: the finding's primary policy; message: the finding's message;
 * - level from severity: critical and high `error`, medium `warning`, low and info `note`;
 * - kind `fail` while open or suppressed (a suppressed one carries an external, accepted
 *   suppression naming its exception); `pass` with level `none` once resolved;
 * - locations: one logicalLocation of the credential (kind `resource`, fullyQualifiedName its
 *   credential id, name the principal's name); the principal's ARN or path is in properties;
 * - partialFingerprints.credwarden/v1: the finding's fingerprint.
 */
import type { PresentedFinding } from '../findings/present.js';
import type { Severity } from '../model/finding.js';
import { controlPairs, type ExportInput, type ExportPolicy } from './input.js';

export const SARIF_VERSION = '2.1.0';
export const SARIF_SCHEMA_URI = 'https://json.schemastore.org/sarif-2.1.0.json';

type Level = 'error' | 'warning' | 'note' | 'none';
const LEVEL: Record<Severity, Level> = {
  critical: 'error',
  high: 'error',
  medium: 'warning',
  low: 'note',
  info: 'note',
};
/** GitHub code scanning's `security-severity` (CVSS-like: ≥ 9 critical, ≥ 7 high, ≥ 4 medium, else low). */
const SECURITY_SEVERITY: Record<Severity, string> = {
  critical: '9.5',
  high: '8.0',
  medium: '5.5',
  low: '3.0',
  info: '0.0',
};

export interface SarifLog {
  $schema: string;
  version: typeof SARIF_VERSION;
  runs: [SarifRun];
}
export interface SarifRun {
  tool: { driver: Record<string, unknown> & { rules: SarifRule[] } };
  results: SarifResult[];
}
export type SarifRule = Record<string, unknown> & { id: string };
export type SarifResult = Record<string, unknown> & { ruleId: string; level: Level; kind: 'fail' | 'pass' };

function rule(p: ExportPolicy): SarifRule {
  const tags = controlPairs(p).map(([s, c]) => `${s}/${c}`);
  return {
    id: p.name,
    name: p.name,
    shortDescription: { text: p.description || p.name },
    defaultConfiguration: { level: LEVEL[p.severity] },
    properties: {
      tags: ['security', ...tags],
      severity: p.severity,
      'security-severity': SECURITY_SEVERITY[p.severity],
    },
  };
}

function result(f: PresentedFinding, index: Map<string, number>, input: ExportInput): SarifResult {
  const resolved = f.state === 'resolved';
  const score = input.scores.get(f.credentialId);
  const ruleIndex = index.get(f.policy);
  return {
    ruleId: f.policy,
    ...(ruleIndex !== undefined ? { ruleIndex } : {}),
    kind: resolved ? 'pass' : 'fail',
    level: resolved ? 'none' : LEVEL[f.severity],
    message: { text: f.message || f.policy },
    locations: [
      {
        logicalLocations: [
          {
            name: f.principalName ?? f.credentialId,
            fullyQualifiedName: f.credentialId,
            kind: 'resource',
          },
        ],
      },
    ],
    partialFingerprints: { 'credwarden/v1': f.fingerprint },
    ...(f.state === 'suppressed'
      ? {
          suppressions: [
            {
              kind: 'external',
              status: 'accepted',
              justification: f.exceptionId ? `exception ${f.exceptionId}` : 'exception',
            },
          ],
        }
      : {}),
    properties: {
      state: f.state,
      severity: f.severity,
      policies: f.policies,
      credentialKind: f.kind,
      principal: f.principal,
      source: f.source,
      agent: f.agentId,
      owner: f.owner,
      ...(score !== undefined ? { score } : {}),
      firstSeen: f.firstSeen,
      lastSeen: f.lastSeen,
      resolvedAt: f.resolvedAt,
    },
  };
}

/** One SARIF log of `findings` (all of the input's by default; the webhook sends slices). */
export function toSarif(input: ExportInput, findings: readonly PresentedFinding[] = input.findings): SarifLog {
  const policies = [...input.policies.values()].sort((a, b) => a.name.localeCompare(b.name));
  const index = new Map(policies.map((p, i) => [p.name, i]));
  const results = findings.map((f) => result(f, index, input));
  return {
    $schema: SARIF_SCHEMA_URI,
    version: SARIF_VERSION,
    runs: [
      {
        tool: {
          driver: {
            name: input.product.name,
            version: input.product.version,
            semanticVersion: input.product.version,
            rules: policies.map(rule),
          },
        },
        results,
      },
    ],
  };
}
