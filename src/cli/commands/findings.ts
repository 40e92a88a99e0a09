/**
 * `credwarden findings`: the findings in Redis (open by default), or with --as-of a what-if
 * evaluation of the current inventory at that date (nothing stored). The table cuts its cells to
 * the terminal's width; `findings show <fingerprint|credential>` and `--json` give every word;
 * `--format ocsf|asff|csv|sarif` prints the same findings in an export format (export/index.ts).
 * `credwarden score`: the explained risk score of an agent or a credential. Exit 1 when open
 * findings match the filters.
 */
import type { Command } from 'commander';
import { CwError, ErrorCodes } from '../../errors.js';
import { EXPORT_FORMATS, type ExportFormat, renderExport } from '../../export/index.js';
import { exportInputFromApp } from '../../export/input.js';
import { type PresentedFinding, presentFinding } from '../../findings/present.js';
import type { App } from '../../main.js';
import { principalPhrase } from '../../model/principal.js';
import type { Finding } from '../../policy/model.js';
import { SEVERITIES, type Severity, severityRank } from '../../policy/types.js';
import { type GlobalOptions, type Io, runCommand, withApp } from '../context.js';
import { naturalWidth, table, terminalWidth } from '../format.js';

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

/** Account names from the config, by account id. */
function accountNames(app: App): Map<string, string> {
  return new Map((app.config.aws?.accounts ?? []).flatMap((a) => (a.name ? [[a.id, a.name] as const] : [])));
}

/** A finding as `--json` and `show` print it (findings/present.ts). */
export const present = presentFinding;

type Presented = PresentedFinding;

function policyCell(f: Finding): string {
  const others = (f.policies?.length ?? 1) - 1;
  return others > 0 ? `${f.policy} +${others}` : f.policy;
}

interface FindingsOpts {
  severity?: string;
  agent?: string;
  rule?: string;
  state?: string;
  asOf?: string;
  format?: string;
}

function parseFormat(v: string | undefined, json: boolean | undefined): ExportFormat | undefined {
  if (v === undefined) return undefined;
  if (!(EXPORT_FORMATS as readonly string[]).includes(v))
    throw new CwError(ErrorCodes.INPUT, `--format must be one of ${EXPORT_FORMATS.join(', ')}, got "${v}"`);
  if (json) throw new CwError(ErrorCodes.INPUT, '--format and --json cannot be used together: pick one');
  return v as ExportFormat;
}

const SKIP_REASONS: Record<string, string> = {
  vaultWithoutAccountId: 'Vault findings need evidence.asff.accountId (the Security Hub account) for ASFF',
};

