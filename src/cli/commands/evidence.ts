/**
 * `credwarden evidence …`: compliance evidence packs.
 * - `evidence export --framework F --from DATE --to DATE --out FILE.tar.gz`: evidence-export.ts.
 * - `evidence verify FILE.tar.gz [--key PUB]`: the standalone verifier's checks (the code every
 *   pack ships as verify.mjs), offline, without Redis or a config. Exit 0 verified; 1 a check
 *   failed (named on the last line); 2 bad input (no such pack, an unreadable or non-Ed25519 key).
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { CwError, ErrorCodes } from '../../errors.js';
import { formatReport, VerifyInputError, verifyPack } from '../../evidence/verifier.js';
import { type GlobalOptions, type Io, runCommand } from '../context.js';
import { registerEvidenceExport } from './evidence-export.js';

export function registerEvidence(program: Command, io: Io, exit: (code: number) => void): void {
  const evidence = program.command('evidence').description('compliance evidence packs: export and verify');

  registerEvidenceExport(evidence, program, io, exit);

  evidence
    .command('verify')
    .description('verify an evidence pack offline: its signature, every digest and the audit chain proof')
    .argument('<file>', 'the pack (.tar.gz)')
    .option('--key <pem>', "the public key to verify with (SPKI PEM); default: the pack's own public-key.pem")
    .action(async (file: string, cmd: { key?: string }) => {
      const opts = program.opts<GlobalOptions>();
      exit(
        await runCommand(opts, io, async () => {
          let pem: string | undefined;
          if (cmd.key !== undefined) {
            try {
              pem = readFileSync(cmd.key, 'utf8');
            } catch (err) {
              throw new CwError(ErrorCodes.INPUT, `--key ${cmd.key}: ${(err as Error).message}`);
            }
          }
          let report: Awaited<ReturnType<typeof verifyPack>>;
          try {
            report = await verifyPack(file, pem === undefined ? {} : { publicKeyPem: pem });
          } catch (err) {
            if (err instanceof VerifyInputError) throw new CwError(ErrorCodes.INPUT, err.message);
            throw err;
          }
          if (opts.json) io.out(JSON.stringify(report, null, 2));
          else for (const line of formatReport(report)) io.out(line);
          return report.ok ? 0 : 1;
        }),
      );
    });
}
