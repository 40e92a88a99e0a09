/**
 * `auth/<approle mount>/*` routes (vault-api.md §2, as OpenBao 2.7 answers): LIST role;
 * role/:name read, write (create vs update by existence; no constraint → Go error 500), delete;
 * role-id; secret-id mint and LIST (missing role → 400; expired secret IDs are still listed);
 * secret-id and secret-id-accessor lookup/destroy (unknown accessor: raw-envelope 404 on lookup,
 * Go error 500 on destroy; an expired one looks up as 204); login (unauthenticated); tidy (drops
 * expired secret IDs; 202 + warnings).
 */
import {
  deleteRole,
  destroySecretId,
  hasConstraint,
  login,
  mintSecretId,
  type RoleSettings,
  roleReadData,
  secretIdExpired,
  secretIdLookupData,
  tidySecretIds,
  upsertRole,
} from './approle.js';
import {
  goError,
  listReply,
  nilResponse,
  noContent,
  ok,
  type Reply,
  rawEnvelope,
  TIDY_STARTED,
  userError,
} from './envelope.js';
import type { AppRoleMount, Role } from './model.js';
import { type Ctx, type Handler, mountRoute, type Route } from './route.js';
import { authBlock } from './tokens.js';
import { fieldBool, fieldDuration, fieldInt, fieldString, fieldStrings } from './util.js';

const TOKEN_TYPES = ['default', 'service', 'batch', 'default-service', 'default-batch'] as const;

function mountOf(ctx: Ctx): AppRoleMount {
  return ctx.ns.approle.get(ctx.params[0]!)!;
}

function roleOf(ctx: Ctx): Role | undefined {
  return mountOf(ctx).roles.get(ctx.params[1]!);
}

const missingRole = (ctx: Ctx): Reply => userError(`role "${ctx.params[1]}" does not exist`);

function policyList(b: Record<string, unknown>, key: string): string[] {
  return [...new Set(fieldStrings(b, key).map((p) => p.toLowerCase()))];
}

function settingsFrom(b: Record<string, unknown>): RoleSettings | string {
  const s: RoleSettings = {};
  const has = (k: string): boolean => b[k] !== undefined;
  if (has('role_id')) s.roleId = fieldString(b, 'role_id');
  if (has('bind_secret_id')) s.bindSecretId = fieldBool(b, 'bind_secret_id', true);
  if (has('secret_id_bound_cidrs')) s.secretIdBoundCidrs = fieldStrings(b, 'secret_id_bound_cidrs');
  if (has('secret_id_num_uses')) s.secretIdNumUses = fieldInt(b, 'secret_id_num_uses', 0);
  if (has('secret_id_ttl')) s.secretIdTtl = fieldDuration(b, 'secret_id_ttl', 0);
  if (has('local_secret_ids')) s.localSecretIds = fieldBool(b, 'local_secret_ids', false);
  if (has('policies')) s.tokenPolicies = s.legacyPolicies = policyList(b, 'policies');
  if (has('token_policies')) s.tokenPolicies = policyList(b, 'token_policies');
  if (has('period')) s.tokenPeriod = s.legacyPeriod = fieldDuration(b, 'period', 0);
  if (has('token_period')) s.tokenPeriod = fieldDuration(b, 'token_period', 0);
  if (has('token_ttl')) s.tokenTtl = fieldDuration(b, 'token_ttl', 0);
  if (has('token_max_ttl')) s.tokenMaxTtl = fieldDuration(b, 'token_max_ttl', 0);
  if (has('token_explicit_max_ttl')) s.tokenExplicitMaxTtl = fieldDuration(b, 'token_explicit_max_ttl', 0);
  if (has('token_num_uses')) s.tokenNumUses = fieldInt(b, 'token_num_uses', 0);
  if (has('token_bound_cidrs')) s.tokenBoundCidrs = fieldStrings(b, 'token_bound_cidrs');
  if (has('token_no_default_policy')) s.tokenNoDefaultPolicy = fieldBool(b, 'token_no_default_policy', false);
  if (has('token_type')) {
    const t = fieldString(b, 'token_type');
    if (!(TOKEN_TYPES as readonly string[]).includes(t)) return `invalid 'token_type' value "${t}"`;
    s.tokenType = t as RoleSettings['tokenType'];
  }
  if ((s.secretIdNumUses ?? 0) < 0) return 'secret_id_num_uses cannot be negative';
  if ((s.tokenNumUses ?? 0) < 0) return 'token_num_uses cannot be negative';
  return s;
}

const writeRole: Handler = (ctx) => {
  const settings = settingsFrom(ctx.body);
  if (typeof settings === 'string') return userError(settings);
  const prev = roleOf(ctx);
  const merged = {
    bindSecretId: true,
    secretIdBoundCidrs: [] as string[],
    tokenBoundCidrs: [] as string[],
    tokenTtl: 0,
    tokenMaxTtl: 0,
    ...prev,
    ...settings,
  } as Role;
  if (!hasConstraint(merged)) return goError(500, 'at least one constraint should be enabled on the role');
  if (merged.tokenMaxTtl > 0 && merged.tokenTtl > merged.tokenMaxTtl) {
    return userError('token_ttl should not be greater than token_max_ttl');
  }
  if (prev) delete settings.localSecretIds;
  upsertRole(mountOf(ctx), ctx.params[1]!, settings);
  return noContent();
};

const readRole: Handler = (ctx) => {
  const role = roleOf(ctx);
  if (!role) return nilResponse();
  const warnings = hasConstraint(role)
    ? []
    : ['Role does not have any constraints set on it. Updates to this role will require a constraint to be set'];
  return ok(roleReadData(role), { warnings });
};

