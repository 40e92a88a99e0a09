/**
 * `${env:NAME}` references. Secrets enter config only this way; the resolved values live in memory
 * only. A reference to an unset variable is a config error naming the key that used it.
 */
export const REF = /\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}/g;
export const WHOLE_REF = /^\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}$/;

export interface UnresolvedRef {
  path: (string | number)[];
  name: string;
}

/** Replace every reference in every string of `value`; return the copy and the refs that were unset. */
export function resolveEnvRefs(
  value: unknown,
  env: NodeJS.ProcessEnv,
  path: (string | number)[] = [],
  missing: UnresolvedRef[] = [],
): { value: unknown; missing: UnresolvedRef[] } {
  if (typeof value === 'string') {
    const out = value.replace(REF, (_m, name: string) => {
      const v = env[name];
      if (v === undefined || v === '') {
        missing.push({ path, name });
        return '';
      }
      return v;
    });
    return { value: out, missing };
  }
  if (Array.isArray(value)) {
    return { value: value.map((v, i) => resolveEnvRefs(v, env, [...path, i], missing).value), missing };
  }
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = resolveEnvRefs(v, env, [...path, k], missing).value;
    return { value: out, missing };
  }
  return { value, missing };
}
