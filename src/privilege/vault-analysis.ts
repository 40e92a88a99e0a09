/**
 * One Vault grant list, compiled for the detectors: grants merged per pattern (as Vault merges
 * policies), an ACL matcher with Vault's priority rules (src/sources/vault), and `reach`, which
 * answers "which rule actually grants these capabilities somewhere inside this sensitive pattern?"
 * by probing the ACL at concrete paths both patterns share. That keeps Vault semantics exact: a
 * more specific `deny` shadows a broad grant; a less specific one does not. `root` grants every
 * capability. Analyses are cached per canonical grant list by VaultPrivilegeAnalyzer.
 */
import type { Grant, VaultPathGrant } from '../model/credential.js';
import type { Evidence } from '../model/finding.js';
import { CompiledAcl } from '../sources/vault/acl-policy.js';
import { provenanceLabel, sha1 } from './statement.js';
import { intersection, probes } from './vault-glob.js';

export const WRITE_CAPS = ['create', 'update', 'patch', 'delete'] as const;

export interface MergedRule {
  pattern: string;
  caps: Set<string>;
  grants: VaultPathGrant[];
}

export interface Reach {
  /** The rule that governs the probed path. */
  rule: MergedRule;
  /** The requested capabilities it grants there (all of them, for `root`). */
  caps: string[];
}

export const vaultGrants = (grants: readonly Grant[]): VaultPathGrant[] =>
  grants.filter((g): g is VaultPathGrant => g.type === 'vault-path');

export function vaultGrantsKey(grants: readonly VaultPathGrant[]): string {
  const parts = grants.map((g) => {
    const p = g.provenance;
    return [g.path, [...g.capabilities].sort().join(','), p.attachment, p.policy, p.policyArn ?? '', p.via ?? ''].join(
      '\u0002',
    );
  });
  return sha1(parts.sort().join('\u0003'));
}

export const grantEvidence = (g: VaultPathGrant, note?: string): Evidence => ({
  field: `grants[path "${g.path}"]`,
  statement: {
    summary: `path "${g.path}" [${g.capabilities.join(', ')}] (${provenanceLabel(g.provenance)})`,
    provenance: g.provenance,
  },
  ...(note ? { note } : {}),
});

export class VaultAnalysis {
  readonly rules: MergedRule[];
  private readonly byPattern = new Map<string, MergedRule>();
  private readonly acl: CompiledAcl;
  private readonly memos = new Map<string, unknown>();

  constructor(
    readonly key: string,
    readonly grants: readonly VaultPathGrant[],
  ) {
    for (const g of grants) {
      const pattern = g.path.replace(/^\/+/, '');
      let r = this.byPattern.get(pattern);
      if (!r) {
        r = { pattern, caps: new Set(), grants: [] };
        this.byPattern.set(pattern, r);
      }
      for (const c of g.capabilities) r.caps.add(c);
      r.grants.push(g);
    }
    for (const r of this.byPattern.values()) if (r.caps.has('deny')) r.caps = new Set(['deny']);
    this.rules = [...this.byPattern.values()].sort((a, b) => a.pattern.localeCompare(b.pattern));
    this.acl = new CompiledAcl(this.rules.map((r) => ({ path: r.pattern, capabilities: [...r.caps] })));
  }

  /** Capabilities the rule grants out of `wanted` (`root` grants all; `deny` none). */
  static granted(caps: ReadonlySet<string>, wanted: readonly string[]): string[] {
    if (caps.has('deny')) return [];
    if (caps.has('root')) return [...wanted];
    return wanted.filter((c) => caps.has(c));
  }

  /**
   * Rules that grant at least one of `any` (and every one of `all`) at some path matching
   * `target`, attributed to the rule that governs that path.
   */
  reach(target: string, any: readonly string[], all: readonly string[] = []): Reach[] {
    const found = new Map<string, Reach>();
    const wanted = [...new Set([...any, ...all])];
    for (const r of this.rules) {
      if (VaultAnalysis.granted(r.caps, wanted).length === 0) continue;
      const w = intersection(r.pattern, target);
      if (!w) continue;
      for (const probe of probes(w)) {
        const m = this.acl.match(probe);
        const rule = m.matchedPattern === null ? undefined : this.byPattern.get(m.matchedPattern);
        if (!rule || found.has(rule.pattern)) continue;
        const caps = VaultAnalysis.granted(rule.caps, wanted);
        const ok = caps.some((c) => any.includes(c)) && all.every((c) => caps.includes(c));
        if (ok) found.set(rule.pattern, { rule, caps });
      }
    }
    return [...found.values()];
  }

  /** The rule that governs one concrete path under Vault's priority rules, or undefined for none. */
  ruleAt(path: string): MergedRule | undefined {
    const m = this.acl.match(path);
    return m.matchedPattern === null ? undefined : this.byPattern.get(m.matchedPattern);
  }

  memo<T>(key: string, compute: () => T): T {
    if (this.memos.has(key)) return this.memos.get(key) as T;
    const v = compute();
    this.memos.set(key, v);
    return v;
  }
}
