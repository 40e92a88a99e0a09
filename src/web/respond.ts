/**
 * What the dashboard's request handling shares (server.ts, login.ts): the dashboard's parts, the
 * same-site check of a state-changing request, and the error page.
 */
import type { FastifyRequest } from 'fastify';
import type { Assets } from './assets.js';
import { type Html, html } from './html.js';
import { layout } from './layout.js';
import type { Session, SessionStore } from './session.js';

export interface Dashboard {
  assets: Assets;
  sessions: SessionStore;
  cookieName: string;
  /** The session of a request, if signed in. */
  sessionOf(req: FastifyRequest): Promise<Session | null>;
}

/**
 * Whether a state-changing request comes from this site. A browser says so in Sec-Fetch-Site
 * (trusted when present: a page cannot forge it), else in Origin (compared with Host, a default
 * port and all); a client that sends neither is not a browser, and still needs the CSRF token.
 */
export function sameSite(req: FastifyRequest): boolean {
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined) return site === 'same-origin' || site === 'none';
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  const host = req.headers.host;
  if (!host || origin === 'null') return false;
  try {
    // Both through URL, so a default port (`host: x:80` and `Origin: http://x`) compares equal.
    const o = new URL(origin);
    return o.protocol === `${req.protocol}:` && o.host === new URL(`${o.protocol}//${host}`).host;
  } catch {
    return false;
  }
}

export function errorPage(d: Dashboard, session: Session | null, _status: number, title: string, text: string): Html {
  return layout({
    title,
    session,
    assets: d.assets,
    body: html`<h1>${title}</h1><p>${text}</p><p><a href="/">Back to the overview</a></p>`,
  });
}
