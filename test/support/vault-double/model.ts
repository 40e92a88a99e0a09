/**
 * The nouns the Vault double keeps in memory. Times are epoch milliseconds unless typed Instant
 * (which also keeps Go's nanoseconds for RFC 3339 output). Everything a namespace owns hangs off
 * its Namespace object; cross-namespace indexes live on VaultState.
 */
import type { AclRule, CompiledAcl } from '../../../src/sources/vault/acl-policy.js';
import type { Instant } from './util.js';

export interface Namespace {
  /** `root` for the root namespace, otherwise 6 base62 characters (as OpenBao). */
  id: string;
  /** OpenBao's namespace UUID (`key_info[…].uuid`). */
  uuid: string;
  /** `''` for root, otherwise `a/` or `a/b/`. */
  path: string;
  parent: Namespace | null;
  children: Map<string, Namespace>;
  customMetadata: Record<string, string>;
  policies: Map<string, StoredPolicy>;
  /** Service tokens created in this namespace, by accessor (batch tokens have none). */
  accessors: Map<string, Token>;
  leases: Map<string, Lease>;
  /** AppRole mounts by path without slashes, e.g. `approle`. */
  approle: Map<string, AppRoleMount>;
  /** AWS secrets engine mounts by path without slashes, e.g. `aws`. */
  aws: Map<string, AwsMount>;
}

export interface StoredPolicy {
  name: string;
  text: string;
  rules: AclRule[];
  /** 1 on the first write, +1 on each rewrite (OpenBao's `version`). */
  version: number;
  /** The last write (OpenBao's `modified`). */
  modified: Instant;
}

export type TokenType = 'service' | 'batch';

export interface Token {
  id: string;
  /** `''` for batch tokens. */
  accessor: string;
  type: TokenType;
  ns: Namespace;
  policies: string[];
  path: string;
  meta: Record<string, string> | null;
  displayName: string;
  /** Uses left; 0 means unlimited. */
  numUses: number;
  creation: Instant;
  creationTtl: number;
  explicitMaxTtl: number;
  period: number;
  renewable: boolean;
  parent: Token | null;
  children: Set<Token>;
  entityId: string;
  /** null: never expires (root-policy tokens with no TTL). */
  expireMs: number | null;
  maxExpireMs: number | null;
  lastRenewal: Instant | null;
  role: string | null;
  boundCidrs: string[];
  /** The token's own lease (`<path>/<salted id>`); null for non-expiring and batch tokens. */
  lease: Lease | null;
  /** Secret leases issued to this token, revoked with it. */
  leases: Set<Lease>;
  revoked: boolean;
  aclCache?: { version: number; acl: CompiledAcl | 'root' };
}

export interface Lease {
  id: string;
  ns: Namespace;
  issue: Instant;
  expireMs: number | null;
  maxExpireMs: number | null;
  lastRenewal: Instant | null;
  renewable: boolean;
  /** The token whose revocation revokes this lease. */
  owner: Token | null;
  /** Set when this is a token's own lease: revoking it revokes that token's tree. */
  authToken: Token | null;
  secret: Record<string, unknown> | null;
}

export interface AppRoleMount {
  path: string;
  accessor: string;
  roles: Map<string, Role>;
  rolesById: Map<string, Role>;
}

export interface Role {
  name: string;
  roleId: string;
  bindSecretId: boolean;
  secretIdBoundCidrs: string[];
  secretIdNumUses: number;
  secretIdTtl: number;
  localSecretIds: boolean;
  tokenPolicies: string[];
  tokenTtl: number;
  tokenMaxTtl: number;
  tokenExplicitMaxTtl: number;
  tokenPeriod: number;
  tokenNumUses: number;
  tokenType: 'default' | 'service' | 'batch' | 'default-service' | 'default-batch';
  tokenBoundCidrs: string[];
  tokenNoDefaultPolicy: boolean;
  /** Legacy `policies` / `period`: shown on read only when set. */
  legacyPolicies: string[] | null;
  legacyPeriod: number | null;
  secretIds: Map<string, SecretId>;
  secretIdsByValue: Map<string, SecretId>;
}

export interface SecretId {
  secretId: string;
  accessor: string;
  cidrList: string[];
  tokenBoundCidrs: string[];
  metadata: Record<string, string>;
  /** Remaining uses; 0 means unlimited. */
  numUses: number;
  ttl: number;
  creation: Instant;
  lastUpdated: Instant;
  expiration: Instant | null;
}

export type AwsCredentialType = 'iam_user' | 'assumed_role' | 'federation_token' | 'session_token';

export interface AwsMount {
  path: string;
  roles: Map<string, AwsRole>;
}

export interface AwsRole {
  name: string;
  credentialType: AwsCredentialType;
  policyArns: string[];
  policyDocument: string;
  roleArns: string[];
  iamGroups: string[];
  iamTags: Record<string, string>;
  defaultStsTtl: number;
  maxStsTtl: number;
  userPath: string;
  permissionsBoundaryArn: string;
}

export interface Entity {
  id: string;
  name: string;
  policies: string[];
}
