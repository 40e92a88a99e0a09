/**
 * Per-principal IAM reads for recheck: one user or one role, read with the Get/List calls that
 * name it and assembled into the shapes GetAccountAuthorizationDetails returns (UserDetail,
 * GroupDetail, RoleDetail), so that the scan's own record builder can run on them.
 *
 * Every call goes through `Reader.call`, which turns IAM's answer into a recheck outcome:
 * - a denial is `unknown`, naming the permission that is missing;
 * - NoSuchEntity on the principal itself (the user, the role, the key, the login profile) is
 *   `absent`, with the reason the step gives;
 * - NoSuchEntity on a part read a moment after it was listed (an inline policy, a group, a managed
 *   policy) is `unknown`: the principal changed while being read but still exists, so `absent`
 *   would be wrong;
 * - anything else throws, as in discover (transient errors are retryable).
 */
import {
  type AttachedPolicy,
  GetGroupPolicyCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  GetUserCommand,
  GetUserPolicyCommand,
  type GroupDetail,
  type IAMClient,
  ListAttachedGroupPoliciesCommand,
  ListAttachedRolePoliciesCommand,
  ListAttachedUserPoliciesCommand,
  ListGroupPoliciesCommand,
  ListGroupsForUserCommand,
  ListRolePoliciesCommand,
  ListUserPoliciesCommand,
  type PolicyDetail,
  type RoleDetail,
  type User,
  type UserDetail,
} from '@aws-sdk/client-iam';
import { mapLimit } from '../../util/concurrency.js';
import { type AuthDetails, fetchManagedPolicies } from './collect.js';
import { awsErrorName, isAccessDenied, toCwError } from './errors.js';

export type StopOutcome = { state: 'absent'; reason: string } | { state: 'unknown'; code: string; reason: string };

/** Ends a recheck early with a definite answer. */
export class RecheckStop extends Error {
  constructor(readonly outcome: StopOutcome) {
    super(outcome.reason);
    this.name = 'RecheckStop';
  }
}

export interface Step {
  /** The IAM operation ("GetUser"). A denial names `iam:<op>` unless `needs` says otherwise. */
  op: string;
  /** What the call reads, for messages ("user svc-bot"). */
  subject: string;
  /** Set when NoSuchEntity here means the credential is gone: the `absent` reason. */
  gone?: string;
  needs?: string;
}

const isNoSuchEntity = (err: unknown) => ['NoSuchEntity', 'NoSuchEntityException'].includes(awsErrorName(err));
type Page = { IsTruncated?: boolean | undefined; Marker?: string | undefined };

export class Reader {
  constructor(
    readonly iam: IAMClient,
    readonly account: string,
    readonly concurrency: number,
    readonly signal?: AbortSignal,
  ) {}

  get opts(): { abortSignal?: AbortSignal } {
    return this.signal ? { abortSignal: this.signal } : {};
  }

  async call<T>(step: Step, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof RecheckStop) throw err;
      const msg = (err as Error)?.message ?? String(err);
      if (isAccessDenied(err)) {
        const needs = step.needs ?? `iam:${step.op}`;
        throw new RecheckStop({
          state: 'unknown',
          code: awsErrorName(err),
          reason: `${step.op} on ${step.subject} was denied: needs ${needs} (${msg})`,
        });
      }
      if (isNoSuchEntity(err)) {
        if (step.gone) throw new RecheckStop({ state: 'absent', reason: step.gone });
        throw new RecheckStop({
          state: 'unknown',
          code: awsErrorName(err),
          reason: `${step.subject} changed while being read (${step.op}: ${msg}); recheck again`,
        });
      }
      throw toCwError(err, `account ${this.account}: ${step.op} ${step.subject}`);
    }
  }

  /** Every page of a Marker/IsTruncated listing (IAM may return fewer items than asked even when more remain). */
  async pages<P extends Page, T>(
    step: Step,
    page: (marker: string | undefined) => Promise<P>,
    items: (p: P) => T[] | undefined,
  ): Promise<T[]> {
    const out: T[] = [];
    let marker: string | undefined;
    do {
      const p = await this.call(step, () => page(marker));
      out.push(...(items(p) ?? []));
      marker = p.IsTruncated ? p.Marker : undefined;
    } while (marker);
    return out;
  }

  /** Managed policy documents (customer-managed and AWS-managed alike) for these ARNs. */
  async managedPolicies(arns: Iterable<string>, into: AuthDetails['policyDocs']): Promise<void> {
    await this.call(
      {
        op: 'GetPolicy/GetPolicyVersion',
        subject: 'managed policies',
        needs: 'iam:GetPolicy and iam:GetPolicyVersion',
      },
      () => fetchManagedPolicies(this.iam, arns, into, this.concurrency, this.signal),
    );
  }
}

