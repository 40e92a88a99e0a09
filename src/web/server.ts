/**
 * The dashboard on the API's fastify server: the same process, the same roles, the same services.
 * In its own scope, so none of this reaches the JSON API:
 *
 * - forms (application/x-www-form-urlencoded) are parsed here only;
 * - every response carries DASHBOARD_CSP (scripts and styles from this origin, nothing inline),
 *   no-store caching for pages, and immutable caching for the hashed assets;
 * - a page needs a session (else 303 to /login?next=…) and its permission (else a 403 page);
 * - every POST needs the session's CSRF token and, when the browser sends one, an Origin (or
 *   Sec-Fetch-Site) of this site: a cross-site form can never act, even with the cookie.
 *
 * Sign-in (login.ts) takes an API token, checks it exactly as a bearer token is checked (with the
 * same failed-attempt limits), and starts a session (session.ts).
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Authenticator } from '../api/auth.js';
import { can } from '../api/roles.js';
import type { ApiDeps } from '../api/route.js';
import { keyPrefix } from '../queue/prefix.js';
import { Assets } from './assets.js';
import { Html } from './html.js';
import { DASHBOARD_CSP, layout } from './layout.js';
import { registerLogin } from './login.js';
import type { Page, PageResult } from './page.js';
import { type Dashboard, errorPage, sameSite } from './respond.js';
import { cookieValue, csrfMatches, SECURE_SESSION_COOKIE, SESSION_COOKIE, SessionStore } from './session.js';

export interface DashboardOptions {
  authenticator: Authenticator;
  pages: readonly Page[];
  /** Served over HTTPS: the cookie is `__Host-`, Secure. */
  secure: boolean;
  sessions?: SessionStore;
}

async function answer(reply: FastifyReply, _d: Dashboard, r: PageResult): Promise<unknown> {
  if (r === undefined) return reply;
  if (r instanceof Html) return reply.type('text/html; charset=utf-8').send(r.value);
  if ('redirect' in r) return reply.redirect(r.redirect, 303);
  return reply.status(r.status).type('text/html; charset=utf-8').send(r.html.value);
}

export type { Dashboard } from './respond.js';

export async function registerDashboard(
  server: FastifyInstance,
  deps: ApiDeps,
  o: DashboardOptions,
): Promise<Dashboard> {
  const { app } = deps;
  const assets = new Assets();
  const sessions = o.sessions ?? new SessionStore(app.redis, keyPrefix(app.config.redis));
  const cookieName = o.secure ? SECURE_SESSION_COOKIE : SESSION_COOKIE;
  const d: Dashboard = {
    assets,
    sessions,
    cookieName,
    sessionOf: (req) => sessions.get(cookieValue(req.headers.cookie, cookieName)),
  };

  await server.register(async (scope) => {
    // Pages, not API: none of them belongs in /openapi.json.
    scope.addHook('onRoute', (route) => {
      route.schema = { ...route.schema, hide: true } as typeof route.schema;
    });
    scope.addContentTypeParser(
      'application/x-www-form-urlencoded',
      { parseAs: 'string', bodyLimit: 16 * 1024 },
      (_req, body, done) => {
        const form: Record<string, string> = {};
        for (const [k, v] of new URLSearchParams(body as string)) if (!(k in form)) form[k] = v;
        done(null, form);
      },
    );
    scope.addHook('onSend', async (req, reply, payload) => {
      void reply.header('content-security-policy', DASHBOARD_CSP);
      // helmet's `no-referrer` would make a browser send `Origin: null` on this site's own form
      // posts; same-origin keeps the real Origin for them and still sends nothing to other sites.
      void reply.header('referrer-policy', 'same-origin');
      if (!req.url.startsWith('/assets/')) void reply.header('cache-control', 'no-store');
      return payload;
    });

    scope.get('/assets/:name', async (req, reply) => {
      const a = assets.get((req.params as { name: string }).name);
      if (!a) return reply.status(404).type('text/plain').send('no such asset');
      return reply.type(a.type).header('cache-control', 'public, max-age=31536000, immutable').send(a.body);
    });

    registerLogin(scope, deps, d, o.authenticator, o.secure);

    for (const p of o.pages) {
      scope.route({
        method: p.method,
        url: p.url,
        handler: async (req, reply) => {
          const session = await d.sessionOf(req);
          if (!session) {
            if (p.method !== 'GET')
              return reply
                .status(401)
                .type('text/html; charset=utf-8')
                .send(
                  errorPage(d, null, 401, 'Signed out', 'Your session ended. Sign in again and repeat what you did.')
                    .value,
                );
            const next = req.url.startsWith('/') && !req.url.startsWith('//') ? req.url : '/';
            return reply.redirect(`/login?next=${encodeURIComponent(next)}`, 303);
          }
          if (!can(session.roles, p.permission))
            return reply
              .status(403)
              .type('text/html; charset=utf-8')
              .send(errorPage(d, session, 403, 'Not allowed', `Your roles do not grant ${p.permission}.`).value);
          const form = (req.body ?? {}) as Record<string, string>;
          if (p.method === 'POST' && (!sameSite(req) || !csrfMatches(session, form._csrf)))
            return reply
              .status(403)
              .type('text/html; charset=utf-8')
              .send(
                errorPage(
                  d,
                  session,
                  403,
                  'Refused',
                  'This form did not come from this dashboard (CSRF check failed). Reload the page and try again.',
                ).value,
              );
          const r = await p.handle({
            req,
            reply,
            deps,
            session,
            actor: `user:${session.subject}`,
            query: flat(req.query),
            params: (req.params ?? {}) as Record<string, string>,
            form,
            view: (title, body, notice) => layout({ title, body, session, nav: p.nav, assets, notice: notice ?? null }),
          });
          return answer(reply, d, r);
        },
      });
    }
  });
  return d;
}

function flat(q: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries((q ?? {}) as Record<string, unknown>)) {
    const s = Array.isArray(v) ? v[0] : v;
    if (typeof s === 'string') out[k] = s.slice(0, 512);
  }
  return out;
}
