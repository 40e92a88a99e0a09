/**
 * AwsPermissionSet: the read side of one evaluated grant list (see aws-evaluate.ts for the rules).
 * Per action: resourceStar, conditional (only granted under a Condition), boundaryBlocked,
 * wildcardOnly, a confidence, and the statements that grant it. Plus the statement-level facts the
 * detectors need: unknown patterns, NotAction/NotResource Allows, service wildcards, `*` on `*`.
 *
 * Instances are shared between every credential with the same grants (see aws-analyzer.ts), so
 * they are immutable; `memo` caches grant-only detector results on the set itself.
 */
import type { AwsStatementGrant } from '../model/credential.js';
import { BLOCKED, STAR, STAR_UNCOND, UNCOND } from './action-flags.js';
import {
  allowSurvives,
  buildEffective,
  type CompiledStatement,
  type EffectiveCore,
  type ServiceWildcard,
  statementHas,
  type UnknownPattern,
} from './aws-evaluate.js';
import type { ActionCatalog } from './catalog.js';
import { type PolicyVariables, resourceMatches, resourcePatternRegExp } from './iam-glob.js';
import type { StatementRef } from './statement.js';
import type { Confidence } from './types.js';

export type { ServiceWildcard, UnknownPattern } from './aws-evaluate.js';

export interface EffectiveAction {
  action: string;
  id: number;
  /** Some granting statement covers every resource (`*` or NotResource). */
  resourceStar: boolean;
  /** Every granting statement carries a Condition. */
  conditional: boolean;
  /** Granted by identity policies, outside the permissions boundary: not usable, kept as evidence. */
  boundaryBlocked: boolean;
  /** The action takes no resource ARN, so `*` is its only scope. */
  wildcardOnly: boolean;
  confidence: Confidence;
  sources: StatementRef[];
}

export interface StatementEffect {
  /** Catalog actions the statement's Action (or NotAction) list names, before anything is taken away. */
  written: number;
  /** Of those, removed by an unconditional covering Deny. */
  denied: number;
  /** Of those, outside the permissions boundary. */
  blocked: number;
  /** What is left and usable, ascending ids. */
  effective: number[];
}

export interface ResourceAccess {
  confidence: Confidence;
  sources: StatementRef[];
}

/** conditional: only under a Condition; confirmed: unconditional on `*` (or wildcard-only); else potential. */
export function confidenceOf(flags: number, wildcardOnly: boolean): Confidence {
  if ((flags & UNCOND) === 0) return 'conditional';
  if (flags & STAR_UNCOND || wildcardOnly) return 'confirmed';
  return 'potential';
}

export class AwsPermissionSet {
  private readonly memos = new Map<string, unknown>();
  readonly allowedCount: number;
  readonly blockedCount: number;

  constructor(
    /** sha1 of the canonical grant list: equal grants, one set. */
    readonly key: string,
    private readonly catalog: ActionCatalog,
    private readonly core: EffectiveCore,
  ) {
    let blocked = 0;
    for (const [, f] of core.flags.entries()) if (f & BLOCKED) blocked++;
    this.blockedCount = blocked;
    this.allowedCount = core.flags.ids.length - blocked;
  }

  static build(key: string, catalog: ActionCatalog, grants: readonly AwsStatementGrant[]): AwsPermissionSet {
    return new AwsPermissionSet(key, catalog, buildEffective(catalog, grants));
  }

