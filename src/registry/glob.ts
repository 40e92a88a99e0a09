/**
 * Shell-style globs for names and ARNs: `*` is any run of characters, `?` is one. Case-sensitive,
 * whole-string. Matched by src/util/wildcard.ts in O(pattern × text), never by a backtracking RegExp.
 */
import { type WildcardMatcher, wildcardMatcher } from '../util/wildcard.js';

const cache = new Map<string, WildcardMatcher>();

/** The compiled glob (a matcher with RegExp-style `test`; no longer a RegExp). */
export function globToRegExp(glob: string): WildcardMatcher {
  let m = cache.get(glob);
  if (!m) {
    m = wildcardMatcher(glob);
    if (cache.size > 10_000) cache.clear();
    cache.set(glob, m);
  }
  return m;
}

export function globMatch(glob: string, value: string): boolean {
  return globToRegExp(glob).test(value);
}

export function anyGlob(globs: readonly string[] | undefined, value: string | null | undefined): boolean {
  if (!globs || value === null || value === undefined) return false;
  return globs.some((g) => globMatch(g, value));
}
