/**
 * IamWritePort: the AwsWritePort over the AWS SDK (ports.ts has the contract). Every method takes
 * exact ids and sends only calls that name them: UserName is always passed (IAM never falls back
 * to the caller's own user), and a key is looked for only among that user's keys.
 * The calls themselves are per resource: access keys and login profiles in aws-port-keys.ts,
 * inline and managed policies in aws-port-policies.ts, both sent through aws-port-calls.ts (what
 * an absent thing, a denial or a throttle becomes, and how `calls` counts).
 * Clients come from an injected function per account; `iamWritePortFrom` builds it over a
 * remediation AwsClientPool that assumes each account's `remediationRoleArn`.
 */
import type { AwsAccountConfig } from '../config/schema.js';
import { CwError, ErrorCodes } from '../errors.js';
import type { ApiCallCounts } from '../sources/api-calls.js';
import type { AwsClientPool } from '../sources/aws/client-pool.js';
import type { Secret } from '../util/secret.js';
import { IamCalls, type IamClientsFor } from './aws-port-calls.js';
import { IamKeyWrites, type StsWithKey } from './aws-port-keys.js';
import { IamPolicyWrites } from './aws-port-policies.js';
import type { AwsWritePort, IamPrincipal } from './ports.js';

export class IamWritePort implements AwsWritePort {
  readonly calls: ApiCallCounts;
  private readonly keys: IamKeyWrites;
  private readonly policies: IamPolicyWrites;

  constructor(clientsFor: IamClientsFor, stsWithKey: StsWithKey | null = null) {
    const io = new IamCalls(clientsFor);
    this.calls = io.calls;
    this.keys = new IamKeyWrites(io, stsWithKey);
    this.policies = new IamPolicyWrites(io);
  }

  getAccessKey(account: string, userName: string, accessKeyId: string) {
    return this.keys.getAccessKey(account, userName, accessKeyId);
  }

  listAccessKeys(account: string, userName: string) {
    return this.keys.listAccessKeys(account, userName);
  }

  createAccessKey(account: string, userName: string) {
    return this.keys.createAccessKey(account, userName);
  }

  getAccessKeyLastUsed(account: string, accessKeyId: string) {
    return this.keys.getAccessKeyLastUsed(account, accessKeyId);
  }

  callerArn(account: string, accessKeyId: string, secret: Secret): Promise<string | null> {
    return this.keys.callerArn(account, accessKeyId, secret);
  }

  updateAccessKey(account: string, userName: string, accessKeyId: string, status: 'Active' | 'Inactive') {
    return this.keys.updateAccessKey(account, userName, accessKeyId, status);
  }

  deleteAccessKey(account: string, userName: string, accessKeyId: string) {
    return this.keys.deleteAccessKey(account, userName, accessKeyId);
  }

  getLoginProfile(account: string, userName: string) {
    return this.keys.getLoginProfile(account, userName);
  }

  deleteLoginProfile(account: string, userName: string) {
    return this.keys.deleteLoginProfile(account, userName);
  }

  getInlinePolicy(account: string, principal: IamPrincipal, policyName: string) {
    return this.policies.getInlinePolicy(account, principal, policyName);
  }

  putInlinePolicy(account: string, principal: IamPrincipal, policyName: string, document: string) {
    return this.policies.putInlinePolicy(account, principal, policyName, document);
  }

  deleteInlinePolicy(account: string, principal: IamPrincipal, policyName: string) {
    return this.policies.deleteInlinePolicy(account, principal, policyName);
  }

  listAttachedPolicies(account: string, principal: IamPrincipal) {
    return this.policies.listAttachedPolicies(account, principal);
  }

  attachPolicy(account: string, principal: IamPrincipal, policyArn: string) {
    return this.policies.attachPolicy(account, principal, policyArn);
  }

  detachPolicy(account: string, principal: IamPrincipal, policyArn: string) {
    return this.policies.detachPolicy(account, principal, policyArn);
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
