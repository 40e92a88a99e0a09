/**
 * IAM served from memory at the HTTP layer. Pass an IamHttpStub as `requestHandler` to a real IAMClient.
 * The SDK's own serializer, XML deserializer, paginators, error parsing and retry strategy all run, and
 * only the network is replaced. Use it for what moto_server cannot do: pagination of
 * GetAccountAuthorizationDetails/ListAccessKeys/ListUsers, Throttling, LimitExceeded, AccessDenied and
 * ReportInProgress.
 *
 * Contract:
 * - Speaks the IAM Query protocol: a form-encoded POST body `Action=X&Version=2010-05-08&...` in, and
 *   `<XResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><XResult>…</XResult><ResponseMetadata>…`
 *   out. Lists are `<member>` elements. Errors are `<ErrorResponse><Error><Type/><Code/><Message/></Error>
 *   <RequestId/></ErrorResponse>` with AWS's HTTP status codes. Every response carries `x-amzn-requestid`.
 * - Actions: GetAccountAuthorizationDetails, ListUsers, ListRoles, ListAccessKeys, GetAccessKeyLastUsed,
 *   GetRole, GetPolicy, GetPolicyVersion, GenerateCredentialReport and GetCredentialReport, plus the
 *   per-principal reads in iam-http-stub-principals.ts (GetUser, List/Get*Policies, GetLoginProfile,
 *   ListMFADevices, …). Any other action gets 400 InvalidAction.
 * - Pagination: `MaxItems` (1–1000, default 100) is capped by `behaviour.pageSize`. The Marker is opaque.
 *   GetAccountAuthorizationDetails pages across entity types in the order users, groups, roles, policies,
 *   so one page can hold the last users and the first roles. `Marker` is left out of the last page; the
 *   SDK paginators stop on that alone and ignore `IsTruncated`.
 * - Faults are applied before dispatch, in this order. The first `throttle[A]` calls of action A get
 *   400 Throttling "Rate exceeded". The next `limitExceeded[A]` calls get 409 LimitExceeded. If A is in
 *   `accessDenied`, every call gets 403 AccessDenied. Every call is recorded in `calls`, faulted ones too.
 * - Credential report. GetCredentialReport answers 410 ReportNotPresent until GenerateCredentialReport
 *   has been called. The first Generate answers STARTED. After that, the next `reportInProgressPolls`
 *   polls (Generate → INPROGRESS, or Get → 404 ReportInProgress; both count) are "not ready", and then the
 *   report is COMPLETE. The CSV is a snapshot taken at completion, in AWS's format: a `<root_account>`
 *   row, lowercase booleans, `N/A`/`no_information`/`not_supported` where AWS writes them, and a user's
 *   first two keys in creation order in slots 1 and 2.
 * - Policy documents (inline, trust, managed versions) are JSON-serialised and URL-encoded as in
 *   RFC 3986, as real AWS does. Pass `urlEncodePolicies: false` to get the raw JSON instead.
 * - Simplifications: only a policy's default version exists. Every estate policy appears in
 *   GetAccountAuthorizationDetails, attached or not. IDs are derived from names, so they are stable.
 *   A missing required parameter gets 400 ValidationError.
 */
import { createHash } from 'node:crypto';
import { type HttpHandler, type HttpRequest, HttpResponse } from '@smithy/core/protocols';
import { type PrincipalStubView, principalAction } from './iam-http-stub-principals.js';

