/**
 * Vault ACL matching, as `vault/acl.go` does it: exact rules first (for LIST also the path without
 * its trailing slash), then the longest `*` prefix rule competing with `+` segment rules under
 * Vault's priority order. Rules that share a pattern are unioned, and `deny` in a merged rule
 * removes every other capability. A deny on a less specific pattern does NOT override a more
 * specific allow.
 */
import type { AclMatch, AclPathRule, MatchOptions } from './acl-types.js';

interface Merged {
  pattern: string;
  caps: Set<string>;
}
interface SegmentRule extends Merged {
  parts: string[];
  isPrefix: boolean;
  firstWildcard: number;
  wildcards: number;
  wcPath: string;
}
interface Candidate {
  merged: Merged;
  firstWildcard: number;
  isPrefix: boolean;
  wildcards: number;
  wcPath: string;
}

/** A union of policies compiled once, for repeated matching. */
export class CompiledAcl {
  private readonly exact = new Map<string, Merged>();
  private readonly prefixes: (Merged & { prefix: string })[] = [];
  private readonly segments: SegmentRule[] = [];

  constructor(rules: readonly AclPathRule[]) {
    const byPattern = new Map<string, Merged>();
    for (const r of rules) {
      const pattern = r.path.startsWith('/') ? r.path.slice(1) : r.path;
      let m = byPattern.get(pattern);
      if (!m) {
        m = { pattern, caps: new Set() };
        byPattern.set(pattern, m);
      }
      for (const c of r.capabilities) m.caps.add(c);
      if (m.caps.has('deny')) m.caps = new Set(['deny']);
    }
    for (const m of byPattern.values()) {
      const p = m.pattern;
      const hasSegments = p === '+' || p.includes('/+') || p.startsWith('+/');
      if (hasSegments) {
        const isPrefix = p.endsWith('*');
        const wcPath = isPrefix ? p.slice(0, -1) : p;
        const parts = wcPath.split('/');
        const wildcards = parts.filter((x) => x === '+').length;
        this.segments.push({ ...m, parts, isPrefix, wcPath, wildcards, firstWildcard: p.indexOf('+') });
      } else if (p.endsWith('*')) {
        this.prefixes.push({ ...m, prefix: p.slice(0, -1) });
      } else {
        this.exact.set(p, m);
      }
    }
    this.prefixes.sort((a, b) => b.prefix.length - a.prefix.length);
  }

  match(rawPath: string, opts: MatchOptions = {}): AclMatch {
    const path = rawPath.replace(/^\/+/, '');
    const trimmed = path.endsWith('/') ? path.slice(0, -1) : path;
    const found =
      this.exact.get(path) ??
      (opts.list ? this.exact.get(trimmed) : undefined) ??
      (opts.list && path !== trimmed ? this.nonExact(trimmed) : undefined) ??
      this.nonExact(path);
    if (!found) return { capabilities: new Set(), matchedPattern: null };
    return { capabilities: new Set(found.caps), matchedPattern: found.pattern };
  }

  private nonExact(path: string): Merged | undefined {
    const candidates: Candidate[] = [];
    const prefix = this.prefixes.find((p) => path.startsWith(p.prefix));
    if (prefix) {
      if (this.segments.length === 0) return prefix;
      candidates.push({
        merged: prefix,
        firstWildcard: prefix.prefix.length,
        isPrefix: true,
        wildcards: 0,
        wcPath: prefix.prefix,
      });
    }
    const pathParts = path.split('/');
    for (const s of this.segments) {
      if (pathParts.length < s.parts.length) continue;
      if (!s.isPrefix && s.parts.length !== pathParts.length) continue;
      const last = s.parts.length - 1;
      const ok = s.parts.every(
        (part, i) =>
          part === '+' || part === pathParts[i] || (s.isPrefix && i === last && pathParts[i]!.startsWith(part)),
      );
      if (ok) candidates.push({ merged: s, ...s });
    }
    if (candidates.length === 0) return undefined;
    candidates.sort(lowerPriorityFirst);
    return candidates[candidates.length - 1]!.merged;
  }
}

/** Vault's ordering (policies.mdx "Priority matching"): the last element wins. */
function lowerPriorityFirst(a: Candidate, b: Candidate): number {
  if (a.firstWildcard !== b.firstWildcard) return a.firstWildcard - b.firstWildcard;
  if (a.isPrefix !== b.isPrefix) return a.isPrefix ? -1 : 1;
  if (a.wildcards !== b.wildcards) return b.wildcards - a.wildcards;
  if (a.wcPath.length !== b.wcPath.length) return a.wcPath.length - b.wcPath.length;
  return a.wcPath < b.wcPath ? -1 : a.wcPath > b.wcPath ? 1 : 0;
}

/** Capabilities that the union of `rules` grants on `path`; empty set when nothing matches. */
export function matchAcl(rules: readonly AclPathRule[] | CompiledAcl, path: string, opts?: MatchOptions): AclMatch {
  const acl = rules instanceof CompiledAcl ? rules : new CompiledAcl(rules);
  return acl.match(path, opts);
}

/** True when every capability in `needed` is granted on `path` (a matched `deny` grants nothing). */
export function hasCapabilities(
  rules: readonly AclPathRule[] | CompiledAcl,
  path: string,
  needed: readonly string[],
  opts?: MatchOptions,
): boolean {
  const { capabilities } = matchAcl(rules, path, opts);
  if (capabilities.has('deny')) return false;
  return needed.every((c) => capabilities.has(c));
}
