/**
 * The rotator contract: one kind of credential (an IAM access key, an AppRole secret ID, a Vault
 * token) replaced in steps (model/rotation.ts). The runner (remediation/rotation-runner.ts) calls
 * `run(step)` once per attempt of a step, with the intent event written before and the result
 * event after; a rotator never writes the record itself except through `checkpoint`.
 *
 * Every step must be idempotent and resumable from the progress record and the backend's live
 * state alone: a worker can die before, inside or after any backend call. Only `create` and
 * `deliver` share memory (the new secret, `ctx.secret`), and only within one run: a deliver that
 * finds no secret in memory knows the secret is lost unless the delivery target already holds it.
 */
import type { ActionPorts } from '../actions/ports.js';
import type { RotateParams } from '../actions/rotate-support.js';
import type { ActionPlan } from '../model/action.js';
import type { RotationProgress, RotationStep } from '../model/rotation.js';
import type { Secret } from '../util/secret.js';

export type { RotateParams } from '../actions/rotate-support.js';

export interface StepContext {
  plan: ActionPlan;
  progress: Readonly<RotationProgress>;
  params: RotateParams;
  ports: ActionPorts;
  now(): Date;
  /** The new credential's secret when this process created it in this run, else null. */
  secret: Secret | null;
  /** Did a credwarden rotation make this credential (recorded when it was created)? */
  madeByCredwarden(credentialId: string): Promise<boolean>;
  /** Durably records part of the progress (an audit event with the record patch) before going on. */
  checkpoint(patch: Partial<RotationProgress>, note: string): Promise<void>;
  /** Announces a delivery (webhook targets); a no-op for plain KV targets. */
  announce(version: number): Promise<void>;
  sleep(ms: number): Promise<void>;
}

export type StepOutcome =
  /** The step is done; `secret` (create only) is handed to the next step in memory. */
  | { kind: 'next'; detail: string; patch?: Partial<RotationProgress>; secret?: Secret }
  /** Not yet (adoption, afterDays): run the same step again at `until`. */
  | { kind: 'wait'; detail: string; until: Date; patch?: Partial<RotationProgress> }
  /** Go back to an earlier step (a new credential whose secret was lost: retired, create again). */
  | { kind: 'back'; to: RotationStep; detail: string; patch?: Partial<RotationProgress> }
  /** Stop for good, with the reason; the state left behind is safe (the old credential still works). */
  | { kind: 'stop'; detail: string; patch?: Partial<RotationProgress> };

export interface CredentialOps {
  kind: RotationProgress['kind'];
  /** 'key', 'secret ID', 'token': for messages. */
  noun: string;
  /** Retires a credential credwarden made (never the one being rotated); says what it did. */
  retire(ctx: StepContext, id: string, why: string): Promise<string>;
  /** Proves the credential works with this secret; `how` says how, or why not. */
  prove(ctx: StepContext, id: string, secret: Secret): Promise<{ ok: boolean; how: string }>;
}

export interface Rotator {
  readonly kind: RotationProgress['kind'];
  /** The steps this kind runs, in order. */
  readonly steps: readonly RotationStep[];
  run(step: RotationStep, ctx: StepContext): Promise<StepOutcome>;
  /** How this kind's credentials are retired and proven (shared steps use it, and so does the runner). */
  readonly ops: CredentialOps;
  /** The inventory id the new credential will have (the guard holds it while the rotation runs). */
  credentialIdOf(plan: ActionPlan, newId: string): string;
  /**
   * Puts the old credential back in service and retires the new one (before the old one is
   * deleted): re-activate, restore the delivery, prove the old one works, retire the new one.
   * Returns what it did; throws when it cannot (the reason names what to do by hand).
   */
  rollback(ctx: StepContext): Promise<string>;
}

/** Polls `fn` until it returns non-null or `timeoutMs` passes (then null). */
export async function until<T>(
  fn: () => Promise<T | null>,
  timeoutMs: number,
  sleep: (ms: number) => Promise<void>,
): Promise<T | null> {
  const started = Date.now();
  for (let wait = 250; ; wait = Math.min(wait * 2, 5000)) {
    const v = await fn();
    if (v !== null) return v;
    if (Date.now() - started >= timeoutMs) return null;
    await sleep(wait);
  }
}
