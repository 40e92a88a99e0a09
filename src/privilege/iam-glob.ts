/**
 * IAM wildcard matching. Actions: `*` and `?`, case-insensitive. Resources (ARNs): `*` and `?`,
 * case-sensitive, with policy variables: `${*}`, `${?}` and `${$}` are the literal characters,
 * variables given by the caller (e.g. `aws:username`) are substituted, and any other variable
 * matches anything. Over-matching an unknown variable is deliberate: for "can this principal reach
 * its own ARN?" a false "maybe" is reported as potential, a false "no" would hide an escalation.
 */

const actionCache = new Map<string, RegExp>();
const resourceCache = new Map<string, RegExp>();

const escapeRe = (s: string): string => s.replace(/[.+^${}()|[\]\\/]/g, '\\$&');

function wildcardBody(glob: string): string {
  let out = '';
  for (const ch of glob) out += ch === '*' ? '.*' : ch === '?' ? '.' : escapeRe(ch);
  return out;
}

/** Case-insensitive, whole-string match of an IAM action pattern. */
export function actionPatternRegExp(pattern: string): RegExp {
  let re = actionCache.get(pattern);
  if (!re) {
    re = new RegExp(`^${wildcardBody(pattern)}$`, 'is');
    actionCache.set(pattern, re);
  }
  return re;
}

export const hasWildcard = (s: string): boolean => s.includes('*') || s.includes('?');

export type PolicyVariables = Readonly<Record<string, string>>;

function resourceBody(pattern: string, vars: PolicyVariables): string {
  let out = '';
  let i = 0;
  while (i < pattern.length) {
    const open = pattern.indexOf('${', i);
    const close = open < 0 ? -1 : pattern.indexOf('}', open);
    if (open < 0 || close < 0) {
      out += wildcardBody(pattern.slice(i));
      break;
    }
    out += wildcardBody(pattern.slice(i, open));
    const name = pattern.slice(open + 2, close);
    if (name === '*' || name === '?' || name === '$') out += escapeRe(name);
    else {
      const v = vars[name.toLowerCase()] ?? vars[name];
      out += v === undefined ? '.*' : escapeRe(v);
    }
    i = close + 1;
  }
  return out;
}

/** Case-sensitive, whole-string match of an IAM resource pattern, policy variables resolved. */
export function resourcePatternRegExp(pattern: string, vars: PolicyVariables = {}): RegExp {
  // Variables only matter to patterns that use them; most do not, and share one cache entry.
  const key = pattern.includes('${') ? `${pattern}\u0000${JSON.stringify(vars)}` : pattern;
  let re = resourceCache.get(key);
  if (!re) {
    re = new RegExp(`^${resourceBody(pattern, vars)}$`, 's');
    if (resourceCache.size > 10_000) resourceCache.clear();
    resourceCache.set(key, re);
  }
  return re;
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
