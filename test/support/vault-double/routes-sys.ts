/**
 * `sys/*` routes other than leases (vault-api.md §4, §7, §0, as OpenBao 2.7 answers): ACL
 * policies (`sys/policies/acl` without, legacy `sys/policy` with top-level injection; reads carry
 * OpenBao's `version`, `modified`, `cas_required` and identity-template flags; `root` listed only
 * in the root namespace, readable in every one, and immutable; `default` undeletable),
 * capabilities-self / -accessor / capabilities (top-level injection; `["root"]` for root,
 * `["deny"]` when nothing matches), namespaces (LIST of direct children with key_info incl.
 * `uuid`, `locked`, `tainted`; create, read, delete → 200 `{"status":"in-progress"}`), health,
 * seal-status (OpenBao's field sets), seal (sudo), unseal.
 */
import { AclPolicyParseError } from '../../../src/sources/vault/acl-policy.js';
import { goError, listReply, nilResponse, noContent, ok, type Reply, raw, userError } from './envelope.js';
import type { Namespace, Token } from './model.js';
import { type Ctx, type Handler, pathRoute, type Route } from './route.js';
import { aclCapabilities, type VaultState } from './state.js';
import { fieldInt, fieldString, fieldStrings, rfc3339Nano, unixSeconds } from './util.js';

/** The OpenBao release the contract suite checks the double against. */
export const VAULT_VERSION = '2.7.2';
const COMMIT_DATE = '2026-10-26T20:32:27Z';
const CLUSTER_NAME = 'vault-cluster-d0ub1e00';
const CLUSTER_ID = '2f6a4d9e-0b7c-4c51-9a3e-6f1d2c8b7e10';

const policyNames = (ctx: Ctx): string[] => {
  const names = [...ctx.ns.policies.keys()];
  if (ctx.ns === ctx.state.root) names.push('root');
  return names.sort();
};

function putPolicy(ctx: Ctx, name: string, text: string): Reply {
  if (name.toLowerCase() === 'root') return userError('cannot update root policy');
  if (!text) return userError("'policy' parameter not supplied or empty");
  try {
    ctx.state.putPolicy(ctx.ns, name, text);
  } catch (err) {
    if (err instanceof AclPolicyParseError) return userError(err.message);
    throw err;
  }
  return noContent();
}

function deletePolicy(ctx: Ctx, name: string): Reply {
  const lname = name.toLowerCase();
  if (lname === 'root') return userError('cannot delete root policy');
  if (lname === 'default') return userError('cannot delete default policy');
  ctx.state.deletePolicy(ctx.ns, lname);
  return noContent();
}

function policyText(ctx: Ctx, name: string): string | undefined {
  const lname = name.toLowerCase();
  if (lname === 'root') return '';
  return ctx.ns.policies.get(lname)?.text;
}

/** A policy read as OpenBao answers it; `textKey` is `policy` (sys/policies/acl) or `rules` (sys/policy). */
function policyRead(ctx: Ctx, name: string, textKey: 'policy' | 'rules'): Reply {
  const lname = name.toLowerCase();
  const text = policyText(ctx, lname);
  if (text === undefined) return nilResponse();
  const stored = lname === 'root' ? undefined : ctx.ns.policies.get(lname);
  const data: Record<string, unknown> = {
    allow_slashes_in_identity_templates: false,
    allow_wildcards_in_identity_templates: false,
    cas_required: false,
    name: lname,
    [textKey]: text,
    version: stored?.version ?? 0,
  };
  if (stored) data.modified = rfc3339Nano(stored.modified);
  return ok(data);
}

/** Vault's capability answer for one token on namespace-relative paths (sorted, like Vault). */
function capabilities(state: VaultState, token: Token, ns: Namespace, paths: string[]): Record<string, string[]> {
  const acl = state.aclFor(token);
  const out: Record<string, string[]> = {};
  for (const p of paths) {
    if (acl === 'root') {
      out[p] = ['root'];
      continue;
    }
    const caps = aclCapabilities(acl, ns.path + p.replace(/^\/+/, ''), true);
    out[p] = caps.size === 0 || caps.has('deny') ? ['deny'] : [...caps].sort();
  }
  return out;
}

