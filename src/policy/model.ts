/**
 * Policies, exceptions and findings: the data the policy engine reads and writes.
 *
 * A policy selects credentials (`resource`), and every one of its rules must hit a credential for
 * the policy to raise a finding on it (rules AND together, as Custodian filters do). Policies that
 * check the same risk (the same risk key, collapse.ts) on one credential make ONE finding, which
 * carries every such policy and its controls; its fingerprint is policy + credential for the first
 * of those policies by name (or the fingerprint it was first stored under).
 */
import type { CredentialKind } from '../model/credential.js';
import type { PrincipalType } from '../model/principal.js';
import type { RuleHit, Severity } from './types.js';

export interface ResourceSelector {
  kinds?: CredentialKind[];
  /** `aws`, `vault`, an account id, or `<cluster>/<namespace>`; globs allowed. */
  sources?: string[];
  /** Agent id globs; `unregistered` and `unattributed` are special values. */
  agents?: string[];
  /** Every listed tag must match (values are globs). */
  tags?: Record<string, string>;
  /** The attributed agent's environment. */
  environments?: string[];
}

export interface PolicyRule {
  type: string;
  params: unknown;
}

export interface Policy {
  name: string;
  description: string;
  resource: ResourceSelector;
  rules: PolicyRule[];
  severity: Severity;
  mode: 'observe' | 'enforce';
  remediation: { action: string; params: Record<string, unknown> }[];
  metadata: { controls?: Record<string, string[]>; [k: string]: unknown };
  /** Where it was loaded from, for messages. */
  file: string;
  pack?: string;
}

export interface ExceptionSelector {
  /** Credential id globs. */
  credentials?: string[];
  agents?: string[];
  /** Policy name globs. */
  policies?: string[];
  /** Rule type names. */
  rules?: string[];
}

export interface PolicyException {
  id: string;
  selector: ExceptionSelector;
  owner: string;
  reason: string;
  /** ISO; an exception without an expiry does not exist. */
  expires: string;
  file: string;
}

export interface PolicySet {
  policies: Policy[];
  exceptions: PolicyException[];
  files: string[];
}

/** `merged`: a finding from before collapsing, now part of `mergedInto` (kept as a tombstone). */
export type FindingState = 'open' | 'resolved' | 'suppressed' | 'merged';

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
