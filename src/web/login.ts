/**
 * Sign-in and sign-out. The login form takes an API token (the same tokens, roles and
 * failed-attempt limits as a bearer token on the API); a valid one starts a session whose id goes
 * into an HttpOnly, SameSite=Strict cookie (Secure and `__Host-` over HTTPS). `next` is followed
 * only when it is a path on this site. Signing out needs the session's CSRF token.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Authenticator } from '../api/auth.js';
import type { ApiDeps } from '../api/route.js';
import { html } from './html.js';
import { layout } from './layout.js';
import { type Dashboard, errorPage, sameSite } from './respond.js';
import { csrfMatches, DEFAULT_SESSION_LIMITS } from './session.js';

/** A local path to return to after sign-in; anything else (another site, `//host`, `/\\host`) is `/`. */
export function safeNext(v: unknown): string {
  if (typeof v !== 'string' || !v.startsWith('/') || v.startsWith('//') || v.startsWith('/\\')) return '/';
  if (v.startsWith('/login') || v.length > 2048) return '/';
  return v;
}

function loginPage(d: Dashboard, next: string, error?: string) {
  return layout({
    title: 'Sign in',
    assets: d.assets,
    body: html`<section class="login">
<h1>Sign in to credwarden</h1>
<p>Paste an API token. Your roles come from it: viewers read posture, auditors also pull evidence, on-call engineers approve actions.</p>
${error ? html`<p class="notice error" role="alert" id="login-error">${error}</p>` : ''}
<form method="post" action="/login">
<input type="hidden" name="next" value="${next}">
<div class="field"><label for="token">API token</label>
<input id="token" name="token" type="password" autocomplete="current-password" required${error ? html` aria-describedby="login-error" aria-invalid="true"` : ''} autofocus></div>
<button type="submit">Sign in</button>
</form>
</section>`,
  });
}

function cookie(d: Dashboard, value: string, maxAge: number, secure: boolean): string {
  return `${d.cookieName}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAge}${secure ? '; Secure' : ''}`;
}

const send = (reply: FastifyReply, status: number, body: { value: string }) =>
  reply.status(status).type('text/html; charset=utf-8').send(body.value);

export function registerLogin(
  scope: FastifyInstance,
  deps: ApiDeps,
  d: Dashboard,
  authenticator: Authenticator,
  secure: boolean,
): void {
  scope.get('/login', async (req, reply) => {
    const next = safeNext((req.query as Record<string, unknown>).next);
    if (await d.sessionOf(req)) return reply.redirect(next, 303);
    return send(reply, 200, loginPage(d, next));
  });

  scope.post('/login', async (req, reply) => {
    const form = (req.body ?? {}) as Record<string, string>;
    const next = safeNext(form.next);
    if (!sameSite(req)) return send(reply, 403, loginPage(d, next, 'This sign-in did not come from this dashboard.'));
    const token = typeof form.token === 'string' ? form.token.trim() : '';
    const outcome = token
      ? await authenticator.authenticate(`Bearer ${token}`, req.ip)
      : ({ ok: false, status: 401, reason: 'no token' } as const);
    if (!outcome.ok) {
      const text =
        outcome.status === 429
          ? 'Too many failed sign-ins from this address. Wait a minute.'
          : 'That token was not accepted.';
      deps.app.log.info({ component: 'dashboard', ip: req.ip, reason: outcome.reason }, 'dashboard sign-in refused');
      return send(reply, outcome.status, loginPage(d, next, text));
    }
    const { id } = await d.sessions.create(outcome.principal);
    deps.app.log.info({ component: 'dashboard', subject: outcome.principal.subject }, 'dashboard sign-in');
    return reply.header('set-cookie', cookie(d, id, DEFAULT_SESSION_LIMITS.maxSeconds, secure)).redirect(next, 303);
  });

  scope.post('/logout', async (req, reply) => {
    const session = await d.sessionOf(req);
    const form = (req.body ?? {}) as Record<string, string>;
    if (session && (!sameSite(req) || !csrfMatches(session, form._csrf)))
      return send(reply, 403, errorPage(d, session, 403, 'Refused', 'This form did not come from this dashboard.'));
    const raw = req.headers.cookie
      ?.split(';')
      .map((c) => c.trim())
      .find((c) => c.startsWith(`${d.cookieName}=`));
    await d.sessions.destroy(raw?.slice(d.cookieName.length + 1));
    return reply.header('set-cookie', cookie(d, '', 0, secure)).redirect('/login', 303);
  });
}
