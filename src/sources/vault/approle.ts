/**
 * AppRole: every role on each configured mount (its token policies, TTLs, secret-id TTL and uses,
 * bind_secret_id, CIDR bounds), and every secret-id accessor of every role, looked up one by one.
 * A secret ID's Go zero expiration means "never expires"; `secret_id_num_uses` is what remains.
 * A role whose secret IDs cannot be listed leaves only that role's secret-id prefix incomplete.
 * The per-item readers and builders are shared with recheck.ts, so a recheck builds the same record.
 */
import type { DiscoveredCredential } from '../../model/credential.js';
import { vaultAppRoleId, vaultNamespaceSegment, vaultSecretIdId } from '../../model/ids.js';
import type { MatchSubject } from '../../registry/match.js';
import { mapLimit } from '../../util/concurrency.js';
import { isPartialError, type VaultApi, vaultTime } from './api.js';
import { grantsFor, type PolicySet } from './policies.js';
import { metaOf, num, strs } from './tokens.js';

export interface AppRoleRecord {
  cred: DiscoveredCredential;
  subject: MatchSubject;
}

export interface AppRoleScan {
  records: AppRoleRecord[];
  completePrefixes: string[];
  problems: { scope: string; code: string; message: string }[];
}

interface Ctx {
  api: VaultApi;
  cluster: string;
  ns: string;
  policies: PolicySet;
  concurrency: number;
  observedAt: string;
}

/** What the record builders need: where the role lives and the policies its grants come from. */
export interface AppRoleBuildCtx {
  cluster: string;
  ns: string;
  policies: PolicySet;
  observedAt: string;
}

export type RoleData = Record<string, unknown>;
export type SecretIdData = Record<string, unknown>;

export const mountPath = (m: string): string => m.replace(/^\/+|\/+$/g, '');

/** The policies a role's tokens get (`token_policies`, plus the legacy `policies`). */
export const roleTokenPolicies = (d: RoleData): string[] => [
  ...new Set([...strs(d.token_policies), ...strs(d.policies)]),
];

/** `auth/<mount>/role/<role>`; null when the role does not exist (a nil read). */
export async function readAppRole(api: VaultApi, ns: string, mount: string, role: string): Promise<RoleData | null> {
  const r = await api.read(
    'vault:read-approle-role',
    ns,
    `auth/${mount}/role/${role}`,
    `read on auth/${mount}/role/${role}`,
  );
  return r?.data ?? null;
}

/** One secret-id accessor; null when it was destroyed or expired (no data, or a `data.error`). */
export async function lookupSecretId(
  api: VaultApi,
  ns: string,
  mount: string,
  role: string,
  accessor: string,
): Promise<SecretIdData | null> {
  const s = await api.write(
    'vault:lookup-secret-id',
    ns,
    `auth/${mount}/role/${role}/secret-id-accessor/lookup`,
    { secret_id_accessor: accessor },
    `update on auth/${mount}/role/${role}/secret-id-accessor/lookup`,
  );
  const sd = s?.data;
  return !sd || typeof sd.error === 'string' ? null : sd;
}