const emptyDetails = (): AuthDetails => ({ users: [], roles: [], groups: new Map(), policyDocs: new Map() });

/** GetUser. `gone`: the absent reason when the user no longer exists. */
export async function getUser(r: Reader, userName: string, gone: string): Promise<User> {
  const out = await r.call({ op: 'GetUser', subject: `user ${userName}`, gone }, () =>
    r.iam.send(new GetUserCommand({ UserName: userName }), r.opts),
  );
  if (!out.User) throw new RecheckStop({ state: 'absent', reason: gone });
  return out.User;
}

/** Inline policies by name, then each document: `list` pages the names, `get` reads one. */
async function inlinePolicies(
  r: Reader,
  listStep: Step,
  list: (marker: string | undefined) => Promise<Page & { PolicyNames?: string[] | undefined }>,
  getStep: (name: string) => Step,
  get: (name: string) => Promise<{ PolicyDocument?: string | undefined }>,
): Promise<PolicyDetail[]> {
  const names = await r.pages(listStep, list, (p) => p.PolicyNames);
  return mapLimit(names, r.concurrency, async (name) => {
    const out = await r.call(getStep(name), () => get(name));
    return { PolicyName: name, PolicyDocument: out.PolicyDocument };
  });
}

async function readGroup(r: Reader, groupName: string, user: string): Promise<GroupDetail> {
  const subject = `group ${groupName} (of user ${user})`;
  const GroupPolicyList = await inlinePolicies(
    r,
    { op: 'ListGroupPolicies', subject },
    (Marker) => r.iam.send(new ListGroupPoliciesCommand({ GroupName: groupName, Marker }), r.opts),
    (name) => ({ op: 'GetGroupPolicy', subject: `inline policy ${name} of ${subject}` }),
    (name) => r.iam.send(new GetGroupPolicyCommand({ GroupName: groupName, PolicyName: name }), r.opts),
  );
  const AttachedManagedPolicies = await r.pages(
    { op: 'ListAttachedGroupPolicies', subject },
    (Marker) => r.iam.send(new ListAttachedGroupPoliciesCommand({ GroupName: groupName, Marker }), r.opts),
    (p) => p.AttachedPolicies,
  );
  return { GroupName: groupName, GroupPolicyList, AttachedManagedPolicies };
}

const arnsOf = (list: AttachedPolicy[] | undefined) => (list ?? []).flatMap((p) => (p.PolicyArn ? [p.PolicyArn] : []));

/**
 * A one-user AuthDetails: the user's inline and attached policies, its groups with theirs, and
 * every managed or boundary policy document they name. `gone`: the absent reason if the user
 * disappears meanwhile.
 */
