/**
 * The effective AWS permission set of one grant list (a principal's inline, managed and group
 * statements plus its boundary), evaluated as in the reference's §5:
 *  - the union of every non-boundary Allow, expanded against the catalog; NotAction + Allow is the
 *    catalog minus the list, NotResource + Allow counts as resource `*`;
 *  - minus what an UNCONDITIONAL Deny removes, and only where the Deny's resources cover the
 *    Allow's (a Deny on one ARN leaves a `*` Allow standing; a conditional Deny removes nothing);
 *  - intersected with the boundary: an allowed action outside it is kept, flagged boundaryBlocked;
 *    one the boundary allows only under a Condition becomes conditional;
 *  - conditional Allows are kept and flagged, never dropped.
 * Unknown action patterns are kept as such. Built once per distinct grant list (see analyzer.ts);
 * per-action detail (sources, resource checks) is computed on demand by aws-effective.ts.
 */
import type { AwsStatementGrant } from '../model/credential.js';
import {
  type ActionFlags,
  BLOCKED,
  FlagBuilder,
  SCOPED_COND,
  SCOPED_UNCOND,
  STAR_COND,
  STAR_UNCOND,
  sortedHas,
} from './action-flags.js';
import type { ActionCatalog } from './catalog.js';
import { resourceCovers } from './iam-glob.js';
import { type StatementRef, statementRefs } from './statement.js';

export interface UnknownPattern {
  pattern: string;
  field: 'Action' | 'NotAction';
  effect: 'Allow' | 'Deny';
  boundary: boolean;
  source: StatementRef;
}

export interface ServiceWildcard {
  source: StatementRef;
  /** `s3`, `iam`, … or `*` for every service. */
  services: string[];
  conditional: boolean;
}

/** What one statement contributes, precomputed for membership tests. */
export interface CompiledStatement {
  grant: AwsStatementGrant;
  ref: StatementRef;
  boundary: boolean;
  conditional: boolean;
  /** Resource `*` (or an all-wildcard ARN), or NotResource. */
  resourceStar: boolean;
  /** Expanded Action (or NotAction, see `negated`) patterns, each ascending. */
  idLists: Int32Array[];
  negated: boolean;
  /** Unconditional Denies whose resources cover this statement's (Allow statements only). */
  denies: CompiledStatement[];
}

export interface EffectiveCore {
  statements: CompiledStatement[];
  allows: CompiledStatement[];
  flags: ActionFlags;
  hasBoundary: boolean;
  boundaryAllows: CompiledStatement[];
  unknownPatterns: UnknownPattern[];
  notActionAllows: StatementRef[];
  notResourceAllows: StatementRef[];
  serviceWildcards: ServiceWildcard[];
  /** Allow `*` on `*` statements (conditional ones included, flagged on the statement). */
  starOnStar: CompiledStatement[];
  /** Granted (action, statement) pairs that an unconditional Deny removed. */
  removedByDeny: number;
}

const ALL_WILDCARD_ARN = /^(\*|arn:[*a-z-]*(:\*)+)$/;
const isStarResource = (r: string): boolean => ALL_WILDCARD_ARN.test(r);
const isAllActions = (p: string): boolean => /^\*+(:\*+)?$/.test(p.trim());

/** True when the statement's action list includes the id. */
export function statementHas(s: CompiledStatement, id: number): boolean {
  let hit = false;
  for (const ids of s.idLists) if (sortedHas(ids, id)) hit = true;
  return s.negated ? !hit : hit;
}

/** True when an Allow statement grants the id and no applicable Deny takes it away. */
export function allowSurvives(s: CompiledStatement, id: number): boolean {
  return statementHas(s, id) && !s.denies.some((d) => statementHas(d, id));
}

function denyCovers(deny: CompiledStatement, allow: CompiledStatement): boolean {
  if (deny.conditional || deny.grant.notResources) return false;
  const denyRes = deny.grant.resources ?? [];
  if (denyRes.some(isStarResource)) return true;
  if (allow.resourceStar) return false;
  return (allow.grant.resources ?? []).every((r) => denyRes.some((d) => resourceCovers(d, r)));
}

