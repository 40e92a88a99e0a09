/**
 * Pure assembly of AWS credential records from what the collectors fetched: one record per access
 * key, per agent role, and per agent console password, each carrying its principal's grants with
 * provenance (inline, managed, via a group, boundary). No SDK calls here.
 */
import type { AccessKeyMetadata, AttachedPolicy, PolicyDetail, RoleDetail, Tag, UserDetail } from '@aws-sdk/client-iam';
import type { Registry } from '../../model/agent.js';
import type { Credential, Grant, LastUsed, Provenance } from '../../model/credential.js';
import { awsAccessKeyId, awsConsolePasswordId, awsRoleId, awsRootAccessKeyId } from '../../model/ids.js';
import { attribute, type MatchSubject } from '../../registry/match.js';
import type { AuthDetails } from './collect.js';
import type { CredentialReport, ReportKeySlot } from './credential-report.js';
import { decodePolicyDocument, statementsToGrants } from './policy-doc.js';

export interface AwsCollected {
  account: string;
  details: AuthDetails;
  report: CredentialReport | null;
  agentUsers: UserDetail[];
  agentRoles: RoleDetail[];
  accessKeys: Map<string, AccessKeyMetadata[]>;
  /** Key id → last use from GetAccessKeyLastUsed, for keys the report did not cover. */
  keyLastUsed: Map<string, LastUsed>;
  roleSessionSeconds: Map<string, number>;
  observedAt: string;
  /**
   * Which API `report` came from, for `lastUsed.source`. Absent: the IAM credential report. A
   * recheck builds a one-row report from GetUser/GetLoginProfile/ListMFADevices and says so here.
   */
  reportSource?: string;
}

const iso = (d: Date | undefined | null): string | null => (d ? d.toISOString() : null);
export const tagMap = (tags: Tag[] | undefined): Record<string, string> =>
  Object.fromEntries((tags ?? []).filter((t) => t.Key).map((t) => [t.Key!, t.Value ?? '']));

export function userSubject(u: UserDetail): MatchSubject {
  return { sourceType: 'aws', aws: { userName: u.UserName!, arn: u.Arn ?? '', tags: tagMap(u.Tags) } };
}
export function roleSubject(r: RoleDetail): MatchSubject {
  return { sourceType: 'aws', aws: { roleName: r.RoleName!, arn: r.Arn ?? '', tags: tagMap(r.Tags) } };
}

class GrantBuilder {
  readonly grants: Grant[] = [];
  readonly errors: string[] = [];
  constructor(private readonly details: AuthDetails) {}

  inline(list: PolicyDetail[] | undefined, attachment: 'inline' | 'group-inline', via?: string): void {
    for (const p of list ?? [])
      this.add(p.PolicyDocument, { policy: p.PolicyName ?? '(unnamed)', attachment, ...(via ? { via } : {}) });
  }

  managed(list: AttachedPolicy[] | undefined, attachment: 'managed' | 'group-managed', via?: string): void {
    for (const p of list ?? []) if (p.PolicyArn) this.arn(p.PolicyArn, attachment, via);
  }

  arn(arn: string, attachment: Provenance['attachment'], via?: string): void {
    const doc = this.details.policyDocs.get(arn);
    const prov: Provenance = {
      policy: doc?.name ?? arn.split('/').pop()!,
      policyArn: arn,
      attachment,
      ...(via ? { via } : {}),
    };
    if (!doc) this.errors.push(`${arn}: policy document not available`);
    else this.add(doc.document, prov);
  }

  private add(document: string | undefined, prov: Provenance): void {
    try {
      this.grants.push(...statementsToGrants(decodePolicyDocument(document), prov));
    } catch (err) {
      this.errors.push(`${prov.policyArn ?? prov.policy}: ${(err as Error).message}`);
    }
  }
}

function userGrants(u: UserDetail, details: AuthDetails): GrantBuilder {
  const b = new GrantBuilder(details);
  b.inline(u.UserPolicyList, 'inline');
  b.managed(u.AttachedManagedPolicies, 'managed');
  for (const gName of u.GroupList ?? []) {
    const g = details.groups.get(gName);
    b.inline(g?.GroupPolicyList, 'group-inline', gName);
    b.managed(g?.AttachedManagedPolicies, 'group-managed', gName);
  }
  if (u.PermissionsBoundary?.PermissionsBoundaryArn) b.arn(u.PermissionsBoundary.PermissionsBoundaryArn, 'boundary');
  return b;
}

