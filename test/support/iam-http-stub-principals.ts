/**
 * The per-principal IAM actions of IamHttpStub (what a recheck reads one user or role at a time):
 * GetUser, ListUserPolicies, GetUserPolicy, ListAttachedUserPolicies, ListGroupsForUser,
 * ListGroupPolicies, GetGroupPolicy, ListAttachedGroupPolicies, ListRolePolicies, GetRolePolicy,
 * ListAttachedRolePolicies, GetLoginProfile and ListMFADevices. Same contract as the stub: List*
 * actions page with MaxItems/Marker (capped by `behaviour.pageSize`), a missing user, group, role
 * or policy is 404 NoSuchEntity with AWS's message, faults are applied by the stub before dispatch.
 */
import type { StubEstate, StubGroup, StubRole, StubUser, Xml } from './iam-http-stub.js';

/** What these actions need from the stub, which keeps its helpers private. */
export interface PrincipalStubView {
  estate: StubEstate;
  /** The user, or 404 NoSuchEntity. */
  user(name: string): StubUser;
  userSummary(u: StubUser): Record<string, Xml>;
  /** A policy document as the stub encodes them (URL-encoded unless told otherwise). */
  doc(document: object): string;
  attached(arns?: string[]): Xml;
  page(action: string, p: Record<string, string>, listName: string, all: Xml[]): Xml;
  notFound(message: string): never;
  required(p: Record<string, string>, name: string): string;
}

const DEFAULT_CREATE_DATE = '2024-01-01T00:00:00Z';

function group(v: PrincipalStubView, name: string): StubGroup {
  return v.estate.groups.find((g) => g.name === name) ?? v.notFound(`The group with name ${name} cannot be found.`);
}

function role(v: PrincipalStubView, name: string): StubRole {
  return v.estate.roles.find((r) => r.name === name) ?? v.notFound(`The role with name ${name} cannot be found.`);
}

function inlineGet(
  v: PrincipalStubView,
  owner: { kind: 'UserName' | 'GroupName' | 'RoleName'; name: string; policies?: Record<string, object> },
  policyName: string,
): Xml {
  const doc = owner.policies?.[policyName];
  if (!doc)
    return v.notFound(
      `The ${owner.kind.replace('Name', '').toLowerCase()} policy with name ${policyName} cannot be found.`,
    );
  return { [owner.kind]: owner.name, PolicyName: policyName, PolicyDocument: v.doc(doc) };
}

const asList = (x: Xml): Xml[] => (Array.isArray(x) ? x : []);

/** The answer to a per-principal action, or undefined when the action is not one of these. */
export function principalAction(v: PrincipalStubView, action: string, p: Record<string, string>): Xml | undefined {
  const account = v.estate.accountId;
  switch (action) {
    case 'GetUser': {
      const u = v.user(v.required(p, 'UserName'));
      return {
        User: {
          ...v.userSummary(u),
          PermissionsBoundary: u.boundaryArn
            ? { PermissionsBoundaryType: 'PermissionsBoundaryPolicy', PermissionsBoundaryArn: u.boundaryArn }
            : undefined,
          Tags:
            u.tags && Object.keys(u.tags).length
              ? Object.entries(u.tags).map(([Key, Value]) => ({ Key, Value }))
              : undefined,
        },
      };
    }
    case 'ListUserPolicies': {
      const u = v.user(v.required(p, 'UserName'));
      return v.page(action, p, 'PolicyNames', Object.keys(u.inlinePolicies ?? {}));
    }
    case 'GetUserPolicy': {
      const u = v.user(v.required(p, 'UserName'));
      return inlineGet(v, { kind: 'UserName', name: u.name, policies: u.inlinePolicies }, v.required(p, 'PolicyName'));
    }
    case 'ListAttachedUserPolicies': {
      const u = v.user(v.required(p, 'UserName'));
      return v.page(action, p, 'AttachedPolicies', asList(v.attached(u.managedPolicyArns)));
    }
    case 'ListGroupsForUser': {
      const u = v.user(v.required(p, 'UserName'));
      const groups = (u.groups ?? []).map((name) => ({
        Path: '/',
        GroupName: name,
        GroupId: `AGPA${name.toUpperCase()}`,
        Arn: `arn:aws:iam::${account}:group/${name}`,
        CreateDate: DEFAULT_CREATE_DATE,
      }));
      return v.page(action, p, 'Groups', groups);
    }
    case 'ListGroupPolicies': {
      const g = group(v, v.required(p, 'GroupName'));
      return v.page(action, p, 'PolicyNames', Object.keys(g.inlinePolicies ?? {}));
    }
    case 'GetGroupPolicy': {
      const g = group(v, v.required(p, 'GroupName'));
      return inlineGet(v, { kind: 'GroupName', name: g.name, policies: g.inlinePolicies }, v.required(p, 'PolicyName'));
    }
    case 'ListAttachedGroupPolicies': {
      const g = group(v, v.required(p, 'GroupName'));
      return v.page(action, p, 'AttachedPolicies', asList(v.attached(g.managedPolicyArns)));
    }
    case 'ListRolePolicies': {
      const r = role(v, v.required(p, 'RoleName'));
      return v.page(action, p, 'PolicyNames', Object.keys(r.inlinePolicies ?? {}));
    }
    case 'GetRolePolicy': {
      const r = role(v, v.required(p, 'RoleName'));
      return inlineGet(v, { kind: 'RoleName', name: r.name, policies: r.inlinePolicies }, v.required(p, 'PolicyName'));
    }
    case 'ListAttachedRolePolicies': {
      const r = role(v, v.required(p, 'RoleName'));
      return v.page(action, p, 'AttachedPolicies', asList(v.attached(r.managedPolicyArns)));
    }
    case 'GetLoginProfile': {
      const u = v.user(v.required(p, 'UserName'));
      if (!(u.hasPassword ?? u.passwordLastUsed !== undefined))
        v.notFound(`Login Profile for User ${u.name} cannot be found.`);
      return {
        LoginProfile: { UserName: u.name, CreateDate: v.userSummary(u).CreateDate, PasswordResetRequired: false },
      };
    }
    case 'ListMFADevices': {
      const u = v.user(v.required(p, 'UserName'));
      const devices = u.mfa
        ? [{ UserName: u.name, SerialNumber: `arn:aws:iam::${account}:mfa/${u.name}`, EnableDate: DEFAULT_CREATE_DATE }]
        : [];
      return v.page(action, p, 'MFADevices', devices);
    }
    default:
      return undefined;
  }
}