function compile(
  catalog: ActionCatalog,
  grants: readonly AwsStatementGrant[],
  out: Omit<EffectiveCore, 'flags'>,
): void {
  const refs = statementRefs(grants);
  grants.forEach((g, i) => {
    const ref = refs[i]!;
    const boundary = g.provenance.attachment === 'boundary';
    const negated = g.actions === undefined && g.notActions !== undefined;
    const patterns = (negated ? g.notActions : g.actions) ?? [];
    const idLists: Int32Array[] = [];
    for (const pattern of patterns) {
      const e = catalog.expandIds(pattern);
      if (e.unknown) {
        out.unknownPatterns.push({
          pattern,
          field: negated ? 'NotAction' : 'Action',
          effect: g.effect,
          boundary,
          source: ref,
        });
      } else idLists.push(e.ids);
    }
    const s: CompiledStatement = {
      grant: g,
      ref,
      boundary,
      conditional: !!g.condition && Object.keys(g.condition).length > 0,
      resourceStar: g.notResources !== undefined || (g.resources ?? []).some(isStarResource),
      idLists,
      negated,
      denies: [],
    };
    out.statements.push(s);
    if (g.effect !== 'Allow') return;
    if (boundary) {
      out.boundaryAllows.push(s);
      return;
    }
    out.allows.push(s);
    if (negated) out.notActionAllows.push(ref);
    if (g.notResources !== undefined) out.notResourceAllows.push(ref);
    const services = (g.actions ?? [])
      .map((p) => p.trim())
      .filter((p) => isAllActions(p) || /^[^:]+:\*+$/.test(p))
      .map((p) => (isAllActions(p) ? '*' : p.slice(0, p.indexOf(':')).toLowerCase()));
    if (services.length)
      out.serviceWildcards.push({ source: ref, services: [...new Set(services)], conditional: s.conditional });
    if ((g.actions ?? []).some(isAllActions) && (g.resources ?? []).some(isStarResource)) out.starOnStar.push(s);
  });
  const denies = out.statements.filter((s) => s.grant.effect === 'Deny');
  for (const a of out.allows) a.denies = denies.filter((d) => denyCovers(d, a));
}

/** Calls `fn` for every id the statement's action list grants (ascending per list, may repeat). */
function forEachId(catalog: ActionCatalog, s: CompiledStatement, fn: (id: number) => void): void {
  if (!s.negated) {
    for (const ids of s.idLists) for (const id of ids) fn(id);
    return;
  }
  for (let id = 0; id < catalog.size; id++) if (!s.idLists.some((ids) => sortedHas(ids, id))) fn(id);
}

/** Unconditional grants become conditional ones: the boundary only lets them through under a Condition. */
const toConditional = (bits: number): number =>
  (bits & ~(STAR_UNCOND | SCOPED_UNCOND)) |
  (bits & STAR_UNCOND ? STAR_COND : 0) |
  (bits & SCOPED_UNCOND ? SCOPED_COND : 0);

export function buildEffective(catalog: ActionCatalog, grants: readonly AwsStatementGrant[]): EffectiveCore {
  const out: Omit<EffectiveCore, 'flags'> = {
    statements: [],
    allows: [],
    hasBoundary: false,
    boundaryAllows: [],
    unknownPatterns: [],
    notActionAllows: [],
    notResourceAllows: [],
    serviceWildcards: [],
    starOnStar: [],
    removedByDeny: 0,
  };
  compile(catalog, grants, out);
  out.hasBoundary = out.statements.some((s) => s.boundary);
  const fb = new FlagBuilder(catalog.size);
  for (const s of out.allows) {
    const bit = s.resourceStar
      ? s.conditional
        ? STAR_COND
        : STAR_UNCOND
      : s.conditional
        ? SCOPED_COND
        : SCOPED_UNCOND;
    forEachId(catalog, s, (id) => {
      if (s.denies.length && s.denies.some((d) => statementHas(d, id))) out.removedByDeny++;
      else fb.or(id, bit);
    });
  }
  if (out.hasBoundary) {
    // Identity ∩ boundary. An action the boundary allows only under a Condition is kept as
    // conditional rather than blocked: calling it blocked on a guess would hide a real grant.
    // FlagBuilders share one scratch array: each is frozen before the next one is filled.
    const granted = fb.freeze();
    const inside = new FlagBuilder(catalog.size);
    for (const b of out.boundaryAllows) forEachId(catalog, b, (id) => inside.or(id, b.conditional ? 2 : 1));
    const insideFrozen = inside.freeze();
    for (const [id, bits] of granted.entries()) {
      const cap = insideFrozen.get(id);
      fb.or(id, cap === 0 ? bits | BLOCKED : cap & 1 ? bits : toConditional(bits));
    }
  }
  return { ...out, flags: fb.freeze() };
}
