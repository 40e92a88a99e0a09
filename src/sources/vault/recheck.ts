/**
 * recheck(): one Vault credential, by its exact id, read live before remediation acts on it.
 * The present record is built by the scan's own builders (tokens.ts, approle.ts, leases.ts,
 * aws-engine.ts) and attributed like discover, so it equals what a scan would give now. Only the
 * policies the credential carries are read (same parsing, limits and error reporting as a scan).
 *
 * Absent is only what Vault says positively: "invalid accessor", "invalid lease", a nil role read
 * (and, for a secret ID, a nil lookup or `data.error`, or its role gone), or a mount that does not
 * exist in the namespace (404 with errors; discover concludes the same). A denial, a seal or a
 * timeout is unknown, with the code and the message naming what is missing. Anything else throws.
 */
import type { VaultClusterConfig } from '../../config/schema.js';
import { CwError, ErrorCodes } from '../../errors.js';
import type { DiscoveredCredential } from '../../model/credential.js';
import { attribute, type MatchSubject } from '../../registry/match.js';
import type { RecheckContext, RecheckResult } from '../source.js';
import { isPartialError, isUnknownPath, VaultApi, type VaultHttp } from './api.js';
import { appRoleRecords, lookupSecretId, readAppRole, roleTokenPolicies } from './approle.js';
import { awsRoleRecord, readAwsRole } from './aws-engine.js';
import { leaseRecord, lookupLease } from './leases.js';
import { loadNamedPolicies } from './policies.js';
import { type ParsedVaultId, parseVaultId } from './recheck-id.js';
import { lookupAccessor, lookupSelfAccessor, strs, tokenRecord, tokenSubject } from './tokens.js';

/**
 * Every capability recheck() uses. Each is already in VAULT_SCANNER_CAPABILITIES (recheck reads a
 * subset of what a scan reads, one item at a time), so a recheck needs nothing beyond a scan.
 */
export const VAULT_RECHECK_CAPABILITIES = [
  'auth/token/lookup-accessor: update',
  'auth/token/lookup-self: read (default policy)',
  'sys/policies/acl/*: read',
  'auth/<approle mount>/role/*: read',
  'auth/<approle mount>/role/+/secret-id-accessor/lookup: update',
  'sys/leases/lookup: update',
  '<aws mount>/roles/*: read',
] as const;

/** What recheck() needs beyond VAULT_SCANNER_CAPABILITIES: nothing. */
export const VAULT_RECHECK_PERMISSIONS = [] as const;

type Read = { cred: DiscoveredCredential; subject: MatchSubject } | { absent: string };

const where = (p: ParsedVaultId) => `vault ${p.cluster.name}${p.ns ? ` namespace ${p.ns}` : ''}`;

async function readToken(api: VaultApi, p: ParsedVaultId, accessor: string, observedAt: string): Promise<Read> {
  const t = await lookupAccessor(api, p.ns, accessor);
  if (!t)
    return { absent: `${where(p)}: token accessor ${accessor}: invalid accessor (the token is revoked or expired)` };
  const policies = await loadNamedPolicies(api, p.ns, [...strs(t.policies), ...strs(t.identity_policies)]);
  // As discover: lookup-self in the unit's namespace (root when namespaces are discovered); a seal
  // is an answer (unknown), another denial or timeout only leaves `self` false.
  let selfAccessor: string | null = null;
  try {
    selfAccessor = await lookupSelfAccessor(api, Array.isArray(p.cluster.namespaces) ? p.ns : '');
  } catch (err) {
    if (!isPartialError(err) || err.code === ErrorCodes.VAULT_SEALED) throw err;
  }
  const ctx = { cluster: p.cluster.name, ns: p.ns, policies, selfAccessor, observedAt };
  return { cred: tokenRecord(t, ctx), subject: tokenSubject(t, p.ns) };
}

async function readAppRoleItem(
  api: VaultApi,
  p: ParsedVaultId,
  ref: { mount: string; role: string; accessor?: string },
  observedAt: string,
): Promise<Read> {
  const { mount, role, accessor } = ref;
  const d = await readAppRole(api, p.ns, mount, role);
  const roleGone = `${where(p)}: AppRole role "${role}" does not exist on auth/${mount}`;
  if (!d) return { absent: accessor === undefined ? roleGone : `${roleGone}, so its secret ID ${accessor} is gone` };
  const sd = accessor === undefined ? null : await lookupSecretId(api, p.ns, mount, role, accessor);
  if (accessor !== undefined && !sd)
    return {
      absent: `${where(p)}: secret ID accessor ${accessor} of AppRole role "${role}" on auth/${mount} not found (destroyed or expired)`,
    };
  const policies = await loadNamedPolicies(api, p.ns, roleTokenPolicies(d));
  const build = appRoleRecords({ cluster: p.cluster.name, ns: p.ns, policies, observedAt }, mount, role, d);
  return accessor !== undefined && sd ? build.secretId(accessor, sd) : build.role();
}

async function readOne(api: VaultApi, p: ParsedVaultId, observedAt: string): Promise<Read> {
  const ref = p.ref;
  const at = { cluster: p.cluster.name, ns: p.ns, observedAt };
  const nsOnly: MatchSubject = { sourceType: 'vault', vault: { namespace: p.ns } };
  switch (ref.kind) {
    case 'token':
      return readToken(api, p, ref.accessor, observedAt);
    case 'approle-role':
    case 'secret-id':
      return readAppRoleItem(api, p, ref, observedAt);
    case 'lease': {
      const d = await lookupLease(api, p.ns, ref.leaseId);
      if (!d) return { absent: `${where(p)}: lease ${ref.leaseId}: invalid lease (revoked or expired)` };
      return { cred: leaseRecord(d, at), subject: nsOnly };
    }
    case 'aws-role': {
      const d = await readAwsRole(api, p.ns, ref.mount, ref.role);
      if (!d) return { absent: `${where(p)}: AWS secrets engine role "${ref.role}" does not exist on ${ref.mount}/` };
      return { cred: awsRoleRecord(at, ref.mount, ref.role, d), subject: nsOnly };
    }
  }
}

export async function recheckVaultCredential(
  clusters: readonly VaultClusterConfig[],
  http: (cluster: string) => VaultHttp,
  credentialId: string,
  ctx: RecheckContext,
): Promise<RecheckResult> {
  const p = parseVaultId(clusters, credentialId);
  const api = new VaultApi(http(p.cluster.name), p.cluster.name, p.cluster.requestTimeoutMs);
  const observedAt = ctx.clock.now().toISOString();
  const end = () => ({ apiCalls: api.counts, checkedAt: ctx.clock.now().toISOString() });
  let read: Read;
  try {
    read = await readOne(api, p, observedAt);
  } catch (err) {
    if (isUnknownPath(err) && p.ref.kind !== 'token' && p.ref.kind !== 'lease') {
      // No such mount in this namespace: nothing of that kind exists here (discover concludes the same).
      return { state: 'absent', reason: `${(err as Error).message} (the mount does not exist here)`, ...end() };
    }
    if (!isPartialError(err)) throw err;
    ctx.log.warn({ credentialId, code: err.code }, err.message);
    return { state: 'unknown', code: err.code, reason: err.message, ...end() };
  }
  if ('absent' in read) return { state: 'absent', reason: read.absent, ...end() };
  if (read.cred.id !== credentialId) {
    throw new CwError(
      ErrorCodes.VAULT,
      `${where(p)}: asked for ${credentialId}, Vault answered for ${read.cred.id}; not treated as present`,
    );
  }
  return { state: 'present', credential: attribute(ctx.registry, read.cred, read.subject), ...end() };
}
