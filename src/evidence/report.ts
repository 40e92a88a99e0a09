/**
 * The pack's readable and machine-readable files, written into a working directory:
 *   report.html            the report for people (report-html.ts), printable to PDF
 *   evidence.json          everything: framework, period, rules, chain facts, controls with their
 *                          verdicts, population, findings, actions, exceptions, coverage, drills
 *   population.csv, findings.csv, actions.csv, controls.csv, coverage.csv, coverage-units.csv,
 *   drills.csv             (report-csv.ts)
 * evidence.json is streamed item by item, so the largest lists (population, findings) are never
 * held as one string.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ControlResult, ControlRules } from './controls.js';
import { writeCsvs } from './report-csv.js';
import { type ReportContext, renderReport } from './report-html.js';
import { Spool } from './spool.js';

export const EVIDENCE_TYPE = 'https://credwarden.dev/evidence/v1';

export interface ReportInput extends Omit<ReportContext, 'controls'> {
  controls: readonly ControlResult[];
  rules: ControlRules;
}

async function writeEvidenceJson(path: string, r: ReportInput): Promise<void> {
  const { ev, fw } = r;
  const out = await Spool.create(path);
  try {
    const head = {
      _type: EVIDENCE_TYPE,
      framework: { id: fw.id, name: fw.name, version: fw.version, controlsKey: fw.controlsKey },
      period: ev.period,
      generatedAt: ev.generatedAt,
      credwardenVersion: r.version,
      configHash: r.configHash,
      chain: ev.chain,
      checkpoint: r.checkpoint,
      rules: r.rules,
      summary: {
        controls: Object.fromEntries(
          (['pass', 'fail', 'not-evidenced'] as const).map((s) => [s, r.controls.filter((c) => c.status === s).length]),
        ),
        population: ev.population.length,
        findings: ev.findings.length,
        actions: ev.actions.length,
        exceptions: ev.exceptions.length,
        scans: ev.coverage.scans.length,
        drills: (ev.drills ?? []).length,
      },
    };
    await out.write(JSON.stringify(head).slice(0, -1));
    const lists: [string, readonly unknown[]][] = [
      ['controls', r.controls],
      ['population', ev.population],
      ['findings', ev.findings],
      ['actions', ev.actions],
      ['exceptions', ev.exceptions],
      ['coverageUnits', ev.coverage.units],
      ['scans', ev.coverage.scans],
      ['drills', ev.drills ?? []],
    ];
    for (const [key, items] of lists) {
      await out.write(`,${JSON.stringify(key)}:[`);
      for (let i = 0; i < items.length; i++) await out.write(`${i ? ',' : ''}${JSON.stringify(items[i])}`);
      await out.write(']');
    }
    await out.write('}\n');
    await out.close(true);
  } catch (err) {
    await out.abort();
    throw err;
  }
}

/** Writes the report files into `dir`; returns their pack paths (relative to `dir`). */
export async function writeReports(dir: string, r: ReportInput): Promise<string[]> {
  await writeFile(join(dir, 'report.html'), renderReport(r), { mode: 0o600 });
  await writeEvidenceJson(join(dir, 'evidence.json'), r);
  const csvs = await writeCsvs(dir, r.ev, r.controls);
  return ['report.html', 'evidence.json', ...csvs];
}
