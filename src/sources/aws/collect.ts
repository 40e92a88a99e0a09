/**
 * Bulk IAM collection: GetAccountAuthorizationDetails, every page (looping on IsTruncated, since
 * IAM may return fewer items than asked for even when more remain). AWS-managed policies are not
 * bulk-listed (there are over a thousand); the ones agents actually carry are fetched by ARN.
 */
import {
  type AccessKeyMetadata,
  GetAccessKeyLastUsedCommand,
  GetAccountAuthorizationDetailsCommand,
  type GetAccountAuthorizationDetailsCommandOutput,
  GetPolicyCommand,
  GetPolicyVersionCommand,
  type GroupDetail,
  type IAMClient,
  ListAccessKeysCommand,
  ListRolesCommand,
  type RoleDetail,
  type UserDetail,
} from '@aws-sdk/client-iam';
import type { LastUsed } from '../../model/credential.js';
import { mapLimit } from '../../util/concurrency.js';

export interface AuthDetails {
  users: UserDetail[];
  roles: RoleDetail[];
  groups: Map<string, GroupDetail>;
  /** Managed policy ARN → default version document (raw, possibly URL-encoded). */
  policyDocs: Map<string, { name: string; document: string }>;
}

export async function fetchAuthorizationDetails(iam: IAMClient, signal?: AbortSignal): Promise<AuthDetails> {
  const out: AuthDetails = { users: [], roles: [], groups: new Map(), policyDocs: new Map() };
  let marker: string | undefined;
  do {
    const page: GetAccountAuthorizationDetailsCommandOutput = await iam.send(
      new GetAccountAuthorizationDetailsCommand({
        Filter: ['User', 'Role', 'Group', 'LocalManagedPolicy'],
        MaxItems: 1000,
        ...(marker ? { Marker: marker } : {}),
      }),
      { abortSignal: signal },
    );
    out.users.push(...(page.UserDetailList ?? []));
    out.roles.push(...(page.RoleDetailList ?? []));
    for (const g of page.GroupDetailList ?? []) if (g.GroupName) out.groups.set(g.GroupName, g);
    for (const p of page.Policies ?? []) {
      const v = p.PolicyVersionList?.find((x) => x.IsDefaultVersion) ?? p.PolicyVersionList?.[0];
      // moto leaves PolicyName out of Policies[] entries: fall back to the ARN's last segment.
      if (p.Arn && v?.Document)
        out.policyDocs.set(p.Arn, { name: p.PolicyName ?? p.Arn.split('/').pop()!, document: v.Document });
    }
    marker = page.IsTruncated ? page.Marker : undefined;
  } while (marker);
  return out;
}

/** Fetch default-version documents for managed policies not already known (AWS-managed ones). */
export async function fetchManagedPolicies(
  iam: IAMClient,
  arns: Iterable<string>,
  into: AuthDetails['policyDocs'],
  concurrency: number,
  signal?: AbortSignal,
): Promise<void> {
  const missing = [...new Set(arns)].filter((a) => !into.has(a));
  await mapLimit(missing, concurrency, async (arn) => {
    const pol = await iam.send(new GetPolicyCommand({ PolicyArn: arn }), { abortSignal: signal });
    const versionId = pol.Policy?.DefaultVersionId;
    if (!versionId) return;
    const ver = await iam.send(new GetPolicyVersionCommand({ PolicyArn: arn, VersionId: versionId }), {
      abortSignal: signal,
    });
    if (ver.PolicyVersion?.Document) {
      into.set(arn, { name: pol.Policy?.PolicyName ?? arn.split('/').pop()!, document: ver.PolicyVersion.Document });
    }
  });
}

export async function listAccessKeys(
  iam: IAMClient,
  userName: string,
  signal?: AbortSignal,
): Promise<AccessKeyMetadata[]> {
  const keys: AccessKeyMetadata[] = [];
  let marker: string | undefined;
  do {
    const page = await iam.send(
      new ListAccessKeysCommand({ UserName: userName, ...(marker ? { Marker: marker } : {}) }),
      {
        abortSignal: signal,
      },
    );
    keys.push(...(page.AccessKeyMetadata ?? []));
    marker = page.IsTruncated ? page.Marker : undefined;
  } while (marker);
  return keys;
}

/** GetAccessKeyLastUsed for one key: its last use ("N/A" reads as null) and the user IAM says owns it. */
export async function getAccessKeyLastUsed(
  iam: IAMClient,
  accessKeyId: string,
  asOf: () => string,
  signal?: AbortSignal,
): Promise<{ userName: string | undefined; lastUsed: LastUsed }> {
  const out = await iam.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: accessKeyId }), { abortSignal: signal });
  const lu = out.AccessKeyLastUsed;
  const na = (v: string | undefined) => (v === undefined || v === 'N/A' ? null : v);
  return {
    userName: out.UserName,
    lastUsed: {
      at: lu?.LastUsedDate ? lu.LastUsedDate.toISOString() : null,
      service: na(lu?.ServiceName),
      region: na(lu?.Region),
      source: 'GetAccessKeyLastUsed',
      asOf: asOf(),
    },
  };
}

/** Role name → MaxSessionDuration, which GetAccountAuthorizationDetails does not return. */
export async function listRoleSessionDurations(iam: IAMClient, signal?: AbortSignal): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  let marker: string | undefined;
  do {
    const page = await iam.send(new ListRolesCommand({ MaxItems: 1000, ...(marker ? { Marker: marker } : {}) }), {
      abortSignal: signal,
    });
    for (const r of page.Roles ?? []) if (r.RoleName && r.MaxSessionDuration) out.set(r.RoleName, r.MaxSessionDuration);
    marker = page.IsTruncated ? page.Marker : undefined;
  } while (marker);
  return out;
}
