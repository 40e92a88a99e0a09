/**
 * Leases under the configured prefixes (e.g. `aws/creds/`), walking the lease tree one level at a
 * time (LIST sys/leases/lookup/<prefix> needs list+sudo; folders come back with a trailing `/`),
 * then one lookup per lease. Token leases (`auth/…`) are the tokens themselves and are not counted
 * twice: prefixes under `auth/` are refused at config load.
 */
import type { DiscoveredCredential } from '../../model/credential.js';
import { vaultLeaseId, vaultNamespaceSegment } from '../../model/ids.js';
import { mapLimit } from '../../util/concurrency.js';
import { type VaultApi, vaultTime } from './api.js';
import { num } from './tokens.js';

export async function listLeaseIds(api: VaultApi, ns: string, prefix: string): Promise<string[]> {
  const p = prefix.replace(/^\/+/, '').replace(/\/*$/, '/');
  const keys = await api.list('vault:list-leases', ns, `sys/leases/lookup/${p}`, `list+sudo on sys/leases/lookup/${p}`);
  const out: string[] = [];
  for (const k of keys) {
    if (k.endsWith('/')) out.push(...(await listLeaseIds(api, ns, `${p}${k}`)));
    else out.push(`${p}${k}`);
  }
  return out;
}

export interface LeaseBuildCtx {
  cluster: string;
  ns: string;
  observedAt: string;
}

/** One lease lookup; null when Vault says "invalid lease" (expired or revoked). */
export async function lookupLease(api: VaultApi, ns: string, leaseId: string): Promise<Record<string, unknown> | null> {
  try {
    return (
      (
        await api.write(
          'vault:lookup-lease',
          ns,
          'sys/leases/lookup',
          { lease_id: leaseId },
          'update on sys/leases/lookup',
        )
      )?.data ?? null
    );
  } catch (err) {
    if (/invalid lease/.test((err as Error).message)) return null;
    throw err;
  }
}

export function leaseRecord(d: Record<string, unknown>, ctx: LeaseBuildCtx): DiscoveredCredential {
  const leaseId = String(d.id);
  const lastRenewal = vaultTime(d.last_renewal);
  return {
    id: vaultLeaseId(ctx.cluster, ctx.ns, leaseId),
    kind: 'vault-lease',
    sourceType: 'vault',
    source: `${ctx.cluster}/${vaultNamespaceSegment(ctx.ns)}`,
    principal: leaseId.split('/').slice(0, -1).join('/'),
    createdAt: vaultTime(d.issue_time),
    lastUsed: lastRenewal ? { at: lastRenewal, source: 'vault-lease-renewal', asOf: ctx.observedAt } : null,
    expiresAt: vaultTime(d.expire_time),
    status: 'active',
    grants: [],
    tags: {},
    attributes: { leaseId, ttlSeconds: num(d.ttl), renewable: d.renewable ?? null, lastRenewal },
    observedAt: ctx.observedAt,
  };
}

export async function scanLeases(
  api: VaultApi,
  ctx: LeaseBuildCtx & { concurrency: number },
  prefix: string,
): Promise<DiscoveredCredential[]> {
  const ids = await listLeaseIds(api, ctx.ns, prefix);
  // null: expired or revoked since the list
  const found = await mapLimit(ids, ctx.concurrency, (leaseId) => lookupLease(api, ctx.ns, leaseId));
  return found.filter((d): d is Record<string, unknown> => d !== null).map((d) => leaseRecord(d, ctx));
}
