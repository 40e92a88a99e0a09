/**
 * Grant-only AWS detectors over an AwsPermissionSet: privilege escalation (over the principal's
 * union, so a combination split across policies is found), credential exposure, resource exposure,
 * unknown action patterns. Each depends on the grants alone, so results are memoised on the
 * (shared) set, and each reads the effective set (after explicit Deny, inside the boundary). The
 * others live next door and are re-exported here: aws-wildcards.ts (service wildcards, NotAction /
 * NotResource), data-access.ts (unconstrained reads of secrets and data), and the principal-
 * dependent aws-admin.ts / aws-star.ts (admin-equivalence, admin held back by a boundary),
 * aws-trust.ts (role trust, confused deputy) and aws-attachment.ts (policies attached to a user).
 */
import type { Evidence, Severity } from '../model/finding.js';
import { BLOCKED, STAR_UNCOND } from './action-flags.js';
import type { AwsPermissionSet, EffectiveAction } from './aws-effective.js';
import type { ActionCatalog } from './catalog.js';
import { ACTIONS_THAT_RETURN_CREDENTIALS, ESCALATION_METHODS } from './escalation-data.js';
import { type StatementRef, statementEvidence } from './statement.js';
import { type Confidence, capList, type DetectorResult, weakest } from './types.js';

export { detectAdmin } from './aws-admin.js';
export { detectDirectUserPolicies } from './aws-attachment.js';
export { detectBoundaryHeldAdmin } from './aws-star.js';
export { type ConfusedDeputyOptions, detectConfusedDeputy, detectRoleTrust, type TrustOptions } from './aws-trust.js';
export { detectNotActionAllow, detectServiceWildcards } from './aws-wildcards.js';
export { detectDataRead } from './data-access.js';

const MAX_EVIDENCE = 12;
const MAX_LISTED = 50;

/** One evidence line per statement, each naming the actions it grants here. */
export function actionEvidence(items: readonly EffectiveAction[]): Evidence[] {
  const byStatement = new Map<string, { ref: StatementRef; actions: string[] }>();
  for (const ea of items)
    for (const ref of ea.sources) {
      const e = byStatement.get(ref.key) ?? { ref, actions: [] };
      e.actions.push(ea.action);
      byStatement.set(ref.key, e);
    }
  const { shown, more } = capList([...byStatement.values()], MAX_EVIDENCE);
  const out = shown.map(({ ref, actions }) => statementEvidence(ref, `grants ${listText(actions, 8)}`));
  if (more) out.push({ note: `${more} more granting statements not shown` });
  return out;
}

export function listText(items: readonly string[], max = MAX_LISTED): string {
  const { shown, more } = capList(items, max);
  return more ? `${shown.join(', ')} … (+${more} more, ${items.length} in total)` : shown.join(', ');
}

const confidenceWords: Record<Confidence, string> = {
  confirmed: 'unconditionally on every resource',
  potential: 'only on specific resources',
  conditional: 'only under a Condition',
};

/** A lower severity when the grant is scoped or conditional: the finding is a lead, not a fact. */
const tiered = (confirmed: Severity, other: Severity, c: Confidence): Severity =>
  c === 'confirmed' ? confirmed : other;

export function detectPrivesc(set: AwsPermissionSet, methods?: readonly string[]): DetectorResult[] {
  const wanted = methods ? new Set(methods) : null;
  return set.memo(`privesc:${methods ? [...methods].sort().join(',') : '*'}`, () => {
    const out: DetectorResult[] = [];
    for (const m of ESCALATION_METHODS) {
      if (wanted && !wanted.has(m.name)) continue;
      const parts: EffectiveAction[] = [];
      for (const a of m.actions) {
        const ea = set.get(a);
        if (!ea || ea.boundaryBlocked) break;
        parts.push(ea);
      }
      if (parts.length !== m.actions.length) continue;
      const confidence = weakest(parts.map((p) => p.confidence));
      const policies = new Set(parts.flatMap((p) => p.sources.map((s) => s.key.slice(0, s.key.lastIndexOf('#')))));
      const split = policies.size > 1 ? `, combined across ${policies.size} policies` : '';
      const weak = parts
        .filter((p) => p.confidence !== 'confirmed')
        .map((p) => `${p.action} ${confidenceWords[p.confidence]}`);
      const how = weak.length ? ` (${weak.join('; ')})` : ` ${confidenceWords.confirmed}`;
      out.push({
        detector: 'privesc',
        severity: tiered('high', 'medium', confidence),
        confidence,
        key: m.name,
        message: `privilege escalation via ${m.name}: ${m.actions.join(' + ')} all allowed${how}${split}`,
        actions: [...m.actions],
        evidence: [
          ...actionEvidence(parts),
          { field: 'method', value: m.name, note: `source: ${m.source}${m.note ? `; ${m.note}` : ''}` },
        ],
      });
    }
    return out;
  });
}

