/**
 * `credwarden audit verify`: check the whole hash chain in Redis and its JSONL mirror, each on its
 * own (naming the first broken link), then the two against each other (same chain, same events,
 * neither ahead without saying so). Exit 0 only when all of it holds.
 */
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import type { CrossCheckResult } from '../../audit/cross-check.js';
import { verifyJsonl } from '../../audit/index.js';
import type { VerifyResult } from '../../audit/verify.js';
import { type AuditCheck, verifyCopies } from '../../audit/verify-copies.js';
import { loadInputs } from '../../main.js';
import { type GlobalOptions, type Io, runCommand, withApp } from '../context.js';

type Entry = AuditCheck;

function describe(e: Entry): string {
  if (e.where === 'cross-check') {
    const c = e.result as CrossCheckResult;
    if (c.ok) {
      return c.compared === 0
        ? 'cross-check: OK, both copies are empty'
        : `cross-check: OK, the same chain (${c.redis.chainId?.slice(0, 16)}…), seq 1..${c.compared} identical in both copies`;
    }
    return c.problems.map((p) => `cross-check: DIVERGED: ${p}`).join('\n');
  }
  const r = e.result as VerifyResult;
  if (r.ok) return `${e.where}: OK, ${r.count} events, head #${r.headSeq} ${r.headHash.slice(0, 16)}…`;
  const b = r.firstBroken!;
  return `${e.where}: BROKEN at event #${b.seq} (position ${b.position}): ${b.reason}: ${b.detail}`;
}

export function registerAudit(program: Command, io: Io, exit: (code: number) => void): void {
  const audit = program.command('audit').description('the tamper-evident audit log');
  audit
    .command('verify')
    .description('verify the hash chain in Redis and the JSONL mirror, and hold them against each other')
    .option('--file <path>', 'verify this JSONL file (default: audit.file from the config)')
    .option('--file-only', 'verify only the file, without Redis')
    .action(async (cmd: { file?: string; fileOnly?: boolean }) => {
      const opts = program.opts<GlobalOptions>();
      exit(
        await runCommand(opts, io, async () => {
          const results: Entry[] = [];
          if (cmd.fileOnly) {
            const { config } = await loadInputs(opts.config);
            const file = cmd.file ?? config.audit.file;
            if (!existsSync(file)) {
              io.err(`credwarden: audit file ${file} does not exist`);
              return 1;
            }
            const hmac = config.audit.hmacKey;
            results.push({ where: file, result: await verifyJsonl(file, hmac ? { hmacKey: hmac } : {}) });
          } else {
            await withApp(opts, 'producer', async (app) => {
              results.push(
                ...(await verifyCopies(app.audit, {
                  file: cmd.file ?? app.config.audit.file,
                  hmacKey: app.config.audit.hmacKey,
                  redisLabel: `redis ${app.config.redis.prefix}:audit`,
                })),
              );
            });
          }
          if (opts.json) io.out(JSON.stringify(results, null, 2));
          else for (const r of results) io.out(describe(r));
          return results.every((r) => r.result.ok) ? 0 : 1;
        }),
      );
    });
}
