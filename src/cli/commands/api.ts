/**
 * `credwarden api token-hash`: reads one API token on stdin and prints the scrypt hash to put in
 * `api.tokens[].hash`. The token is never an argument (it would sit in shell history and in `ps`).
 *
 *   openssl rand -base64 32 | tr -d '\n' > alice.token
 *   credwarden api token-hash < alice.token
 */
import type { Command } from 'commander';
import { hashToken, MIN_TOKEN_LENGTH } from '../../api/tokens.js';
import { CwError, ErrorCodes } from '../../errors.js';
import { type GlobalOptions, type Io, readAllStdin, runCommand } from '../context.js';

export function registerApi(program: Command, io: Io, exit: (code: number) => void): void {
  const api = program.command('api').description('the HTTP API: token hashes for its config');
  api
    .command('token-hash')
    .description('read an API token on stdin and print its scrypt hash for api.tokens[].hash')
    .action(async () => {
      const opts = program.opts<GlobalOptions>();
      exit(
        await runCommand(opts, io, async () => {
          // One trailing newline (echo, a file saved by an editor) is not part of the token.
          const token = (await readAllStdin(io)).replace(/\r?\n$/, '');
          if (/[\r\n]/.test(token))
            throw new CwError(ErrorCodes.INPUT, 'stdin: expected one token on one line, got several lines');
          if (/\s/.test(token) || token.length < MIN_TOKEN_LENGTH)
            throw new CwError(
              ErrorCodes.INPUT,
              `stdin: a token must be at least ${MIN_TOKEN_LENGTH} characters with no spaces (e.g. openssl rand -base64 32)`,
            );
          const hash = await hashToken(token);
          io.out(opts.json ? JSON.stringify({ hash }) : hash);
          return 0;
        }),
      );
    });
}
