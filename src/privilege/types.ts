/**
 * Shapes shared by the privilege analysers: what a detector returns. A detector result is already
 * explainable on its own (message, the actions involved, evidence statements with provenance); the
 * rule types only filter and map it onto a RuleHit, so the wording lives here, next to the logic.
 */
import type { Evidence, Severity } from '../model/finding.js';

export type Confidence = 'confirmed' | 'potential' | 'conditional';

/** confirmed > potential > conditional: used for "at least this sure" filters. */
export const CONFIDENCE_ORDER: readonly Confidence[] = ['conditional', 'potential', 'confirmed'];
export const confidenceAtLeast = (c: Confidence, min: Confidence): boolean =>
  CONFIDENCE_ORDER.indexOf(c) >= CONFIDENCE_ORDER.indexOf(min);

/** The weakest of several confidences: a combination is only as sure as its least sure part. */
export function weakest(cs: Iterable<Confidence>): Confidence {
  let rank = CONFIDENCE_ORDER.length - 1;
  for (const c of cs) rank = Math.min(rank, CONFIDENCE_ORDER.indexOf(c));
  return CONFIDENCE_ORDER[rank]!;
}

/** The strongest of several confidences, or undefined for none. */
export function strongest(cs: Iterable<Confidence>): Confidence | undefined {
  let rank = -1;
  for (const c of cs) rank = Math.max(rank, CONFIDENCE_ORDER.indexOf(c));
  return rank < 0 ? undefined : CONFIDENCE_ORDER[rank];
}

export type DetectorName =
  | 'admin'
  | 'privesc'
  | 'credential-exposure'
  | 'resource-exposure'
  | 'service-wildcard'
  | 'not-action'
  | 'trust'
  | 'unknown-action'
  | 'data-read'
  | 'boundary-held-admin'
  | 'confused-deputy'
  | 'direct-policy'
  | 'vault-root'
  | 'vault-sudo'
  | 'vault-audit-sudo'
  | 'vault-glob'
  | 'vault-sensitive-write'
  | 'vault-token-create-sudo'
  | 'vault-secret-id-mint'
  | 'vault-data-read'
  | 'scope';

export interface DetectorResult {
  detector: DetectorName;
  severity: Severity;
  confidence: Confidence;
  /** Sub-identity, stable across scans: an escalation method, a statement, a pattern, a path. */
  key?: string;
  message: string;
  /** AWS actions or Vault `path:capability` pairs involved, sorted. */
  actions: string[];
  evidence: Evidence[];
}

/** Evidence lists are for people: long ones are cut, with the cut said out loud. */
export function capList<T>(items: readonly T[], max: number): { shown: T[]; total: number; more: number } {
  return { shown: items.slice(0, max), total: items.length, more: Math.max(0, items.length - max) };
}
