/**
 * `credwarden actions list|show|approve|deny|rollback` and `credwarden remediation
 * pause|resume|status|reset-breaker`: people's hands on remediation. Every verb that changes
 * anything takes `--as NAME`, which the audit log records as the actor.
 *
 * `actions list --json` prints one record per action (README "actions --json"; the shape is
 * remediation/action-json.ts, which the HTTP API shares).
 */
import type { Command } from 'commander';
import { CwError, ErrorCodes } from '../../errors.js';
import type { App } from '../../main.js';
import { ACTION_STATES, type ActionRecord, type ActionState } from '../../model/action.js';
import { closeQueues, createQueues } from '../../queue/runtime.js';
import { actionJson, rotationJson } from '../../remediation/action-json.js';
import { remediationStatus } from '../../remediation/status.js';
import { type GlobalOptions, type Io, runCommand, withApp } from '../context.js';
import { table, terminalWidth } from '../format.js';

const name = (as: string | undefined): string => {
  const n = as?.trim();
  if (!n) throw new CwError(ErrorCodes.INPUT, '--as must name who does this (recorded in the audit log)');
  return `user:${n}`;
};

function showText(r: ActionRecord): string[] {
  const p = r.plan;
  const lines = [
    `action ${p.id}: ${p.action} on ${p.target.credentialId}`,
    `  state ${r.state} (attempt ${r.attempt}); decision ${r.decision?.decision ?? '-'}; ${p.reversible ? 'reversible' : 'NOT reversible'}`,
    `  policy ${p.policy} (${p.policyMode}), severity ${p.severity}; agent ${p.agentId ?? '-'}; owner ${p.owner?.team ?? '-'}`,
    `  principal ${p.target.principal}; target ${Object.entries(p.target.identity)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')}`,
    `  why: ${p.message}`,
  ];
  for (const reason of r.decision?.reasons ?? []) lines.push(`  - ${reason.guard}/${reason.code}: ${reason.message}`);
  for (const a of r.approvals) lines.push(`  approved by ${a.by} at ${a.at}`);
  if (r.denial) lines.push(`  denied by ${r.denial.by} at ${r.denial.at}: ${r.denial.reason}`);
  if (r.rotation) {
    const j = rotationJson(r);
    lines.push(
      `  rotation ${j.kind}: step ${j.step}${j.waiting ? ` (waiting: ${j.waiting}; next ${j.nextAt})` : ''}; new ${j.newId ?? '-'}; delivery ${j.delivery}${j.deliveredVersion !== null ? ` v${j.deliveredVersion}` : ''}`,
    );
    for (const d of j.done) lines.push(`    ${d.at} ${d.step}: ${d.detail}`);
    if (j.orphansRetired.length)
      lines.push(`    retired (secret lost before delivery): ${j.orphansRetired.join(', ')}`);
    if (j.stopped) lines.push(`    stopped: ${j.stopped}`);
  }
  if (r.result) lines.push(`  result ${r.result.outcome} at ${r.result.at}: ${r.result.detail}`);
  if (r.rollback) lines.push(`  rolled back by ${r.rollback.by} at ${r.rollback.at}: ${r.rollback.detail}`);
  const q = r.rollbackRequest;
  if (q && !r.rollback)
    lines.push(
      `  rollback asked for by ${q.by} at ${q.at}: ${q.denial ? `denied by ${q.denial.by}: ${q.denial.reason}` : `approved by ${(r.rollbackApprovals ?? []).map((a) => a.by).join(', ') || 'nobody yet'}`}`,
    );
  lines.push('  history:');
  for (const h of r.history) lines.push(`    ${h.at} ${h.state}: ${h.note}`);
  return lines;
}