export interface StubAccessKey {
  id: string;
  status: 'Active' | 'Inactive';
  createDate: string;
  lastUsed?: { date: string; service: string; region: string };
}
export interface StubUser {
  name: string;
  id?: string;
  path?: string;
  createDate?: string;
  tags?: Record<string, string>;
  groups?: string[];
  inlinePolicies?: Record<string, object>;
  managedPolicyArns?: string[];
  accessKeys?: StubAccessKey[];
  passwordLastUsed?: string;
  hasPassword?: boolean;
  /** A permissions boundary (GetAccountAuthorizationDetails and GetUser show it). */
  boundaryArn?: string;
  /** One virtual MFA device (ListMFADevices, and mfa_active in the credential report). */
  mfa?: boolean;
}
export interface StubRole {
  name: string;
  createDate?: string;
  trustPolicy?: object;
  inlinePolicies?: Record<string, object>;
  managedPolicyArns?: string[];
  boundaryArn?: string;
  tags?: Record<string, string>;
  lastUsed?: { date: string; region?: string };
  maxSessionDuration?: number;
}
export interface StubGroup {
  name: string;
  inlinePolicies?: Record<string, object>;
  managedPolicyArns?: string[];
}
export interface StubPolicy {
  arn: string;
  name: string;
  document: object;
  defaultVersionId?: string;
}
export interface StubEstate {
  accountId: string;
  users: StubUser[];
  roles: StubRole[];
  groups: StubGroup[];
  policies: StubPolicy[];
}
export interface StubBehaviour {
  /** Max items per page for paginated actions. It wins over the request's MaxItems when smaller. */
  pageSize?: number;
  /** The first N calls of each named action answer 400 Throttling "Rate exceeded". */
  throttle?: Partial<Record<string, number>>;
  /** The N calls after any throttled ones answer 409 LimitExceeded. */
  limitExceeded?: Partial<Record<string, number>>;
  /** These actions always answer 403 AccessDenied. */
  accessDenied?: string[];
  /** How many polls for the credential report answer "not ready" before it is COMPLETE. Default 0. */
  reportInProgressPolls?: number;
  /** URL-encode policy documents as real AWS does. Default true. */
  urlEncodePolicies?: boolean;
  /** Clock for the credential report's GeneratedTime. Default: wall-clock time. */
  now?: () => Date;
}

const XMLNS = 'https://iam.amazonaws.com/doc/2010-05-08/';
const DEFAULT_CREATE_DATE = '2024-01-01T00:00:00Z';
const ROOT_CREATE_DATE = '2020-01-01T00:00:00Z';
export const CREDENTIAL_REPORT_HEADER =
  'user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,' +
  'password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,' +
  'access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,' +
  'access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,' +
  'access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated';

/** A response tree: arrays become `<member>` lists, undefined is left out, and scalars are escaped. */
export type Xml = string | number | boolean | undefined | Xml[] | { [element: string]: Xml };
type Params = Record<string, string>;

