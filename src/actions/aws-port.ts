/**
 * IamWritePort: the AwsWritePort over the AWS SDK (ports.ts has the contract). Every method takes
 * exact ids and sends only calls that name them: UserName is always passed (IAM never falls back
 * to the caller's own user), and a key is looked for only among that user's keys.
 * - Reads of something absent (NoSuchEntity) are null; writes to it throw a permanent CwError.
 * - A denial throws CwError(AWS_ACCESS_DENIED) naming the IAM permission the call needs;
 *   throttling past the SDK's retries, 5xx and network errors throw retryable CwErrors.
 * - `calls` counts operations by `iam:<Operation>` (each page of a listing is one) and HTTP
 *   attempts (retries included, from the SDK's `$metadata.attempts`).
 * Clients come from an injected function per account; `iamWritePortFrom` builds it over a
 * remediation AwsClientPool that assumes each account's `remediationRoleArn`.
 */
import {
  AttachRolePolicyCommand,
  AttachUserPolicyCommand,
  CreateAccessKeyCommand,
  DeleteAccessKeyCommand,
  DeleteLoginProfileCommand,
  DeleteRolePolicyCommand,
  DeleteUserPolicyCommand,
  DetachRolePolicyCommand,
  DetachUserPolicyCommand,
  GetAccessKeyLastUsedCommand,
  GetLoginProfileCommand,
  GetRolePolicyCommand,
  GetUserPolicyCommand,
  type IAMClient,
  ListAccessKeysCommand,
  ListAttachedRolePoliciesCommand,
  ListAttachedUserPoliciesCommand,
  PutRolePolicyCommand,
  PutUserPolicyCommand,
  UpdateAccessKeyCommand,
} from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand, type STSClient } from '@aws-sdk/client-sts';
import type { AwsAccountConfig } from '../config/schema.js';
import { CwError, ErrorCodes } from '../errors.js';
import type { ApiCallCounts } from '../sources/api-calls.js';
import type { AwsClientPool } from '../sources/aws/client-pool.js';
import { awsErrorName, isAccessDenied, toCwError } from '../sources/aws/errors.js';
import { Secret } from '../util/secret.js';
import { decodePolicyText, exactId } from './aws-support.js';
import type { AwsWritePort, IamPrincipal } from './ports.js';

/** The IAM client to act in one account with (throws when the account cannot be remediated). */
export type IamClientsFor = (account: string) => { iam: IAMClient };

/** An STS client signed with one access key (rotation proves a new key works with it); destroyed after one call. */
export type StsWithKey = (creds: { accessKeyId: string; secretAccessKey: string }) => STSClient;

/** Errors STS answers a key it does not accept with (not yet propagated, deleted, inactive). */
const KEY_NOT_ACCEPTED = new Set([
  'InvalidClientTokenId',
  'SignatureDoesNotMatch',
  'UnrecognizedClientException',
  'AuthFailure',
  'InvalidAccessKeyId',
]);

const isNoSuchEntity = (err: unknown): boolean => ['NoSuchEntity', 'NoSuchEntityException'].includes(awsErrorName(err));

type Page = { IsTruncated?: boolean | undefined; Marker?: string | undefined };

export class IamWritePort implements AwsWritePort {
  readonly calls: ApiCallCounts = { total: 0, attempts: 0, byOperation: {} };

  constructor(
    private readonly clientsFor: IamClientsFor,
    private readonly stsWithKey: StsWithKey | null = null,
  ) {}

  /**
   * One IAM operation: counted, and its error classified. With `missing: 'null'` NoSuchEntity is
   * an answer (null), not an error.
   */
  private async send<T>(
    account: string,
    op: string,
    subject: string,
    fn: (iam: IAMClient) => Promise<T>,
    missing: 'null' | 'throw' = 'throw',
  ): Promise<T | null> {
    const iam = this.clientsFor(account).iam;
    this.calls.total++;
    this.calls.byOperation[`iam:${op}`] = (this.calls.byOperation[`iam:${op}`] ?? 0) + 1;
    const attempts = (x: unknown) => (x as { $metadata?: { attempts?: number } })?.$metadata?.attempts ?? 1;
    try {
      const out = await fn(iam);
      this.calls.attempts += attempts(out);
      return out;
    } catch (err) {
      this.calls.attempts += attempts(err);
      if (missing === 'null' && isNoSuchEntity(err)) return null;
      const what = `account ${account}: ${op} ${subject}`;
      if (isAccessDenied(err))
        throw new CwError(
          ErrorCodes.AWS_ACCESS_DENIED,
          `${what} was denied: the remediation role needs iam:${op} (${awsErrorName(err)}: ${(err as Error)?.message ?? err})`,
          { cause: err },
        );
      throw toCwError(err, what);
    }
  }

