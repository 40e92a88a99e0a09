/**
 * `credwarden audit verify`: check the whole hash chain in Redis and its JSONL mirror, each on its
 * own (naming the first broken link) and against the newest signed checkpoint read from outside
 * Redis (the file sinks and the mirror's `audit.checkpoint` events), then the two against each
 * other (same chain, same events, neither ahead without saying so). Exit 0 only when all of it holds.
 *
 * `credwarden audit checkpoint`: sign the head now and record it (the event, every sink), as the
 * scheduled job does. Exit 1 when a sink failed; 2 when checkpoints are off (no evidence.signingKey).
 */
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import type { CheckpointSummary } from '../../audit/checkpoint-verify.js';
import { checkpointSources, collectCheckpoints, readPublicKey } from '../../audit/checkpoint-verify.js';
import type { CrossCheckResult } from '../../audit/cross-check.js';
import type { VerifyResult } from '../../audit/verify.js';
import { type AuditCheck, type CopyResult, checkpointOf, verifyCopies, verifyFile } from '../../audit/verify-copies.js';
import { CwError, ErrorCodes } from '../../errors.js';
import { loadInputs } from '../../main.js';
import { keyPrefix } from '../../queue/prefix.js';
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

/** The checkpoint lines: which one was checked and which copies hold it, or "no checkpoint"; the ignored ones. */
function describeCheckpoint(results: readonly Entry[], sum: CheckpointSummary): string[] {
  const lines: string[] = [];
  if (sum.checked) {
    const copies = results.filter((e) => e.where !== 'cross-check') as { where: string; result: CopyResult }[];
    const held = copies.filter((e) => e.result.checkpoint?.holds).map((e) => e.where);
    const not = copies.filter((e) => e.result.checkpoint?.holds === false).map((e) => e.where);
    const verdict = not.length
      ? `NOT HELD by ${not.join(' and ')}${held.length ? `; held by ${held.join(' and ')}` : ''}`
      : `held by ${held.join(' and ')}`;
    lines.push(`checkpoint: ${sum.note}: ${verdict}`);
  } else lines.push(`checkpoint: ${sum.note}`);
  for (const i of sum.invalid) lines.push(`checkpoint: ignored ${i.source}: ${i.reason}`);
  if (sum.invalidCount > sum.invalid.length)
    lines.push(`checkpoint: … and ${sum.invalidCount - sum.invalid.length} more ignored`);
  return lines;
}

export function registerAudit(program: Command, io: Io, exit: (code: number) => void): void {
  const audit = program.command('audit').description('the tamper-evident audit log');
  audit
    .command('verify')
    .description(
      'verify the hash chain in Redis and the JSONL mirror against the newest signed checkpoint, and hold them against each other',
    )
    .option('--file <path>', 'verify this JSONL file (default: audit.file from the config)')
    .option('--file-only', 'verify only the file, without Redis')
    .option('--key <pub>', 'check checkpoints with this public key (PEM; default: that of evidence.signingKey)')
    .action(async (cmd: { file?: string; fileOnly?: boolean; key?: string }) => {
      const opts = program.opts<GlobalOptions>();
      exit(
        await runCommand(opts, io, async () => {
          const results: Entry[] = [];
          const key = cmd.key ? await readPublicKey(cmd.key) : undefined;
          if (cmd.fileOnly) {
            const { config } = await loadInputs(opts.config);
            const file = cmd.file ?? config.audit.file;
            if (!existsSync(file)) {
              io.err(`credwarden: audit file ${file} does not exist`);
              return 1;
            }
            const hmac = config.audit.hmacKey;
            const sum = await collectCheckpoints(checkpointSources(config, key), file);
            results.push({ where: file, result: await verifyFile(file, hmac ? { hmacKey: hmac } : {}, sum) });
          } else {
            await withApp(opts, 'producer', async (app) => {
              results.push(
                ...(await verifyCopies(app.audit, {
                  file: cmd.file ?? app.config.audit.file,
                  hmacKey: app.config.audit.hmacKey,
                  redisLabel: `redis ${keyPrefix(app.config.redis)}:audit`,
                  checkpoints: checkpointSources(app.config, key ?? app.checkpoints.publicKey ?? undefined),
                })),
              );
            });
          }
          if (opts.json) io.out(JSON.stringify(results, null, 2));
          else {
            for (const r of results) io.out(describe(r));
            const sum = checkpointOf(results);
            if (sum) for (const l of describeCheckpoint(results, sum)) io.out(l);
          }
          return results.every((r) => r.result.ok) ? 0 : 1;
        }),
      );
    });
  audit
    .command('checkpoint')
    .description('sign the audit head with evidence.signingKey now and send it to the checkpoint sinks')
    .action(async () => {
      const opts = program.opts<GlobalOptions>();
      exit(
        await runCommand(opts, io, () =>
          withApp(opts, 'producer', async (app) => {
            const r = await app.checkpoints.checkpointNow();
            if (r.status === 'off') throw new CwError(ErrorCodes.CONFIG, r.detail);
            if (opts.json) io.out(JSON.stringify(r, null, 2));
            if (r.status === 'empty') {
              if (!opts.json) io.out(`audit checkpoint: ${r.detail}`);
              return 0;
            }
            const c = r.checkpoint;
            if (!opts.json) {
              const what = r.status === 'written' ? 'recorded as' : 'already recorded as';
              io.out(
                `checkpoint #${c.seq} of ${c.time} (chain ${c.chainId.slice(0, 16)}…, ${c.hash.slice(0, 16)}…): ${what} audit event #${r.eventSeq}`,
              );
              for (const s of r.sinks) io.out(`  ${s.sink}: ${s.status}${s.detail ? `: ${s.detail}` : ''}`);
            }
            return r.sinks.some((s) => s.status === 'failed') ? 1 : 0;
          }),
        ),
      );
    });
}
