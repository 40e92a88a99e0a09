/**
 * The export formats behind `credwarden findings --format` and the scheduled exports
 * (`evidence.exports`, export/run.ts): one document per format, as one text (the CLI's output, a
 * file's content) or cut into parts for a webhook (ASFF: 100 findings a part, BatchImportFindings'
 * limit per call).
 */
import type { ExportFormat } from '../evidence/config.js';
import { ASFF_BATCH, toAsff } from './asff.js';
import { toCsv } from './csv.js';
import type { ExportInput } from './input.js';
import { toOcsf } from './ocsf.js';
import { toSarif } from './sarif.js';

export { EXPORT_FORMATS, type ExportFormat } from '../evidence/config.js';

/** Records per webhook part. */
export const PART_SIZE: Record<ExportFormat, number> = { asff: ASFF_BATCH, ocsf: 500, sarif: 500, csv: 1000 };

export interface ExportPart {
  /** ASFF `{ Findings }`, OCSF `{ events }`, SARIF `{ sarif }`, CSV `{ csv }` (header in every part). */
  payload: Record<string, unknown>;
  count: number;
}

export interface ExportDocument {
  format: ExportFormat;
  /** Records written: OCSF events, ASFF findings, SARIF results, CSV rows. */
  count: number;
  /** Findings left out, by reason (ASFF: Vault findings without `evidence.asff.accountId`). */
  skipped: Record<string, number>;
  /** The whole export: a JSON array (OCSF events, ASFF findings), a SARIF log, or CSV text. */
  text: string;
  /** The export cut into parts of at most PART_SIZE records (at least one part, maybe empty). */
  parts(): ExportPart[];
}

function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out.length ? out : [[]];
}

const json = (v: unknown): string => `${JSON.stringify(v, null, 2)}\n`;

export function renderExport(format: ExportFormat, input: ExportInput): ExportDocument {
  const size = PART_SIZE[format];
  switch (format) {
    case 'ocsf': {
      const events = toOcsf(input);
      return {
        format,
        count: events.length,
        skipped: {},
        text: json(events),
        parts: () => chunk(events, size).map((c) => ({ payload: { events: c }, count: c.length })),
      };
    }
    case 'asff': {
      const { findings, skipped } = toAsff(input);
      return {
        format,
        count: findings.length,
        skipped: skipped.vaultWithoutAccountId ? { ...skipped } : {},
        text: json(findings),
        parts: () => chunk(findings, size).map((c) => ({ payload: { Findings: c }, count: c.length })),
      };
    }
    case 'sarif':
      return {
        format,
        count: input.findings.length,
        skipped: {},
        text: json(toSarif(input)),
        parts: () =>
          chunk(input.findings, size).map((c) => ({ payload: { sarif: toSarif(input, c) }, count: c.length })),
      };
    case 'csv':
      return {
        format,
        count: input.findings.length,
        skipped: {},
        text: toCsv(input),
        parts: () => chunk(input.findings, size).map((c) => ({ payload: { csv: toCsv(input, c) }, count: c.length })),
      };
  }
}