function capabilitiesReply(ctx: Ctx, token: Token | undefined): Reply {
  if (!token) return goError(400, 'invalid accessor');
  const paths = fieldStrings(ctx.body, 'paths');
  const single = fieldString(ctx.body, 'path');
  if (single) paths.push(single);
  if (paths.length === 0) return userError("missing 'paths' field");
  const data: Record<string, unknown> = capabilities(ctx.state, token, ctx.ns, paths);
  if (paths.length === 1) data.capabilities = data[paths[0]!];
  return ok(data);
}

const namespaceInfo = (ns: Namespace): Record<string, unknown> => ({
  custom_metadata: ns.customMetadata,
  id: ns.id,
  locked: false,
  path: ns.path,
  tainted: false,
  uuid: ns.uuid,
});

function childByPath(ctx: Ctx, rel: string): Namespace | undefined {
  return ctx.state.namespaceByPath(`${ctx.ns.path}${rel}`);
}

const createNamespace: Handler = (ctx) => {
  const segs = ctx.params[0]!.split('/').filter(Boolean);
  const name = segs.pop()!;
  const parent = segs.length === 0 ? ctx.ns : childByPath(ctx, segs.join('/'));
  if (!parent) return userError(`parent namespace "${segs.join('/')}" does not exist`);
  try {
    const meta = ctx.body.custom_metadata;
    const ns = ctx.state.createNamespace(parent, name, (meta ?? {}) as Record<string, string>);
    return ok(namespaceInfo(ns));
  } catch (err) {
    return userError((err as Error).message);
  }
};

const deleteNamespace: Handler = (ctx) => {
  const ns = childByPath(ctx, ctx.params[0]!);
  if (!ns) return noContent();
  if (ns.children.size > 0) return userError(`cannot delete namespace "${ns.path}" containing child namespaces`);
  for (const t of [...ctx.state.tokensById.values()]) if (t.ns === ns) ctx.state.revokeTree(t);
  ns.parent?.children.delete(ns.path.split('/').at(-2)!);
  ctx.state.namespacesById.delete(ns.id);
  // OpenBao deletes in the background and says so; here it is already done.
  return ok({ status: 'in-progress' });
};

function sealStatus(state: VaultState): Record<string, unknown> {
  const body: Record<string, unknown> = {
    type: 'shamir',
    initialized: true,
    sealed: state.sealed,
    t: 1,
    n: 1,
    progress: 0,
    nonce: '',
    recovery_seal: false,
    version: VAULT_VERSION,
    commit_date: COMMIT_DATE,
    migration: false,
    storage_type: 'inmem',
  };
  if (!state.sealed) Object.assign(body, { cluster_name: CLUSTER_NAME, cluster_id: CLUSTER_ID });
  return body;
}

const health: Handler = (ctx) => {
  const { state } = ctx;
  const body = {
    initialized: true,
    sealed: state.sealed,
    standby: false,
    replication_performance_mode: 'disabled',
    replication_dr_mode: 'disabled',
    server_time_utc: unixSeconds(state.now()),
    version: VAULT_VERSION,
    cluster_name: CLUSTER_NAME,
    cluster_id: CLUSTER_ID,
  };
  const status = state.sealed ? fieldInt(ctx.body, 'sealedcode', 503) : fieldInt(ctx.body, 'activecode', 200);
  return raw(status, body);
};

const sys = (re: RegExp, rest: Omit<Route, 'match' | 'mountType'>): Route =>
  pathRoute(re, { mountType: 'system', ...rest });

