/** Shell-style globs for names and ARNs: `*` is any run of characters, `?` is one. Case-sensitive, whole-string. */
const cache = new Map<string, RegExp>();

export function globToRegExp(glob: string): RegExp {
  let re = cache.get(glob);
  if (!re) {
    const body = glob
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.');
    re = new RegExp(`^${body}$`, 's');
    cache.set(glob, re);
  }
  return re;
}

export function globMatch(glob: string, value: string): boolean {
  return globToRegExp(glob).test(value);
}

export function anyGlob(globs: readonly string[] | undefined, value: string | null | undefined): boolean {
  if (!globs || value === null || value === undefined) return false;
  return globs.some((g) => globMatch(g, value));
}
