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
import type { Secret } from '../util/secret.js';

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
  /** Every key of the user (ListAccessKeys), or null when the user is gone. */
  listAccessKeys(
    account: string,
    userName: string,
  ): Promise<{ accessKeyId: string; status: 'Active' | 'Inactive'; createDate: string | null }[] | null>;
  /** A new key for exactly this user; its secret only as a Secret (rotation holds it in memory). */
  createAccessKey(
    account: string,
    userName: string,
  ): Promise<{ accessKeyId: string; secret: Secret; createDate: string | null }>;
  /** GetAccessKeyLastUsed: when and where the key was last used (null date: never), or null when the key is gone. */
  getAccessKeyLastUsed(
    account: string,
    accessKeyId: string,
  ): Promise<{ lastUsedDate: string | null; service: string | null } | null>;
  /**
   * sts:GetCallerIdentity signed with this key: the ARN it authenticates as, or null when AWS
   * does not accept the key (yet: a new key can take seconds to work; or no more: deleted).
   */
  callerArn(account: string, accessKeyId: string, secret: Secret): Promise<string | null>;
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
  /**
   * A KV v2 secret (`<mount>/data/<path>`, the given version or the current one): its version and
   * data, every string value wrapped as a Secret; null when there is no such secret or version
   * (never written, or deleted or destroyed: `data` null).
   */
  kvRead(
    cluster: string,
    namespace: string,
    mount: string,
    path: string,
    version?: number,
  ): Promise<{ version: number; data: Record<string, unknown> | null } | null>;
  /**
   * Writes a KV v2 secret with check-and-set: `cas` 0 writes only when the secret does not exist,
   * N only when the current version is N. Secret values are revealed only into the request body.
   * A check-and-set mismatch is `{ conflict }`, never an overwrite.
   */
  kvWrite(
    cluster: string,
    namespace: string,
    mount: string,
    path: string,
    data: Record<string, unknown>,
    cas: number,
  ): Promise<{ version: number } | { conflict: string }>;
  /** The role's configuration (`auth/<mount>/role/<role>`), or null when there is no such role. */
  readAppRole(cluster: string, namespace: string, mount: string, role: string): Promise<Record<string, unknown> | null>;
  /** The role's role_id, or null when there is no such role. */
  readRoleId(cluster: string, namespace: string, mount: string, role: string): Promise<string | null>;
  /** A new secret ID for exactly this role. */
  createSecretId(
    cluster: string,
    namespace: string,
    mount: string,
    role: string,
    body: Record<string, unknown>,
  ): Promise<{ secretId: Secret; accessor: string }>;
  /**
   * An AppRole login; the token it gives is revoked at once (it only proves the pair works):
   * true when Vault accepted the pair, false when it refused it (invalid role or secret ID).
   */
  approleLoginWorks(
    cluster: string,
    namespace: string,
    mount: string,
    roleId: string,
    secretId: Secret,
  ): Promise<boolean>;
  /** lookup by secret ID value (does not consume a use): true when the secret ID is valid for the role. */
  secretIdValid(cluster: string, namespace: string, mount: string, role: string, secretId: Secret): Promise<boolean>;
  /** auth/token/create-orphan with these parameters (an orphan outlives the remediation token). */
  createOrphanToken(
    cluster: string,
    namespace: string,
    body: Record<string, unknown>,
  ): Promise<{ token: Secret; accessor: string }>;
  /** lookup-self signed with `token`: its data, or null when Vault does not accept the token. */
  lookupSelfWith(cluster: string, namespace: string, token: Secret): Promise<Record<string, unknown> | null>;
  /** The remediation token's own accessor in that namespace (lookup-self, cached), or null. */
  ownAccessor(cluster: string, namespace: string): Promise<string | null>;
  /** Every token accessor in the namespace (needs sudo; used only to find a token a crash lost). */
  listTokenAccessors(cluster: string, namespace: string): Promise<string[]>;
  lookupLease(cluster: string, namespace: string, leaseId: string): Promise<Record<string, unknown> | null>;
  /** Revokes one lease, synchronously (`sync: true`): it returns once the backend revoked it. */
  revokeLease(cluster: string, namespace: string, leaseId: string): Promise<void>;
}

export interface ActionPorts {
  aws: AwsWritePort;
  vault: VaultWritePort;
}
