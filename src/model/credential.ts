/**
 * The Credential record: one per credential, never per user. Sources yield these; the inventory
 * store keeps them; `inventory --json` prints them (field names are a public contract, see the
 * README). A Credential never holds a secret value: access key ids and Vault accessors are
 * identifiers, not secrets.
 */

export type CredentialKind =
  | 'aws-access-key'
  | 'aws-role'
  | 'aws-console-password'
  | 'aws-root-access-key'
  | 'vault-token'
  | 'vault-approle-role'
  | 'vault-approle-secret-id'
  | 'vault-lease'
  | 'vault-aws-role';

export const CREDENTIAL_KINDS: readonly CredentialKind[] = [
  'aws-access-key',
  'aws-role',
  'aws-console-password',
  'aws-root-access-key',
  'vault-token',
  'vault-approle-role',
  'vault-approle-secret-id',
  'vault-lease',
  'vault-aws-role',
];

export type SourceType = 'aws' | 'vault';
export const SOURCE_TYPES: readonly SourceType[] = ['aws', 'vault'];

export type CredentialStatus = 'active' | 'inactive' | 'expired' | 'unknown';

/** How a grant reached the principal. */
export type Attachment =
  | 'inline'
  | 'managed'
  | 'group-inline'
  | 'group-managed'
  | 'boundary'
  | 'vault-policy'
  | 'vault-identity-policy'
  | 'vault-aws-role';

export interface Provenance {
  /** Policy name (inline or Vault policy) or managed policy name. */
  policy: string;
  /** Managed policy ARN, when the policy is a managed one. */
  policyArn?: string;
  attachment: Attachment;
  /** The group the policy came through, for group-* attachments. */
  via?: string;
}

/** One IAM policy statement as attached to a principal. Boundaries are grants with attachment "boundary": they cap, never add. */
export interface AwsStatementGrant {
  type: 'aws-statement';
  sid?: string;
  effect: 'Allow' | 'Deny';
  actions?: string[];
  notActions?: string[];
  resources?: string[];
  notResources?: string[];
  condition?: Record<string, unknown>;
  provenance: Provenance;
}

/** One Vault ACL path rule as carried by a token or role. */
export interface VaultPathGrant {
  type: 'vault-path';
  path: string;
  capabilities: string[];
  provenance: Provenance;
}

export type Grant = AwsStatementGrant | VaultPathGrant;

export interface LastUsed {
  at: string | null;
  service?: string | null;
  region?: string | null;
  /** Which API said so: "credential-report", "GetAccessKeyLastUsed", "RoleLastUsed", "vault-renewal", … */
  source: string;
  /** When that source's data was current. */
  asOf: string;
}

export interface Owner {
  team: string;
  contact: string;
}

export interface Credential {
  id: string;
  kind: CredentialKind;
  sourceType: SourceType;
  /** The account id, or `<cluster>/<namespace>` for Vault. */
  source: string;
  /** User or role ARN, or the Vault display name / role path. */
  principal: string;
  agentId: string | null;
  owner: Owner | null;
  /** True when the credential looks like an agent's but no registry entry claims it. */
  unregisteredAgent: boolean;
  createdAt: string | null;
  lastUsed: LastUsed | null;
  expiresAt: string | null;
  status: CredentialStatus;
  grants: Grant[];
  tags: Record<string, string>;
  attributes: Record<string, unknown>;
  observedAt: string;
}

/** What a source knows before registry attribution. */
export type DiscoveredCredential = Omit<Credential, 'agentId' | 'owner' | 'unregisteredAgent'>;

/** Actions (AWS) or path:capability pairs (Vault) that the grants allow, boundaries left out. */
export function grantedActions(grants: readonly Grant[]): string[] {
  const out = new Set<string>();
  for (const g of grants) {
    if (g.provenance.attachment === 'boundary') continue;
    if (g.type === 'aws-statement') {
      if (g.effect !== 'Allow') continue;
      for (const a of g.actions ?? []) out.add(a);
      for (const a of g.notActions ?? []) out.add(`NotAction:${a}`);
    } else {
      for (const c of g.capabilities) out.add(`${g.path}:${c}`);
    }
  }
  return [...out].sort();
}

/**
 * One line per grant, stable across scans: effect, actions, resources, condition and where it came
 * from. Drift compares these too, so widening a resource or dropping a condition is a change even
 * when the action list stays the same.
 */
export function grantSignatures(grants: readonly Grant[]): string[] {
  const sig = (g: Grant): string => {
    const p = g.provenance;
    const from = `${p.attachment} ${p.policyArn ?? p.policy}${p.via ? ` via ${p.via}` : ''}`;
    if (g.type === 'vault-path') return `${g.path} [${[...g.capabilities].sort().join(',')}] (${from})`;
    const act = g.actions ? g.actions.join(',') : `NOT ${g.notActions?.join(',') ?? ''}`;
    const res = g.resources ? g.resources.join(',') : `NOT ${g.notResources?.join(',') ?? ''}`;
    const cond = g.condition ? ` if ${JSON.stringify(g.condition)}` : '';
    return `${g.effect} ${act} on ${res}${cond} (${from})`;
  };
  return [...new Set(grants.map(sig))].sort();
}
