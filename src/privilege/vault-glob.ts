/**
 * Vault ACL path patterns compared with each other (not with concrete paths: src/sources/vault
 * does that). A pattern is `/`-separated segments; `+` is exactly one segment; a trailing `*`
 * matches any suffix, slashes included (so `auth/*` covers `auth/approle/role/x/secret-id`).
 * A `*` anywhere else, or `+` inside a segment, is a literal character, as in Vault.
 *
 *  - covers(a, b): every path b can match, a matches too (scope checks: is this grant declared?);
 *  - intersection(a, b): one concrete path both match, or null (detectors: does this grant reach a
 *    sensitive path?). Segments b leaves open are filled with "\0", which no literal rule can
 *    match, so probing an ACL with the result only ever hits wildcard rules there.
 */

interface Parsed {
  /** Whole segments before the star segment (or all of them). */
  segs: string[];
  /** The literal start of the final `*` segment; null when the pattern has no trailing `*`. */
  prefix: string | null;
}

const FILL = '\u0000';

export function parseVaultPattern(pattern: string): Parsed {
  const p = pattern.replace(/^\/+/, '');
  if (!p.endsWith('*')) return { segs: p.split('/'), prefix: null };
  const parts = p.slice(0, -1).split('/');
  const prefix = parts.pop()!;
  return { segs: parts, prefix };
}

type Item = { seg: string } | { star: string } | null;

function itemAt(p: Parsed, i: number): Item {
  if (i < p.segs.length) return { seg: p.segs[i]! };
  if (i === p.segs.length && p.prefix !== null) return { star: p.prefix };
  return null;
}

const segCovers = (a: string, b: string): boolean => a === '+' || (a === b && b !== '+');

export function covers(outer: string, inner: string): boolean {
  const a = parseVaultPattern(outer);
  const b = parseVaultPattern(inner);
  if (a.prefix === null) {
    return b.prefix === null && a.segs.length === b.segs.length && a.segs.every((s, i) => segCovers(s, b.segs[i]!));
  }
  const k = a.segs.length;
  for (let i = 0; i < k; i++) {
    const bi = itemAt(b, i);
    if (!bi || 'star' in bi || !segCovers(a.segs[i]!, bi.seg)) return false;
  }
  const bk = itemAt(b, k);
  if (!bk) return false;
  if ('star' in bk) return bk.star.startsWith(a.prefix);
  return bk.seg === '+' ? a.prefix === '' : bk.seg.startsWith(a.prefix);
}

/** The rest of a pattern from segment i on, made concrete. */
function instantiate(p: Parsed, from: number): string[] {
  const out: string[] = [];
  for (let i = from; ; i++) {
    const it = itemAt(p, i);
    if (!it) return out;
    if ('star' in it) {
      out.push(it.star);
      return out;
    }
    out.push(it.seg === '+' ? FILL : it.seg);
  }
}

export interface Witness {
  path: string;
  /** True when both patterns stay open at the end: any suffix of `path` is in both too. */
  open: boolean;
}

export function intersection(x: string, y: string): Witness | null {
  const a = parseVaultPattern(x);
  const b = parseVaultPattern(y);
  const out: string[] = [];
  for (let i = 0; ; i++) {
    const ai = itemAt(a, i);
    const bi = itemAt(b, i);
    if (!ai && !bi) return { path: out.join('/'), open: false };
    if (!ai || !bi) return null;
    if ('star' in ai && 'star' in bi) {
      const [short, long] = ai.star.length <= bi.star.length ? [ai.star, bi.star] : [bi.star, ai.star];
      if (!long.startsWith(short)) return null;
      out.push(long);
      return { path: out.join('/'), open: true };
    }
    if ('star' in ai || 'star' in bi) {
      const [star, other, otherP] =
        'star' in ai ? [ai.star, bi as { seg: string }, b] : [(bi as { star: string }).star, ai as { seg: string }, a];
      if (other.seg === '+') out.push(`${star}${FILL}`);
      else if (other.seg.startsWith(star)) out.push(other.seg);
      else return null;
      out.push(...instantiate(otherP, i + 1));
      return { path: out.join('/'), open: otherP.prefix !== null };
    }
    if (ai.seg === '+' && bi.seg === '+') out.push(FILL);
    else if (ai.seg === '+' || bi.seg === '+') out.push(ai.seg === '+' ? bi.seg : ai.seg);
    else if (ai.seg === bi.seg) out.push(ai.seg);
    else return null;
  }
}

/** Concrete paths to probe an ACL with: the witness, and a child of it when it is open-ended. */
export function probes(w: Witness): string[] {
  if (!w.open) return [w.path];
  return [w.path, w.path.endsWith('/') || w.path === '' ? `${w.path}${FILL}` : `${w.path}/${FILL}`];
}

/**
 * True when the pattern opens up at the mount level: `*`, `s*` (a glob on the first segment), `+`,
 * `+/*`. A leading `+` followed by a concrete path (`+/auth/token/accessors`) is how policies reach
 * the same path in every child namespace; that is not a mount-wide glob.
 */
export function spansMounts(pattern: string): boolean {
  const p = parseVaultPattern(pattern);
  if (p.segs.length === 0) return true;
  return p.segs[0] === '+' && p.segs.length === 1 && (p.prefix === null || p.prefix === '');
}
