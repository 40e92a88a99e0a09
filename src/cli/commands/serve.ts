/**
 * `credwarden serve [--listen host:port]`: the HTTP API (src/api/) and the dashboard (src/web/) over
 * this process's App, printing the dashboard's URL, until
 * SIGINT or SIGTERM. The listen address is `api.listen` (127.0.0.1:8080 by default) unless
 * --listen names another; TLS when `api.tls` is configured. With no `api.tokens` and no
 * `api.oidc` nothing but the health routes could ever be used, so it refuses to start.
 */
import type { Command } from 'commander';
import { ListenSchema } from '../../api/config.js';
import { createApi, listen } from '../../api/serve.js';
import { CwError, ErrorCodes } from '../../errors.js';
import { type GlobalOptions, type Io, runCommand, withApp } from '../context.js';

export function registerServe(program: Command, io: Io, exit: (code: number) => void): void {
  program
    .command('serve')
    .description('run the HTTP API and the dashboard (inventory, findings, approvals, audit, evidence, metrics)')
    .option('--listen <host:port>', 'the address to listen on (default: api.listen, 127.0.0.1:8080)')
    .action(async (cmd: { listen?: string }) => {
      const opts = program.opts<GlobalOptions>();
      exit(
        await runCommand(opts, io, () =>
          withApp(
            opts,
            'producer',
            async (app) => {
              const listenValue = cmd.listen ?? app.config.api.listen;
              const checked = ListenSchema.safeParse(listenValue);
              if (!checked.success)
                throw new CwError(ErrorCodes.INPUT, `--listen ${listenValue}: ${checked.error.issues[0]?.message}`);
              if (app.config.api.tokens.length === 0 && !app.config.api.oidc)
                throw new CwError(
                  ErrorCodes.CONFIG,
                  `${app.config.configFile}: api.tokens is empty and api.oidc is not set: no request could authenticate (see \`credwarden api token-hash\`)`,
                );
              const api = await createApi(app);
              const address = await listen(api, listenValue);
              app.log.info({ address, tls: Boolean(app.config.api.tls) }, 'api listening');
              io.err(`credwarden: API listening on ${address}`);
              // The address a person opens: fastify names the bound one (127.0.0.1, or [::1]…).
              io.out(`credwarden: dashboard at ${address}/ (sign in with an API token)`);
              const signal = await new Promise<NodeJS.Signals>((resolve) => {
                process.once('SIGINT', resolve);
                process.once('SIGTERM', resolve);
              });
              app.log.info({ signal }, 'api shutting down');
              await api.close();
              return 0;
            },
            'info',
          ),
        ),
      );
    });
}
