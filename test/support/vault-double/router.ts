/**
 * The request pipeline, in Vault's order (vault-api.md §0, §8, §9):
 *   /v1 prefix → method and `?list=` (ParseBool; bad value → 400 `{"errors":[]}`) → JSON body →
 *   namespace (X-Vault-Namespace + path prefix) → seal (503 except health/seal-status/unseal) →
 *   token (missing/invalid → 403 bare `permission denied`; num_uses spent) → ACL on the full path, LIST
 *   paths with a trailing slash, plus sudo on root-protected paths (→ 403) → ONLY THEN routing
 *   (404 unsupported path / 405 unsupported operation) → handler → envelope.
 * So a caller without permission gets 403 even on paths that do not exist. Every request is
 * appended to the request log.
 */
import {
  invalidToken,
  permissionDenied,
  type Reply,
  type RouteMeta,
  sealed,
  serialize,
  unsupportedOperation,
  unsupportedPath,
  userError,
} from './envelope.js';
import type { WireRequest, WireResponse } from './http.js';
import type { Namespace, Token } from './model.js';
import type { Ctx, Op, Route } from './route.js';
import { aclCapabilities, type VaultState } from './state.js';
import { FieldError, parseBool } from './util.js';

export interface RequestLogEntry {
  method: string;
  /** Namespace-relative path, without `/v1/` and without the query string. */
  path: string;
  /** Resolved namespace path: `''` for root, otherwise `a/` or `a/b/`. */
  namespace: string;
  operation: Op | null;
  status: number;
  at: Date;
}

/** Root-protected paths (PathsSpecial.Root): `[path, isPrefix]`, namespace-relative. */
const SUDO_PATHS: [string, boolean][] = [
  ['auth/token/accessors/', false],
  ['auth/token/revoke-orphan/', true],
  ['sys/auth/', true],
  ['sys/audit', false],
  ['sys/audit/', true],
  ['sys/raw/', true],
  ['sys/rotate', false],
  ['sys/remount', false],
  ['sys/revoke-prefix/', true],
  ['sys/revoke-force/', true],
  ['sys/leases/revoke-prefix/', true],
  ['sys/leases/revoke-force/', true],
  ['sys/leases/lookup/', true],
  ['sys/leases', false],
  ['sys/internal/inspect/', true],
  ['sys/seal', false],
  ['sys/step-down', false],
];

const SEALED_ALLOWED = new Set(['sys/health', 'sys/seal-status', 'sys/unseal']);

export function needsSudo(path: string): boolean {
  return SUDO_PATHS.some(([p, prefix]) => (prefix ? path.startsWith(p) : path === p));
}

const CAPABILITY: Record<Op, string> = {
  read: 'read',
  list: 'list',
  create: 'create',
  update: 'update',
  delete: 'delete',
};

interface Outcome {
  reply: Reply;
  meta: RouteMeta;
  ns: Namespace | null;
  path: string;
  op: Op | null;
}

export class Router {
  constructor(
    private readonly state: VaultState,
    private readonly routes: Route[],
    private readonly log: RequestLogEntry[],
    private readonly revokeSyncDefault: () => boolean,
  ) {}

  handle(req: WireRequest): WireResponse {
    const out = this.process(req);
    const { status, body } = serialize(out.reply, out.meta);
    this.log.push({
      method: req.method,
      path: out.path,
      namespace: out.ns?.path ?? '',
      operation: out.op,
      status,
      at: this.state.clock.now(),
    });
    return { status, body };
  }

  private process(req: WireRequest): Outcome {
    const plain: RouteMeta = { injectTop: false };
    const q = req.target.indexOf('?');
    const rawPath = q < 0 ? req.target : req.target.slice(0, q);
    const query = new URLSearchParams(q < 0 ? '' : req.target.slice(q + 1));
    const fail = (reply: Reply, path = rawPath): Outcome => ({ reply, meta: plain, ns: null, path, op: null });
    if (!rawPath.startsWith('/v1/')) return fail({ kind: 'errors', status: 404, errors: [] });
    let relPath: string;
    try {
      relPath = rawPath.slice(4).split('/').map(decodeURIComponent).join('/');
    } catch {
      return fail({ kind: 'errors', status: 400, errors: [] });
    }

    let op: Op;
    switch (req.method) {
      case 'GET': {
        const listRaw = query.get('list');
        const list = listRaw === null || listRaw === '' ? false : parseBool(listRaw);
        if (list === null) return fail({ kind: 'errors', status: 400, errors: [] }, relPath);
        op = list ? 'list' : 'read';
        query.delete('list');
        break;
      }
      case 'LIST':
        op = 'list';
        break;
      case 'POST':
      case 'PUT':
        op = 'update';
        break;
      case 'DELETE':
        op = 'delete';
        break;
      default:
        return fail({ kind: 'errors', status: 405, errors: [] }, relPath);
    }

    let body: Record<string, unknown> = {};
    if (req.body.length > 0 && req.method !== 'GET') {
      try {
        const parsed: unknown = JSON.parse(req.body.toString('utf8'));
        if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) {
          body = parsed as Record<string, unknown>;
        }
      } catch {
        return fail(userError('error parsing JSON'), relPath);
      }
    }
    if (op === 'read' || op === 'list') for (const [k, v] of query) body[k] ??= v;