  get statements(): readonly StatementRef[] {
    return this.core.statements.map((s) => s.ref);
  }
  get hasBoundary(): boolean {
    return this.core.hasBoundary;
  }
  get unknownPatterns(): readonly UnknownPattern[] {
    return this.core.unknownPatterns;
  }
  get notActionAllows(): readonly StatementRef[] {
    return this.core.notActionAllows;
  }
  get notResourceAllows(): readonly StatementRef[] {
    return this.core.notResourceAllows;
  }
  get serviceWildcards(): readonly ServiceWildcard[] {
    return this.core.serviceWildcards;
  }
  /** Allow `*` on `*` statements, with whether each is conditional. */
  get starOnStar(): readonly { source: StatementRef; conditional: boolean }[] {
    return this.core.starOnStar.map((s) => ({ source: s.ref, conditional: s.conditional }));
  }
  /** (action, statement) grants that an unconditional covering Deny removed. */
  get removedByDeny(): number {
    return this.core.removedByDeny;
  }
  isConditional(ref: StatementRef): boolean {
    return this.core.statements[ref.index]?.conditional ?? false;
  }
  /** The statement a ref (from this set) points at. */
  statementGrant(ref: StatementRef): AwsStatementGrant {
    const s = this.core.statements[ref.index];
    if (!s || s.ref !== ref) throw new Error(`statement ${ref.key} does not belong to this permission set`);
    return s.grant;
  }

  /** Raw flags (see action-flags.ts); 0 when not granted. */
  flagsOf(id: number): number {
    return this.core.flags.get(id);
  }

  /** Granted and usable: allowed, not denied, inside the boundary. */
  has(action: string): boolean {
    const id = this.catalog.id(action);
    if (id === undefined) return false;
    const f = this.core.flags.get(id);
    return f !== 0 && (f & BLOCKED) === 0;
  }

  /** The action's detail, boundary-blocked ones included; undefined when not granted at all. */
  get(action: string): EffectiveAction | undefined {
    const id = this.catalog.id(action);
    return id === undefined ? undefined : this.getById(id);
  }

  getById(id: number): EffectiveAction | undefined {
    const f = this.core.flags.get(id);
    if (f === 0) return undefined;
    const wildcardOnly = this.catalog.isWildcardOnlyId(id);
    return {
      action: this.catalog.name(id),
      id,
      resourceStar: (f & STAR) !== 0,
      conditional: (f & UNCOND) === 0,
      boundaryBlocked: (f & BLOCKED) !== 0,
      wildcardOnly,
      confidence: confidenceOf(f, wildcardOnly),
      sources: this.sourcesOf(id),
    };
  }

  /** Ascending (id, flags) of every granted action, boundary-blocked ones included. */
  granted(): IterableIterator<[number, number]> {
    return this.core.flags.entries();
  }

  /** Non-boundary Allow statements that grant the action after Deny subtraction. */
  sourcesOf(id: number): StatementRef[] {
    return this.core.allows.filter((s) => allowSurvives(s, id)).map((s) => s.ref);
  }

  /** Allow statements whose action list includes the id (after Deny subtraction), compiled form. */
  grantingStatements(id: number): readonly CompiledStatement[] {
    return this.core.allows.filter((s) => allowSurvives(s, id));
  }

  /**
   * Can the action be used on this exact ARN? Resource matching with policy variables, and any
   * unconditional Deny matching the ARN wins (even one that did not cover a whole Allow). A
   * boundary-blocked action is not allowed. Confidence: conditional when only conditional
   * statements match, potential when the match relied on an unresolved policy variable.
   */
  allowsOn(action: string, arn: string, vars: PolicyVariables = {}): ResourceAccess | undefined {
    const id = this.catalog.id(action);
    if (id === undefined) return undefined;
    const f = this.core.flags.get(id);
    if (f === 0 || f & BLOCKED) return undefined;
    const denied = this.core.statements.some(
      (d) => d.grant.effect === 'Deny' && !d.conditional && statementHas(d, id) && this.denyMatches(d, arn, vars),
    );
    if (denied) return undefined;
    const matching: { s: CompiledStatement; exact: boolean }[] = [];
    for (const s of this.grantingStatements(id)) {
      const m = this.allowMatch(s, arn, vars);
      if (m) matching.push({ s, exact: m === 'exact' });
    }
    if (matching.length === 0) return undefined;
    const uncond = matching.filter((m) => !m.s.conditional);
    const confidence: Confidence =
      uncond.length === 0 ? 'conditional' : uncond.some((m) => m.exact) ? 'confirmed' : 'potential';
    return { confidence, sources: matching.map((m) => m.s.ref) };
  }