  /** Every page of a Marker/IsTruncated listing, or null when the principal is gone. */
  private async pages<P extends Page, T>(
    account: string,
    op: string,
    subject: string,
    page: (iam: IAMClient, marker: string | undefined) => Promise<P>,
    items: (p: P) => T[] | undefined,
  ): Promise<T[] | null> {
    const out: T[] = [];
    let marker: string | undefined;
    do {
      const m = marker;
      const p = await this.send(account, op, subject, (iam) => page(iam, m), 'null');
      if (p === null) return null;
      out.push(...(items(p) ?? []));
      marker = p.IsTruncated ? p.Marker : undefined;
    } while (marker);
    return out;
  }

  async getAccessKey(account: string, userName: string, accessKeyId: string) {
    exactId('AccessKeyId', accessKeyId);
    const keys = await this.pages(
      account,
      'ListAccessKeys',
      `of user ${exactId('UserName', userName)}`,
      (iam, Marker) => iam.send(new ListAccessKeysCommand({ UserName: userName, ...(Marker ? { Marker } : {}) })),
      (p) => p.AccessKeyMetadata,
    );
    const k = keys?.find((x) => x.AccessKeyId === accessKeyId);
    if (!k) return null;
    if (k.Status !== 'Active' && k.Status !== 'Inactive')
      throw new CwError(ErrorCodes.AWS, `account ${account}: key ${accessKeyId} has an unknown status "${k.Status}"`);
    return { status: k.Status, createDate: k.CreateDate ? k.CreateDate.toISOString() : null };
  }

  async listAccessKeys(account: string, userName: string) {
    const keys = await this.pages(
      account,
      'ListAccessKeys',
      `of user ${exactId('UserName', userName)}`,
      (iam, Marker) => iam.send(new ListAccessKeysCommand({ UserName: userName, ...(Marker ? { Marker } : {}) })),
      (p) => p.AccessKeyMetadata,
    );
    if (keys === null) return null;
    return keys.map((k) => {
      if (!k.AccessKeyId || (k.Status !== 'Active' && k.Status !== 'Inactive'))
        throw new CwError(
          ErrorCodes.AWS,
          `account ${account}: user ${userName} lists a key with no id or an unknown status`,
        );
      return {
        accessKeyId: k.AccessKeyId,
        status: k.Status,
        createDate: k.CreateDate ? k.CreateDate.toISOString() : null,
      };
    });
  }

  async createAccessKey(account: string, userName: string) {
    const cmd = new CreateAccessKeyCommand({ UserName: exactId('UserName', userName) });
    const out = await this.send(account, 'CreateAccessKey', `for user ${userName}`, (iam) => iam.send(cmd));
    const k = out?.AccessKey;
    if (!k?.AccessKeyId || !k.SecretAccessKey || k.UserName !== userName)
      throw new CwError(
        ErrorCodes.AWS,
        `account ${account}: CreateAccessKey for ${userName} returned no key for that user`,
      );
    return {
      accessKeyId: exactId('AccessKeyId', k.AccessKeyId),
      secret: new Secret(k.SecretAccessKey),
      createDate: k.CreateDate ? k.CreateDate.toISOString() : null,
    };
  }

  async getAccessKeyLastUsed(account: string, accessKeyId: string) {
    const cmd = new GetAccessKeyLastUsedCommand({ AccessKeyId: exactId('AccessKeyId', accessKeyId) });
    const out = await this.send(
      account,
      'GetAccessKeyLastUsed',
      `of key ${accessKeyId}`,
      (iam) => iam.send(cmd),
      'null',
    );
    if (!out) return null;
    const used = out.AccessKeyLastUsed;
    const service = used?.ServiceName && used.ServiceName !== 'N/A' ? used.ServiceName : null;
    return { lastUsedDate: used?.LastUsedDate ? used.LastUsedDate.toISOString() : null, service };
  }

