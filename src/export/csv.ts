/**
 * CSV export (RFC 4180, util/csv.ts: CRLF records, quoted fields, formula-looking cells defused
 * with a leading `'`): one row per finding, a header row first. Lists are `;`-separated;
 * controls read `<standard> <control>`.
 */
import type { PresentedFinding } from '../findings/present.js';
import { formatCsv } from '../util/csv.js';
import { controlPairs, type ExportInput } from './input.js';

export const CSV_COLUMNS = [
  'fingerprint',
  'state',
  'severity',
  'policy',
  'policies',
  'rules',
  'controls',
  'credential_id',
  'kind',
  'principal',
  'principal_name',
  'principal_type',
  'source',
  'account_id',
  'account_name',
  'agent',
  'owner_team',
  'owner_contact',
  'score',
  'message',
  'first_seen',
  'last_seen',
  'resolved_at',
  'reopened',
  'exception_id',
] as const;

export function csvRow(f: PresentedFinding, input: ExportInput): (string | number | null)[] {
  return [
    f.fingerprint,
    f.state,
    f.severity,
    f.policy,
    f.policies.join(';'),
    f.rules.join(';'),
    controlPairs(f)
      .map(([s, c]) => `${s} ${c}`)
      .join(';'),
    f.credentialId,
    f.kind,
    f.principal,
    f.principalName,
    f.principalType,
    f.source,
    f.account?.id ?? null,
    f.account?.name ?? null,
    f.agentId,
    f.owner?.team ?? null,
    f.owner?.contact ?? null,
    input.scores.get(f.credentialId) ?? null,
    f.message,
    f.firstSeen,
    f.lastSeen,
    f.resolvedAt,
    f.reopened,
    f.exceptionId,
  ];
}

/** The header and one row per finding; `rows` selects a slice (the webhook sends the header with every part). */
export function toCsv(input: ExportInput, rows: readonly PresentedFinding[] = input.findings): string {
  return formatCsv([[...CSV_COLUMNS], ...rows.map((f) => csvRow(f, input))]);
}
