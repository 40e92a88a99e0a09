/** `credwarden policy validate [files]` and `policy test [path]`: no Redis, no cloud; exit 2 on invalid input, 1 on failing tests. */
import type { Command } from 'commander';
import { loadConfig } from '../../config/load.js';
import { loadPolicies } from '../../policy/load.js';
import type { PolicySet } from '../../policy/model.js';
import { defaultPacksDir } from '../../policy/packs.js';
import { ruleTypes } from '../../policy/rules/index.js';
import { runPolicyTests } from '../../policy/test-runner.js';
import { type GlobalOptions, type Io, runCommand } from '../context.js';

async function policySet(opts: GlobalOptions, files: string[]): Promise<PolicySet> {
  if (files.length) return loadPolicies(files);
  const config = await loadConfig(opts.config);
  return loadPolicies(config.policies ?? [defaultPacksDir()]);
}

export function registerPolicy(program: Command, io: Io, exit: (code: number) => void): void {
  const policy = program.command('policy').description('policies as code: validate and unit-test them');
  policy
    .command('validate [files...]')
    .description('validate policy files (default: the policies the config uses)')
    .option('--list-rules', 'also list every rule type with its description')
    .action(async (files: string[], cmd: { listRules?: boolean }) => {
      const opts = program.opts<GlobalOptions>();
      exit(
        await runCommand(opts, io, async () => {
          const set = await policySet(opts, files);
          if (opts.json)
            io.out(
              JSON.stringify(
                {
                  files: set.files,
                  policies: set.policies.map((p) => p.name),
                  exceptions: set.exceptions.map((e) => e.id),
                },
                null,
                2,
              ),
            );
          else {
            io.out(
              `OK: ${set.policies.length} policies and ${set.exceptions.length} exceptions in ${set.files.length} files`,
            );
            for (const p of set.policies)
              io.out(`  ${p.name} (${p.severity}, ${p.mode}): ${p.rules.map((r) => r.type).join(' + ')}`);
            const now = Date.now();
            for (const e of set.exceptions)
              io.out(
                `  exception ${e.id}: owner ${e.owner}, expires ${e.expires}${new Date(e.expires).getTime() <= now ? ' (EXPIRED)' : ''}`,
              );
            if (cmd.listRules) for (const r of ruleTypes()) io.out(`rule ${r.name} [${r.category}]: ${r.description}`);
          }
          return 0;
        }),
      );
    });
  policy
    .command('test [path]')
    .description('run policy test cases (*.test.yaml files in path; default policies/tests)')
    .option('--policies <files...>', 'policy files to test (default: the policies the config uses)')
    .action(async (path: string | undefined, cmd: { policies?: string[] }) => {
      const opts = program.opts<GlobalOptions>();
      exit(
        await runCommand(opts, io, async () => {
          const set = await policySet(opts, cmd.policies ?? []);
          const results = await runPolicyTests(path ?? `${defaultPacksDir()}/tests`, set);
          if (opts.json) io.out(JSON.stringify(results, null, 2));
          else {
            for (const r of results) {
              io.out(`${r.ok ? 'ok  ' : 'FAIL'} ${r.name} (${r.file})`);
              for (const m of r.missing) io.out(`       expected, not found: ${m}`);
              for (const u of r.unexpected) io.out(`       found, not expected: ${u}`);
            }
            const failed = results.filter((r) => !r.ok).length;
            io.out(`${results.length - failed} passed, ${failed} failed`);
          }
          return results.every((r) => r.ok) ? 0 : 1;
        }),
      );
    });
}
