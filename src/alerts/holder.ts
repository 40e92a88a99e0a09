/**
 * The holder line every sink leads with: which IAM user or role (or Vault token, AppRole…) holds
 * the credential, and in which account, by its configured name. On-call reads this first, before
 * the policy or the credential id. Untrusted parts are not escaped here: each sink escapes for its
 * format. Null for items without a principal (test events, items planned before this existed).
 */
import { type PrincipalType, principalPhrase } from '../model/principal.js';
import type { AlertItem } from './types.js';

export function holderLine(item: AlertItem): string | null {
  if (!item.principalName) return null;
  return principalPhrase({
    principalType: (item.principalType ?? 'unknown') as PrincipalType,
    principalName: item.principalName,
    account: item.account ?? null,
    source: item.source,
  });
}

/** `prod (111111111111)`, `111111111111`, or null (Vault: no account). */
export function accountLabel(item: AlertItem): string | null {
  const a = item.account;
  if (!a) return null;
  return a.name ? `${a.name} (${a.id})` : a.id;
}
