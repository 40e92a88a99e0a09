/**
 * Vault's AWS secrets engine (optional, per configured mount): each role is a credential factory,
 * so it is inventoried with its credential type, policy ARNs, role ARNs and IAM groups, and its
 * inline policy document becomes AWS statement grants: the over-privilege inputs on the AWS side.
 */
import type { DiscoveredCredential } from '../../model/credential.js';
import { vaultAwsRoleId, vaultNamespaceSegment } from '../../model/ids.js';
import { mapLimit } from '../../util/concurrency.js';
import { decodePolicyDocument, statementsToGrants } from '../aws/policy-doc.js';
import type { VaultApi } from './api.js';
import { num, strs } from './tokens.js';

export interface AwsRoleBuildCtx {
  cluster: string;
  ns: string;
  observedAt: string;
}

/** `<mount>/roles/<role>`; null when the role does not exist (a nil read). */
export async function readAwsRole(
  api: VaultApi,
  ns: string,
  mount: string,
  role: string,
): Promise<Record<string, unknown> | null> {
  const out = await api.read('vault:read-aws-role', ns, `${mount}/roles/${role}`, `read on ${mount}/roles/${role}`);
  return out?.data ?? null;
}

export function awsRoleRecord(
  ctx: AwsRoleBuildCtx,
  mount: string,
  role: string,
  d: Record<string, unknown>,
): DiscoveredCredential {
  const errors: string[] = [];
  let grants: DiscoveredCredential['grants'] = [];
  if (typeof d.policy_document === 'string' && d.policy_document.trim() !== '') {
    try {
      grants = statementsToGrants(decodePolicyDocument(d.policy_document), {
        policy: `${mount}/roles/${role}`,
        attachment: 'vault-aws-role',
      });
    } catch (err) {
      errors.push(`policy_document: ${(err as Error).message}`);
    }
  }
  return {
    id: vaultAwsRoleId(ctx.cluster, ctx.ns, mount, role),
    kind: 'vault-aws-role',
    sourceType: 'vault',
    source: `${ctx.cluster}/${vaultNamespaceSegment(ctx.ns)}`,
    principal: `${mount}/roles/${role}`,
    createdAt: null,
    lastUsed: null,
    expiresAt: null,
    status: 'active',
    grants,
    tags: {},
    attributes: {
      mount,
      role,
      credentialType: d.credential_type ?? d.credential_types ?? null,
      policyArns: strs(d.policy_arns),
      roleArns: strs(d.role_arns),
      iamGroups: strs(d.iam_groups),
      defaultStsTtlSeconds: num(d.default_sts_ttl),
      maxStsTtlSeconds: num(d.max_sts_ttl),
      ...(errors.length ? { grantErrors: errors } : {}),
    },
    observedAt: ctx.observedAt,
  };
}

export async function scanAwsEngineRoles(
  api: VaultApi,
  ctx: AwsRoleBuildCtx & { concurrency: number },
  mountIn: string,
): Promise<DiscoveredCredential[]> {
  const mount = mountIn.replace(/^\/+|\/+$/g, '');
  const roles = await api.list('vault:list-aws-roles', ctx.ns, `${mount}/roles`, `list on ${mount}/roles`);
  const found = await mapLimit(roles, ctx.concurrency, async (role) => {
    const d = await readAwsRole(api, ctx.ns, mount, role);
    return d ? { role, d } : null;
  });
  return found.flatMap((f) => (f ? [awsRoleRecord(ctx, mount, f.role, f.d)] : []));
}
