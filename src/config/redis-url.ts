/**
 * `redis.url` is a secret-bearing value like any other: a password in it is an `${env:NAME}`
 * reference (`redis://:${env:REDIS_PASSWORD}@host:6379`), or the whole URL comes from one
 * (`${env:REDIS_URL}`). The variable holds the password as is: references in the user-info part
 * are percent-encoded into the URL, so a password with `@`, `/` or `:` still parses, and the
 * `//***@` masking in error messages always covers it. No message here ever echoes the URL.
 * The same rules hold for every `redis.nodes` entry (a cluster's extra seed nodes).
 */
import { REF, WHOLE_REF } from './env-refs.js';

const ENV_REF_FORM = '$' + '{env:NAME}';
const EXAMPLE = `redis://:${'$'}{env:REDIS_PASSWORD}@host:6379`;

interface UrlParts {
  /** Index of the `@` that ends the user-info, or -1 when there is none. */
  at: number;
  /** Start of the authority (just after `scheme://`). */
  start: number;
  /** End of the authority: the first `/`, `?` or `#` after it, or the end. */
  end: number;
}

function urlParts(url: string): UrlParts | null {
  const m = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.exec(url);
  if (!m) return null;
  const start = m[0].length;
  let end = url.length;
  for (const c of ['/', '?', '#']) {
    const i = url.indexOf(c, start);
    if (i >= 0 && i < end) end = i;
  }
  // As the WHATWG URL parser does: the user-info ends at the last `@` of the authority.
  const at = url.lastIndexOf('@', end - 1);
  return { start, end, at: at >= start ? at : -1 };
}

/** The user-info split at its first `:` that is not inside an `${env:…}` reference. */
function splitUserinfo(userinfo: string): { user: string; password: string | null } {
  let i = 0;
  while (i < userinfo.length) {
    if (userinfo.startsWith('${', i)) {
      const close = userinfo.indexOf('}', i);
      i = close < 0 ? userinfo.length : close + 1;
    } else if (userinfo[i] === ':') return { user: userinfo.slice(0, i), password: userinfo.slice(i + 1) };
    else i++;
  }
  return { user: userinfo, password: null };
}

function queryHasPassword(url: string, parts: UrlParts): boolean {
  const q = url.indexOf('?', parts.end);
  if (q < 0) return false;
  const hash = url.indexOf('#', q);
  const query = url.slice(q + 1, hash < 0 ? undefined : hash);
  return query.split('&').some((kv) => /^password(=|$)/i.test(kv));
}

/** Why the raw (unresolved) `redis.url` text is refused, or null. Never quotes the URL. */
export function rawRedisUrlProblem(raw: string): string | null {
  const parts = urlParts(raw);
  if (!parts) return null; // not URL-shaped: the schema says "must be a URL"
  if (queryHasPassword(raw, parts))
    return `put the password in the user-info as an ${ENV_REF_FORM} reference (${EXAMPLE}), not in the query`;
  if (parts.at < 0) return null;
  const { user, password } = splitUserinfo(raw.slice(parts.start, parts.at));
  if (password !== null && password !== '' && !WHOLE_REF.test(password))
    return `the password must be an ${ENV_REF_FORM} reference, e.g. ${EXAMPLE} (or the whole URL: ${'$'}{env:REDIS_URL}); secrets are never written into config files`;
  if (user.includes('@')) return 'the user name contains "@": percent-encode it as %40';
  return null;
}

/** The raw URL with its references resolved, those in the user-info percent-encoded. */
export function resolveRedisUrl(raw: string, env: NodeJS.ProcessEnv): string {
  const at = urlParts(raw)?.at ?? -1;
  return raw.replace(REF, (_m, name: string, offset: number) => {
    const v = env[name] ?? '';
    return offset < at ? encodeURIComponent(v) : v;
  });
}

/** Why the resolved `redis.url` is refused (a URL that does not parse, a password in the query), or null. */
export function resolvedRedisUrlProblem(url: string): string | null {
  try {
    new URL(url);
  } catch {
    return 'is not a valid URL once its references are resolved (percent-encode special characters)';
  }
  const parts = urlParts(url);
  if (parts && queryHasPassword(url, parts))
    return `put the password in the user-info as an ${ENV_REF_FORM} reference (${EXAMPLE}), not in the query`;
  if (parts && parts.at >= 0 && url.slice(parts.start, parts.at).includes('@'))
    return 'the user-info contains "@": percent-encode it as %40';
  // `redis://u:12/x@host` parses as host u, port 12, db "x@host": a password with a raw `/`, `?` or `#`.
  if (parts && url.indexOf('@', parts.end) >= 0)
    return 'has "@" after the host: percent-encode "/", "?", "#" and "@" in the user name and password';
  return null;
}
