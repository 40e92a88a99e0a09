/**
 * Excess over an agent's declared scopes (detector "scope"): what the credential can do that its
 * registry entry does not say it needs, listed exactly, per granting statement or path grant.
 *  - AWS: effective allowed actions (after Deny, inside the boundary) not covered by the expanded
 *    declared patterns, per Allow statement, names capped at 50 with the total; Allow patterns
 *    unknown to the catalog count as excess unless a declared pattern matches them as written.
 *  - Vault: per grant, the capabilities no declared `{path, capabilities}` whose path covers the
 *    grant's path allows (Vault glob semantics, see vault-glob.ts). A grant merged into a `deny`
 *    rule grants nothing and is never excess.
 */
import type { VaultScope } from '../model/agent.js';
import type { VaultPathGrant } from '../model/credential.js';
import { BLOCKED } from './action-flags.js';
import type { AwsPermissionSet } from './aws-effective.js';
import type { ActionCatalog } from './catalog.js';
import { actionPatternRegExp } from './iam-glob.js';
import type { StatementRef } from './statement.js';
import type { VaultAnalysis } from './vault-analysis.js';
import { covers } from './vault-glob.js';

export const MAX_EXCESS_LISTED = 50;

export interface AwsStatementExcess {
  source: StatementRef;
  conditional: boolean;
  /** Sorted canonical names, at most MAX_EXCESS_LISTED (known actions first, then unknown patterns). */
  excess: string[];
  /** All excess actions and unknown patterns of this statement. */
  total: number;
  /** Excess this statement grants but the boundary blocks: not counted, reported for context. */
  blockedByBoundary: number;
}

export interface VaultGrantExcess {
  grant: VaultPathGrant;
  /** Capabilities of the grant that no covering declared scope allows. */
  excess: string[];
}

const declaredCache = new WeakMap<ActionCatalog, Map<string, Uint8Array>>();

/** A byte per catalog action: 1 when some declared pattern covers it. Cached per pattern list. */
function declaredMask(catalog: ActionCatalog, declared: readonly string[]): Uint8Array {
  let perCatalog = declaredCache.get(catalog);
  if (!perCatalog) {
    perCatalog = new Map();
    declaredCache.set(catalog, perCatalog);
  }
  const key = [...declared].sort().join('\n');
  let mask = perCatalog.get(key);
  if (!mask) {
    mask = new Uint8Array(catalog.size);
    for (const p of declared) for (const id of catalog.expandIds(p).ids) mask[id] = 1;
    if (perCatalog.size > 1_000) perCatalog.clear();
    perCatalog.set(key, mask);
  }
  return mask;
}

export function awsScopeExcess(
  set: AwsPermissionSet,
  catalog: ActionCatalog,
  declared: readonly string[],
): AwsStatementExcess[] {
  return set.memo(`scope:${[...declared].sort().join('\n')}`, () => {
    const mask = declaredMask(catalog, declared);
    const out: AwsStatementExcess[] = [];
    for (const ref of set.allowStatements) {
      const names: string[] = [];
      let total = 0;
      let blocked = 0;
      for (const id of set.statementIds(ref)) {
        if (mask[id]) continue;
        if (set.flagsOf(id) & BLOCKED) {
          blocked++;
          continue;
        }
        total++;
        if (names.length < MAX_EXCESS_LISTED) names.push(catalog.name(id));
      }
      for (const u of set.unknownPatterns) {
        if (u.source !== ref || u.effect !== 'Allow' || u.field !== 'Action') continue;
        if (declared.some((d) => actionPatternRegExp(d).test(u.pattern))) continue;
        total++;
        if (names.length < MAX_EXCESS_LISTED) names.push(`${u.pattern} (unknown to the catalog)`);
      }
      if (total > 0)
        out.push({
          source: ref,
          conditional: set.isConditional(ref),
          excess: names,
          total,
          blockedByBoundary: blocked,
        });
    }
    return out;
  });
}

export function vaultScopeExcess(analysis: VaultAnalysis, declared: readonly VaultScope[]): VaultGrantExcess[] {
  const key = `scope:${JSON.stringify(declared)}`;
  return analysis.memo(key, () => {
    const denied = new Set(analysis.rules.filter((r) => r.caps.has('deny')).map((r) => r.pattern));
    const out: VaultGrantExcess[] = [];
    for (const g of analysis.grants) {
      if (denied.has(g.path.replace(/^\/+/, ''))) continue;
      const allowed = new Set(declared.filter((s) => covers(s.path, g.path)).flatMap((s) => s.capabilities));
      const excess = [...new Set(g.capabilities)].filter((c) => c !== 'deny' && !allowed.has(c)).sort();
      if (excess.length) out.push({ grant: g, excess });
    }
    return out;
  });
}
