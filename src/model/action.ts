/**
 * The ActionPlan noun (DESIGN "The nouns"): what remediation would do to exactly one credential,
 * why, and what the guardrails decided. Pure types; planning is remediation/plan.ts, deciding is
 * remediation/guard.ts, acting is remediation/service.ts.
 *
 * A plan's id is deterministic: the policy, the action, the exact credential id and the hash of
 * the finding's evidence. The same finding with the same facts always yields the same plan (and
 * the same job id, `remediate/<plan id>`), so a replayed run never acts twice; new facts (another
 * grant, a key used since) make a new plan.
 */
import type { CredentialKind, SourceType } from './credential.js';
import type { RuleHit, Severity } from './finding.js';
import type { DeliveryTarget, RotationProgress } from './rotation.js';

/**
 * The exact thing an action touches. `identity` holds the ids the backend calls take (access key
 * id and user name; role name; token accessor; mount, role and secret-id accessor; lease id) plus
 * the immutable ids that tell a re-created principal from the one detection saw (IAM UserId /
 * RoleId). Never a secret value.
 */
export interface ActionTarget {
  credentialId: string;
  kind: CredentialKind;
  sourceType: SourceType;
  /** The AWS account id, or `<cluster>/<namespace segment>` for Vault. */
  source: string;
  /** User or role ARN; Vault display name or path. */
  principal: string;
  identity: Record<string, string>;
}

export interface ActionPlan {
  id: string;
  action: string;
  params: Record<string, unknown>;
  policy: string;
  /** The policy's own mode; an action runs only when this and `remediation.mode` are both enforce. */
  policyMode: 'observe' | 'enforce';
  /**
   * The person this action is the request of (`user:<subject>`): the policy's `enforcedBy`. Four-eyes
   * refuses their approval: whoever asked for an action never approves it.
   */
  requestedBy?: string;
  findingFingerprint: string;
  severity: Severity;
  agentId: string | null;
  owner: { team: string; contact: string } | null;
  environment: string | null;
  tags: Record<string, string>;
  /** When the credential was created (minimum-age guard); null when the source does not say. */
  credentialCreatedAt: string | null;
  target: ActionTarget;
  reversible: boolean;
  /** sha256 of the finding's evidence, part of the id. */
  evidenceHash: string;
  /** The facts that justified the plan: the finding's hits as detection recorded them. */
  facts: RuleHit[];
  message: string;
  /** The scan whose evaluation planned it, and when. */
  scanId: string;
  plannedAt: string;
  /**
   * Rotations only: where the agent reads its credential (agents.yaml `delivery`), or null when
   * the agent has none (the guard denies it: a rotation never creates a credential nobody reads).
   */
  delivery?: DeliveryTarget | null;
}

export type Decision = 'allow' | 'hold' | 'deny' | 'dry-run';

/** One reason behind a decision: which guardrail, a stable code, and a sentence for people. */
export interface GuardReason {
  guard: string;
  code: string;
  message: string;
}

export interface GuardDecision {
  decision: Decision;
  reasons: GuardReason[];
  decidedAt: string;
}

/**
 * - planned: recorded, not yet decided; dry-run: the guardrails allowed it but a mode says
 *   dry-run, so it is recorded as "would do"; held: a guardrail held it (cap, rate, window,
 *   breaker, pause) and the next run decides again; awaiting-approval: waits for people;
 * - queued → running → done | failed | cancelled (the live re-check found the facts changed or the
 *   credential gone); denied: a guardrail or a person refused it; rolled-back: undone by a person;
 * - in-progress: a rotation between steps, waiting (for adoption, for afterDays, for a window);
 *   its `rotation` field says which step runs next and when.
 */
export type ActionState =
  | 'planned'
  | 'dry-run'
  | 'held'
  | 'awaiting-approval'
  | 'denied'
  | 'queued'
  | 'running'
  | 'in-progress'
  | 'done'
  | 'failed'
  | 'cancelled'
  | 'rolled-back';

export const ACTION_STATES: readonly ActionState[] = [
  'planned',
  'dry-run',
  'held',
  'awaiting-approval',
  'denied',
  'queued',
  'running',
  'in-progress',
  'done',
  'failed',
  'cancelled',
  'rolled-back',
];

/** States a new run may decide again; the others are settled (or belong to a person or a job). */
export const REDECIDABLE_STATES: ReadonlySet<ActionState> = new Set<ActionState>(['planned', 'dry-run', 'held']);

/** What the backend said about the target, read just before and just after acting. */
export interface TargetState {
  exists: boolean;
  /** Action-specific facts, e.g. { status: 'Active' }, { policyDocument: … }. Never a secret. */
  facts: Record<string, unknown>;
}

export interface ActionResult {
  /** held: stopped before acting (kill switch, breaker, window, rate, cooldown); the next run decides again. */
  outcome: 'done' | 'already-done' | 'cancelled' | 'failed' | 'held';
  /** What the target looked like before acting (what rollback restores). */
  preState: TargetState | null;
  postState: TargetState | null;
  detail: string;
  at: string;
}

export interface ActionRecord {
  plan: ActionPlan;
  decision: GuardDecision;
  state: ActionState;
  /** Incremented each time the record is queued; intent, check and result events are keyed by it. */
  attempt: number;
  approvals: { by: string; at: string }[];
  /** A person's refusal (a guardrail's is in `decision`). */
  denial?: { by: string; at: string; reason: string };
  /** When approval was asked for; it lapses `approvals.expiresHours` later. */
  approvalRequestedAt?: string;
  /** The target as the live re-check read it just before acting (what rollback restores). */
  preState?: TargetState | null;
  result?: ActionResult;
  rollback?: { by: string; at: string; detail: string };
  /** When a rollback's intent was recorded (set before its backend call). */
  rollbackIntentAt?: string;
  /**
   * A rollback asked for by a person, of an action whose class needs approval: it runs once
   * `approvals.approvers` others approve it (never the person who asked), and a denial ends it.
   * Its approvals are `rollbackApprovals`.
   */
  rollbackRequest?: { by: string; at: string; denial?: { by: string; at: string; reason: string } };
  rollbackApprovals?: { by: string; at: string }[];
  /** Rotations: the steps' progress (never a secret). */
  rotation?: RotationProgress;
  history: { at: string; state: ActionState; note: string }[];
  updatedAt: string;
}