class IamFault extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export function escapeXml(text: string): string {
  // \r goes as a character reference because the SDK's parser rewrites literal CR/CRLF to LF.
  return text.replace(/[&<>"'\r]/g, (c) => `&#${c.charCodeAt(0)};`);
}

function toXml(name: string, value: Xml): string {
  if (value === undefined) return '';
  if (Array.isArray(value)) return `<${name}>${value.map((v) => toXml('member', v)).join('')}</${name}>`;
  if (typeof value === 'object') {
    return `<${name}>${Object.entries(value)
      .map(([k, v]) => toXml(k, v))
      .join('')}</${name}>`;
  }
  return `<${name}>${escapeXml(String(value))}</${name}>`;
}

/** ISO 8601 to the second, in AWS's API form `2024-01-01T00:00:00Z`. */
const isoSeconds = (date: string | Date): string => new Date(date).toISOString().replace(/\.\d{3}Z$/, 'Z');
/** The credential report writes times as `2024-01-01T00:00:00+00:00`. */
const reportTime = (date: string): string => isoSeconds(date).replace(/Z$/, '+00:00');
const stableId = (prefix: string, name: string): string =>
  prefix + createHash('sha256').update(name).digest('hex').slice(0, 17).toUpperCase();
const tagList = (tags?: Record<string, string>): Xml =>
  tags && Object.keys(tags).length ? Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) : undefined;
const csvField = (v: string): string => (/[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);

export class IamHttpStub implements HttpHandler {
  readonly calls: { action: string; params: Record<string, string> }[] = [];
  private report: { remaining: number; csv?: string; generatedTime?: string } | undefined;
  private requestSeq = 0;

  constructor(
    private readonly estate: StubEstate,
    private readonly behaviour: StubBehaviour = {},
  ) {}

  countByAction(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const { action } of this.calls) counts[action] = (counts[action] ?? 0) + 1;
    return counts;
  }

  async handle(request: HttpRequest): Promise<{ response: HttpResponse }> {
    const body = typeof request.body === 'string' ? request.body : new TextDecoder().decode(request.body);
    const { Action: action = '', Version: _version, ...params } = Object.fromEntries(new URLSearchParams(body));
    this.calls.push({ action, params });
    const requestId = `00000000-0000-4000-8000-${String(++this.requestSeq).padStart(12, '0')}`;
    try {
      this.injectFault(action);
      const result = this.dispatch(action, params);
      return reply(200, requestId, `${action}Response`, {
        [`${action}Result`]: result,
        ResponseMetadata: { RequestId: requestId },
      });
    } catch (e) {
      if (!(e instanceof IamFault)) throw e;
      return reply(e.status, requestId, 'ErrorResponse', {
        Error: { Type: e.status >= 500 ? 'Receiver' : 'Sender', Code: e.code, Message: e.message },
        RequestId: requestId,
      });
    }
  }

  updateHttpClientConfig(): void {}
  httpHandlerConfigs(): Record<string, never> {
    return {};
  }
  destroy(): void {}

  private injectFault(action: string): void {
    const n = this.countByAction()[action] ?? 0;
    const throttled = this.behaviour.throttle?.[action] ?? 0;
    if (n <= throttled) throw new IamFault(400, 'Throttling', 'Rate exceeded');
    if (n - throttled <= (this.behaviour.limitExceeded?.[action] ?? 0)) {
      throw new IamFault(409, 'LimitExceeded', `Cannot exceed quota for ${action} (stubbed).`);
    }
    if (this.behaviour.accessDenied?.includes(action)) {
      throw new IamFault(
        403,
        'AccessDenied',
        `User: arn:aws:iam::${this.estate.accountId}:user/credwarden is not authorized to perform: iam:${action}`,
      );
    }
  }

  private get principals(): PrincipalStubView {
    return {
      estate: this.estate,
      user: (name) => this.user(name),
      userSummary: (u) => this.userSummary(u),
      doc: (d) => this.doc(d),
      attached: (arns) => this.attached(arns),
      page: (action, p, listName, all) => this.page(action, p, listName, all),
      notFound: (message) => {
        throw new IamFault(404, 'NoSuchEntity', message);
      },
      required,
    };
  }

  private dispatch(action: string, p: Params): Xml {
    switch (action) {
      case 'GetAccountAuthorizationDetails':
        return this.getAccountAuthorizationDetails(p);
      case 'ListUsers':
        return this.page(
          action,
          p,
          'Users',
          this.byPath(p, this.estate.users).map((u) => this.userSummary(u)),
        );
      case 'ListRoles':
        return this.page(
          action,
          p,
          'Roles',
          this.byPath(p, this.estate.roles).map((r) => this.roleSummary(r)),
        );
      case 'ListAccessKeys': {
        const user = this.user(required(p, 'UserName'));
        const keys = (user.accessKeys ?? []).map((k) => ({
          UserName: user.name,
          AccessKeyId: k.id,
          Status: k.status,
          CreateDate: isoSeconds(k.createDate),
        }));
        return this.page(action, p, 'AccessKeyMetadata', keys);
      }
      case 'GetAccessKeyLastUsed': {
        const keyId = required(p, 'AccessKeyId');
        for (const user of this.estate.users) {
          const key = user.accessKeys?.find((k) => k.id === keyId);
          if (!key) continue;
          const used = key.lastUsed;
          return {
            UserName: user.name,
            AccessKeyLastUsed: used
              ? { LastUsedDate: isoSeconds(used.date), ServiceName: used.service, Region: used.region }
              : { ServiceName: 'N/A', Region: 'N/A' },
          };
        }
        throw new IamFault(404, 'NoSuchEntity', `The Access Key with id ${keyId} cannot be found`);
      }
      case 'GetRole': {
        const name = required(p, 'RoleName');
        const role = this.estate.roles.find((r) => r.name === name);
        if (!role) throw new IamFault(404, 'NoSuchEntity', `The role with name ${name} cannot be found.`);
        return { Role: this.roleDetail(role, false) };
      }
      case 'GetPolicy': {
        const policy = this.policy(required(p, 'PolicyArn'));
        const { PolicyVersionList: _versions, ...summary } = this.policyDetail(policy);
        return { Policy: summary };
      }
      case 'GetPolicyVersion': {
        const policy = this.policy(required(p, 'PolicyArn'));
        const versionId = required(p, 'VersionId');
        if (versionId !== (policy.defaultVersionId ?? 'v1')) {
          throw new IamFault(404, 'NoSuchEntity', `Policy ${policy.arn} version ${versionId} does not exist.`);
        }
        return { PolicyVersion: this.defaultVersion(policy) };
      }
      case 'GenerateCredentialReport':
        return this.generateCredentialReport();
      case 'GetCredentialReport':
        return this.getCredentialReport();
      default: {
        const out = principalAction(this.principals, action, p);
        if (out !== undefined) return out;
        throw new IamFault(400, 'InvalidAction', `Could not find operation ${action} for version 2010-05-08`);
      }
    }
  }

  // --- GetAccountAuthorizationDetails -------------------------------------------------------------

  private getAccountAuthorizationDetails(p: Params): Xml {
    const filter = Object.entries(p)
      .filter(([k, v]) => k.startsWith('Filter.member.') && v)
      .map(([, v]) => v);
    const wants = (f: string) => filter.length === 0 || filter.includes(f);
    type Entry = { list: 'UserDetailList' | 'GroupDetailList' | 'RoleDetailList' | 'Policies'; item: Xml };
    const entries: Entry[] = [
      ...(wants('User')
        ? this.estate.users.map((u) => ({ list: 'UserDetailList' as const, item: this.userDetail(u) }))
        : []),
      ...(wants('Group')
        ? this.estate.groups.map((g) => ({ list: 'GroupDetailList' as const, item: this.groupDetail(g) }))
        : []),
      ...(wants('Role')
        ? this.estate.roles.map((r) => ({ list: 'RoleDetailList' as const, item: this.roleDetail(r, true) }))
        : []),
      ...this.estate.policies
        .filter((pol) => wants(pol.arn.startsWith('arn:aws:iam::aws:') ? 'AWSManagedPolicy' : 'LocalManagedPolicy'))
        .map((pol) => ({ list: 'Policies' as const, item: this.policyDetail(pol) })),
    ];
    const { items, IsTruncated, Marker } = this.slice('GetAccountAuthorizationDetails', p, entries);
    const pick = (list: Entry['list']) => items.filter((e) => e.list === list).map((e) => e.item);
    return {
      UserDetailList: pick('UserDetailList'),
      GroupDetailList: pick('GroupDetailList'),
      RoleDetailList: pick('RoleDetailList'),
      Policies: pick('Policies'),
      IsTruncated,
      Marker,
    };
  }

  private userDetail(u: StubUser): Xml {
    const { PasswordLastUsed: _pw, ...summary } = this.userSummary(u);
    return {
      ...summary,
      UserPolicyList: this.inline(u.inlinePolicies),
      GroupList: u.groups ?? [],
      AttachedManagedPolicies: this.attached(u.managedPolicyArns),
      PermissionsBoundary: u.boundaryArn
        ? { PermissionsBoundaryType: 'PermissionsBoundaryPolicy', PermissionsBoundaryArn: u.boundaryArn }
        : undefined,
      Tags: tagList(u.tags),
    };
  }

  private groupDetail(g: StubGroup): Xml {
    return {
      Path: '/',
      GroupName: g.name,
      GroupId: stableId('AGPA', g.name),
      Arn: `arn:aws:iam::${this.estate.accountId}:group/${g.name}`,
      CreateDate: DEFAULT_CREATE_DATE,
      GroupPolicyList: this.inline(g.inlinePolicies),
      AttachedManagedPolicies: this.attached(g.managedPolicyArns),
    };
  }

  /** GetRole's Role, or (forAuthDetails) a RoleDetailList entry. */
  private roleDetail(r: StubRole, forAuthDetails: boolean): Xml {
    const { MaxSessionDuration, ...summary } = this.roleSummary(r);
    return {
      ...summary,
      ...(forAuthDetails
        ? {
            InstanceProfileList: [],
            RolePolicyList: this.inline(r.inlinePolicies),
            AttachedManagedPolicies: this.attached(r.managedPolicyArns),
          }
        : { MaxSessionDuration }),
      PermissionsBoundary: r.boundaryArn
        ? { PermissionsBoundaryType: 'PermissionsBoundaryPolicy', PermissionsBoundaryArn: r.boundaryArn }
        : undefined,
      Tags: tagList(r.tags),
      RoleLastUsed: r.lastUsed ? { LastUsedDate: isoSeconds(r.lastUsed.date), Region: r.lastUsed.region } : {},
    };
  }

  private policyDetail(pol: StubPolicy): { PolicyVersionList: Xml } & Record<string, Xml> {
    const attachedTo = (xs: { managedPolicyArns?: string[] }[]) =>
      xs.filter((x) => x.managedPolicyArns?.includes(pol.arn)).length;
    const { users, groups, roles } = this.estate;
    return {
      PolicyName: pol.name,
      PolicyId: stableId('ANPA', pol.arn),
      Arn: pol.arn,
      Path: '/',
      DefaultVersionId: pol.defaultVersionId ?? 'v1',
      AttachmentCount: attachedTo(users) + attachedTo(groups) + attachedTo(roles),
      PermissionsBoundaryUsageCount: roles.filter((r) => r.boundaryArn === pol.arn).length,
      IsAttachable: true,
      CreateDate: DEFAULT_CREATE_DATE,
      UpdateDate: DEFAULT_CREATE_DATE,
      PolicyVersionList: [this.defaultVersion(pol)],
    };
  }

  private defaultVersion(pol: StubPolicy): Xml {
    return {
      Document: this.doc(pol.document),
      VersionId: pol.defaultVersionId ?? 'v1',
      IsDefaultVersion: true,
      CreateDate: DEFAULT_CREATE_DATE,
    };
  }

  // --- list shapes (what List* returns, which is less than Get*/GAAD) --------------------------------

  private userSummary(u: StubUser): Record<string, Xml> {
    const path = u.path ?? '/';
    return {
      Path: path,
      UserName: u.name,
      UserId: u.id ?? stableId('AIDA', u.name),
      Arn: `arn:aws:iam::${this.estate.accountId}:user${path}${u.name}`,
      CreateDate: isoSeconds(u.createDate ?? DEFAULT_CREATE_DATE),
      PasswordLastUsed: u.passwordLastUsed ? isoSeconds(u.passwordLastUsed) : undefined,
    };
  }

  private roleSummary(r: StubRole): Record<string, Xml> {
    return {
      Path: '/',
      RoleName: r.name,
      RoleId: stableId('AROA', r.name),
      Arn: `arn:aws:iam::${this.estate.accountId}:role/${r.name}`,
      CreateDate: isoSeconds(r.createDate ?? DEFAULT_CREATE_DATE),
      AssumeRolePolicyDocument: this.doc(
        r.trustPolicy ?? {
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Principal: { AWS: `arn:aws:iam::${this.estate.accountId}:root` },
              Action: 'sts:AssumeRole',
            },
          ],
        },
      ),
      MaxSessionDuration: r.maxSessionDuration ?? 3600,
    };
  }

  // --- credential report --------------------------------------------------------------------------

  private generateCredentialReport(): Xml {
    if (!this.report) {
      this.report = { remaining: this.behaviour.reportInProgressPolls ?? 0 };
      if (this.report.remaining <= 0) this.completeReport();
      return { State: 'STARTED', Description: 'No report exists. Starting a new report generation task' };
    }
    if (this.report.csv === undefined && this.report.remaining-- > 0) {
      return { State: 'INPROGRESS', Description: 'Report generation in progress' };
    }
    this.completeReport();
    return { State: 'COMPLETE' };
  }

  private getCredentialReport(): Xml {
    if (!this.report) {
      throw new IamFault(410, 'ReportNotPresent', 'Credential report not present. Call GenerateCredentialReport.');
    }
    if (this.report.csv === undefined && this.report.remaining-- > 0) {
      throw new IamFault(404, 'ReportInProgress', 'Credential report is being generated.');
    }
    const { csv, generatedTime } = this.completeReport();
    return { Content: Buffer.from(csv).toString('base64'), ReportFormat: 'text/csv', GeneratedTime: generatedTime };
  }

  private completeReport(): { csv: string; generatedTime: string } {
    const report = this.report!;
    if (report.csv === undefined || report.generatedTime === undefined) {
      report.csv = this.credentialReportCsv();
      report.generatedTime = isoSeconds(this.behaviour.now?.() ?? new Date());
    }
    return { csv: report.csv, generatedTime: report.generatedTime };
  }

  private credentialReportCsv(): string {
    const noKey = ['false', 'N/A', 'N/A', 'N/A', 'N/A'];
    const noCerts = ['false', 'N/A', 'false', 'N/A'];
    const root = [
      '<root_account>',
      `arn:aws:iam::${this.estate.accountId}:root`,
      reportTime(ROOT_CREATE_DATE),
      'not_supported',
      'no_information',
      'not_supported',
      'not_supported',
      'true',
      ...noKey,
      ...noKey,
      ...noCerts,
    ];
    const rows = this.estate.users.map((u) => {
      const created = reportTime(u.createDate ?? DEFAULT_CREATE_DATE);
      const hasPassword = u.hasPassword ?? u.passwordLastUsed !== undefined;
      const keys = [...(u.accessKeys ?? [])].sort((a, b) => Date.parse(a.createDate) - Date.parse(b.createDate));
      const slot = (k?: StubAccessKey) =>
        k
          ? [
              String(k.status === 'Active'),
              reportTime(k.createDate),
              k.lastUsed ? reportTime(k.lastUsed.date) : 'N/A',
              k.lastUsed?.region ?? 'N/A',
              k.lastUsed?.service ?? 'N/A',
            ]
          : noKey;
      return [
        u.name,
        String(this.userSummary(u).Arn),
        created,
        String(hasPassword),
        hasPassword ? (u.passwordLastUsed ? reportTime(u.passwordLastUsed) : 'no_information') : 'N/A',
        hasPassword ? created : 'N/A',
        'N/A',
        String(u.mfa === true),
        ...slot(keys[0]),
        ...slot(keys[1]),
        ...noCerts,
      ];
    });
    return [CREDENTIAL_REPORT_HEADER, ...[root, ...rows].map((r) => r.map(csvField).join(','))].join('\n');
  }

  // --- helpers --------------------------------------------------------------------------------------

  private user(name: string): StubUser {
    const user = this.estate.users.find((u) => u.name === name);
    if (!user) throw new IamFault(404, 'NoSuchEntity', `The user with name ${name} cannot be found.`);
    return user;
  }

  private policy(arn: string): StubPolicy {
    const policy = this.estate.policies.find((pol) => pol.arn === arn);
    if (!policy) throw new IamFault(404, 'NoSuchEntity', `Policy ${arn} does not exist or is not attachable.`);
    return policy;
  }

  /** PathPrefix filter. Stub roles have no path, so they all sit at `/`. */
  private byPath<T extends StubUser | StubRole>(p: Params, xs: T[]): T[] {
    const prefix = p.PathPrefix ?? '/';
    return xs.filter((x) => ('path' in x && x.path ? x.path : '/').startsWith(prefix));
  }

  private inline(policies?: Record<string, object>): Xml {
    return Object.entries(policies ?? {}).map(([PolicyName, doc]) => ({ PolicyName, PolicyDocument: this.doc(doc) }));
  }

  private attached(arns?: string[]): Xml {
    return (arns ?? []).map((PolicyArn) => ({
      PolicyName: this.estate.policies.find((pol) => pol.arn === PolicyArn)?.name ?? PolicyArn.split('/').pop(),
      PolicyArn,
    }));
  }

  /** JSON, URL-encoded per RFC 3986 (encodeURIComponent leaves !'()* alone; AWS does not). */
  private doc(document: object): string {
    const json = JSON.stringify(document);
    if (this.behaviour.urlEncodePolicies === false) return json;
    return encodeURIComponent(json).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  }

  private page(action: string, p: Params, listName: string, all: Xml[]): Xml {
    const { items, IsTruncated, Marker } = this.slice(action, p, all);
    return { [listName]: items, IsTruncated, Marker };
  }

  private slice<T>(action: string, p: Params, all: T[]): { items: T[]; IsTruncated: boolean; Marker?: string } {
    const maxItems = p.MaxItems === undefined ? 100 : Number(p.MaxItems);
    if (!Number.isInteger(maxItems) || maxItems < 1 || maxItems > 1000) {
      throw new IamFault(
        400,
        'ValidationError',
        `1 validation error detected: Value '${p.MaxItems}' at 'maxItems' failed to satisfy constraint: Member must have value between 1 and 1000`,
      );
    }
    const size = Math.min(maxItems, this.behaviour.pageSize ?? maxItems);
    const start = p.Marker ? decodeMarker(action, p.Marker) : 0;
    const end = start + size;
    const IsTruncated = end < all.length;
    return { items: all.slice(start, end), IsTruncated, Marker: IsTruncated ? encodeMarker(action, end) : undefined };
  }
}

