/**
 * Policies, exceptions and findings: the data the policy engine reads and writes.
 *
 * A policy selects credentials (`resource`), and every one of its rules must hit a credential for
 * the policy to raise a finding on it (rules AND together, as Custodian filters do). A finding is
 * identified by its fingerprint: policy + credential.
 */
import type { CredentialKind } from '../model/credential.js';
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

export type FindingState = 'open' | 'resolved' | 'suppressed';

export interface Finding {
  fingerprint: string;
  policy: string;
  rules: string[];
  credentialId: string;
  kind: CredentialKind;
  agentId: string | null;
  owner: { team: string; contact: string } | null;
  severity: Severity;
  state: FindingState;
  message: string;
  hits: RuleHit[];
  controls: Record<string, string[]>;
  firstSeen: string;
  lastSeen: string;
  resolvedAt: string | null;
  reopened: number;
  /** The exception suppressing it, when suppressed. */
  exceptionId: string | null;
}