  private allowMatch(s: CompiledStatement, arn: string, vars: PolicyVariables): 'exact' | 'approx' | null {
    const g = s.grant;
    if (g.notResources) return g.notResources.some((r) => resourceMatches(r, arn, vars)) ? null : 'exact';
    let best: 'exact' | 'approx' | null = null;
    for (const r of g.resources ?? []) {
      if (!resourceMatches(r, arn, vars)) continue;
      if (!hasUnresolvedVariable(r, vars)) return 'exact';
      best = 'approx';
    }
    return best;
  }

  private denyMatches(d: CompiledStatement, arn: string, vars: PolicyVariables): boolean {
    const g = d.grant;
    if (g.notResources) return false;
    return (g.resources ?? []).some(
      (r) => !hasUnresolvedVariable(r, vars) && (r === '*' || resourcePatternRegExp(r, vars).test(arn)),
    );
  }

  /**
   * Ids the statement grants after Deny subtraction, ascending and unique, boundary-blocked ones
   * included. For non-boundary Allow statements; [] for anything else.
   */
  statementIds(ref: StatementRef): number[] {
    const s = this.core.allows.find((a) => a.ref === ref);
    if (!s) return [];
    const ids: number[] = [];
    if (s.negated) {
      for (let id = 0; id < this.catalog.size; id++) if (allowSurvives(s, id)) ids.push(id);
      return ids;
    }
    for (const list of s.idLists) for (const id of list) ids.push(id);
    ids.sort((a, b) => a - b);
    return ids.filter((id, i) => (i === 0 || ids[i - 1] !== id) && !s.denies.some((d) => statementHas(d, id)));
  }

  /**
   * What a non-boundary Allow statement still grants once explicit Denies and the boundary have
   * had their say: `effective` ids (ascending) are usable; `denied` counts the ids an unconditional
   * covering Deny removed and `blocked` those outside the boundary. Every detector that reasons
   * about one statement (service wildcards, NotAction, `*` on `*`) reads this, so none of them
   * reports a grant that the effective set does not hold. Memoised per statement.
   */
  statementEffect(ref: StatementRef): StatementEffect {
    return this.memo(`effect:${ref.index}`, () => {
      const s = this.core.allows.find((a) => a.ref === ref);
      if (!s) return { written: 0, denied: 0, blocked: 0, effective: [] };
      let written = 0;
      if (s.negated) written = this.catalog.size - new Set(s.idLists.flatMap((l) => Array.from(l))).size;
      else written = new Set(s.idLists.flatMap((l) => Array.from(l))).size;
      const afterDeny = this.statementIds(ref);
      const effective = afterDeny.filter((id) => (this.core.flags.get(id) & BLOCKED) === 0);
      return {
        written,
        denied: written - afterDeny.length,
        blocked: afterDeny.length - effective.length,
        effective,
      };
    });
  }

  /** The unconditional Deny statements that cover this Allow statement's resources. */
  coveringDenies(ref: StatementRef): StatementRef[] {
    return this.core.allows.find((a) => a.ref === ref)?.denies.map((d) => d.ref) ?? [];
  }

  /** The permissions-boundary Allow statements (empty without a boundary). */
  get boundaryStatements(): readonly StatementRef[] {
    return this.core.boundaryAllows.map((s) => s.ref);
  }

  /** Non-boundary Allow statements. */
  get allowStatements(): readonly StatementRef[] {
    return this.core.allows.map((s) => s.ref);
  }

  /** Caches a grant-only result on the set, shared by every credential with these grants. */
  memo<T>(key: string, compute: () => T): T {
    if (this.memos.has(key)) return this.memos.get(key) as T;
    const v = compute();
    this.memos.set(key, v);
    return v;
  }
}

function hasUnresolvedVariable(pattern: string, vars: PolicyVariables): boolean {
  for (const m of pattern.matchAll(/\$\{([^}]*)\}/g)) {
    const name = m[1]!;
    if (name === '*' || name === '?' || name === '$') continue;
    if (vars[name.toLowerCase()] === undefined && vars[name] === undefined) return true;
  }
  return false;
}