function roleGrants(r: RoleDetail, details: AuthDetails): GrantBuilder {
  const b = new GrantBuilder(details);
  b.inline(r.RolePolicyList, 'inline');
  b.managed(r.AttachedManagedPolicies, 'managed');
  if (r.PermissionsBoundary?.PermissionsBoundaryArn) b.arn(r.PermissionsBoundary.PermissionsBoundaryArn, 'boundary');
  return b;
}

/**
 * The report slot describing this key. Slots fill in creation order and last_rotated is the key's
 * CreateDate, but only to the second, so two keys made in the same second need the slot's active
 * flag to tell them apart. When they still tie and their slots say the same thing about last use,
 * either slot is right; when they differ, the key is not covered and gets GetAccessKeyLastUsed.
 */
export function reportSlotFor(key: AccessKeyMetadata, slots: ReportKeySlot[]): ReportKeySlot | null {
  const created = key.CreateDate?.getTime();
  if (created === undefined) return null;
  const active = key.Status === 'Active';
  const candidates = slots.filter((s) => s.lastRotated !== null && s.active === active);
  const offset = (s: ReportKeySlot) => created - new Date(s.lastRotated!).getTime();
  // The report truncates to the second; the SDK rounds CreateDate's microseconds to milliseconds,
  // so a key made at …05.9996 reads as …06.000 against a slot of …05. A slot exactly at either
  // edge cannot be told from a neighbouring key's: not covered, GetAccessKeyLastUsed decides.
  if (candidates.some((s) => offset(s) === -1 || (offset(s) >= 1000 && offset(s) <= 1001))) return null;
  const hits = candidates.filter((s) => offset(s) >= 0 && offset(s) < 1000);
  const first = hits[0];
  if (!first) return null;
  const same = (s: ReportKeySlot) =>
    s.lastUsedDate === first.lastUsedDate &&
    s.lastUsedRegion === first.lastUsedRegion &&
    s.lastUsedService === first.lastUsedService;
  return hits.every(same) ? first : null;
}

export function accessKeyLastUsed(key: AccessKeyMetadata, c: AwsCollected, userName: string): LastUsed | null {
  const fromApi = c.keyLastUsed.get(key.AccessKeyId!);
  if (fromApi) return fromApi;
  const slot = reportSlotFor(key, c.report?.rows.get(userName)?.keys ?? []);
  if (!slot) return null;
  return {
    at: slot.lastUsedDate,
    service: slot.lastUsedService,
    region: slot.lastUsedRegion,
    source: c.reportSource ?? 'credential-report',
    asOf: c.report?.generatedAt ?? c.observedAt,
  };
}

