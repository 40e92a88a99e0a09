/**
 * `credwarden findings`: the findings in Redis (open by default), or with --as-of a what-if
 * evaluation of the current inventory at that date (nothing stored). `credwarden score`: the
 * explained risk score of an agent or a credential. Exit 1 when open findings match the filters.
 */
import type { Command } from 'commander';
import { CwError, ErrorCodes } from '../../errors.js';
import type { Finding } from '../../policy/model.js';
import { SEVERITIES, type Severity, severityRank } from '../../policy/types.js';
import { type GlobalOptions, type Io, runCommand, withApp } from '../context.js';
import { table } from '../format.js';

export function parseAsOf(v: string | undefined): Date | undefined {
  if (v === undefined) return undefined;
  const d = new Date(v);
  if (Number.isNaN(d.getTime()))
    throw new CwError(
      ErrorCodes.INPUT,
      `--as-of must be an ISO date or time (e.g. 2026-12-31 or 2026-12-31T00:00:00Z), got "${v}"`,
    );
  return d;
}

function parseSeverity(v: string | undefined): Severity | undefined {
  if (v === undefined) return undefined;
  if (!(SEVERITIES as readonly string[]).includes(v))
    throw new CwError(ErrorCodes.INPUT, `--severity must be one of ${SEVERITIES.join(', ')}, got "${v}"`);
  return v as Severity;
}

interface FindingsOpts {
  severity?: string;
  agent?: string;
  rule?: string;
  state?: string;
  asOf?: string;
}

export function registerFindings(program: Command, io: Io, exit: (code: number) => void): void {
  program
    .command('findings')
    .description(
      'list findings (open by default); --as-of evaluates the current inventory at that date without storing anything',
    )
    .option('--severity <level>', 'at least this severity: critical | high | medium | low | info')
    .option('--agent <id>', 'only this agent')
    .option('--rule <name>', 'only this policy (or a policy using this rule type)')
    .option('--state <state>', 'open | suppressed | resolved | all', 'open')
    .option('--as-of <iso>', 'evaluate every time-based rule as if it were this date')
    .action(async (cmd: FindingsOpts) => {
      const opts = program.opts<GlobalOptions>();
      exit(
        await runCommand(opts, io, async () => {
          const min = parseSeverity(cmd.severity);
          const asOf = parseAsOf(cmd.asOf);
          if (!['open', 'suppressed', 'resolved', 'all'].includes(cmd.state ?? 'open'))
            throw new CwError(ErrorCodes.INPUT, `--state must be open, suppressed, resolved or all`);
          return withApp(opts, 'producer', async (app) => {
            let list: Finding[] = asOf ? (await app.findings.preview(asOf)).result.changed : await app.findings.all();
            list = list.filter(
              (f) =>
                (cmd.state === 'all' || f.state === (cmd.state ?? 'open')) &&
                (!min || severityRank(f.severity) >= severityRank(min)) &&
                (!cmd.agent || f.agentId === cmd.agent) &&
                (!cmd.rule || f.policy === cmd.rule || f.rules.includes(cmd.rule)),
            );
            list.sort(
              (a, b) =>
                severityRank(b.severity) - severityRank(a.severity) ||
                a.policy.localeCompare(b.policy) ||
                a.credentialId.localeCompare(b.credentialId),
            );
            if (opts.json) io.out(JSON.stringify(list, null, 2));
            else {
              const rows = list.map((f) => [
                f.severity.toUpperCase(),
                f.policy,
                f.credentialId,
                f.agentId ?? '-',
                f.state,
                f.hits[0]?.message ?? f.message,
              ]);
              io.out(
                rows.length
                  ? table(['SEVERITY', 'POLICY', 'CREDENTIAL', 'AGENT', 'STATE', 'WHY'], rows)
                  : 'no findings match',
              );
              if (asOf)
                io.out(
                  `\n(as of ${asOf.toISOString()}: a what-if evaluation of the current inventory; nothing was stored)`,
                );
            }
            return list.some((f) => f.state === 'open') ? 1 : 0;
          });
        }),
      );
    });

  program
    .command('score')
    .description('the risk score of an agent (or a credential), with the detectors and statements behind it')
    .option('--agent <id>', 'agent id')
    .option('--credential <id>', 'credential id')
    .action(async (cmd: { agent?: string; credential?: string }) => {
      const opts = program.opts<GlobalOptions>();
      exit(
        await runCommand(opts, io, async () => {
          if (!cmd.agent === !cmd.credential)
            throw new CwError(ErrorCodes.INPUT, 'give exactly one of --agent ID or --credential ID');
          return withApp(opts, 'producer', async (app) => {
            const s = cmd.agent
              ? await app.findings.agentScore(cmd.agent)
              : await app.findings.credentialScore(cmd.credential!);
            const what = cmd.agent ? `agent ${cmd.agent}` : `credential ${cmd.credential}`;
            if (cmd.agent && !s && !app.registry.agents.some((a) => a.id === cmd.agent)) {
              throw new CwError(
                ErrorCodes.INPUT,
                `--agent ${cmd.agent} is not in the registry (${app.config.registry})`,
              );
            }
            const score = s ?? { score: 0, vector: {}, top: [] };
            if (opts.json) io.out(JSON.stringify({ subject: what, ...score }, null, 2));
            else {
              io.out(`${what}: risk ${score.score}/100`);
              if ('factors' in score && score.factors.length) io.out(`  factors: ${score.factors.join('; ')}`);
              if ('credentials' in score)
                for (const c of score.credentials) io.out(`  credential ${c.credentialId}: ${c.score}`);
              const vec = Object.entries(score.vector).sort((a, b) => b[1] - a[1]);
              io.out(`  detectors: ${vec.map(([d, p]) => `${d} ${Math.round(p)}`).join(', ') || 'none'}`);
              for (const c of score.top) {
                io.out(
                  `  - ${c.points.toFixed(0)} pts ${c.detector} (${c.severity}, policy ${c.policy}): ${c.message}`,
                );
                for (const e of c.evidence.slice(0, 4)) {
                  const line = e.statement
                    ? `${e.statement.summary}${e.statement.provenance ? ` [${e.statement.provenance.attachment} ${e.statement.provenance.policyArn ?? e.statement.provenance.policy}]` : ''}`
                    : `${e.field ?? ''}${e.value !== undefined ? ` = ${JSON.stringify(e.value)}` : ''}${e.note ? ` (${e.note})` : ''}`;
                  io.out(`      ${line}`);
                }
              }
            }
            return 0;
          });
        }),
      );
    });
}
