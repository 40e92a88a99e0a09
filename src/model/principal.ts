/**
 * Who holds a credential, in the words on-call and auditors use: the IAM user or role (its name
 * and ARN) and the account (its id and the name the config gives it), or the Vault token's display
 * name, the AppRole role, the lease path. Pure: read from the Credential record and the configured
 * account names. Findings store it (`findings --json`), alerts lead with it.
 */
import type { Credential, CredentialKind } from './credential.js';

export type PrincipalType =
  | 'iam-user'
  | 'iam-role'
  | 'aws-root'
  | 'vault-token'
  | 'vault-approle'
  | 'vault-lease'
  | 'vault-aws-role'
  | 'unknown';

export interface PrincipalInfo {
  /** The user or role ARN; Vault: the token's display name, `approle/<mount>/<role>`, the lease path. */
  principal: string;
  /** The user or role name (the ARN's last segment), `root`; Vault: the display name or role name. */
  principalName: string;
  principalType: PrincipalType;
  /** The account id (AWS) or `<cluster>/<namespace>` (Vault). */
  source: string;
  /** AWS only: the account id and the name `aws.accounts[].name` gives it (null when none). */
  account: { id: string; name: string | null } | null;
}

/** Configured account names by account id (`aws.accounts[].name`). */
export type AccountNames = ReadonlyMap<string, string>;

const ARN = /^arn:[^:]+:iam::(\d{12}):(user|role|root)(?:\/(?:.*\/)?([^/]+))?$/;

const VAULT_TYPES: Partial<Record<CredentialKind, PrincipalType>> = {
  'vault-token': 'vault-token',
  'vault-approle-role': 'vault-approle',
  'vault-approle-secret-id': 'vault-approle',
  'vault-lease': 'vault-lease',
  'vault-aws-role': 'vault-aws-role',
};

export function principalInfo(
  c: Pick<Credential, 'kind' | 'principal' | 'source' | 'sourceType' | 'attributes'>,
  accountNames: AccountNames = new Map(),
): PrincipalInfo {
  // Partial records (policy test fixtures) may lack fields; a stored record never does.
  const attrs = c.attributes ?? {};
  const principal = c.principal ?? '';
  if (c.sourceType === 'aws' || (c.sourceType === undefined && c.kind?.startsWith('aws-'))) {
    const m = ARN.exec(principal);
    const id = m?.[1] ?? c.source;
    const type: PrincipalType =
      m?.[2] === 'user' ? 'iam-user' : m?.[2] === 'role' ? 'iam-role' : m?.[2] === 'root' ? 'aws-root' : 'unknown';
    const attrName = attrs.userName ?? attrs.roleName;
    const name = type === 'aws-root' ? 'root' : (m?.[3] ?? (typeof attrName === 'string' ? attrName : principal));
    return {
      principal,
      principalName: name,
      principalType: type,
      source: c.source,
      account: { id, name: accountNames.get(id) ?? null },
    };
  }
  const display = attrs.displayName;
  const name =
    c.kind === 'vault-token'
      ? typeof display === 'string' && display !== ''
        ? display
        : principal
      : (principal.split('/').filter(Boolean).at(-1) ?? principal);
  return {
    principal,
    principalName: name,
    principalType: VAULT_TYPES[c.kind] ?? 'unknown',
    source: c.source,
    account: null,
  };
}

const NOUN: Record<PrincipalType, string> = {
  'iam-user': 'IAM user',
  'iam-role': 'IAM role',
  'aws-root': 'AWS root user',
  'vault-token': 'Vault token',
  'vault-approle': 'AppRole',
  'vault-lease': 'Vault lease',
  'vault-aws-role': 'Vault AWS role',
  unknown: 'principal',
};

/** `IAM user`, `IAM role`, `Vault token`, …: what kind of holder it is, in words. */
export function principalNoun(t: PrincipalType | string | null | undefined): string {
  return NOUN[t as PrincipalType] ?? 'principal';
}

/**
 * One short phrase naming the holder and where it lives, for summaries and table cells:
 * `IAM user agent-deploy-1 in account prod (111111111111)`, `Vault token invoice-bot in main/root`.
 */
export function principalPhrase(
  p: Pick<PrincipalInfo, 'principalType' | 'principalName' | 'account' | 'source'>,
): string {
  const noun = principalNoun(p.principalType);
  const where = p.account
    ? p.account.name
      ? `account ${p.account.name} (${p.account.id})`
      : `account ${p.account.id}`
    : p.source;
  return where ? `${noun} ${p.principalName} in ${where}` : `${noun} ${p.principalName}`;
}
