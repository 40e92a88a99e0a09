/**
 * Whole-string wildcard matching that can never backtrack without end: `*` is any run of
 * characters (the empty one included), `?` is exactly one, everything else is literal. Every glob
 * a user writes (registry selectors, policy resources, IAM actions and resources) is matched here
 * rather than compiled to a RegExp, where `********a` or `*a*a*a*a*b` takes exponential or
 * high-polynomial time on a name that does not match.
 *
 * The algorithm is the greedy two-pointer one with a single backtrack point (the last `*` seen):
 * O(pattern × text) in the worst case, linear in the usual one. Characters are UTF-16 code units
 * and case folding is a RegExp's without the `u` flag (`i`), so results equal the old RegExps'.
 */

const STAR = -1;
const ANY = -2;

export interface WildcardMatcher {
  /** True when the whole of `value` matches. Named like RegExp#test so matchers replace RegExps. */
  test(value: string): boolean;
}

/** RegExp `i` case folding without `u` (ECMA-262 Canonicalize): to upper case, one unit to one unit. */
function fold(c: number): number {
  if (c < 0x80) return c >= 0x61 && c <= 0x7a ? c - 0x20 : c;
  const up = String.fromCharCode(c).toUpperCase();
  if (up.length !== 1) return c;
  const u = up.charCodeAt(0);
  return u < 0x80 ? c : u;
}

function matchOps(ops: Int32Array, t: string, ci: boolean): boolean {
  const n = t.length;
  const m = ops.length;
  let pi = 0;
  let ti = 0;
  let starPi = -1;
  let starTi = 0;
  while (ti < n) {
    if (pi < m) {
      const op = ops[pi]!;
      if (op === STAR) {
        starPi = pi++;
        starTi = ti;
        continue;
      }
      if (op === ANY || op === (ci ? fold(t.charCodeAt(ti)) : t.charCodeAt(ti))) {
        pi++;
        ti++;
        continue;
      }
    }
    // Mismatch: let the last `*` swallow one more character and retry from just after it.
    if (starPi < 0) return false;
    pi = starPi + 1;
    ti = ++starTi;
  }
  while (pi < m && ops[pi] === STAR) pi++;
  return pi === m;
}

/** Builds a pattern piece by piece: globs, literal text (a resolved policy variable), bare `*`. */
export class WildcardBuilder {
  private readonly ops: number[] = [];

  /** `*` and `?` are wildcards, everything else literal. */
  glob(s: string): this {
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c === 0x2a) this.star();
      else if (c === 0x3f) this.ops.push(ANY);
      else this.ops.push(c);
    }
    return this;
  }

  /** Every character literal, `*` and `?` included. */
  literal(s: string): this {
    for (let i = 0; i < s.length; i++) this.ops.push(s.charCodeAt(i));
    return this;
  }

  star(): this {
    // A run of stars is one star: same language, and no multiplied backtracking.
    if (this.ops[this.ops.length - 1] !== STAR) this.ops.push(STAR);
    return this;
  }

  build(opts: { caseInsensitive?: boolean } = {}): WildcardMatcher {
    const ci = opts.caseInsensitive === true;
    const ops = Int32Array.from(this.ops, (op) => (ci && op >= 0 ? fold(op) : op));
    const firstWild = ops.findIndex((op) => op < 0);
    const lit = (from: number, to: number) => {
      let out = '';
      for (let i = from; i < to; i += 4096) out += String.fromCharCode(...ops.subarray(i, Math.min(to, i + 4096)));
      return out;
    };
    if (!ci && firstWild < 0) {
      const exact = lit(0, ops.length);
      return { test: (v) => v === exact };
    }
    if (!ci && firstWild === ops.length - 1 && ops[firstWild] === STAR) {
      const prefix = lit(0, firstWild);
      return { test: (v) => v.startsWith(prefix) };
    }
    return { test: (v) => matchOps(ops, v, ci) };
  }
}

/** Match `value` against glob `pattern` (`*`, `?`), whole-string. */
export function wildcardMatcher(pattern: string, opts: { caseInsensitive?: boolean } = {}): WildcardMatcher {
  return new WildcardBuilder().glob(pattern).build(opts);
}
