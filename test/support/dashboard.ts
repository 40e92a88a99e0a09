/**
 * The dashboard over a real App for tests, through fastify's inject (the browser tests drive the
 * same pages in Chromium): sign a test subject in with its API token, then fetch pages with the
 * session cookie and post forms with the page's CSRF token.
 */
import type { LightMyRequestResponse } from 'fastify';
import type { ApiOptions } from '../../src/api/serve.js';
import type { App } from '../../src/main.js';
import { type Subject, type TestApi, type TestTokens, testApi } from './api.js';

export interface Browserless {
  api: TestApi;
  /** A signed-in subject's cookie header value. */
  signIn(as: Subject): Promise<string>;
  get(url: string, cookie: string | null): Promise<LightMyRequestResponse>;
  /** POST a form; `_csrf` is taken from `csrfFrom` (a page's HTML) unless the fields set it. */
  post(
    url: string,
    cookie: string | null,
    fields: Record<string, string>,
    o?: { csrfFrom?: string; headers?: Record<string, string> },
  ): Promise<LightMyRequestResponse>;
  close(): Promise<void>;
}

/** The CSRF token of the first form on a page. */
export function csrfOf(page: string): string {
  const m = /name="_csrf" value="([^"]+)"/.exec(page);
  if (!m) throw new Error('no CSRF field on the page');
  return m[1]!;
}

export async function dashboard(app: App, tokens: TestTokens, opts: ApiOptions = {}): Promise<Browserless> {
  const api = await testApi(app, tokens, opts);
  const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
  const HOST = 'localhost:80';
  return {
    api,
    async signIn(as) {
      const res = await api.server.inject({
        method: 'POST',
        url: '/login',
        headers: { 'content-type': 'application/x-www-form-urlencoded', host: HOST, origin: `http://${HOST}` },
        payload: form({ token: tokens.token[as], next: '/' }),
      });
      if (res.statusCode !== 303)
        throw new Error(`sign-in of ${as}: HTTP ${res.statusCode}: ${res.body.slice(0, 200)}`);
      const set = String(res.headers['set-cookie'] ?? '');
      return set.split(';')[0]!;
    },
    get(url, cookie) {
      return api.server.inject({
        method: 'GET',
        url,
        headers: { host: HOST, accept: 'text/html', ...(cookie ? { cookie } : {}) },
      });
    },
    post(url, cookie, fields, o = {}) {
      const all = { ...(o.csrfFrom ? { _csrf: csrfOf(o.csrfFrom) } : {}), ...fields };
      return api.server.inject({
        method: 'POST',
        url,
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          host: HOST,
          origin: `http://${HOST}`,
          ...(cookie ? { cookie } : {}),
          ...o.headers,
        },
        payload: form(all),
      });
    },
    close: () => api.close(),
  };
}
