/**
 * Vault credential ids, read back (model/ids.ts builds them):
 *   vault/<cluster>/<ns>/token/<accessor>
 *   vault/<cluster>/<ns>/approle/<mount>/<role>[/secret-id/<accessor>]
 *   vault/<cluster>/<ns>/lease/<lease id, slashes and all>
 *   vault/<cluster>/<ns>/aws-role/<mount>/<role>
 * `<ns>` is `root` or the namespace with `/` encoded as `%2F`. Mounts may contain slashes, so they
 * are matched against the cluster's configured mounts (longest first), never guessed; role names
 * and accessors have none. A lease must sit under one of the configured lease prefixes.
 */
import type { VaultClusterConfig } from '../../config/schema.js';
import { CwError, ErrorCodes } from '../../errors.js';
import { vaultNamespaceSegment } from '../../model/ids.js';

export type VaultCredentialRef =
  | { kind: 'token'; accessor: string }
  | { kind: 'approle-role'; mount: string; role: string }
  | { kind: 'secret-id'; mount: string; role: string; accessor: string }
  | { kind: 'lease'; leaseId: string }
  | { kind: 'aws-role'; mount: string; role: string };

export interface ParsedVaultId {
  cluster: VaultClusterConfig;
  /** '' for the root namespace, else the path without slashes at either end. */
  ns: string;
  ref: VaultCredentialRef;
}

/** A configured namespace as discover uses it: no slashes at either end, root as ''. */
export const normNs = (ns: string): string => {
  const t = ns.replace(/^\/+|\/+$/g, '');
  return t === 'root' ? '' : t;
};

const normMount = (m: string): string => m.replace(/^\/+|\/+$/g, '');
const normLeasePrefix = (p: string): string => p.replace(/^\/+/, '').replace(/\/*$/, '/');
const SEGMENT = /^[^/]+$/;

/** Configured mounts, normalised, longest first. */
function mountsOf(list: readonly string[]): string[] {
  return [...new Set(list.map(normMount).filter((m) => m !== ''))].sort((a, b) => b.length - a.length);
}

/** The cluster and namespace of an id, or why it has none here. */
function locate(
  clusters: readonly VaultClusterConfig[],
  id: string,
): { cluster: VaultClusterConfig; ns: string; kind: string; rest: string } | string {
  const parts = id.split('/');
  if (parts[0] !== 'vault' || parts.length < 5) return 'not of the form vault/<cluster>/<namespace>/<kind>/…';
  const [, name, seg, kind] = parts as [string, string, string, string];
  const cluster = clusters.find((c) => c.name === name);
  if (!cluster) return `no Vault cluster named "${name}" is configured`;
  const ns = seg === 'root' ? '' : seg.replace(/%2F/g, '/');
  if (vaultNamespaceSegment(ns) !== seg || (ns !== '' && ns.split('/').includes('')))
    return `"${seg}" is not a namespace segment`;
  if (Array.isArray(cluster.namespaces) && !cluster.namespaces.map(normNs).includes(ns))
    return `namespace "${ns}" is not configured for cluster ${name}`;
  return { cluster, ns, kind, rest: parts.slice(4).join('/') };
}

/** True when the id is under one of this source's units (configured cluster and namespace). */
export function ownsVaultId(clusters: readonly VaultClusterConfig[], id: string): boolean {
  return typeof locate(clusters, id) !== 'string';
}

/** `<mount>/<tail>` against the configured mounts, longest first; the first whose tail parses wins. */
function withMount<T>(
  mounts: readonly string[],
  rest: string,
  what: string,
  tail: (mount: string, t: string) => T | null,
): T | string {
  let matched = false;
  for (const m of mounts) {
    if (!rest.startsWith(`${m}/`)) continue;
    matched = true;
    const out = tail(m, rest.slice(m.length + 1));
    if (out !== null) return out;
  }
  return matched
    ? `malformed ${what} path "${rest}"`
    : `no configured ${what} mount (${mounts.join(', ') || 'none'}) is a prefix of "${rest}"`;
}

function parseRef(cluster: VaultClusterConfig, kind: string, rest: string): VaultCredentialRef | string {
  switch (kind) {
    case 'token':
      return SEGMENT.test(rest) ? { kind: 'token', accessor: rest } : `malformed token accessor "${rest}"`;
    case 'approle':
      return withMount(mountsOf(cluster.approleMounts), rest, 'AppRole', (mount, t) => {
        const p = t.split('/');
        if (p.length === 1 && SEGMENT.test(p[0]!)) return { kind: 'approle-role', mount, role: p[0]! };
        if (p.length === 3 && p[1] === 'secret-id' && SEGMENT.test(p[0]!) && SEGMENT.test(p[2]!))
          return { kind: 'secret-id', mount, role: p[0]!, accessor: p[2]! };
        return null;
      });
    case 'aws-role':
      return withMount(mountsOf(cluster.awsMounts), rest, 'AWS secrets engine', (mount, t) =>
        SEGMENT.test(t) ? { kind: 'aws-role', mount, role: t } : null,
      );
    case 'lease': {
      const prefixes = cluster.leasePrefixes.map(normLeasePrefix);
      if (rest === '' || rest.endsWith('/') || rest.includes('//')) return `malformed lease id "${rest}"`;
      if (!prefixes.some((p) => rest.startsWith(p) && rest.length > p.length))
        return `lease "${rest}" is under no configured lease prefix (${prefixes.join(', ') || 'none'})`;
      return { kind: 'lease', leaseId: rest };
    }
    default:
      return `unknown credential kind "${kind}"`;
  }
}

/** Parses an id against the configuration; anything this source cannot recheck is CwError INPUT naming the id. */
export function parseVaultId(clusters: readonly VaultClusterConfig[], id: string): ParsedVaultId {
  const fail = (why: string) => new CwError(ErrorCodes.INPUT, `cannot recheck Vault credential "${id}": ${why}`);
  const at = locate(clusters, id);
  if (typeof at === 'string') throw fail(at);
  const ref = parseRef(at.cluster, at.kind, at.rest);
  if (typeof ref === 'string') throw fail(ref);
  return { cluster: at.cluster, ns: at.ns, ref };
}
