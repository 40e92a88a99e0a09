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
import type { Severity } from './types.js';

export type { Finding, FindingState } from '../model/finding.js';

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
  /** Who lifted it to enforce (an API subject); their approval of its actions is refused. */
  enforcedBy?: string;
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