  async callerArn(account: string, accessKeyId: string, secret: Secret): Promise<string | null> {
    if (!this.stsWithKey) throw new CwError(ErrorCodes.CONFIG, 'no STS client factory: rotation cannot verify a key');
    const sts = this.stsWithKey({ accessKeyId: exactId('AccessKeyId', accessKeyId), secretAccessKey: secret.reveal() });
    this.calls.total++;
    this.calls.byOperation['sts:GetCallerIdentity'] = (this.calls.byOperation['sts:GetCallerIdentity'] ?? 0) + 1;
    try {
      const out = await sts.send(new GetCallerIdentityCommand({}));
      this.calls.attempts += out.$metadata.attempts ?? 1;
      return out.Arn ?? null;
    } catch (err) {
      this.calls.attempts += (err as { $metadata?: { attempts?: number } }).$metadata?.attempts ?? 1;
      if (KEY_NOT_ACCEPTED.has(awsErrorName(err))) return null;
      // The error never carries the request (it was signed with the secret): name and message only.
      throw toCwError(err, `account ${account}: sts:GetCallerIdentity with key ${accessKeyId}`);
    } finally {
      sts.destroy();
    }
  }

  async updateAccessKey(account: string, userName: string, accessKeyId: string, status: 'Active' | 'Inactive') {
    const cmd = new UpdateAccessKeyCommand({
      UserName: exactId('UserName', userName),
      AccessKeyId: exactId('AccessKeyId', accessKeyId),
      Status: status,
    });
    await this.send(account, 'UpdateAccessKey', `key ${accessKeyId} of user ${userName}`, (iam) => iam.send(cmd));
  }

  async deleteAccessKey(account: string, userName: string, accessKeyId: string) {
    const cmd = new DeleteAccessKeyCommand({
      UserName: exactId('UserName', userName),
      AccessKeyId: exactId('AccessKeyId', accessKeyId),
    });
    await this.send(account, 'DeleteAccessKey', `key ${accessKeyId} of user ${userName}`, (iam) => iam.send(cmd));
  }

  async getLoginProfile(account: string, userName: string) {
    const cmd = new GetLoginProfileCommand({ UserName: exactId('UserName', userName) });
    const out = await this.send(account, 'GetLoginProfile', `of user ${userName}`, (iam) => iam.send(cmd), 'null');
    if (!out?.LoginProfile) return null;
    return { createDate: out.LoginProfile.CreateDate ? out.LoginProfile.CreateDate.toISOString() : null };
  }

  async deleteLoginProfile(account: string, userName: string) {
    const cmd = new DeleteLoginProfileCommand({ UserName: exactId('UserName', userName) });
    await this.send(account, 'DeleteLoginProfile', `of user ${userName}`, (iam) => iam.send(cmd));
  }

  /** One call on a user or a role: the user form or the role form of the operation. */
  private onPrincipal<U, R>(
    account: string,
    principal: IamPrincipal,
    ops: readonly [user: string, role: string],
    subject: string,
    user: (iam: IAMClient, UserName: string) => Promise<U>,
    role: (iam: IAMClient, RoleName: string) => Promise<R>,
    missing: 'null' | 'throw' = 'throw',
  ): Promise<U | R | null> {
    const isUser = principal.type === 'user';
    const name = exactId(isUser ? 'UserName' : 'RoleName', principal.name);
    const what = `${subject} ${principal.type} ${name}`;
    return isUser
      ? this.send(account, ops[0], what, (iam) => user(iam, name), missing)
      : this.send(account, ops[1], what, (iam) => role(iam, name), missing);
  }

  async getInlinePolicy(account: string, principal: IamPrincipal, policyName: string) {
    const PolicyName = exactId('PolicyName', policyName);
    const out = await this.onPrincipal(
      account,
      principal,
      ['GetUserPolicy', 'GetRolePolicy'],
      `${policyName} of`,
      (iam, UserName) => iam.send(new GetUserPolicyCommand({ UserName, PolicyName })),
      (iam, RoleName) => iam.send(new GetRolePolicyCommand({ RoleName, PolicyName })),
      'null',
    );
    return out?.PolicyDocument ? decodePolicyText(out.PolicyDocument) : null;
  }

  async putInlinePolicy(account: string, principal: IamPrincipal, policyName: string, document: string) {
    const PolicyName = exactId('PolicyName', policyName);
    await this.onPrincipal(
      account,
      principal,
      ['PutUserPolicy', 'PutRolePolicy'],
      `${policyName} on`,
      (iam, UserName) => iam.send(new PutUserPolicyCommand({ UserName, PolicyName, PolicyDocument: document })),
      (iam, RoleName) => iam.send(new PutRolePolicyCommand({ RoleName, PolicyName, PolicyDocument: document })),
    );
  }

