/**
 * The write ports remediation acts through, one per backend, built in main.ts from the
 * remediation credentials (an AWS role per account, `aws.accounts[].remediationRoleArn`; a Vault
 * token per cluster, `vault[].remediationToken`), never from the scanner's read-only ones.
 *
 * Contract for every method:
 * - it takes exact ids and touches exactly that one thing;
 * - a read of something that does not exist returns null (IAM NoSuchEntity, Vault "invalid
 *   accessor"/"invalid lease"/nil), it does not throw;
 * - a denial throws CwError(AWS_ACCESS_DENIED | VAULT_PERMISSION) naming the permission; a transient failure
 *   (throttling past retries, network, 5xx) throws a retryable CwError; other failures throw a
 *   permanent CwError;
 * - every call is counted in `calls` by operation (the fault test compares them with the
 *   emulator's own log).
 */
import type { ApiCallCounts } from '../sources/api-calls.js';

export type IamPrincipal = { type: 'user' | 'role'; name: string };

export interface AwsWritePort {
  readonly calls: ApiCallCounts;
  /** The key as ListAccessKeys(user) reports it, or null when the user or the key is gone. */
  getAccessKey(
    account: string,
    userName: string,
    accessKeyId: string,
  ): Promise<{ status: 'Active' | 'Inactive'; createDate: string | null } | null>;
  updateAccessKey(account: string, userName: string, accessKeyId: string, status: 'Active' | 'Inactive'): Promise<void>;
  deleteAccessKey(account: string, userName: string, accessKeyId: string): Promise<void>;
  getLoginProfile(account: string, userName: string): Promise<{ createDate: string | null } | null>;
  deleteLoginProfile(account: string, userName: string): Promise<void>;
  /** An inline policy's document (decoded JSON text), or null when the principal has none by that name. */
  getInlinePolicy(account: string, principal: IamPrincipal, policyName: string): Promise<string | null>;
  putInlinePolicy(account: string, principal: IamPrincipal, policyName: string, document: string): Promise<void>;
  deleteInlinePolicy(account: string, principal: IamPrincipal, policyName: string): Promise<void>;
  /** Managed policy ARNs attached directly to the principal; null when the principal is gone. */
  listAttachedPolicies(account: string, principal: IamPrincipal): Promise<string[] | null>;
  attachPolicy(account: string, principal: IamPrincipal, policyArn: string): Promise<void>;
  detachPolicy(account: string, principal: IamPrincipal, policyArn: string): Promise<void>;
}

export interface VaultWritePort {
  readonly calls: ApiCallCounts;
  /** lookup-accessor's data, or null for an invalid (revoked, expired, unknown) accessor. */
  lookupTokenAccessor(cluster: string, namespace: string, accessor: string): Promise<Record<string, unknown> | null>;
  /** Revokes the token AND its children (Vault's revoke-accessor semantics). */
  revokeTokenAccessor(cluster: string, namespace: string, accessor: string): Promise<void>;
  /** The secret-id accessor's lookup data under exactly that role, or null. */
  lookupSecretIdAccessor(
    cluster: string,
    namespace: string,
    mount: string,
    role: string,
    accessor: string,
  ): Promise<Record<string, unknown> | null>;
  /** Every secret-id accessor the role lists (to prove ownership before a destroy: CVE-2023-24999). */
  listSecretIdAccessors(cluster: string, namespace: string, mount: string, role: string): Promise<string[]>;
  destroySecretIdAccessor(
    cluster: string,
    namespace: string,
    mount: string,
    role: string,
    accessor: string,
  ): Promise<void>;
  lookupLease(cluster: string, namespace: string, leaseId: string): Promise<Record<string, unknown> | null>;
  /** Revokes one lease, synchronously (`sync: true`): it returns once the backend revoked it. */
  revokeLease(cluster: string, namespace: string, leaseId: string): Promise<void>;
}

export interface ActionPorts {
  aws: AwsWritePort;
  vault: VaultWritePort;
}
