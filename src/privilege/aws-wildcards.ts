/**
 * Statement-shaped AWS detectors, read against the effective set: service wildcards (`s3:*`, `*`;
 * detector "service-wildcard") and Allow with NotAction / NotResource ("not-action"). The shape is
 * found in the policy text, but what is reported is what the statement still grants once explicit
 * Denies and the permissions boundary have had their say (AwsPermissionSet.statementEffect):
 *  - nothing left (a `Deny iam:*` next to `Allow iam:*`, a boundary without the service): no result;
 *  - part of it left: reported as "potential", with the counts and the statements that cut it;
 *  - all of it left: reported as before ("confirmed", or "conditional" under a Condition, in the
 *    statement or in a boundary that lets it through only under one).
 */
import type { Evidence, Severity } from '../model/finding.js';
import { UNCOND } from './action-flags.js';
import type { AwsPermissionSet, StatementEffect } from './aws-effective.js';
import type { ActionCatalog } from './catalog.js';
import { type StatementRef, statementEvidence } from './statement.js';
import type { Confidence, DetectorResult } from './types.js';

/** Who cut the statement down, in words, e.g. "an explicit Deny and the permissions boundary". */
function cutBy(e: StatementEffect): string {
  const who = [e.denied ? 'an explicit Deny' : '', e.blocked ? 'the permissions boundary' : ''].filter(Boolean);
  return who.join(' and ');
}

/** The Deny and boundary statements behind a cut, as evidence. */
function cutEvidence(set: AwsPermissionSet, ref: StatementRef, e: StatementEffect): Evidence[] {
  return [
    ...(e.denied ? set.coveringDenies(ref).map((d) => statementEvidence(d, 'explicit Deny: takes actions away')) : []),
    ...(e.blocked ? set.boundaryStatements.map((b) => statementEvidence(b, 'permissions boundary: caps it')) : []),
  ];
}

/** Conditional when the statement is, or when the boundary lets some of what is left through only under a Condition. */
function confidenceOf(
  set: AwsPermissionSet,
  ref: StatementRef,
  effective: readonly number[],
  full: boolean,
): Confidence {
  if (set.isConditional(ref)) return 'conditional';
  if (effective.some((id) => (set.flagsOf(id) & UNCOND) === 0)) return 'conditional';
  return full ? 'confirmed' : 'potential';
}

const SEVERITY: Record<Confidence, Severity> = { confirmed: 'medium', potential: 'low', conditional: 'low' };

export function detectServiceWildcards(set: AwsPermissionSet, catalog: ActionCatalog): DetectorResult[] {
  return set.memo('service-wildcard', () =>
    set.serviceWildcards.flatMap((w): DetectorResult[] => {
      const e = set.statementEffect(w.source);
      const all = w.services.includes('*');
      // Of what is effective, the part the wildcards account for (a statement may list other actions too).
      const perService = new Map<string, number>();
      const effective: number[] = [];
      for (const id of e.effective) {
        const svc = catalog.serviceOf(id);
        if (!all && !w.services.includes(svc)) continue;
        perService.set(svc, (perService.get(svc) ?? 0) + 1);
        effective.push(id);
      }
      if (effective.length === 0) return [];
      const surviving = all ? ['*'] : w.services.filter((s) => perService.has(s));
      // A service the Deny or boundary removed entirely is said so; the rest is judged on its own.
      const written = all ? catalog.size : surviving.reduce((n, s) => n + catalog.serviceActionCount(s), 0);
      const full = effective.length === written;
      const confidence = confidenceOf(set, w.source, effective, full);
      const what = surviving.map((s) => (s === '*' ? '*' : `${s}:*`));
      const gone = all ? [] : w.services.filter((s) => !perService.has(s)).map((s) => `${s}:*`);
      const subject = all ? 'every service' : `service ${surviving.join(', ')}`;
      const where = all
        ? ` (in ${[...perService.keys()].slice(0, 6).join(', ')}${perService.size > 6 ? ', …' : ''})`
        : '';
      const cut = full ? '' : `, cut to ${effective.length} of ${written} actions${where} by ${cutBy(e)}`;
      const dropped = gone.length ? `; ${gone.join(', ')} removed entirely` : '';
      const cond = set.isConditional(w.source) ? ' under a Condition' : '';
      return [
        {
          detector: 'service-wildcard',
          severity: SEVERITY[confidence],
          confidence,
          key: w.source.key,
          message: `Allow of every action of ${subject} (${what.join(', ')})${cond}${cut}${dropped}`,
          actions: what,
          evidence: [statementEvidence(w.source), ...(full && gone.length === 0 ? [] : cutEvidence(set, w.source, e))],
        },
      ];
    }),
  );
}

export function detectNotActionAllow(set: AwsPermissionSet, catalog: ActionCatalog): DetectorResult[] {
  return set.memo('not-action', () => {
    const out: DetectorResult[] = [];
    for (const ref of set.notActionAllows) {
      const e = set.statementEffect(ref);
      if (e.effective.length === 0) continue;
      const full = e.effective.length === e.written;
      const confidence = confidenceOf(set, ref, e.effective, full);
      const cond = set.isConditional(ref) ? ' under a Condition' : '';
      const cut = full ? '' : `; ${e.effective.length} of them effective after ${cutBy(e)}`;
      out.push({
        detector: 'not-action',
        severity: confidence === 'confirmed' ? 'high' : 'medium',
        confidence,
        key: `${ref.key}:NotAction`,
        message: `Allow with NotAction grants every action except ${catalog.size - e.written} (${e.written} of ${catalog.size} actions)${cond}${cut}`,
        actions: [...(set.statementGrant(ref).notActions ?? [])],
        evidence: [statementEvidence(ref), ...(full ? [] : cutEvidence(set, ref, e))],
      });
    }
    for (const ref of set.notResourceAllows) {
      const e = set.statementEffect(ref);
      if (e.effective.length === 0) continue;
      const full = e.effective.length === e.written;
      const confidence = confidenceOf(set, ref, e.effective, full);
      const cond = set.isConditional(ref) ? ' (under a Condition)' : '';
      const cut = full ? '' : `; ${e.effective.length} of its ${e.written} actions effective after ${cutBy(e)}`;
      out.push({
        detector: 'not-action',
        severity: confidence === 'confirmed' ? 'medium' : 'low',
        confidence,
        key: `${ref.key}:NotResource`,
        message: `Allow with NotResource applies to every resource except those listed${cond}${cut}`,
        actions: [...(set.statementGrant(ref).actions ?? [])],
        evidence: [statementEvidence(ref), ...(full ? [] : cutEvidence(set, ref, e))],
      });
    }
    return out;
  });
}
