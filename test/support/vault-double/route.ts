/**
 * The contract between the request pipeline (router.ts) and the route modules. A Route matches a
 * namespace-relative path (trailing slash removed) and maps Vault operations to handlers. The
 * pipeline has already checked the seal, the token, the ACL and sudo before a handler runs; a
 * handler only validates its input, changes state and returns a Reply.
 */
import type { Reply } from './envelope.js';
import type { Namespace, Token } from './model.js';
import type { VaultState } from './state.js';

export type Op = 'read' | 'list' | 'create' | 'update' | 'delete';

export interface Ctx {
  state: VaultState;
  ns: Namespace;
  /** Namespace-relative path without a trailing slash. */
  path: string;
  op: Op;
  /** Capture groups of the route's match. */
  params: string[];
  body: Record<string, unknown>;
  /** null only on unauthenticated routes. */
  token: Token | null;
  /** Whether the token holds `sudo` on this path (root tokens always do). */
  sudo: boolean;
  remoteAddress: string;
  /** Vault's revoke `sync` default when the caller sends none. */
  revokeSyncDefault: boolean;
}

export type Handler = (ctx: Ctx) => Reply;

export interface Route {
  /** Returns the params when the route serves this path in this namespace, else null. */
  match(path: string, ns: Namespace): string[] | null;
  /** The type of the mount serving the route (informational: OpenBao sends no `mount_type`). */
  mountType: string;
  /** Copy `data` keys to the top level of the envelope (`injectDataIntoTopRoutes`). */
  injectTop?: boolean;
  unauthenticated?: boolean;
  /** Vault's ExistenceCheck: a write to a missing object is a `create` (ACL capability create). */
  exists?(ctx: Ctx): boolean;
  handlers: Partial<Record<Op, Handler>>;
}

/** A route matched by a regular expression over the namespace-relative path. */
export function pathRoute(re: RegExp, rest: Omit<Route, 'match'>): Route {
  return {
    ...rest,
    match: (path) => {
      const m = re.exec(path);
      return m ? m.slice(1).map((x) => x ?? '') : null;
    },
  };
}

/** A route under a mount of some kind; `re` sees the path after `<mount>/` and params get the mount first. */
export function mountRoute(
  prefix: 'auth/' | '',
  mounts: (ns: Namespace) => Map<string, unknown>,
  re: RegExp,
  rest: Omit<Route, 'match'>,
): Route {
  return {
    ...rest,
    match: (path, ns) => {
      if (!path.startsWith(prefix)) return null;
      const after = path.slice(prefix.length);
      const slash = after.indexOf('/');
      const mount = slash < 0 ? after : after.slice(0, slash);
      if (!mounts(ns).has(mount)) return null;
      const m = re.exec(slash < 0 ? '' : after.slice(slash + 1));
      return m ? [mount, ...m.slice(1).map((x) => x ?? '')] : null;
    },
  };
}
