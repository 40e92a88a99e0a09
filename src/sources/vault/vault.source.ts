/**
 * The Vault source. One scan unit per cluster × configured namespace, or one per cluster when
 * namespaces are discovered (`namespaces: { discover: true }` walks sys/namespaces, one level per
 * request). Per namespace it reads the ACL policies, then tokens, AppRole roles and secret IDs,
 * leases under the configured prefixes, and AWS secrets-engine roles.
 *
 * A sealed Vault, a 403 or a timeout on any step marks that step's id prefix incomplete with a
 * clear reason; the other steps go on. Nothing under an incomplete prefix is ever concluded
 * removed. Other failures (network errors, 5xx) throw as retryable. recheck() (recheck.ts) reads
 * one credential live by its id, with the scan's own record builders.
 */
import type { VaultClusterConfig } from '../../config/schema.js';
import { CwError, ErrorCodes } from '../../errors.js';
import type { DiscoveredCredential } from '../../model/credential.js';
import { vaultNamespaceSegment } from '../../model/ids.js';
import { attribute, type MatchSubject } from '../../registry/match.js';
import type {
  DiscoverContext,
  RecheckContext,
  RecheckResult,
  ScanUnit,
  Source,
  UnitProblem,
  UnitResult,
} from '../source.js';
import { isPartialError, isUnknownPath, VaultApi, type VaultHttp } from './api.js';
import { scanAppRoleMount } from './approle.js';
import { scanAwsEngineRoles } from './aws-engine.js';
import { scanLeases } from './leases.js';
import { loadPolicies, type PolicySet } from './policies.js';
import { recheckVaultCredential, VAULT_RECHECK_PERMISSIONS } from './recheck.js';
import { normNs, ownsVaultId } from './recheck-id.js';
import { lookupAllTokens, lookupSelfAccessor, tokenRecord, tokenSubject } from './tokens.js';

export const VAULT_SCANNER_CAPABILITIES = [
  'auth/token/accessors: list, sudo',
  'auth/token/lookup-accessor: update',
  'auth/token/lookup-self: read (default policy)',
  'sys/policies/acl, sys/policies/acl/*: list, read',
  'sys/namespaces: list (only with namespaces: { discover: true })',
  'auth/<approle mount>/role, auth/<approle mount>/role/*: list, read',
  'auth/<approle mount>/role/+/secret-id: list',
  'auth/<approle mount>/role/+/secret-id-accessor/lookup: update',
  'sys/leases/lookup/<prefix>*: list, sudo; sys/leases/lookup: update',
  '<aws mount>/roles, <aws mount>/roles/*: list, read',
] as const;

export class VaultSource implements Source {
  readonly type = 'vault' as const;
  readonly permissions = VAULT_SCANNER_CAPABILITIES;
  readonly recheckPermissions = VAULT_RECHECK_PERMISSIONS;

  constructor(
    private readonly clusters: readonly VaultClusterConfig[],
    private readonly http: (cluster: string) => VaultHttp,
  ) {}

  units(): ScanUnit[] {
    return this.clusters.flatMap((c): ScanUnit[] =>
      Array.isArray(c.namespaces)
        ? c.namespaces.map((ns) => ({
            sourceType: 'vault',
            key: `vault/${c.name}/${vaultNamespaceSegment(ns)}`,
            label: `${c.name} ${normNs(ns) || 'root'}`,
          }))
        : [{ sourceType: 'vault', key: `vault/${c.name}`, label: `${c.name} (all namespaces)` }],
    );
  }