export function registerActions(program: Command, io: Io, exit: (code: number) => void): void {
  const run = (fn: (app: App) => Promise<number>) => {
    const opts = program.opts<GlobalOptions>();
    return runCommand(opts, io, () => withApp(opts, 'producer', fn)).then(exit);
  };
  const acts = program
    .command('actions')
    .description('remediation actions: planned, held, done; approve, deny, roll back');
  acts
    .command('list')
    .description('actions, newest first')
    .option('--state <state>', `one of ${ACTION_STATES.join(', ')}`)
    .option('--policy <name>')
    .option('--agent <id>')
    .option('--limit <n>', 'at most this many', '1000')
    .action((cmd: { state?: string; policy?: string; agent?: string; limit: string }) =>
      run(async (app) => {
        if (cmd.state && !ACTION_STATES.includes(cmd.state as ActionState))
          throw new CwError(ErrorCodes.INPUT, `--state ${cmd.state}: must be one of ${ACTION_STATES.join(', ')}`);
        const limit = Number(cmd.limit);
        if (!Number.isInteger(limit) || limit < 1)
          throw new CwError(ErrorCodes.INPUT, `--limit ${cmd.limit}: must be a whole number ≥ 1`);
        const list = await app.remediation.list(
          {
            ...(cmd.state ? { state: cmd.state as ActionState } : {}),
            ...(cmd.policy ? { policy: cmd.policy } : {}),
            ...(cmd.agent ? { agent: cmd.agent } : {}),
          },
          limit,
        );
        if (program.opts<GlobalOptions>().json) io.out(JSON.stringify(list.map(actionJson), null, 2));
        else if (list.length === 0) io.out('no actions');
        else
          io.out(
            table(
              ['ID', 'ACTION', 'STATE', 'DECISION', 'CREDENTIAL', 'WHY'],
              list.map((r) => [
                r.plan.id,
                r.plan.action,
                r.state,
                r.decision?.decision ?? '-',
                r.plan.target.credentialId,
                r.decision?.reasons.map((x) => x.code).join(', ') || r.plan.message,
              ]),
              { width: io.columns ?? terminalWidth(), fit: [5, 4] },
            ),
          );
        return 0;
      }),
    );
  acts
    .command('show <id>')
    .description('one action: plan, decision and reasons, approvals, result, history')
    .action((id: string) =>
      run(async (app) => {
        const r = await app.remediation.show(id);
        if (!r) throw new CwError(ErrorCodes.NOT_FOUND, `no action ${id} (see \`credwarden actions list\`)`);
        if (program.opts<GlobalOptions>().json)
          io.out(JSON.stringify({ ...actionJson(r), plan: r.plan, history: r.history }, null, 2));
        else for (const l of showText(r)) io.out(l);
        return 0;
      }),
    );
  const decide = (verb: 'approve' | 'deny' | 'rollback', what: string) =>
    acts
      .command(`${verb} <id>`)
      .description(what)
      .requiredOption('--as <name>', 'who does this (recorded in the audit log)')
      .option('--reason <text>', 'why (recorded in the audit event)')
      .action((id: string, cmd: { as: string; reason?: string }) =>
        run(async (app) => {
          const by = name(cmd.as);
          const queues = verb === 'approve' ? createQueues(app) : null;
          try {
            const how = { source: 'cli' as const, ...(cmd.reason ? { reason: cmd.reason } : {}) };
            const r =
              verb === 'approve'
                ? await app.people.approve(id, by, how)
                : verb === 'deny'
                  ? await app.people.deny(id, by, cmd.reason ?? 'denied', how)
                  : await app.people.rollback(id, by, how);
            const needed = app.config.remediation.approvals.approvers;
            const pending = r.rollbackRequest && !r.rollbackRequest.denial && r.state !== 'rolled-back';
            if (program.opts<GlobalOptions>().json) io.out(JSON.stringify(actionJson(r), null, 2));
            else if (pending)
              io.out(
                `action ${id}: ${r.state}; rollback asked for by ${r.rollbackRequest!.by}, waiting for approval (${r.rollbackApprovals?.length ?? 0} of ${needed})`,
              );
            else
              io.out(
                `action ${id}: ${r.state}${verb === 'approve' && r.state !== 'rolled-back' ? ` (${r.approvals.length} of ${needed} approvals)` : ''}`,
              );
            return 0;
          } finally {
            if (queues) await closeQueues(queues);
          }
        }),
      );
  decide('approve', 'approve an action awaiting approval; at the configured number of distinct approvers it is queued');
  decide('deny', 'deny an action awaiting approval (for good)');
  decide(
    'rollback',
    "restore a done, reversible action's recorded pre-state (refused if the credential changed since); when the action's class needs approval, ask for it: others approve the rollback with `actions approve`",
  );

  const rem = program.command('remediation').description('the kill switch and the circuit breaker');
  rem
    .command('pause')
    .description('stop every worker from starting any action (checked before each action)')
    .requiredOption('--as <name>')
    .option('--reason <text>')
    .action((cmd: { as: string; reason?: string }) =>
      run(async (app) => {
        const s = await app.remediation.controls.pause(name(cmd.as), cmd.reason);
        io.out(
          program.opts<GlobalOptions>().json
            ? JSON.stringify({ paused: s })
            : `remediation paused by ${s.by} at ${s.at}`,
        );
        return 0;
      }),
    );
  rem
    .command('resume')
    .description('release the kill switch')
    .requiredOption('--as <name>')
    .action((cmd: { as: string }) =>
      run(async (app) => {
        const was = await app.remediation.controls.resume(name(cmd.as));
        io.out(
          program.opts<GlobalOptions>().json
            ? JSON.stringify({ resumed: was })
            : was
              ? 'remediation resumed'
              : 'remediation was not paused',
        );
        return 0;
      }),
    );
  rem
    .command('reset-breaker')
    .description('close a tripped circuit breaker (audited)')
    .requiredOption('--as <name>')
    .action((cmd: { as: string }) =>
      run(async (app) => {
        const was = await app.remediation.controls.resetBreaker(name(cmd.as));
        io.out(
          program.opts<GlobalOptions>().json
            ? JSON.stringify({ reset: was })
            : was
              ? 'breaker reset'
              : 'the breaker was not tripped',
        );
        return 0;
      }),
    );
  rem
    .command('status')
    .description('mode, kill switch, breaker, rate used, actions by state (exit 1 when paused or tripped)')
    .action(() =>
      run(async (app) => {
        const status = await remediationStatus(app.remediation);
        const { paused, breaker } = status;
        const cfg = app.config.remediation;
        const recent = status.rate.used;
        const byState = status.actions;
        if (program.opts<GlobalOptions>().json) io.out(JSON.stringify(status, null, 2));
        else {
          io.out(
            `mode ${cfg.mode}; ${paused ? `PAUSED by ${paused.by} since ${paused.at}` : 'running'}; breaker ${breaker ? `TRIPPED at ${breaker.trippedAt}: ${breaker.reason}` : 'closed'}`,
          );
          io.out(`rate: ${recent} of ${cfg.rate.max} actions in the last ${cfg.rate.perHours} h`);
          io.out(
            `actions: ${
              Object.entries(byState)
                .map(([k, v]) => `${k} ${v}`)
                .join(', ') || 'none'
            }`,
          );
        }
        return paused || breaker ? 1 : 0;
      }),
    );
}
