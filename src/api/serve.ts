/**
 * The API of one process, over an App from the composition root: its queue producers, the bearer
 * verifiers from `api` config, the fastify instance. `credwarden serve` listens with it; tests use
 * it through fastify's inject().
 */
import { resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { App } from '../main.js';
import { closeQueues, createQueues, type Queues } from '../queue/runtime.js';
import { Authenticator, type AuthLimits, DEFAULT_AUTH_LIMITS } from './auth.js';
import { listenAddress } from './config.js';
import { ApiMetrics } from './metrics.js';
import { looksLikeJwt, OidcVerifier } from './oidc.js';
import type { Route } from './route.js';
import { buildServer } from './server.js';
import { TokenVerifier } from './tokens.js';
import { ApiViews } from './views.js';

export interface Api {
  server: FastifyInstance;
  queues: Queues;
  close(): Promise<void>;
}

export interface ApiOptions {
  /** Queue producers to share (a process that also runs workers); created here otherwise. */
  queues?: Queues;
  routes?: readonly Route[];
  authLimits?: AuthLimits;
  sharedRateLimit?: boolean;
  perMinute?: number;
}

export async function createApi(app: App, opts: ApiOptions = {}): Promise<Api> {
  const queues = opts.queues ?? createQueues(app);
  const cfg = app.config.api;
  const oidc = cfg.oidc
    ? {
        verifier: new OidcVerifier(cfg.oidc, { onError: (reason) => app.log.warn({ component: 'api' }, reason) }),
        looksLikeJwt,
      }
    : null;
  const authenticator = new Authenticator(new TokenVerifier(cfg.tokens), oidc, opts.authLimits ?? DEFAULT_AUTH_LIMITS);
  const views = new ApiViews(app);
  // Read the snapshots now, so the first request (a person's first page) does not wait for them.
  void Promise.all([views.findings(), views.inventory(), views.actions(), views.scores()]).catch((err: unknown) =>
    app.log.warn({ component: 'api', err: (err as Error).message }, 'warming the read snapshots failed'),
  );
  const server = await buildServer(
    { app, queues, metrics: new ApiMetrics({ app, queues }), views },
    {
      authenticator,
      ...(opts.routes ? { routes: opts.routes } : {}),
      // Paths beside the config file, as every other path in it.
      ...(cfg.tls
        ? { tls: { cert: resolve(app.config.baseDir, cfg.tls.cert), key: resolve(app.config.baseDir, cfg.tls.key) } }
        : {}),
      ...(opts.sharedRateLimit !== undefined ? { sharedRateLimit: opts.sharedRateLimit } : {}),
      perMinute: opts.perMinute ?? cfg.rateLimit.perMinute,
    },
  );
  return {
    server,
    queues,
    async close() {
      await server.close();
      if (!opts.queues) await closeQueues(queues);
    },
  };
}

/** Listen on `listen` (host:port; `api.listen` by default); resolves with the address bound. */
export async function listen(api: Api, listenValue: string): Promise<string> {
  const { host, port } = listenAddress(listenValue);
  return api.server.listen({ host, port });
}