    this.state.expire();
    const { ns, rest } = this.state.resolvePath(req.headers.get('x-vault-namespace') ?? '', relPath);
    const routePath = rest.replace(/\/+$/, '');
    const aclPath = op === 'list' && !rest.endsWith('/') ? `${rest}/` : rest;
    const done = (reply: Reply, meta = plain, opUsed: Op = op): Outcome => ({
      reply,
      meta,
      ns,
      path: rest,
      op: opUsed,
    });

    if (this.state.sealed && !(ns === this.state.root && SEALED_ALLOWED.has(routePath))) return done(sealed());
    if (req.headers.has('x-vault-wrap-ttl')) {
      return done(userError('the Vault double does not implement response wrapping (X-Vault-Wrap-TTL)'));
    }

    let route: Route | undefined;
    let params: string[] = [];
    for (const r of this.routes) {
      const m = r.match(routePath, ns);
      if (m) {
        route = r;
        params = m;
        break;
      }
    }

    const ctx: Ctx = {
      state: this.state,
      ns,
      path: routePath,
      op,
      params,
      body,
      token: null,
      sudo: false,
      remoteAddress: req.remoteAddress.replace(/^::ffff:/, ''),
      revokeSyncDefault: this.revokeSyncDefault(),
    };

    let spent: Token | null = null;
    if (!route?.unauthenticated) {
      const token = this.authenticate(req, ns);
      if (typeof token === 'string') return done(token === 'invalid' ? invalidToken() : permissionDenied());
      ctx.token = token;
      if (token.numUses > 0) {
        token.numUses--;
        if (token.numUses === 0) spent = token;
      }
      if (op === 'update' && route?.exists && !route.exists(ctx)) ctx.op = 'create';
      const acl = this.state.aclFor(token);
      if (acl !== 'root') {
        const caps = aclCapabilities(acl, ns.path + aclPath, op === 'list');
        ctx.sudo = caps.has('sudo') && !caps.has('deny');
        if (caps.has('deny') || !caps.has(CAPABILITY[ctx.op]) || (needsSudo(aclPath) && !ctx.sudo)) {
          this.finish(spent);
          return done(permissionDenied(), plain, ctx.op);
        }
      } else ctx.sudo = true;
    }

    if (!route) {
      this.finish(spent);
      return done(this.notFound(ns, routePath));
    }
    const meta: RouteMeta = { injectTop: route.injectTop ?? false };
    const handler = route.handlers[ctx.op] ?? (ctx.op === 'create' ? route.handlers.update : undefined);
    if (!handler) {
      this.finish(spent);
      return done(unsupportedOperation(), meta, ctx.op);
    }
    let reply: Reply;
    try {
      reply = handler(ctx);
    } catch (err) {
      if (!(err instanceof FieldError)) throw err;
      reply = userError(err.message);
    }
    this.finish(spent);
    return done(reply, meta, ctx.op);
  }

  /** A live token usable in `ns`, or why not: 'invalid' (→ two errors) or 'denied'. */
  private authenticate(req: WireRequest, ns: Namespace): Token | 'invalid' | 'denied' {
    const bearer = /^Bearer\s+(.+)$/i.exec(req.headers.get('authorization') ?? '')?.[1];
    const id = req.headers.get('x-vault-token') ?? bearer ?? '';
    const token = id ? this.state.liveToken(id) : undefined;
    if (!token) return 'invalid';
    return this.state.isWithin(ns, token.ns) ? token : 'denied';
  }

  /** A token whose last use this request was is revoked after the request, as Vault does. */
  private finish(spent: Token | null): void {
    if (spent && !spent.revoked) this.state.revokeTree(spent);
  }

  private notFound(ns: Namespace, path: string): Reply {
    const mounted =
      path.startsWith('sys/') ||
      path.startsWith('auth/token/') ||
      [...ns.approle.keys()].some((m) => path.startsWith(`auth/${m}/`)) ||
      [...ns.aws.keys()].some((m) => path === m || path.startsWith(`${m}/`));
    if (mounted) return unsupportedPath();
    return userError(`no handler for route "${ns.path}${path}". route entry not found.`, 404);
  }
}
