/**
 * AWS credential ids, read back: `aws/<account>/<kind>/<name>` (see model/ids.ts for how they are
 * built). Parsing is strict, so a recheck never reads a principal the id does not name exactly.
 */
import type { AwsAccountConfig } from '../../config/schema.js';
import { CwError, ErrorCodes } from '../../errors.js';

export type AwsIdKind = 'access-key' | 'role' | 'console-password' | 'root-access-key';

export interface AwsCredentialRef {
  id: string;
  account: string;
  kind: AwsIdKind;
  /** The AccessKeyId, RoleName, UserName or root key slot ("1" or "2"). */
  name: string;
}

/** IAM's own character sets: access key ids are `[\w]+` (16–128), user and role names `[\w+=,.@-]+` (1–64). */
const NAME_PATTERNS: Record<AwsIdKind, RegExp> = {
  'access-key': /^\w{16,128}$/,
  role: /^[\w+=,.@-]{1,64}$/,
  'console-password': /^[\w+=,.@-]{1,64}$/,
  'root-access-key': /^[12]$/,
};
const KINDS = Object.keys(NAME_PATTERNS) as AwsIdKind[];
const isKind = (k: string): k is AwsIdKind => (KINDS as string[]).includes(k);

/** The account segment of an `aws/` id, or null when the id is not one. */
function accountOf(id: string): string | null {
  if (!id.startsWith('aws/')) return null;
  return id.split('/')[1] ?? '';
}

/**
 * True when the id is under `aws/` and names an account this source scans: one of the configured
 * accounts, or (no accounts configured, so the home account) any account, which recheck confirms.
 */
export function ownsAwsId(id: string, accounts: readonly AwsAccountConfig[] | undefined): boolean {
  const account = accountOf(id);
  if (account === null) return false;
  return accounts ? accounts.some((a) => a.id === account) : true;
}

/** Parse an AWS credential id; anything else is CwError INPUT naming the id. */
export function parseAwsCredentialId(id: string): AwsCredentialRef {
  const bad = (why: string) => new CwError(ErrorCodes.INPUT, `credential id "${id}": ${why}`);
  if (accountOf(id) === null) throw bad('not an AWS credential id (expected aws/<account>/<kind>/<name>)');
  const parts = id.split('/');
  if (parts.length !== 4) throw bad('malformed: expected aws/<account>/<kind>/<name>');
  const [, account = '', kind = '', name = ''] = parts;
  if (!/^\d{12}$/.test(account)) throw bad(`malformed: account "${account}" is not a 12-digit AWS account id`);
  if (!isKind(kind)) throw bad(`unknown AWS credential kind "${kind}" (known: ${KINDS.join(', ')})`);
  if (!NAME_PATTERNS[kind].test(name)) throw bad(`malformed: "${name}" is not a valid ${kind} name`);
  return { id, account, kind, name };
}
