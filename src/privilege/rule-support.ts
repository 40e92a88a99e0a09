/**
 * What the privilege rule types (src/policy/rules/aws-*, vault-*, scope-excess) share: the kinds
 * they apply to, the `minConfidence` parameter, and the mapping from detector results to RuleHits.
 * Kept here because the rules directory holds one file per rule type and nothing else.
 */
import { z } from 'zod';
import type { CredentialKind } from '../model/credential.js';
import type { RuleHit } from '../model/finding.js';
import { type Confidence, confidenceAtLeast, type DetectorResult } from './types.js';

/** Records whose grants are AWS statements (a Vault AWS-engine role carries an IAM policy). */
export const AWS_GRANT_KINDS: readonly CredentialKind[] = [
  'aws-access-key',
  'aws-role',
  'aws-console-password',
  'vault-aws-role',
];

/** Records whose grants are Vault ACL paths. */
export const VAULT_GRANT_KINDS: readonly CredentialKind[] = [
  'vault-token',
  'vault-approle-role',
  'vault-approle-secret-id',
];

export const confidenceSchema = z.enum(['confirmed', 'potential', 'conditional']);

/** `minConfidence`: report only results at least this sure (confirmed > potential > conditional). */
export const minConfidence = (fallback: Confidence) => confidenceSchema.default(fallback);

export function toHits(results: readonly DetectorResult[], min: Confidence = 'conditional'): RuleHit[] {
  return results
    .filter((r) => confidenceAtLeast(r.confidence, min))
    .map((r) => ({
      message: r.message,
      evidence: r.evidence,
      severity: r.severity,
      confidence: r.confidence,
      detector: r.detector,
      ...(r.key !== undefined ? { key: r.key } : {}),
    }));
}