export async function readUserDetails(r: Reader, user: User, gone: string): Promise<AuthDetails> {
  const userName = user.UserName!;
  const subject = `user ${userName}`;
  const UserPolicyList = await inlinePolicies(
    r,
    { op: 'ListUserPolicies', subject, gone },
    (Marker) => r.iam.send(new ListUserPoliciesCommand({ UserName: userName, Marker }), r.opts),
    (name) => ({ op: 'GetUserPolicy', subject: `inline policy ${name} of ${subject}` }),
    (name) => r.iam.send(new GetUserPolicyCommand({ UserName: userName, PolicyName: name }), r.opts),
  );
  const AttachedManagedPolicies = await r.pages(
    { op: 'ListAttachedUserPolicies', subject, gone },
    (Marker) => r.iam.send(new ListAttachedUserPoliciesCommand({ UserName: userName, Marker }), r.opts),
    (p) => p.AttachedPolicies,
  );
  const groupNames = await r.pages(
    { op: 'ListGroupsForUser', subject, gone },
    (Marker) => r.iam.send(new ListGroupsForUserCommand({ UserName: userName, Marker }), r.opts),
    (p) => p.Groups?.flatMap((g) => (g.GroupName ? [g.GroupName] : [])),
  );
  const details = emptyDetails();
  for (const g of await mapLimit(groupNames, r.concurrency, (g) => readGroup(r, g, userName)))
    details.groups.set(g.GroupName!, g);
  const detail: UserDetail = {
    Path: user.Path,
    UserName: userName,
    UserId: user.UserId,
    Arn: user.Arn,
    CreateDate: user.CreateDate,
    UserPolicyList,
    GroupList: groupNames,
    AttachedManagedPolicies,
    PermissionsBoundary: user.PermissionsBoundary,
    Tags: user.Tags,
  };
  details.users.push(detail);
  const arns = [
    ...arnsOf(AttachedManagedPolicies),
    ...[...details.groups.values()].flatMap((g) => arnsOf(g.AttachedManagedPolicies)),
    ...(user.PermissionsBoundary?.PermissionsBoundaryArn ? [user.PermissionsBoundary.PermissionsBoundaryArn] : []),
  ];
  await r.managedPolicies(arns, details.policyDocs);
  return details;
}

/** A one-role AuthDetails, and the role's MaxSessionDuration (which RoleDetail does not carry). */
export async function readRoleDetails(
  r: Reader,
  roleName: string,
  gone: string,
): Promise<{ details: AuthDetails; role: RoleDetail; maxSessionDuration: number | undefined }> {
  const subject = `role ${roleName}`;
  const out = await r.call({ op: 'GetRole', subject, gone }, () =>
    r.iam.send(new GetRoleCommand({ RoleName: roleName }), r.opts),
  );
  const role = out.Role;
  if (!role) throw new RecheckStop({ state: 'absent', reason: gone });
  const RolePolicyList = await inlinePolicies(
    r,
    { op: 'ListRolePolicies', subject, gone },
    (Marker) => r.iam.send(new ListRolePoliciesCommand({ RoleName: roleName, Marker }), r.opts),
    (name) => ({ op: 'GetRolePolicy', subject: `inline policy ${name} of ${subject}` }),
    (name) => r.iam.send(new GetRolePolicyCommand({ RoleName: roleName, PolicyName: name }), r.opts),
  );
  const AttachedManagedPolicies = await r.pages(
    { op: 'ListAttachedRolePolicies', subject, gone },
    (Marker) => r.iam.send(new ListAttachedRolePoliciesCommand({ RoleName: roleName, Marker }), r.opts),
    (p) => p.AttachedPolicies,
  );
  const detail: RoleDetail = {
    Path: role.Path,
    RoleName: role.RoleName,
    RoleId: role.RoleId,
    Arn: role.Arn,
    CreateDate: role.CreateDate,
    AssumeRolePolicyDocument: role.AssumeRolePolicyDocument,
    RolePolicyList,
    AttachedManagedPolicies,
    PermissionsBoundary: role.PermissionsBoundary,
    Tags: role.Tags,
    RoleLastUsed: role.RoleLastUsed,
  };
  const details = emptyDetails();
  details.roles.push(detail);
  const boundary = role.PermissionsBoundary?.PermissionsBoundaryArn;
  await r.managedPolicies([...arnsOf(AttachedManagedPolicies), ...(boundary ? [boundary] : [])], details.policyDocs);
  return { details, role: detail, maxSessionDuration: role.MaxSessionDuration };
}
