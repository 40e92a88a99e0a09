/**
 * IAM wildcard matching. Actions: `*` and `?`, case-insensitive. Resources (ARNs): `*` and `?`,
 * case-sensitive, with policy variables: `${*}`, `${?}` and `${$}` are the literal characters,
 * variables given by the caller (e.g. `aws:username`) are substituted, and any other variable
 * matches anything. Over-matching an unknown variable is deliberate: for "can this principal reach
 * its own ARN?" a false "maybe" is reported as potential, a false "no" would hide an escalation.
 */

import { WildcardBuilder, type WildcardMatcher } from '../util/wildcard.js';

const actionCache = new Map<string, WildcardMatcher>();
const resourceCache = new Map<string, WildcardMatcher>();

/**
 * Case-insensitive, whole-string match of an IAM action pattern. Returns a matcher with
 * RegExp-style `test` (src/util/wildcard.ts: no backtracking RegExp, whatever the pattern).
 */
export function actionPatternRegExp(pattern: string): WildcardMatcher {
  let m = actionCache.get(pattern);
  if (!m) {
    m = new WildcardBuilder().glob(pattern).build({ caseInsensitive: true });
    if (actionCache.size > 10_000) actionCache.clear();
    actionCache.set(pattern, m);
  }
  return m;
}

export const hasWildcard = (s: string): boolean => s.includes('*') || s.includes('?');

export type PolicyVariables = Readonly<Record<string, string>>;

function resourceMatcher(pattern: string, vars: PolicyVariables): WildcardMatcher {
  const b = new WildcardBuilder();
  let i = 0;
  while (i < pattern.length) {
    const open = pattern.indexOf('${', i);
    const close = open < 0 ? -1 : pattern.indexOf('}', open);
    if (open < 0 || close < 0) {
      b.glob(pattern.slice(i));
      break;
    }
    b.glob(pattern.slice(i, open));
    const name = pattern.slice(open + 2, close);
    if (name === '*' || name === '?' || name === '$') b.literal(name);
    else {
      const v = vars[name.toLowerCase()] ?? vars[name];
      if (v === undefined) b.star();
      else b.literal(v);
    }
    i = close + 1;
  }
  return b.build();
}

/**
 * Case-sensitive, whole-string match of an IAM resource pattern, policy variables resolved.
 * Returns a matcher with RegExp-style `test`.
 */
export function resourcePatternRegExp(pattern: string, vars: PolicyVariables = {}): WildcardMatcher {
  // Variables only matter to patterns that use them; most do not, and share one cache entry.
  const key = pattern.includes('${') ? `${pattern}\u0000${JSON.stringify(vars)}` : pattern;
  let m = resourceCache.get(key);
  if (!m) {
    m = resourceMatcher(pattern, vars);
    if (resourceCache.size > 10_000) resourceCache.clear();
    resourceCache.set(key, m);
  }
  return m;
}

export function resourceMatches(pattern: string, arn: string, vars?: PolicyVariables): boolean {
  if (pattern === '*') return true;
  return resourcePatternRegExp(pattern, vars).test(arn);
}

/**
 * Does resource pattern `outer` cover every ARN that `inner` can match? Approximated by matching
 * `inner` as a literal string: `arn:aws:s3:::b/*` covers `arn:aws:s3:::b/x*`, while `…/b/x` does
 * not cover `…/b/*`. The approximation only errs towards "does not cover", which for a Deny means
 * keeping the Allow: the safe direction for a detector.
 */
export function resourceCovers(outer: string, inner: string): boolean {
  if (outer === '*') return true;
  if (inner === '*') return false;
  // A variable in a Deny depends on the request; treating it as a wildcard would over-remove.
  if (/\$\{(?![*?$]\})/.test(outer)) return outer === inner;
  return resourcePatternRegExp(outer).test(inner);
}