  async discover(unitKey: string, ctx: DiscoverContext): Promise<UnitResult> {
    const unit = this.units().find((u) => u.key === unitKey);
    const cluster = this.clusters.find((c) => unitKey === `vault/${c.name}` || unitKey.startsWith(`vault/${c.name}/`));
    if (!unit || !cluster) throw new CwError(ErrorCodes.INPUT, `unknown Vault scan unit "${unitKey}"`);
    const api = new VaultApi(this.http(cluster.name), cluster.name, cluster.requestTimeoutMs);
    const startedAt = ctx.clock.now().toISOString();
    const problems: UnitProblem[] = [];
    const complete: string[] = [];
    const creds: DiscoveredCredential[] = [];
    const subjects = new Map<string, MatchSubject>();
    const finish = (): UnitResult => ({
      unit,
      credentials: creds
        .map((c) => attribute(ctx.registry, c, subjects.get(c.id)!))
        .sort((a, b) => a.id.localeCompare(b.id)),
      completePrefixes: complete,
      problems,
      apiCalls: api.counts,
      startedAt,
      finishedAt: ctx.clock.now().toISOString(),
    });
    const partial = (scope: string, err: unknown): boolean => {
      if (isUnknownPath(err) && /\/(approle|aws-role)\//.test(scope)) {
        // The mount does not exist in this namespace: nothing of that kind exists here.
        ctx.log.warn({ scope }, `${(err as Error).message} (mount absent; nothing to inventory)`);
        complete.push(scope);
        return true;
      }
      if (!isPartialError(err)) return false;
      problems.push({ scope, code: err.code, message: err.message });
      ctx.log.warn({ scope, code: err.code }, err.message);
      return true;
    };

    let namespaces: string[];
    try {
      namespaces = Array.isArray(cluster.namespaces)
        ? [normNs(unitKey.slice(`vault/${cluster.name}/`.length).replace(/%2F/g, '/'))]
        : await this.walkNamespaces(api, '', problems, unitKey);
    } catch (err) {
      if (partial(unitKey, err)) return finish();
      throw err;
    }
    let selfAccessor: string | null = null;
    try {
      selfAccessor = await lookupSelfAccessor(api, namespaces[0] ?? '');
    } catch (err) {
      if (err instanceof CwError && err.code === ErrorCodes.VAULT_SEALED) {
        partial(unitKey, err);
        return finish();
      }
      if (!isPartialError(err)) throw err;
    }

    for (const ns of namespaces) {
      const observedAt = ctx.clock.now().toISOString();
      const base = `vault/${cluster.name}/${vaultNamespaceSegment(ns)}/`;
      const push = (c: DiscoveredCredential, s: MatchSubject) => {
        creds.push(c);
        subjects.set(c.id, s);
      };
      let policies: PolicySet = { rules: new Map(), errors: new Map() };
      try {
        policies = await loadPolicies(api, ns);
      } catch (err) {
        if (!partial(`${base}`, err)) throw err;
      }
      ctx.progress?.(`vault ${cluster.name} ${ns || 'root'}: tokens`);
      try {
        const tokens = await lookupAllTokens(api, ns, cluster.concurrency, (d, t) =>
          ctx.progress?.(`vault ${cluster.name} ${ns || 'root'}: tokens ${d}/${t}`),
        );
        for (const t of tokens)
          push(tokenRecord(t, { cluster: cluster.name, ns, policies, selfAccessor, observedAt }), tokenSubject(t, ns));
        complete.push(`${base}token/`);
      } catch (err) {
        if (!partial(`${base}token/`, err)) throw err;
      }
      for (const mount of cluster.approleMounts) {
        try {
          const r = await scanAppRoleMount(
            { api, cluster: cluster.name, ns, policies, concurrency: cluster.concurrency, observedAt },
            mount,
          );
          for (const rec of r.records) push(rec.cred, rec.subject);
          complete.push(...r.completePrefixes);
          problems.push(...r.problems);
        } catch (err) {
          if (!partial(`${base}approle/${mount.replace(/^\/+|\/+$/g, '')}/`, err)) throw err;
        }
      }
      for (const prefix of cluster.leasePrefixes) {
        const scope = `${base}lease/${prefix.replace(/^\/+/, '').replace(/\/*$/, '/')}`;
        try {
          for (const c of await scanLeases(
            api,
            { cluster: cluster.name, ns, concurrency: cluster.concurrency, observedAt },
            prefix,
          ))
            push(c, { sourceType: 'vault', vault: { namespace: ns } });
          complete.push(scope);
        } catch (err) {
          if (!partial(scope, err)) throw err;
        }
      }
      for (const mount of cluster.awsMounts) {
        const scope = `${base}aws-role/${mount.replace(/^\/+|\/+$/g, '')}/`;
        try {
          for (const c of await scanAwsEngineRoles(
            api,
            { cluster: cluster.name, ns, concurrency: cluster.concurrency, observedAt },
            mount,
          ))
            push(c, { sourceType: 'vault', vault: { namespace: ns } });
          complete.push(scope);
        } catch (err) {
          if (!partial(scope, err)) throw err;
        }
      }
    }
    ctx.progress?.(`vault ${cluster.name}: ${creds.length} credentials`);
    return finish();
  }

  owns(credentialId: string): boolean {
    return ownsVaultId(this.clusters, credentialId);
  }

  recheck(credentialId: string, ctx: RecheckContext): Promise<RecheckResult> {
    return recheckVaultCredential(this.clusters, this.http, credentialId, ctx);
  }

  /** Root plus every namespace below it (sys/namespaces lists direct children only). */
  private async walkNamespaces(api: VaultApi, ns: string, problems: UnitProblem[], unitKey: string): Promise<string[]> {
    const out = [ns];
    let children: string[];
    try {
      children = await api.list('vault:list-namespaces', ns, 'sys/namespaces', 'list on sys/namespaces');
    } catch (err) {
      // Vault CE has no namespaces: an unknown path means "just root".
      if (isUnknownPath(err)) return out;
      if (ns !== '' && isPartialError(err)) {
        problems.push({ scope: unitKey, code: err.code, message: `${err.message} (children of ${ns} not scanned)` });
        return out;
      }
      throw err;
    }
    for (const child of children)
      out.push(
        ...(await this.walkNamespaces(api, `${ns}${child.replace(/\/+$/, '')}/`.replace(/^\//, ''), problems, unitKey)),
      );
    return out.map((n) => n.replace(/\/+$/, ''));
  }
}