/** One result per confidence tier, so "confirmed" exposure is never diluted by scoped grants. */
export function detectCredentialExposure(set: AwsPermissionSet): DetectorResult[] {
  return set.memo('credential-exposure', () => {
    const tiers = new Map<Confidence, EffectiveAction[]>();
    for (const a of ACTIONS_THAT_RETURN_CREDENTIALS) {
      const ea = set.get(a);
      if (!ea || ea.boundaryBlocked) continue;
      tiers.set(ea.confidence, [...(tiers.get(ea.confidence) ?? []), ea]);
    }
    return (['confirmed', 'potential', 'conditional'] as const).flatMap((c): DetectorResult[] => {
      const items = tiers.get(c);
      if (!items) return [];
      const actions = items.map((i) => i.action).sort();
      return [
        {
          detector: 'credential-exposure',
          severity: tiered('high', 'medium', c),
          confidence: c,
          key: c,
          message: `can obtain credentials ${confidenceWords[c]}: ${listText(actions)}`,
          actions,
          evidence: actionEvidence(items),
        },
      ];
    });
  });
}

/** "Permissions management" actions granted unconditionally on `*` (Cloudsplaining's ResourceExposure). */
export function detectResourceExposure(set: AwsPermissionSet, catalog: ActionCatalog): DetectorResult[] {
  return set.memo('resource-exposure', () => {
    const items: EffectiveAction[] = [];
    for (const id of catalog.idsWithAccessLevel('Permissions management')) {
      const f = set.flagsOf(id);
      if (f & STAR_UNCOND && !(f & BLOCKED)) items.push(set.getById(id)!);
    }
    if (items.length === 0) return [];
    const actions = items.map((i) => i.action);
    return [
      {
        detector: 'resource-exposure',
        severity: 'high',
        confidence: 'confirmed',
        message: `can change who has access (Permissions management) on any resource, unconditionally: ${listText(actions)}`,
        actions,
        evidence: actionEvidence(items),
      },
    ];
  });
}

export function detectUnknownActions(set: AwsPermissionSet, catalog: ActionCatalog): DetectorResult[] {
  return set.memo('unknown-action', () =>
    set.unknownPatterns.map((u): DetectorResult => {
      const colon = u.pattern.indexOf(':');
      const why =
        colon <= 0
          ? 'not of the form service:action'
          : catalog.isKnownService(u.pattern.slice(0, colon))
            ? 'no action of that service matches'
            : `unknown service prefix "${u.pattern.slice(0, colon)}"`;
      const effect =
        u.effect === 'Deny'
          ? 'a Deny that therefore denies nothing'
          : u.field === 'NotAction'
            ? 'a NotAction list, which therefore excludes nothing for it'
            : u.boundary
              ? 'the permissions boundary'
              : 'an Allow';
      return {
        detector: 'unknown-action',
        severity: 'low',
        confidence: 'confirmed',
        key: `${u.source.key}:${u.pattern}`,
        message: `unknown action pattern "${u.pattern}" (${why}) in ${effect}; kept as written, not expanded`,
        actions: [u.pattern],
        evidence: [statementEvidence(u.source, `${u.field} pattern "${u.pattern}" matches no catalog action`)],
      };
    }),
  );
}
