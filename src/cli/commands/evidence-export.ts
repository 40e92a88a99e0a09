/**
 * `credwarden evidence export --framework F --from DATE --to DATE --out FILE.tar.gz`: build a
 * signed evidence pack (src/evidence/export.ts) over the audit chain in Redis. Bad input (an
 * unknown framework, a date that does not parse, from after to, no --out, no evidence.signingKey)
 * is one line naming the flag and exit 2, checked before anything connects and before any file
 * is written. Exit 0 once the pack is written, whatever the controls' verdicts (they are in it,
 * and listed on stdout).
 */
import { existsSync, statSync } from 'node:fs';
import { userInfo } from 'node:os';
import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import { CwError, ErrorCodes } from '../../errors.js';
import { evidenceKey, exportEvidence, parseEvidenceRequest } from '../../evidence/export.js';
import { FRAMEWORK_IDS } from '../../evidence/frameworks.js';
import { loadInputs } from '../../main.js';
import { type GlobalOptions, type Io, runCommand, withApp } from '../context.js';

interface ExportOptions {
  framework?: string;
  from?: string;
  to?: string;
  out?: string;
  as?: string;
}

/** Who pulled the pack, for the `evidence.exported` event: `--as NAME`, else the OS user. */
function exporter(as: string | undefined): string {
  if (as !== undefined) {
    if (!as.trim()) throw new CwError(ErrorCodes.INPUT, '--as: must name who exports the pack');
    return `user:${as.trim()}`;
  }
  try {
    return `cli:${userInfo().username}`;
  } catch {
    return 'cli';
  }
}

function outPath(v: string | undefined): string {
  if (!v) throw new CwError(ErrorCodes.INPUT, '--out: is required (the .tar.gz file to write)');
  const path = resolve(v);
  const dir = dirname(path);
  if (!existsSync(dir) || !statSync(dir).isDirectory())
    throw new CwError(ErrorCodes.INPUT, `--out: the directory ${dir} does not exist`);
  if (existsSync(path) && statSync(path).isDirectory())
    throw new CwError(ErrorCodes.INPUT, `--out: ${path} is a directory`);
  return path;
}

export function registerEvidenceExport(
  evidence: Command,
  program: Command,
  io: Io,
  exit: (code: number) => void,
): void {
  evidence
    .command('export')
    .description(
      'build a signed evidence pack for a framework and period (population, controls, coverage, audit slice)',
    )
    .option('--framework <id>', `the framework: ${FRAMEWORK_IDS.join(', ')}`)
    .option('--from <date>', 'the first day of the period (UTC), or a date-time with an offset')
    .option('--to <date>', 'the last day of the period (UTC, inclusive), or a date-time with an offset')
    .option('--out <file>', 'the pack to write (.tar.gz)')
    .option('--as <name>', 'who exports the pack (recorded in the audit log; default the OS user)')
    .action(async (cmd: ExportOptions) => {
      const opts = program.opts<GlobalOptions>();
      exit(
        await runCommand(opts, io, async () => {
          const req = parseEvidenceRequest(cmd);
          const out = outPath(cmd.out);
          const actor = exporter(cmd.as);
          // The key before any connection: no key, no pack, nothing written.
          const { config } = await loadInputs(opts.config);
          const key = evidenceKey(config);
          const r = await withApp(opts, 'producer', (app) => exportEvidence(app, req, out, { key, actor, via: 'cli' }));
          const by = (s: string) => r.controls.filter((c) => c.status === s).length;
          if (opts.json) {
            io.out(
              JSON.stringify(
                {
                  out,
                  ...r.written,
                  framework: req.framework,
                  period: r.evidence.period,
                  audit: r.evidence.chain,
                  controls: r.controls.map((c) => ({ id: c.id, status: c.status, reason: c.reason })),
                },
                null,
                2,
              ),
            );
            return 0;
          }
          io.out(
            `wrote ${out}: ${r.written.files} files, ${r.written.bytes} bytes, sha256 ${r.written.sha256}; audit events #${r.evidence.chain.fromSeq}..#${r.evidence.chain.toSeq}`,
          );
          io.out(
            `${req.framework} ${r.evidence.period.from} to ${r.evidence.period.to}: ${by('pass')} pass, ${by('fail')} fail, ${by('not-evidenced')} not evidenced`,
          );
          for (const c of r.controls) io.out(`  ${c.id.padEnd(8)} ${c.status.padEnd(13)} ${c.reason}`);
          return 0;
        }),
      );
    });
}
