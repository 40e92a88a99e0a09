/**
 * `auth/token/*` routes (vault-api.md §1): create / create-orphan (sudo rules for `no_parent` and
 * `period`), lookup, lookup-self, lookup-accessor, revoke, revoke-self, revoke-accessor (subtree
 * and leases; unknown accessor → 200 + warning), revoke-orphan, LIST accessors (namespace-scoped,
 * batch tokens absent; sudo is enforced by the pipeline), renew-self, renew-accessor and tidy.
 */
import { goError, listReply, noContent, ok, type Reply, TIDY_STARTED, userError } from './envelope.js';
import type { Token } from './model.js';
import { type Ctx, type Handler, pathRoute, type Route } from './route.js';
import { authBlock, createToken, renewToken, sanitizePolicies, tokenLookupData } from './tokens.js';
import { fieldBool, fieldDuration, fieldInt, fieldMap, fieldString, fieldStrings } from './util.js';

const MOUNT = 'token';

function create(orphanEndpoint: boolean): Handler {
  return (ctx) => {
    const parent = ctx.token!;
    const b = ctx.body;
    if (parent.type === 'batch') return userError('batch tokens cannot create more tokens');
    const noParent = orphanEndpoint || fieldBool(b, 'no_parent', false);
    if (!orphanEndpoint && noParent && !ctx.sudo)
      return userError('root or sudo privileges required to create orphan token');
    const period = fieldDuration(b, 'period', 0);
    if (period > 0 && !ctx.sudo) return userError('root or sudo privileges required to create periodic token');
    const type = fieldString(b, 'type') || 'service';
    if (type !== 'service' && type !== 'batch') return userError(`invalid 'token_type' value "${type}"`);
    const numUses = fieldInt(b, 'num_uses', 0);
    if (numUses < 0) return userError('number of uses cannot be negative');
    if (type === 'batch' && period > 0) return userError('batch tokens cannot be periodic');
    if (type === 'batch' && numUses > 0) return userError('batch tokens cannot have a num_uses limit');
    const noDefault = fieldBool(b, 'no_default_policy', false);
    const requested = fieldStrings(b, 'policies');
    const parentIsRoot = parent.policies.includes('root');
    const inherit = requested.length === 0 ? parent.policies.filter((p) => p !== 'default' || !noDefault) : requested;
    const policies = sanitizePolicies(inherit, !noDefault);
    if (policies.includes('root') && !parentIsRoot)
      return userError('root tokens may not be created by a non-root token');
    if (!parentIsRoot && !ctx.sudo) {
      const allowed = new Set([...parent.policies, 'default']);
      if (!policies.every((p) => allowed.has(p))) return userError('child policies must be subset of parent');
    }
    const token = createToken(ctx.state, {
      ns: ctx.ns,
      // A parent in an enclosing namespace stays the parent (OpenBao: `orphan: false`).
      parent: noParent ? null : parent,
      policies,
      noDefaultPolicy: true,
      path: orphanEndpoint ? 'auth/token/create-orphan' : 'auth/token/create',
      meta: fieldMap(b, 'meta'),
      displayName: fieldString(b, 'display_name'),
      ttl: fieldDuration(b, 'ttl', 0) || fieldDuration(b, 'lease', 0),
      explicitMaxTtl: fieldDuration(b, 'explicit_max_ttl', 0),
      period,
      numUses,
      renewable: fieldBool(b, 'renewable', true),
      type,
      entityId: parent.entityId,
    });
    return ok(null, { auth: authBlock(ctx.state, token) });
  };
}

/**
 * A token by accessor in the request namespace. One of another namespace (even a child) is an
 * error, as on OpenBao: 500 `cannot lookup token in different namespace`.
 */
function byAccessor(ctx: Ctx, accessor: string): Token | Reply | undefined {
  const t = ctx.state.tokensByAccessor.get(accessor);
  if (t && t.ns !== ctx.ns) return goError(500, 'cannot lookup token in different namespace');
  return t;
}

const isReply = (x: Token | Reply | undefined): x is Reply => x !== undefined && 'kind' in x;

function byId(ctx: Ctx, id: string): Token | undefined {
  const t = ctx.state.tokensById.get(id);
  return t && ctx.state.isWithin(t.ns, ctx.ns) ? t : undefined;
}

