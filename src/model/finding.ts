/**
 * The Finding noun (DESIGN "The nouns"): one risk on one credential, its severity and state, and
 * the evidence that made it (RuleHit, Evidence). Pure types; the state machine is
 * findings/transitions.ts, the evaluation that makes hits is policy/evaluate.ts.
 */
import type { CredentialKind, Provenance } from './credential.js';
import type { PrincipalType } from './principal.js';

export type Severity = 'critical' | 'high' | 'medium' | 'low' | 'info';
export const SEVERITIES: readonly Severity[] = ['critical', 'high', 'medium', 'low', 'info'];
export const severityRank = (s: Severity): number => SEVERITIES.length - SEVERITIES.indexOf(s);

/** What a rule looked at: a field and its value, or a policy statement and where it came from. */
export interface Evidence {
  /** e.g. "lastUsed.at", "attributes.periodSeconds", "grants[3]". */
  field?: string;
  value?: unknown;
  /** The statement or path rule behind it, with provenance. */
  statement?: { summary: string; provenance?: Provenance };
  note?: string;
}

export interface RuleHit {
  /** One line for people: what is wrong, with the numbers. */
  message: string;
  evidence: Evidence[];
  /** Raise or lower the policy's severity for this hit (e.g. admin is critical whatever the policy says). */
  severity?: Severity;
  /** confirmed: unconditional and unscoped; potential: scoped or partial; conditional: only under a Condition. */
  confidence?: 'confirmed' | 'potential' | 'conditional';
  /** The scoring detector this hit feeds (see policy/score.ts), e.g. "admin", "privesc", "unused". */
  detector: string;
  /** Sub-identity when one rule can hit a credential several ways (e.g. each escalation method). */
  key?: string;
}

/** `merged`: a finding from before collapsing, now part of `mergedInto` (kept as a tombstone). */
export type FindingState = 'open' | 'resolved' | 'suppressed' | 'merged';
export const FINDING_STATES: readonly FindingState[] = ['open', 'resolved', 'suppressed', 'merged'];

export interface Finding {
  fingerprint: string;
  /** The primary policy: the highest severity among `policies`, then the first by name. */
  policy: string;
  /** Every policy that flags this risk on this credential (as of lastSeen), sorted by name. */
  policies?: string[];
  /** The risk (collapse.ts): rule types and the parameters that define the check. */
  riskKey?: string;
  /** Rule types of all its policies. */
  rules: string[];
  credentialId: string;
  kind: CredentialKind;
  agentId: string | null;
  owner: { team: string; contact: string } | null;
  severity: Severity;
  state: FindingState;
  message: string;
  hits: RuleHit[];
  /** The union of its policies' controls, per framework. */
  controls: Record<string, string[]>;
  /** Each policy's own controls (an empty object for a policy that names none). */
  controlsByPolicy?: Record<string, Record<string, string[]>>;
  /** The user or role ARN; Vault: display name or path (model/principal.ts). */
  principal?: string;
  principalName?: string;
  principalType?: PrincipalType;
  /** Account id, or `<cluster>/<namespace>` for Vault. */
  source?: string;
  /** AWS: the account id and its configured name (null when the config gives none); Vault: null. */
  account?: { id: string; name: string | null } | null;
  firstSeen: string;
  lastSeen: string;
  resolvedAt: string | null;
  reopened: number;
  /** The exception suppressing it, when suppressed. */
  exceptionId: string | null;
  /** For state `merged`: the fingerprint of the finding it is now part of. */
  mergedInto?: string;
}
