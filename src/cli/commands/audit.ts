/** `credwarden audit verify`: check the whole hash chain in Redis and its JSONL mirror; name the first broken link. */
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { verifyJsonl } from '../../audit/index.js';
import type { VerifyResult } from '../../audit/verify.js';
import { loadInputs } from '../../main.js';
import { type GlobalOptions, type Io, runCommand, withApp } from '../context.js';

function describe(where: string, r: VerifyResult): string {
  if (r.ok) return `${where}: OK, ${r.count} events, head #${r.headSeq} ${r.headHash.slice(0, 16)}…`;
  const b = r.firstBroken!;
  return `${where}: BROKEN at event #${b.seq} (position ${b.position}): ${b.reason}: ${b.detail}`;
}

export function registerAudit(program: Command, io: Io, exit: (code: number) => void): void {
  const audit = program.command('audit').description('the tamper-evident audit log');
  audit
    .command('verify')
    .description('verify the hash chain in Redis and the JSONL mirror')
    .option('--file <path>', 'verify this JSONL file (default: audit.file from the config)')
    .option('--file-only', 'verify only the file, without Redis')
    .action(async (cmd: { file?: string; fileOnly?: boolean }) => {
      const opts = program.opts<GlobalOptions>();
      exit(
        await runCommand(opts, io, async () => {
          const results: { where: string; result: VerifyResult }[] = [];
          const verifyFile = async (file: string, hmacKey?: string) => {
            if (existsSync(file))
              results.push({ where: file, result: await verifyJsonl(file, hmacKey ? { hmacKey } : {}) });
          };
          if (cmd.fileOnly) {
            const { config } = await loadInputs(opts.config);
            await verifyFile(cmd.file ?? config.audit.file, config.audit.hmacKey);
          } else {
            await withApp(opts, 'producer', async (app) => {
              results.push({ where: `redis ${app.config.redis.prefix}:audit`, result: await app.audit.verify() });
              await verifyFile(cmd.file ?? app.config.audit.file, app.config.audit.hmacKey);
            });
          }
          if (opts.json) io.out(JSON.stringify(results, null, 2));
          else for (const r of results) io.out(describe(r.where, r.result));
          return results.every((r) => r.result.ok) ? 0 : 1;
        }),
      );
    });
}