function required(p: Params, name: string): string {
  const value = p[name];
  if (!value) {
    const member = name[0]!.toLowerCase() + name.slice(1);
    throw new IamFault(
      400,
      'ValidationError',
      `1 validation error detected: Value null at '${member}' failed to satisfy constraint: Member must not be null`,
    );
  }
  return value;
}

/**
 * Opaque like AWS's markers. The `+/=` prefix makes a client that mangles form-encoding fail loudly:
 * a `+` read back as a space, for instance, no longer decodes.
 */
const MARKER_PREFIX = '+/=';

function encodeMarker(action: string, offset: number): string {
  return MARKER_PREFIX + Buffer.from(JSON.stringify({ action, offset })).toString('base64');
}

function decodeMarker(action: string, marker: string): number {
  if (marker.startsWith(MARKER_PREFIX)) {
    try {
      const json = Buffer.from(marker.slice(MARKER_PREFIX.length), 'base64').toString('utf8');
      const parsed = JSON.parse(json) as { action?: unknown; offset?: unknown };
      if (parsed.action === action && typeof parsed.offset === 'number' && Number.isInteger(parsed.offset)) {
        return parsed.offset;
      }
    } catch {
      // not one of ours: fall through to the error
    }
  }
  throw new IamFault(400, 'InvalidInput', `Invalid Marker for ${action}.`);
}

function reply(statusCode: number, requestId: string, root: string, content: Record<string, Xml>) {
  const inner = Object.entries(content)
    .map(([k, v]) => toXml(k, v))
    .join('');
  const xml = `<?xml version="1.0" encoding="UTF-8"?>\n<${root} xmlns="${XMLNS}">${inner}</${root}>`;
  const body = new TextEncoder().encode(xml);
  const headers = {
    'content-type': 'text/xml',
    'content-length': String(body.byteLength),
    'x-amzn-requestid': requestId,
  };
  return { response: new HttpResponse({ statusCode, headers, body }) };
}