/** The records of one role: the role itself, and (per looked-up secret ID) each secret ID. */
export function appRoleRecords(ctx: AppRoleBuildCtx, mount: string, role: string, d: RoleData) {
  const tokenPolicies = roleTokenPolicies(d);
  const g = grantsFor(ctx.policies, tokenPolicies);
  const approleRole = `${mount}/${role}`;
  const subject = (meta: Record<string, string> = {}): MatchSubject => ({
    sourceType: 'vault',
    vault: { namespace: ctx.ns, approleRole, policies: tokenPolicies, meta },
  });
  const roleAttrs = {
    mount,
    role,
    tokenPolicies,
    tokenTtlSeconds: num(d.token_ttl),
    tokenMaxTtlSeconds: num(d.token_max_ttl),
    tokenExplicitMaxTtlSeconds: num(d.token_explicit_max_ttl),
    tokenPeriodSeconds: num(d.token_period ?? d.period),
    tokenNumUses: num(d.token_num_uses),
    tokenType: d.token_type ?? null,
    tokenBoundCidrs: strs(d.token_bound_cidrs),
    secretIdTtlSeconds: num(d.secret_id_ttl),
    secretIdNumUses: num(d.secret_id_num_uses),
    secretIdBoundCidrs: strs(d.secret_id_bound_cidrs),
    bindSecretId: d.bind_secret_id ?? null,
    ...(g.errors.length ? { grantErrors: g.errors } : {}),
  };
  const common = {
    sourceType: 'vault' as const,
    source: `${ctx.cluster}/${vaultNamespaceSegment(ctx.ns)}`,
    principal: `approle/${approleRole}`,
    tags: {},
    observedAt: ctx.observedAt,
  };
  return {
    role: (): AppRoleRecord => ({
      subject: subject(),
      cred: {
        ...common,
        id: vaultAppRoleId(ctx.cluster, ctx.ns, mount, role),
        kind: 'vault-approle-role',
        createdAt: null,
        lastUsed: null,
        expiresAt: null,
        status: 'active',
        grants: g.grants,
        attributes: roleAttrs,
      },
    }),
    secretId: (accessor: string, sd: SecretIdData): AppRoleRecord => {
      const metadata = metaOf(sd.metadata);
      return {
        subject: subject(metadata),
        cred: {
          ...common,
          id: vaultSecretIdId(ctx.cluster, ctx.ns, mount, role, accessor),
          kind: 'vault-approle-secret-id',
          createdAt: vaultTime(sd.creation_time),
          // last_updated_time moves only for secret IDs with limited uses (§2): no usage signal otherwise.
          lastUsed: null,
          expiresAt: vaultTime(sd.expiration_time),
          status: 'active',
          grants: g.grants,
          attributes: {
            ...roleAttrs,
            secretIdAccessor: accessor,
            lastUpdatedTime: vaultTime(sd.last_updated_time),
            remainingUses: num(sd.secret_id_num_uses),
            secretIdTtlSeconds: num(sd.secret_id_ttl),
            cidrList: strs(sd.cidr_list),
            tokenBoundCidrs: strs(sd.token_bound_cidrs),
            metadata,
            neverExpires: vaultTime(sd.expiration_time) === null,
          },
        },
      };
    },
  };
}

export async function scanAppRoleMount(ctx: Ctx, mountIn: string): Promise<AppRoleScan> {
  const mount = mountPath(mountIn);
  const out: AppRoleScan = { records: [], completePrefixes: [], problems: [] };
  const base = `vault/${ctx.cluster}/${vaultNamespaceSegment(ctx.ns)}/approle/${mount}/`;
  const roles = await ctx.api.list(
    'vault:list-approle-roles',
    ctx.ns,
    `auth/${mount}/role`,
    `list on auth/${mount}/role`,
  );
  let allComplete = true;
  await mapLimit(roles, Math.min(ctx.concurrency, 8), async (role) => {
    const d = await readAppRole(ctx.api, ctx.ns, mount, role);
    if (!d) return;
    const build = appRoleRecords(ctx, mount, role, d);
    out.records.push(build.role());
    try {
      const accessors = await ctx.api.list(
        'vault:list-secret-ids',
        ctx.ns,
        `auth/${mount}/role/${role}/secret-id`,
        `list on auth/${mount}/role/${role}/secret-id`,
      );
      await mapLimit(accessors, ctx.concurrency, async (accessor) => {
        const sd = await lookupSecretId(ctx.api, ctx.ns, mount, role, accessor);
        if (sd) out.records.push(build.secretId(accessor, sd)); // else destroyed or expired since the list
      });
      out.completePrefixes.push(`${base}${role}/secret-id/`);
    } catch (err) {
      if (!isPartialError(err)) throw err;
      allComplete = false;
      out.problems.push({ scope: `${base}${role}/secret-id/`, code: err.code, message: err.message });
    }
  });
  if (allComplete) out.completePrefixes.splice(0, out.completePrefixes.length, base);
  return out;
}