export function registerFindings(program: Command, io: Io, exit: (code: number) => void): void {
  const findingsCmd = program.command('findings');
  findingsCmd
    .description(
      'list findings (open by default); --as-of evaluates the current inventory at that date without storing anything',
    )
    .option('--severity <level>', 'at least this severity: critical | high | medium | low | info')
    .option('--agent <id>', 'only this agent')
    .option('--rule <name>', 'only this policy (or a policy using this rule type)')
    .option('--state <state>', 'open | suppressed | resolved | merged | all (all but merged)', 'open')
    .option('--as-of <iso>', 'evaluate every time-based rule as if it were this date')
    .option('--format <format>', `export format: ${EXPORT_FORMATS.join(' | ')} (README "Exports")`)
    .action(async (cmd: FindingsOpts) => {
      const opts = program.opts<GlobalOptions>();
      exit(
        await runCommand(opts, io, async () => {
          const min = parseSeverity(cmd.severity);
          const asOf = parseAsOf(cmd.asOf);
          const format = parseFormat(cmd.format, opts.json);
          if (!['open', 'suppressed', 'resolved', 'merged', 'all'].includes(cmd.state ?? 'open'))
            throw new CwError(ErrorCodes.INPUT, `--state must be open, suppressed, resolved, merged or all`);
          return withApp(opts, 'producer', async (app) => {
            let list: Finding[] = asOf ? (await app.findings.preview(asOf)).result.changed : await app.findings.all();
            list = list.filter(
              (f) =>
                (cmd.state === 'all' ? f.state !== 'merged' : f.state === (cmd.state ?? 'open')) &&
                (!min || severityRank(f.severity) >= severityRank(min)) &&
                (!cmd.agent || f.agentId === cmd.agent) &&
                (!cmd.rule || f.policy === cmd.rule || !!f.policies?.includes(cmd.rule) || f.rules.includes(cmd.rule)),
            );
            list.sort(
              (a, b) =>
                severityRank(b.severity) - severityRank(a.severity) ||
                a.policy.localeCompare(b.policy) ||
                a.credentialId.localeCompare(b.credentialId),
            );
            if (format) {
              const doc = renderExport(format, await exportInputFromApp(app, list));
              io.out(doc.text.replace(/\r?\n$/, ''));
              for (const [reason, n] of Object.entries(doc.skipped))
                if (n > 0) io.err(`${n} finding(s) left out of ${format}: ${SKIP_REASONS[reason] ?? reason}`);
            } else if (opts.json) {
              const inventory = new Map((await app.scans.currentInventory()).map((c) => [c.id, c]));
              const names = accountNames(app);
              io.out(
                JSON.stringify(
                  list.map((f) => present(f, inventory, names)),
                  null,
                  2,
                ),
              );
            } else {
              const rows = list.map((f) => [
                f.severity.toUpperCase(),
                policyCell(f),
                f.credentialId,
                f.agentId ?? '-',
                f.state,
                f.hits[0]?.message ?? f.message,
              ]);
              const headers = ['SEVERITY', 'POLICY', 'CREDENTIAL', 'AGENT', 'STATE', 'WHY'];
              const width = io.columns ?? terminalWidth();
              // The WHY gives way first; ids and policy names only when the terminal is very narrow.
              io.out(rows.length ? table(headers, rows, { width, fit: [5, 2, 1, 3] }) : 'no findings match');
              if (naturalWidth(headers, rows) > width)
                io.out(
                  '\n(cells cut to the terminal width; `findings show <credential id>` or `--json` prints them in full)',
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

  findingsCmd
    .command('show')
    .description('one finding in full (by fingerprint), or every finding on a credential (by credential id)')
    .argument('<fingerprint-or-credential>', 'a finding fingerprint (see --json) or a credential id')
    .action(async (what: string) => {
      const opts = program.opts<GlobalOptions>();
      exit(
        await runCommand(opts, io, () =>
          withApp(opts, 'producer', async (app) => {
            const all = await app.findings.all();
            const byFp = new Map(all.map((f) => [f.fingerprint, f]));
            let picked = byFp.has(what)
              ? [byFp.get(what)!]
              : all.filter((f) => f.credentialId === what && f.state !== 'merged');
            // A finding merged into another (one risk, one finding) shows where it went, then that one.
            const into = picked[0]?.state === 'merged' ? byFp.get(picked[0].mergedInto ?? '') : undefined;
            if (into) picked = [...picked, into];
            if (picked.length === 0)
              throw new CwError(
                ErrorCodes.INPUT,
                `no finding has fingerprint "${what}", and no finding is on a credential with that id (see \`findings --state all --json\`)`,
              );
            const inventory = new Map((await app.scans.currentInventory()).map((c) => [c.id, c]));
            const names = accountNames(app);
            const shown = picked.map((f) => present(f, inventory, names));
            if (opts.json) io.out(JSON.stringify(shown, null, 2));
            else io.out(shown.map(showText).join('\n\n'));
            return 0;
          }),
        ),
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

const controlText = (controls: Record<string, string[]>): string =>
  Object.entries(controls)
    .map(([k, ids]) => `${k} ${ids.join(', ')}`)
    .join('; ') || '-';

/** Every field that matters, uncut. */
export function showText(f: Presented): string {
  const lines = [
    `finding ${f.fingerprint}`,
    `  state       ${f.state}${f.mergedInto ? ` (merged into ${f.mergedInto})` : ''}${f.exceptionId ? ` (exception ${f.exceptionId})` : ''}`,
    `  severity    ${f.severity}`,
    `  message     ${f.message}`,
    `  policies    ${f.policies.join(', ')}${f.riskKey ? ` (risk ${f.riskKey})` : ''}`,
    `  controls    ${controlText(f.controls)}`,
  ];
  if (f.policies.length > 1)
    for (const [p, c] of Object.entries(f.controlsByPolicy)) lines.push(`              ${p}: ${controlText(c)}`);
  lines.push(`  credential  ${f.credentialId} (${f.kind})`);
  if (f.principal !== null) {
    const phrase = principalPhrase({
      principalType: f.principalType ?? 'unknown',
      principalName: f.principalName ?? f.principal,
      account: f.account,
      source: f.source ?? '',
    });
    lines.push(`  principal   ${f.principal}`, `  holder      ${phrase}`);
  }
  lines.push(
    `  agent       ${f.agentId ?? 'unattributed'}${f.owner ? ` (owner ${f.owner.team}, ${f.owner.contact})` : ''}`,
    `  seen        first ${f.firstSeen}, last ${f.lastSeen}${f.resolvedAt ? `, resolved ${f.resolvedAt}` : ''}${f.reopened ? `, reopened ${f.reopened}×` : ''}`,
    '  evidence',
  );
  for (const h of f.hits) {
    const how = [h.severity, h.confidence].filter(Boolean).join(', ');
    lines.push(`    - ${h.detector}${how ? ` (${how})` : ''}: ${h.message}`);
    for (const e of h.evidence) {
      const line = e.statement
        ? `${e.statement.summary}${e.statement.provenance ? ` [${e.statement.provenance.attachment} ${e.statement.provenance.policyArn ?? e.statement.provenance.policy}${e.statement.provenance.via ? ` via ${e.statement.provenance.via}` : ''}]` : ''}`
        : `${e.field ?? ''}${e.value !== undefined ? ` = ${JSON.stringify(e.value)}` : ''}`;
      lines.push(`        ${line}${e.note ? ` (${e.note})` : ''}`);
    }
  }
  return lines.join('\n');
}
