#!/usr/bin/env node
/** The `credwarden` command line. Commands are thin: parse, call a service, print. */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { packageRoot } from '../util/package-root.js';
import { registerActions } from './commands/actions.js';
import { registerAlerts } from './commands/alerts.js';
import { registerApi } from './commands/api.js';
import { registerAudit } from './commands/audit.js';
import { registerDrill } from './commands/drill.js';
import { registerEvaluation } from './commands/evaluation.js';
import { registerEvidence } from './commands/evidence.js';
import { registerFindings } from './commands/findings.js';
import { registerInventory } from './commands/inventory.js';
import { registerPolicy } from './commands/policy.js';
import { registerScan } from './commands/scan.js';
import { registerServe } from './commands/serve.js';
import { registerWorker } from './commands/worker.js';
import { DEFAULT_CONFIG, type Io, processIo } from './context.js';

export function buildProgram(io: Io, exit: (code: number) => void): Command {
  const program = new Command('credwarden')
    .description('keeps AI-agent credentials honest across AWS IAM and HashiCorp Vault')
    .version(packageRoot().version, '-V, --version', 'print the version')
    .option('-c, --config <file>', 'config file', DEFAULT_CONFIG)
    .option('--json', 'machine-readable output')
    .option('--progress', 'progress lines on stderr even when it is not a terminal')
    .option('--debug', 'debug logging and stack traces')
    .showHelpAfterError()
    .exitOverride((err) => {
      exit(err.exitCode === 0 ? 0 : 2);
      throw err;
    })
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) });
  registerInventory(program, io, exit);
  registerScan(program, io, exit);
  registerWorker(program, io, exit);
  registerAudit(program, io, exit);
  registerFindings(program, io, exit);
  registerEvaluation(program, io, exit);
  registerPolicy(program, io, exit);
  registerAlerts(program, io, exit);
  registerActions(program, io, exit);
  registerApi(program, io, exit);
  registerServe(program, io, exit);
  registerEvidence(program, io, exit);
  registerDrill(program, io, exit);
  return program;
}

export async function run(argv: string[], io: Io = processIo): Promise<number> {
  let code: number | undefined;
  const program = buildProgram(io, (c) => {
    code = c;
  });
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch {
    // commander threw after reporting (help, version, a usage error): its own code, else 2.
    return code ?? 2;
  }
  return code ?? 0;
}

/**
 * The reader went away (`credwarden policy validate | head -1`): no EPIPE stack trace. When stdout
 * closes, stop quietly with 0, as `git log | head` does; when stderr closes, keep going (the exit
 * status still tells). Later errors on a stream that already broke are ignored too.
 */
export function onBrokenPipe(stream: NodeJS.WritableStream, handle: () => void): void {
  let broken = false;
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (broken) return;
    if (err.code !== 'EPIPE') throw err;
    broken = true;
    handle();
  });
}

/**
 * Whether `moduleUrl` is the script Node was started with (`argv1`, i.e. `process.argv[1]`). Node
 * keeps argv[1] as typed (made absolute) but loads the main module by its real path, so the two
 * are compared after realpath: `npm install -g`, `npm link` and `npx` start the bin through a
 * symlink, and `node dist/src/cli/main` leaves out the extension Node's resolution adds.
 */
export function isEntryPoint(argv1: string | undefined, moduleUrl: string): boolean {
  if (!argv1) return false;
  let self: string;
  try {
    self = realpathSync(fileURLToPath(moduleUrl));
  } catch {
    return false;
  }
  for (const candidate of [argv1, `${argv1}.js`]) {
    try {
      if (realpathSync(candidate) === self) return true;
    } catch {
      // not there under that name: try the next one
    }
  }
  return false;
}

if (isEntryPoint(process.argv[1], import.meta.url)) {
  onBrokenPipe(process.stdout, () => process.exit(0));
  onBrokenPipe(process.stderr, () => {});
  run(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
