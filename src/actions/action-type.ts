/**
 * The action-type extension point. An action type is one file (`<name>.action.ts`) exporting an
 * ActionType, registered with one line in `index.ts` under the kebab-case name policies use in
 * `remediation:`. It describes itself (schema, kinds, reversibility, the exact permissions, docs
 * with a YAML example) and splits into pure parts and I/O over an injected port:
 *
 *   plan(cred, params)          pure: the exact target (ids the backend calls take), or why not
 *   inspect(plan, ports)        I/O: read the target's live state (before and after acting)
 *   isDone(plan, state)         pure: the target is already as the action leaves it (a retried
 *                               job, or a person got there first): "already done", no second call
 *   refuse(plan, state, ctx)    pure: a reason not to act on this state (delete-key on an active
 *                               key), or null
 *   notYet(plan, ctx)           pure, optional: not due yet (held, decided again next run)
 *   execute(plan, ports, state) I/O: the one change, on exactly `plan.target`
 *   verify(plan, state)         pure: the read-back shows the change took
 *   rollback(…) / isRolledBack  reversible actions only: restore the recorded pre-state
 *
 * The engine (remediation/service.ts) runs them in the order of DESIGN's flow: audit intent →
 * kill switch → live re-check (source.recheck + the policy re-evaluated) → inspect → isDone? →
 * refuse? → execute → inspect → verify → audit result. An action never reaches for anything but
 * its target: ports take exact ids, never a user "and all its keys".
 */
import type { z } from 'zod';
import type { ActionPlan, ActionTarget, TargetState } from '../model/action.js';
import type { Credential, CredentialKind } from '../model/credential.js';
import type { RuleHit } from '../model/finding.js';
import type { ActionPorts } from './ports.js';

export interface PlanContext {
  now: Date;
  /** The finding's hits: the facts detection recorded (detach-policy reads which policy granted it). */
  hits: readonly RuleHit[];
}

export interface RefuseContext {
  now: Date;
  /** When credwarden itself last set this target's state by `action` (e.g. deactivate-key), if ever. */
  lastDoneBy(action: string): string | null;
}

export type PlanOutcome = { target: ActionTarget } | { skip: string };

export interface ActionType<P extends Record<string, unknown> = Record<string, unknown>> {
  /** kebab-case, as used in policy YAML `remediation:`. */
  readonly name: string;
  /** One line for `actions list` and the README. */
  readonly description: string;
  /** A paragraph for the README: what it does, what it never does, how to undo it. */
  readonly docs: string;
  /** A complete YAML policy snippet using this action (the meta-test loads it). */
  readonly example: string;
  /** Parameters (everything in the remediation entry except `action`). Strict. */
  readonly schema: z.ZodType<P>;
  /** Kinds it can act on; empty: any kind (notify-owner). */
  readonly kinds: readonly CredentialKind[];
  readonly reversible: boolean;
  /**
   * Rotations: which kind of credential the rotation runner replaces, step by step (src/rotation/).
   * For these, plan/inspect/isDone/refuse gate the start as for any action, and `execute` is
   * never called.
   */
  readonly rotation?: 'aws-key' | 'approle-secret-id' | 'vault-token';
  /** The exact permissions its calls need, for the remediation role or token (README is generated from these). */
  readonly permissions: { readonly aws: readonly string[]; readonly vault: readonly string[] };
  plan(cred: Credential, params: P, ctx: PlanContext): PlanOutcome;
  inspect(plan: ActionPlan, ports: ActionPorts): Promise<TargetState>;
  isDone(plan: ActionPlan, state: TargetState): boolean;
  refuse(plan: ActionPlan, state: TargetState, ctx: RefuseContext): string | null;
  /**
   * Pure, from credwarden's own history alone: a reason the action is not due yet (delete-key
   * before `afterDays` since credwarden's deactivate-key), or null. Checked at planning (the plan
   * is held, code not-yet, and decided again by the next run) and again before acting.
   */
  notYet?(plan: ActionPlan, ctx: RefuseContext): string | null;
  execute(plan: ActionPlan, ports: ActionPorts, state: TargetState): Promise<void>;
  verify(plan: ActionPlan, state: TargetState): boolean;
  /** Reversible actions: put back `preState` (the state recorded before acting). */
  rollback?(plan: ActionPlan, ports: ActionPorts, preState: TargetState, current: TargetState): Promise<void>;
  /**
   * Reversible actions: a reason rollback would be unsafe because the target changed since the
   * action (compare `current` with the recorded `postState`), or null.
   */
  changedSince?(plan: ActionPlan, postState: TargetState, current: TargetState): string | null;
  isRolledBack?(plan: ActionPlan, preState: TargetState, current: TargetState): boolean;
}
