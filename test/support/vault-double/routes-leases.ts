/**
 * `sys/leases/*` routes (vault-api.md §3, as OpenBao 2.7 answers; OpenBao removed the legacy
 * `sys/revoke*` and `sys/renew*` paths, which are therefore unknown here too): POST lookup
 * (`last_renewal`, `path`; unknown → 400 `invalid lease`), LIST lookup/<prefix> (sudo and the
 * LIST-path ACL rule are enforced by the pipeline; one level, folders end in `/`), revoke (`sync`
 * defaults to true: 204; `sync:false` → 202 empty; unknown ids still succeed), revoke-prefix
 * (sudo; 204, or 202 with `sync:false`), revoke-force (sudo; always 204), renew and tidy (202 +
 * warnings).
 */
import { accepted, listReply, noContent, ok, type Reply, TIDY_STARTED, userError } from './envelope.js';
import { leaseLookupData, leasesUnder, listLeaseKeys, renewLease } from './leases.js';
import type { Lease } from './model.js';
import { type Ctx, type Handler, pathRoute, type Route } from './route.js';
import { fieldBool, fieldDuration, fieldString } from './util.js';

/** A lease by id, from the request namespace or (by its `.nsID` suffix) a child namespace. */
function findLease(ctx: Ctx, id: string): Lease | undefined {
  const own = ctx.ns.leases.get(id);
  if (own) return own;
  const nsId = /\.([A-Za-z0-9]+)$/.exec(id.slice(id.lastIndexOf('/') + 1))?.[1];
  const ns = nsId ? ctx.state.namespacesById.get(nsId) : undefined;
  return ns && ctx.state.isWithin(ns, ctx.ns) ? ns.leases.get(id) : undefined;
}

const leaseIdOf = (ctx: Ctx): string => fieldString(ctx.body, 'lease_id') || (ctx.params[0] ?? '');

const lookup: Handler = (ctx) => {
  const id = leaseIdOf(ctx);
  if (!id) return userError('lease_id must be specified');
  const lease = findLease(ctx, id);
  return lease ? ok(leaseLookupData(ctx.state, lease)) : userError('invalid lease');
};

const list: Handler = (ctx) => {
  const raw = ctx.params[0] ?? '';
  const prefix = raw === '' || raw.endsWith('/') ? raw : `${raw}/`;
  return listReply(listLeaseKeys(ctx.ns, prefix));
};

const revoke: Handler = (ctx) => {
  const id = leaseIdOf(ctx);
  if (!id) return userError('lease_id must be specified');
  const lease = findLease(ctx, id);
  if (lease) ctx.state.revokeLease(lease);
  return fieldBool(ctx.body, 'sync', ctx.revokeSyncDefault) ? noContent() : accepted();
};

function revokePrefix(force: boolean): Handler {
  return (ctx) => {
    for (const lease of leasesUnder(ctx.ns, ctx.params[0]!)) {
      if (!lease.authToken?.revoked) ctx.state.revokeLease(lease);
    }
    return force || fieldBool(ctx.body, 'sync', ctx.revokeSyncDefault) ? noContent() : accepted();
  };
}

const renew: Handler = (ctx): Reply => {
  const id = leaseIdOf(ctx);
  if (!id) return userError('lease_id must be specified');
  const lease = findLease(ctx, id);
  if (!lease) return userError('lease not found');
  const err = renewLease(ctx.state, lease, fieldDuration(ctx.body, 'increment', 0));
  if (err) return userError(err);
  const duration = Math.max(0, Math.trunc(((lease.expireMs ?? 0) - ctx.state.now()) / 1000));
  return ok(null, { lease: { id: lease.id, duration, renewable: lease.renewable } });
};

const tidy: Handler = () => ok(null, { status: 202, warnings: [TIDY_STARTED] });

const sys = (re: RegExp, handlers: Route['handlers']): Route => pathRoute(re, { mountType: 'system', handlers });

export const leaseRoutes: Route[] = [
  sys(/^sys\/leases\/lookup$/, { update: lookup, list }),
  sys(/^sys\/leases\/lookup\/(.+)$/, { list }),
  sys(/^sys\/leases\/revoke(?:\/(.+))?$/, { update: revoke }),
  sys(/^sys\/leases\/revoke-prefix\/(.+)$/, { update: revokePrefix(false) }),
  sys(/^sys\/leases\/revoke-force\/(.+)$/, { update: revokePrefix(true) }),
  sys(/^sys\/leases\/renew(?:\/(.+))?$/, { update: renew }),
  sys(/^sys\/leases\/tidy$/, { update: tidy }),
];