const mint: Handler = (ctx) => {
  const role = roleOf(ctx);
  if (!role) return missingRole(ctx);
  const rawMeta = fieldString(ctx.body, 'metadata');
  const metadata: Record<string, string> = {};
  if (rawMeta) {
    try {
      const parsed: unknown = JSON.parse(rawMeta);
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('metadata must be an object');
      for (const [k, v] of Object.entries(parsed)) {
        if (typeof v !== 'string') throw new Error(`json: cannot unmarshal ${typeof v} into Go value of type string`);
        metadata[k] = v;
      }
    } catch (err) {
      return userError(`failed to parse metadata: ${(err as Error).message}`);
    }
  }
  const entry = mintSecretId(ctx.state, role, {
    metadata,
    cidrList: fieldStrings(ctx.body, 'cidr_list'),
    tokenBoundCidrs: fieldStrings(ctx.body, 'token_bound_cidrs'),
    numUses: ctx.body.num_uses === undefined ? undefined : fieldInt(ctx.body, 'num_uses', 0),
    ttl: fieldDuration(ctx.body, 'ttl', 0),
  });
  if (typeof entry === 'string') return userError(entry);
  return ok({
    secret_id: entry.secretId,
    secret_id_accessor: entry.accessor,
    secret_id_num_uses: entry.numUses,
    secret_id_ttl: entry.ttl,
  });
};

const accessorNotFound = (accessor: string): string =>
  `failed to find accessor entry for secret_id_accessor: ${JSON.stringify(accessor)}`;

function byAccessor(destroy: boolean): Handler {
  return (ctx) => {
    const role = roleOf(ctx);
    if (!role) return missingRole(ctx);
    const accessor = fieldString(ctx.body, 'secret_id_accessor');
    if (!accessor) return userError('missing secret_id_accessor');
    const entry = role.secretIds.get(accessor);
    if (!entry) {
      return destroy
        ? goError(500, accessorNotFound(accessor))
        : rawEnvelope(404, { error: accessorNotFound(accessor) });
    }
    if (!destroy) return secretIdExpired(entry, ctx.state.now()) ? noContent() : ok(secretIdLookupData(entry));
    destroySecretId(role, entry);
    return noContent();
  };
}

function bySecretId(destroy: boolean): Handler {
  return (ctx) => {
    const role = roleOf(ctx);
    if (!role) return missingRole(ctx);
    const secretId = fieldString(ctx.body, 'secret_id');
    if (!secretId) return userError('missing secret_id');
    const entry = role.secretIdsByValue.get(secretId);
    if (!entry) return noContent();
    if (!destroy) return secretIdExpired(entry, ctx.state.now()) ? noContent() : ok(secretIdLookupData(entry));
    destroySecretId(role, entry);
    return noContent();
  };
}

const route = (re: RegExp, rest: Omit<Route, 'match' | 'mountType'>): Route =>
  mountRoute('auth/', (ns) => ns.approle, re, { mountType: 'approle', ...rest });

export const approleRoutes: Route[] = [
  route(/^role$/, { handlers: { list: (ctx) => listReply([...mountOf(ctx).roles.keys()].sort()) } }),
  route(/^role\/([^/]+)$/, {
    exists: (ctx) => roleOf(ctx) !== undefined,
    handlers: {
      read: readRole,
      create: writeRole,
      update: writeRole,
      delete: (ctx) => {
        deleteRole(mountOf(ctx), ctx.params[1]!);
        return noContent();
      },
    },
  }),
  route(/^role\/([^/]+)\/role-id$/, {
    handlers: {
      read: (ctx) => {
        const role = roleOf(ctx);
        return role ? ok({ role_id: role.roleId }) : nilResponse();
      },
      update: (ctx) => {
        if (!roleOf(ctx)) return missingRole(ctx);
        const roleId = fieldString(ctx.body, 'role_id');
        if (!roleId) return userError('missing role_id');
        upsertRole(mountOf(ctx), ctx.params[1]!, { roleId });
        return noContent();
      },
    },
  }),
  route(/^role\/([^/]+)\/secret-id$/, {
    handlers: {
      update: mint,
      list: (ctx) => {
        const role = roleOf(ctx);
        return role ? listReply([...role.secretIds.keys()].sort()) : missingRole(ctx);
      },
    },
  }),
  route(/^role\/([^/]+)\/secret-id\/lookup$/, { handlers: { update: bySecretId(false) } }),
  route(/^role\/([^/]+)\/secret-id\/destroy$/, { handlers: { update: bySecretId(true), delete: bySecretId(true) } }),
  route(/^role\/([^/]+)\/secret-id-accessor\/lookup$/, { handlers: { update: byAccessor(false) } }),
  route(/^role\/([^/]+)\/secret-id-accessor\/destroy$/, {
    handlers: { update: byAccessor(true), delete: byAccessor(true) },
  }),
  route(/^login$/, {
    unauthenticated: true,
    handlers: {
      update: (ctx) => {
        const mount = mountOf(ctx);
        const b = ctx.body;
        const token = login(
          ctx.state,
          ctx.ns,
          mount,
          fieldString(b, 'role_id'),
          fieldString(b, 'secret_id'),
          ctx.remoteAddress,
        );
        if (typeof token === 'string') return userError(token);
        return ok(null, { auth: authBlock(ctx.state, token) });
      },
    },
  }),
  route(/^tidy\/secret-id$/, {
    handlers: {
      update: (ctx) => {
        tidySecretIds(mountOf(ctx), ctx.state.now());
        return ok(null, { status: 202, warnings: [TIDY_STARTED] });
      },
    },
  }),
];
