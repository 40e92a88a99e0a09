/** Types shared by the Vault ACL parser and matcher. */
export interface AclRule {
  /** The pattern as written, minus one leading `/`; a trailing `*` is kept. */
  path: string;
  capabilities: string[];
  /** Seconds. */
  minWrappingTtl?: number;
  /** Seconds. */
  maxWrappingTtl?: number;
  allowedParameters?: Record<string, unknown[]>;
  deniedParameters?: Record<string, unknown[]>;
  requiredParameters?: string[];
}

export type AclPathRule = Pick<AclRule, 'path' | 'capabilities'>;

export interface AclMatch {
  capabilities: Set<string>;
  matchedPattern: string | null;
}

export interface MatchOptions {
  /** The request is a LIST: apply Vault's trailing-slash fallbacks. */
  list?: boolean;
}

export class AclPolicyParseError extends Error {
  constructor(
    readonly line: number,
    detail: string,
  ) {
    super(`failed to parse policy: line ${line}: ${detail}`);
    this.name = 'AclPolicyParseError';
  }
}

export const CAPABILITIES = [
  'create',
  'read',
  'update',
  'patch',
  'delete',
  'list',
  'sudo',
  'deny',
  'subscribe',
  'recover',
] as const;