export function buildAwsCredentials(c: AwsCollected, registry: Registry): Credential[] {
  const out: Credential[] = [];
  for (const u of c.agentUsers) {
    const userName = u.UserName!;
    const subject = userSubject(u);
    const g = userGrants(u, c.details);
    const tags = tagMap(u.Tags);
    const base = {
      sourceType: 'aws' as const,
      source: c.account,
      principal: u.Arn ?? userName,
      grants: g.grants,
      tags,
      observedAt: c.observedAt,
    };
    const userAttrs = {
      userName,
      userId: u.UserId,
      path: u.Path,
      groups: u.GroupList ?? [],
      ...(u.PermissionsBoundary?.PermissionsBoundaryArn
        ? { boundaryArn: u.PermissionsBoundary.PermissionsBoundaryArn }
        : {}),
      ...(g.errors.length ? { grantErrors: g.errors } : {}),
    };
    for (const k of c.accessKeys.get(userName) ?? []) {
      const slot = reportSlotFor(k, c.report?.rows.get(userName)?.keys ?? []);
      out.push(
        attribute(
          registry,
          {
            ...base,
            id: awsAccessKeyId(c.account, k.AccessKeyId!),
            kind: 'aws-access-key',
            createdAt: iso(k.CreateDate),
            lastUsed: accessKeyLastUsed(k, c, userName),
            expiresAt: null,
            status: k.Status === 'Active' ? 'active' : k.Status === 'Inactive' ? 'inactive' : 'unknown',
            attributes: { ...userAttrs, accessKeyId: k.AccessKeyId, ...(slot ? { reportSlot: slot.slot } : {}) },
          },
          subject,
        ),
      );
    }
    const row = c.report?.rows.get(userName);
    if (row?.passwordEnabled) {
      out.push(
        attribute(
          registry,
          {
            ...base,
            id: awsConsolePasswordId(c.account, userName),
            kind: 'aws-console-password',
            createdAt: row.passwordLastChanged,
            lastUsed: {
              at: row.passwordLastUsed,
              source: c.reportSource ?? 'credential-report',
              asOf: c.report?.generatedAt ?? c.observedAt,
            },
            expiresAt: null,
            status: 'active',
            attributes: { ...userAttrs, mfaActive: row.mfaActive },
          },
          subject,
        ),
      );
    }
  }
  for (const r of c.agentRoles) {
    const g = roleGrants(r, c.details);
    let trustPolicy: unknown = null;
    try {
      trustPolicy = r.AssumeRolePolicyDocument ? decodePolicyDocument(r.AssumeRolePolicyDocument) : null;
    } catch (err) {
      g.errors.push(`trust policy: ${(err as Error).message}`);
    }
    const lu = r.RoleLastUsed;
    out.push(
      attribute(
        registry,
        {
          id: awsRoleId(c.account, r.RoleName!),
          kind: 'aws-role',
          sourceType: 'aws',
          source: c.account,
          principal: r.Arn ?? r.RoleName!,
          createdAt: iso(r.CreateDate),
          lastUsed: {
            at: iso(lu?.LastUsedDate),
            region: lu?.Region ?? null,
            source: 'RoleLastUsed',
            asOf: c.observedAt,
          },
          expiresAt: null,
          status: 'active',
          grants: g.grants,
          tags: tagMap(r.Tags),
          attributes: {
            roleName: r.RoleName,
            roleId: r.RoleId,
            path: r.Path,
            trustPolicy,
            maxSessionDurationSeconds: c.roleSessionSeconds.get(r.RoleName!) ?? null,
            ...(r.PermissionsBoundary?.PermissionsBoundaryArn
              ? { boundaryArn: r.PermissionsBoundary.PermissionsBoundaryArn }
              : {}),
            ...(g.errors.length ? { grantErrors: g.errors } : {}),
          },
          observedAt: c.observedAt,
        },
        roleSubject(r),
      ),
    );
  }
  out.push(...rootKeyRecords(c, registry));
  return out.sort((a, b) => a.id.localeCompare(b.id));
}

/** The root account's access keys, from the report's `<root_account>` row: always inventoried (CIS 1.3 / IAM.4). */
function rootKeyRecords(c: AwsCollected, registry: Registry): Credential[] {
  const root = c.report?.root;
  if (!root) return [];
  const arn = `arn:aws:iam::${c.account}:root`;
  return root.keys.map((k) =>
    attribute(
      registry,
      {
        id: awsRootAccessKeyId(c.account, k.slot),
        kind: 'aws-root-access-key',
        sourceType: 'aws',
        source: c.account,
        principal: arn,
        createdAt: k.lastRotated,
        lastUsed: {
          at: k.lastUsedDate,
          service: k.lastUsedService,
          region: k.lastUsedRegion,
          source: c.reportSource ?? 'credential-report',
          asOf: c.report?.generatedAt ?? c.observedAt,
        },
        expiresAt: null,
        status: k.active ? 'active' : 'inactive',
        grants: [
          {
            type: 'aws-statement',
            effect: 'Allow',
            actions: ['*'],
            resources: ['*'],
            provenance: { policy: 'root account', attachment: 'inline' },
          },
        ],
        tags: {},
        attributes: { reportSlot: k.slot, mfaActive: root.mfaActive },
        observedAt: c.observedAt,
      },
      { sourceType: 'aws', aws: { arn, tags: {} } },
    ),
  );
}
