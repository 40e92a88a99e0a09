/**
 * A dashboard page: one file each under pages/ (pages/index.ts lists them), like the API's routes.
 * A page names the permission it needs (the API's roles table, api/roles.ts), never a role, and
 * its handler gets the signed-in session and the same services the API routes use (`deps`).
 *
 * A handler returns the page's HTML (laid out by layout.ts), a redirect (after a form's POST, so a
 * reload never repeats it), or nothing when it answered on `reply` itself (a download).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Permission } from '../api/roles.js';
import type { ApiDeps } from '../api/route.js';
import type { Html } from './html.js';
import type { Session } from './session.js';

export interface PageCall {
  req: FastifyRequest;
  reply: FastifyReply;
  deps: ApiDeps;
  session: Session;
  /** The audit actor of the signed-in person: `user:<subject>`, as the API and `--as` record. */
  actor: string;
  query: Record<string, string>;
  params: Record<string, string>;
  /** A POST's form fields (application/x-www-form-urlencoded); {} for a GET. */
  form: Record<string, string>;
  /** The page laid out (layout.ts) for this session, under this page's navigation entry. */
  view(title: string, body: Html, notice?: Notice | null): Html;
}

/** A line at the top of a page: what a form did, or why it was refused. */
export interface Notice {
  kind: 'ok' | 'error';
  text: string;
}

export type PageResult = Html | { redirect: string } | { status: number; html: Html } | undefined;

export interface Page {
  method: 'GET' | 'POST';
  /** A fastify path, e.g. `/credentials/:id`. */
  url: string;
  permission: Permission;
  /** The navigation entry it belongs to (layout.ts highlights it). */
  nav?: NavId;
  handle(call: PageCall): Promise<PageResult>;
}

export type NavId = 'overview' | 'findings' | 'agents' | 'actions' | 'drills' | 'compliance';

export const definePage = (p: Page): Page => p;

/** A query value as one string ('' when absent or repeated oddly), trimmed and bounded. */
export function one(v: unknown, max = 512): string {
  const s = Array.isArray(v) ? v[0] : v;
  return typeof s === 'string' ? s.trim().slice(0, max) : '';
}

/** Now on the App's clock (a ManualClock in tests), in epoch ms, for `when()`. */
export const nowOf = (call: PageCall): number => call.deps.app.clock.now().getTime();