export const sysRoutes: Route[] = [
  sys(/^sys\/policies\/acl$/, { handlers: { list: (ctx) => listReply(policyNames(ctx)) } }),
  sys(/^sys\/policies\/acl\/(.+)$/, {
    exists: (ctx) => policyText(ctx, ctx.params[0]!) !== undefined,
    handlers: {
      read: (ctx) => policyRead(ctx, ctx.params[0]!, 'policy'),
      create: (ctx) => putPolicy(ctx, ctx.params[0]!, fieldString(ctx.body, 'policy')),
      update: (ctx) => putPolicy(ctx, ctx.params[0]!, fieldString(ctx.body, 'policy')),
      delete: (ctx) => deletePolicy(ctx, ctx.params[0]!),
    },
  }),
  sys(/^sys\/policy$/, {
    injectTop: true,
    handlers: {
      read: (ctx) => ok({ keys: policyNames(ctx), policies: policyNames(ctx) }),
      list: (ctx) => listReply(policyNames(ctx), { policies: policyNames(ctx) }),
    },
  }),
  sys(/^sys\/policy\/(.+)$/, {
    injectTop: true,
    handlers: {
      read: (ctx) => policyRead(ctx, ctx.params[0]!, 'rules'),
      update: (ctx) =>
        putPolicy(ctx, ctx.params[0]!, fieldString(ctx.body, 'policy') || fieldString(ctx.body, 'rules')),
      delete: (ctx) => deletePolicy(ctx, ctx.params[0]!),
    },
  }),
  sys(/^sys\/capabilities-self$/, {
    injectTop: true,
    handlers: { update: (ctx) => capabilitiesReply(ctx, ctx.token!) },
  }),
  sys(/^sys\/capabilities-accessor$/, {
    injectTop: true,
    handlers: {
      update: (ctx) => {
        const accessor = fieldString(ctx.body, 'accessor');
        if (!accessor) return userError("missing 'accessor' field");
        const t = ctx.state.tokensByAccessor.get(accessor);
        return capabilitiesReply(ctx, t && ctx.state.isWithin(t.ns, ctx.ns) ? t : undefined);
      },
    },
  }),
  sys(/^sys\/capabilities$/, {
    injectTop: true,
    handlers: {
      update: (ctx) => {
        const t = ctx.state.tokensById.get(fieldString(ctx.body, 'token'));
        return t ? capabilitiesReply(ctx, t) : userError('invalid token');
      },
    },
  }),
  sys(/^sys\/namespaces$/, {
    handlers: {
      list: (ctx) => {
        const children = [...ctx.ns.children.entries()].sort(([a], [b]) => (a < b ? -1 : 1));
        const keyInfo = Object.fromEntries(children.map(([name, ns]) => [`${name}/`, namespaceInfo(ns)]));
        return listReply(Object.keys(keyInfo), { key_info: keyInfo });
      },
    },
  }),
  sys(/^sys\/namespaces\/(.+)$/, {
    exists: (ctx) => childByPath(ctx, ctx.params[0]!) !== undefined,
    handlers: {
      read: (ctx) => {
        const ns = childByPath(ctx, ctx.params[0]!);
        return ns ? ok(namespaceInfo(ns)) : nilResponse();
      },
      create: createNamespace,
      update: createNamespace,
      delete: deleteNamespace,
    },
  }),
  sys(/^sys\/health$/, { unauthenticated: true, handlers: { read: health } }),
  sys(/^sys\/seal-status$/, { unauthenticated: true, handlers: { read: (ctx) => raw(200, sealStatus(ctx.state)) } }),
  sys(/^sys\/seal$/, {
    handlers: {
      update: (ctx) => {
        ctx.state.sealed = true;
        return noContent();
      },
    },
  }),
  sys(/^sys\/unseal$/, {
    unauthenticated: true,
    handlers: {
      update: (ctx) => {
        if (ctx.body.reset !== true && !fieldString(ctx.body, 'key'))
          return userError("'key' must be specified in request body as JSON, or 'reset' set to true");
        if (ctx.body.reset !== true) ctx.state.sealed = false;
        return raw(200, sealStatus(ctx.state));
      },
    },
  }),
];