  async deleteInlinePolicy(account: string, principal: IamPrincipal, policyName: string) {
    const PolicyName = exactId('PolicyName', policyName);
    await this.onPrincipal(
      account,
      principal,
      ['DeleteUserPolicy', 'DeleteRolePolicy'],
      `${policyName} of`,
      (iam, UserName) => iam.send(new DeleteUserPolicyCommand({ UserName, PolicyName })),
      (iam, RoleName) => iam.send(new DeleteRolePolicyCommand({ RoleName, PolicyName })),
    );
  }

  async listAttachedPolicies(account: string, principal: IamPrincipal) {
    const isUser = principal.type === 'user';
    const name = exactId(isUser ? 'UserName' : 'RoleName', principal.name);
    const list = await this.pages(
      account,
      isUser ? 'ListAttachedUserPolicies' : 'ListAttachedRolePolicies',
      `of ${principal.type} ${name}`,
      (iam, Marker) =>
        isUser
          ? iam.send(new ListAttachedUserPoliciesCommand({ UserName: name, ...(Marker ? { Marker } : {}) }))
          : iam.send(new ListAttachedRolePoliciesCommand({ RoleName: name, ...(Marker ? { Marker } : {}) })),
      (p) => p.AttachedPolicies,
    );
    return list === null ? null : list.flatMap((a) => (a.PolicyArn ? [a.PolicyArn] : []));
  }

  async attachPolicy(account: string, principal: IamPrincipal, policyArn: string) {
    const PolicyArn = exactId('PolicyArn', policyArn);
    await this.onPrincipal(
      account,
      principal,
      ['AttachUserPolicy', 'AttachRolePolicy'],
      `${policyArn} to`,
      (iam, UserName) => iam.send(new AttachUserPolicyCommand({ UserName, PolicyArn })),
      (iam, RoleName) => iam.send(new AttachRolePolicyCommand({ RoleName, PolicyArn })),
    );
  }

  async detachPolicy(account: string, principal: IamPrincipal, policyArn: string) {
    const PolicyArn = exactId('PolicyArn', policyArn);
    await this.onPrincipal(
      account,
      principal,
      ['DetachUserPolicy', 'DetachRolePolicy'],
      `${policyArn} from`,
      (iam, UserName) => iam.send(new DetachUserPolicyCommand({ UserName, PolicyArn })),
      (iam, RoleName) => iam.send(new DetachRolePolicyCommand({ RoleName, PolicyArn })),
    );
  }
}

/**
 * The port over a remediation pool (its own AwsClientPool, not the scanner's): each account's
 * clients assume that account's `remediationRoleArn`. An account that is not configured, has no
 * remediationRoleArn, or names a role in ANOTHER account, throws CwError(CONFIG) naming it when an
 * action first needs it, so a config without remediation roles still scans (and dry-runs).
 */
export function iamWritePortFrom(
  pool: Pick<AwsClientPool, 'forAccount'>,
  accounts: readonly AwsAccountConfig[],
  stsWithKey: StsWithKey | null = null,
): IamWritePort {
  const byId = new Map(accounts.map((a) => [a.id, a]));
  return new IamWritePort((id) => {
    const account = byId.get(id);
    if (!account)
      throw new CwError(
        ErrorCodes.CONFIG,
        `account ${id} is not in aws.accounts: remediation needs the account with a remediationRoleArn`,
      );
    if (!account.remediationRoleArn)
      throw new CwError(
        ErrorCodes.CONFIG,
        `account ${id}${account.name ? ` (${account.name})` : ''} has no remediationRoleArn: credwarden does not remediate with the scanner's role`,
      );
    // The role's session acts in the role's own account: one elsewhere would reach a same-named
    // user or role there (IAM calls name principals, not accounts), never the one detection saw.
    const home = /^arn:aws[a-z-]*:iam::(\d{12}):role\//.exec(account.remediationRoleArn)?.[1];
    if (home !== id)
      throw new CwError(
        ErrorCodes.CONFIG,
        `account ${id}: remediationRoleArn ${account.remediationRoleArn} is not a role in account ${id}; credwarden acts only with a role in the account it acts on`,
      );
    return pool.forAccount({ ...account, roleArn: account.remediationRoleArn });
  }, stsWithKey);
}
