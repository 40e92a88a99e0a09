/**
 * AppRole: every role on each configured mount (its token policies, TTLs, secret-id TTL and uses,
 * bind_secret_id, CIDR bounds), and every secret-id accessor of every role, looked up one by one.
 * A secret ID's Go zero expiration means "never expires"; `secret_id_num_uses` is what remains.
 * A role whose secret IDs cannot be listed leaves only that role's secret-id prefix incomplete.
 */
import type { DiscoveredCredential } from '../../model/credential.js';
import { vaultAppRoleId, vaultNamespaceSegment, vaultSecretIdId } from '../../model/ids.js';
import type { MatchSubject } from '../../registry/match.js';
import { mapLimit } from '../../util/concurrency.js';
import { isPartialError, type VaultApi, vaultTime } from './api.js';
import { grantsFor, type PolicySet } from './policies.js';
import { metaOf, num, strs } from './tokens.js';

export interface AppRoleScan {
  records: { cred: DiscoveredCredential; subject: MatchSubject }[];
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

const mountPath = (m: string) => m.replace(/^\/+|\/+$/g, '');

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
    const r = await ctx.api.read(
      'vault:read-approle-role',
      ctx.ns,
      `auth/${mount}/role/${role}`,
      `read on auth/${mount}/role/${role}`,
    );
    if (!r?.data) return;
    const d = r.data;
    const tokenPolicies = [...new Set([...strs(d.token_policies), ...strs(d.policies)])];
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
    out.records.push({
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
    });
    try {
      const accessors = await ctx.api.list(
        'vault:list-secret-ids',
        ctx.ns,
        `auth/${mount}/role/${role}/secret-id`,
        `list on auth/${mount}/role/${role}/secret-id`,
      );
      await mapLimit(accessors, ctx.concurrency, async (accessor) => {
        const s = await ctx.api.write(
          'vault:lookup-secret-id',
          ctx.ns,
          `auth/${mount}/role/${role}/secret-id-accessor/lookup`,
          { secret_id_accessor: accessor },
          `update on auth/${mount}/role/${role}/secret-id-accessor/lookup`,
        );
        const sd = s?.data;
        if (!sd || typeof sd.error === 'string') return; // destroyed or expired since the list
        const metadata = metaOf(sd.metadata);
        out.records.push({
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
        });
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
