/**
 * Allow `*` on `*` statements read against the effective set (detectors "admin" and
 * "boundary-held-admin"). What one such statement means depends on what is left of it once explicit
 * Denies and the permissions boundary have had their say (AwsPermissionSet.statementEffect):
 *  - nothing taken away: full administrator (admin; critical and confirmed, conditional when the
 *    statement or the boundary carries a Condition);
 *  - an explicit Deny took some actions away, the boundary none: administrator for everything else
 *    (admin; potential, high), with the count;
 *  - the boundary holds actions back: NOT administrator. What is effective is what the boundary lets
 *    through, and every other detector sees exactly that. The latent risk (remove or replace the
 *    boundary and it is full administrator) is reported on its own as "boundary-held-admin", medium
 *    — unless the principal can lift its own boundary (aws-principal.ts), which makes it admin after all;
 *  - nothing left at all (a Deny of `*`): no result.
 */
import type { Credential } from '../model/credential.js';
import type { Evidence } from '../model/finding.js';
import { UNCOND } from './action-flags.js';
import type { AwsPermissionSet, StatementEffect } from './aws-effective.js';
import { boundaryEscape, parsePrincipal } from './aws-principal.js';
import type { ActionCatalog } from './catalog.js';
import { type StatementRef, statementEvidence } from './statement.js';
import { type Confidence, capList, type DetectorResult, weakest } from './types.js';

interface StarStatement {
  ref: StatementRef;
  conditional: boolean;
  effect: StatementEffect;
  /** Unconditional statement, but the boundary lets (some of) it through only under a Condition. */
  boundaryConditional: boolean;
}

const SAMPLE = 8;

function starStatements(set: AwsPermissionSet): StarStatement[] {
  return set.memo('star:statements', () =>
    set.starOnStar
      .map(({ source, conditional }) => {
        const effect = set.statementEffect(source);
        const boundaryConditional = !conditional && effect.effective.some((id) => (set.flagsOf(id) & UNCOND) === 0);
        return { ref: source, conditional, effect, boundaryConditional };
      })
      .filter((s) => s.effect.effective.length > 0),
  );
}

const adminResult = (
  s: StarStatement,
  confidence: Confidence,
  message: string,
  evidence: Evidence[],
): DetectorResult => ({
  detector: 'admin',
  severity: confidence === 'confirmed' ? 'critical' : 'high',
  confidence,
  key: `star-on-star:${s.ref.key}`,
  message,
  actions: ['*'],
  evidence,
});

function denyEvidence(set: AwsPermissionSet, s: StarStatement): Evidence[] {
  return set
    .coveringDenies(s.ref)
    .map((d) => statementEvidence(d, 'explicit Deny: takes actions away from the * on *'));
}

/** `*` on `*` statements the boundary does not hold back: administrator (grant-only, memoised). */
export function starOnStarAdmin(set: AwsPermissionSet): DetectorResult[] {
  return set.memo('star:admin', () =>
    starStatements(set)
      .filter((s) => s.effect.blocked === 0)
      .map((s) => {
        const ev = [statementEvidence(s.ref), ...denyEvidence(set, s)];
        if (s.conditional)
          return adminResult(s, 'conditional', 'Allow * on * under a Condition: full administrator when it holds', ev);
        if (s.boundaryConditional)
          return adminResult(
            s,
            'conditional',
            'Allow * on *, which the permissions boundary lets through only under a Condition: full administrator when it holds',
            [...ev, ...set.boundaryStatements.map((b) => statementEvidence(b, 'permissions boundary'))],
          );
        if (s.effect.denied > 0)
          return adminResult(
            s,
            'potential',
            `Allow * on * less ${s.effect.denied} actions an explicit Deny removes: administrator for the other ${s.effect.effective.length}`,
            ev,
          );
        return adminResult(s, 'confirmed', 'Allow * on *: full administrator', ev);
      }),
  );
}

/** Held-back statements whose boundary the principal can lift itself: administrator after all. */
export function starBehindLiftableBoundary(set: AwsPermissionSet, cred: Credential): DetectorResult[] {
  const held = starStatements(set).filter((s) => s.effect.blocked > 0);
  const p = held.length ? parsePrincipal(cred.principal) : null;
  const lift = p ? boundaryEscape(set, p) : undefined;
  if (!lift) return [];
  return held.map((s) =>
    adminResult(
      s,
      weakest([s.conditional ? 'conditional' : 'confirmed', lift.access.confidence]),
      `Allow * on * behind a permissions boundary it can lift itself (${lift.action} on its own ARN): full administrator`,
      [
        statementEvidence(s.ref),
        ...lift.access.sources.map((r) => statementEvidence(r, `${lift.action} on ${p!.arn}`)),
      ],
    ),
  );
}

/**
 * "Admin held back only by a permissions boundary": a `*` on `*` whose effective part is what the
 * boundary lets through. One result per statement (key = statement key); medium, low under a
 * Condition. None when the principal can lift the boundary (that is admin, see above).
 */
export function detectBoundaryHeldAdmin(
  set: AwsPermissionSet,
  cred: Credential,
  catalog: ActionCatalog,
): DetectorResult[] {
  const held = starStatements(set).filter((s) => s.effect.blocked > 0);
  if (held.length === 0) return [];
  const p = parsePrincipal(cred.principal);
  if (p && boundaryEscape(set, p)) return [];
  const boundary = set.boundaryStatements;
  const names = [...new Set(boundary.map((b) => b.provenance.policyArn ?? b.provenance.policy))];
  return held.map((s): DetectorResult => {
    const { shown, more } = capList(s.effect.effective, SAMPLE);
    const sample = shown.map((id) => catalog.name(id)).join(', ') + (more ? `, … (+${more})` : '');
    const denied = s.effect.denied ? `, ${s.effect.denied} more removed by an explicit Deny` : '';
    const when = s.conditional ? ' (under a Condition)' : '';
    return {
      detector: 'boundary-held-admin',
      severity: s.conditional ? 'low' : 'medium',
      confidence: s.conditional ? 'conditional' : 'confirmed',
      key: s.ref.key,
      message:
        `Allow * on *${when} held back only by the permissions boundary ${names.join(', ')}: ` +
        `${s.effect.effective.length} of ${s.effect.written} actions effective (${sample}); ` +
        `${s.effect.blocked} outside the boundary${denied}. Removing or replacing the boundary makes it full administrator`,
      actions: ['*'],
      evidence: [
        statementEvidence(s.ref, 'grants * on *'),
        ...boundary.map((b) => statementEvidence(b, 'permissions boundary: the only thing holding the * back')),
        ...denyEvidence(set, s),
      ],
    };
  });
}
