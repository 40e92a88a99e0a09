/**
 * `credwarden serve`: the HTTP API on fastify, over the composition root's services (it builds
 * no clients of its own). buildServer() wires, in order:
 *
 * 1. security headers (@fastify/helmet) and the OpenAPI document (@fastify/swagger, 3.1, from the
 *    route schemas);
 * 2. authentication on every non-public route (onRequest): 401 without a valid bearer token, 429
 *    when the caller's address failed too often (auth.ts), then 403 when the caller's roles lack
 *    the route's permission;
 * 3. a rate limit per subject (per address on public routes), shared by every API process through
 *    Redis (@fastify/rate-limit);
 * 4. the routes of routes/index.ts, each validated by its schema (unknown fields refused, never
 *    dropped), errors as `{ error: { code, message, field? } }` (errors.ts).
 *
 *   P:ratelimit:*   @fastify/rate-limit's counters (one key per subject or address, expiring with the window)
 */
import { readFileSync } from 'node:fs';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import Fastify, { type FastifyInstance } from 'fastify';
import { ErrorCodes } from '../errors.js';
import { keyPrefix } from '../queue/prefix.js';
import type { Page } from '../web/page.js';
import { pages as allPages } from '../web/pages/index.js';
import { registerDashboard } from '../web/server.js';
import type { Authenticator } from './auth.js';
import { ApiErrorCodes, errorOf, handleError } from './errors.js';
import { can } from './roles.js';
import type { ApiDeps, Caller, Route } from './route.js';
import { routes as allRoutes } from './routes/index.js';

declare module 'fastify' {
  interface FastifyRequest {
    caller: Caller | null;
  }
  interface FastifyContextConfig {
    permission?: Route['permission'];
  }
}

export interface ServerOptions {
  authenticator: Authenticator;
  /** Requests per minute per subject (per address when unauthenticated). */
  perMinute?: number;
  /** The routes (all of routes/index.ts by default; tests may pass their own). */
  routes?: readonly Route[];
  /** TLS from `api.tls` (absolute paths). */
  tls?: { cert: string; key: string };
  /** Share the rate-limit counters through the app's Redis (default); false keeps them in memory. */
  sharedRateLimit?: boolean;
  /** The dashboard's pages (src/web/pages by default); false serves the API alone. */
  dashboard?: readonly Page[] | false;
}

export const API_VERSION = '1';

/** The longest path parameter, as sent (encoded); longer ones are a 414. */
export const MAX_PARAM_LENGTH = 4096;

export async function buildServer(deps: ApiDeps, opts: ServerOptions): Promise<FastifyInstance> {
  const { app } = deps;
  const https = opts.tls ? { cert: readFileSync(opts.tls.cert), key: readFileSync(opts.tls.key) } : null;
  const server = Fastify({
    loggerInstance: app.log.child({ component: 'api' }),
    ...(https ? { https } : {}),
    bodyLimit: 64 * 1024,
    // Path parameters are whole credential ids and fingerprints, URL-encoded (`aws%2F…`): far
    // longer than the router's default 100 characters.
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    // Unknown fields are refused with their name, never silently removed; query strings coerce.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: false } },
  }) as unknown as FastifyInstance;
  server.decorateRequest('caller', null);
  server.setErrorHandler(handleError);
  server.setNotFoundHandler((req, reply) => {
    const path = req.url.split('?')[0]!;
    // A person's browser on a dashboard path gets a page; every API client gets the JSON error.
    if (!path.startsWith('/api/') && req.method === 'GET' && (req.headers.accept ?? '').includes('text/html'))
      return reply
        .status(404)
        .type('text/html; charset=utf-8')
        .header('content-security-policy', "default-src 'none'; frame-ancestors 'none'")
        .send(
          '<!doctype html><html lang="en"><title>Not found · credwarden</title><h1>Not found</h1><p><a href="/">Overview</a></p></html>',
        );
    void reply.status(404).send(errorOf(ErrorCodes.NOT_FOUND, `no route ${req.method} ${path}`));
  });

  await server.register(helmet, {
    // JSON only, no HTML here: nothing may frame, sniff or load from it (the dashboard sets its own).
    contentSecurityPolicy: { directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
  });
  await server.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'credwarden API',
        version: API_VERSION,
        description:
          'Inventory, findings, remediation and the audit log of credwarden. Every route but /healthz, /readyz, /openapi.json and /slack/interactions takes `Authorization: Bearer <token>`.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    },
  });

  const auth = opts.authenticator;
  server.addHook('onRequest', async (req, reply) => {
    const permission = req.routeOptions.config.permission;
    if (!permission || permission === 'public') return;
    const outcome = await auth.authenticate(req.headers.authorization, req.ip);
    if (!outcome.ok) {
      if (outcome.status === 401) void reply.header('www-authenticate', 'Bearer realm="credwarden"');
      const code = outcome.status === 401 ? ApiErrorCodes.UNAUTHENTICATED : ApiErrorCodes.RATE_LIMITED;
      const message = outcome.status === 401 ? 'a valid bearer token is required' : 'rate limited: retry later';
      return reply.status(outcome.status).send(errorOf(code, message));
    }
    if (!can(outcome.principal.roles, permission))
      return reply.status(403).send(errorOf(ApiErrorCodes.FORBIDDEN, `this token's roles do not grant ${permission}`));
    req.caller = outcome.principal;
  });

  await server.register(rateLimit, {
    global: true,
    hook: 'preHandler',
    max: opts.perMinute ?? 600,
    timeWindow: 60_000,
    keyGenerator: (req) => (req.caller ? `subject:${req.caller.subject}` : `address:${req.ip}`),
    ...(opts.sharedRateLimit === false
      ? {}
      : { redis: app.redis, nameSpace: `${keyPrefix(app.config.redis)}:ratelimit:` }),
    // A Redis blip must not take the API down with it; /readyz reports Redis.
    skipOnError: true,
    // The dashboard's hashed assets are static and cached for a year: not worth a counter each.
    allowList: (req) => req.url.startsWith('/assets/'),
    // A plain error with status 429: errors.ts answers it as CW_ERR_RATE_LIMITED.
    errorResponseBuilder: (_req, ctx) =>
      Object.assign(new Error(`rate limited: ${ctx.max} requests per minute; retry in ${ctx.after}`), {
        statusCode: 429,
      }),
  });

  for (const r of opts.routes ?? allRoutes) {
    const security = r.permission === 'public' ? [] : [{ bearer: [] }];
    const add = (scope: FastifyInstance) =>
      scope.route({
        method: r.method,
        url: r.url,
        schema: { ...r.schema, security },
        config: { permission: r.permission },
        handler: async (req, reply) =>
          r.handle({
            req,
            reply,
            deps,
            caller: req.caller,
            query: (req.query ?? {}) as Record<string, unknown>,
            params: (req.params ?? {}) as Record<string, string>,
            body: req.body,
          }),
      });
    // A route with a setup (e.g. its own body parser) gets a scope of its own: what it sets up applies to it alone.
    if (r.setup) {
      const setup = r.setup;
      await server.register(async (scope) => {
        await setup(scope);
        add(scope);
      });
    } else add(server);
  }
  if (opts.dashboard !== false)
    await registerDashboard(server, deps, {
      authenticator: auth,
      pages: opts.dashboard ?? allPages,
      secure: Boolean(https),
    });
  return server;
}
