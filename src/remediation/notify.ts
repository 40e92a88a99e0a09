/**
 * The remediation → alerting port (DESIGN flow step 7, "send the alert transition"). Built by
 * the alerting side (src/alerts) and injected from main.ts, so remediation never reaches for a
 * sink itself.
 *
 * Contract: every call is idempotent. Notification ids are deterministic (the plan id and
 * attempt for an action; the scan and policy for a held batch), so a retried job or a replayed
 * run that calls again queues nothing new. A call resolves once the notifications are stored and
 * queued for delivery, not when they were delivered.
 */
import type { ActionPlan, ActionRecord } from '../model/action.js';

export interface RemediationNotifier {
  /** An action settled (done, already done, failed, cancelled, held): a change event for on-call, a line for the owner. */
  actionSettled(record: ActionRecord): Promise<void>;
  /** A blast-radius cap held a policy's whole batch: page on-call once per scan and policy, saying why. */
  batchHeld(scanId: string, policy: string, plans: readonly ActionPlan[], reason: string): Promise<void>;
  /** An action now awaits approval (asked at `approvalRequestedAt`): a line for the approvers, with Slack buttons when set up. */
  approvalRequested(record: ActionRecord): Promise<void>;
}

export const silentNotifier: RemediationNotifier = {
  async actionSettled() {},
  async batchHeld() {},
  async approvalRequested() {},
};

/**
 * Tells `notifier` of the plans of one run that now await approval: those asked in this run (their
 * `approvalRequestedAt` is the run's time), not those still waiting from an earlier one. A retried
 * run asks again with the same ids, so nothing is sent twice.
 */
export async function notifyApprovalRequests(
  notifier: RemediationNotifier,
  load: (planId: string) => Promise<ActionRecord | null>,
  runAt: string,
  planIds: readonly string[],
): Promise<void> {
  for (const id of planIds) {
    const r = await load(id);
    if (r?.state === 'awaiting-approval' && r.approvalRequestedAt === runAt) await notifier.approvalRequested(r);
  }
}