const lookupAccessor: Handler = (ctx) => {
  const accessor = fieldString(ctx.body, 'accessor');
  if (!accessor) return goError(400, 'missing accessor');
  const t = byAccessor(ctx, accessor);
  if (isReply(t)) return t;
  if (!t) return goError(400, 'invalid accessor');
  return ok(tokenLookupData(ctx.state, t, true));
};

const lookup: Handler = (ctx) => {
  const id = fieldString(ctx.body, 'token');
  if (!id) return userError('missing token');
  const t = byId(ctx, id);
  if (!t) return userError('bad token', 403);
  return ok(tokenLookupData(ctx.state, t, false));
};

const revokeAccessor: Handler = (ctx) => {
  const accessor = fieldString(ctx.body, 'accessor');
  if (!accessor) return goError(400, 'missing accessor');
  const t = byAccessor(ctx, accessor);
  if (isReply(t)) return t;
  if (!t) return ok(null, { warnings: ['No token found with this accessor'] });
  ctx.state.revokeTree(t);
  return noContent();
};

const revoke: Handler = (ctx) => {
  const id = fieldString(ctx.body, 'token');
  if (!id) return userError('missing token');
  const t = byId(ctx, id);
  if (t?.type === 'batch') return userError('batch tokens cannot be revoked');
  if (t) ctx.state.revokeTree(t);
  return noContent();
};

function revokeOrphan(id: string, ctx: Ctx): Reply {
  if (!ctx.sudo) return userError('root or sudo privileges required to revoke and orphan');
  if (!id) return userError('missing token');
  const t = byId(ctx, id);
  if (t?.type === 'batch') return userError('batch tokens cannot be revoked');
  if (t) ctx.state.revokeOrphan(t);
  return noContent();
}

function renewReply(ctx: Ctx, t: Token, showToken: boolean): Reply {
  const err = renewToken(ctx.state, t, fieldDuration(ctx.body, 'increment', 0));
  if (err) return userError(err);
  const auth = authBlock(ctx.state, t);
  auth.lease_duration = Math.max(0, Math.trunc(((t.expireMs ?? 0) - ctx.state.now()) / 1000));
  if (!showToken) auth.client_token = '';
  return ok(null, { auth });
}

const route = (re: RegExp, handlers: Route['handlers']): Route => pathRoute(re, { mountType: MOUNT, handlers });

export const tokenRoutes: Route[] = [
  route(/^auth\/token\/create$/, { update: create(false) }),
  route(/^auth\/token\/create-orphan$/, { update: create(true) }),
  route(/^auth\/token\/lookup-self$/, { read: (ctx) => ok(tokenLookupData(ctx.state, ctx.token!, false)) }),
  route(/^auth\/token\/lookup$/, { update: lookup }),
  route(/^auth\/token\/lookup-accessor$/, { update: lookupAccessor }),
  route(/^auth\/token\/revoke$/, { update: revoke }),
  route(/^auth\/token\/revoke-self$/, {
    update: (ctx) => {
      ctx.state.revokeTree(ctx.token!);
      return noContent();
    },
  }),
  route(/^auth\/token\/revoke-accessor$/, { update: revokeAccessor }),
  route(/^auth\/token\/revoke-orphan$/, { update: (ctx) => revokeOrphan(fieldString(ctx.body, 'token'), ctx) }),
  route(/^auth\/token\/revoke-orphan\/(.+)$/, { update: (ctx) => revokeOrphan(ctx.params[0]!, ctx) }),
  route(/^auth\/token\/accessors$/, { list: (ctx) => listReply([...ctx.ns.accessors.keys()]) }),
  route(/^auth\/token\/renew-self$/, { update: (ctx) => renewReply(ctx, ctx.token!, true) }),
  route(/^auth\/token\/renew$/, {
    update: (ctx) => {
      const t = byId(ctx, fieldString(ctx.body, 'token'));
      return t ? renewReply(ctx, t, true) : userError('invalid token');
    },
  }),
  route(/^auth\/token\/renew-accessor$/, {
    update: (ctx) => {
      const accessor = fieldString(ctx.body, 'accessor');
      if (!accessor) return goError(400, 'missing accessor');
      const t = byAccessor(ctx, accessor);
      if (isReply(t)) return t;
      return t ? renewReply(ctx, t, false) : goError(400, 'invalid accessor');
    },
  }),
  route(/^auth\/token\/tidy$/, { update: () => ok(null, { status: 202, warnings: [TIDY_STARTED] }) }),
];
