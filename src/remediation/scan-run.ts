/**
 * One scan's run: the ActionPlans of its open findings whose policies ask for remediation (plan.ts,
 * pure) and one guardrail decision per plan (guard.ts, pure), over the controls' state when it runs
 * (pause, breaker, recent starts, each credential's last action, rotations in progress) and each
 * action type's own not-yet rule. RemediationService.planScan (service.ts) computes it once per
 * scan and stores it.
 */
import { actionTypes, getActionType } from '../actions/index.js';
import type { ActionPlan } from '../model/action.js';
import type { RemediationControls } from './controls.js';
import type { RemediationDeps, StoredRun } from './deps.js';
import { guardPlans } from './guard.js';
import { planActions } from './plan.js';
import type { ActionStore } from './store.js';

/** What a run reads through the service: its dependencies, the controls and the action records. */
interface RunInputs {
  d: RemediationDeps;
  controls: RemediationControls;
  store: ActionStore;
}

export async function computeRun(svc: RunInputs, scanId: string): Promise<StoredRun> {
  const now = svc.d.clock.now();
  const [findings, inventory] = await Promise.all([svc.d.findings.all(), svc.d.scans.currentInventory()]);
  const open = findings.filter((f) => f.state === 'open');
  const policies = new Map(svc.d.policies.policies.map((p) => [p.name, p]));
  const { plans, skipped } = planActions({
    scanId,
    now,
    findings: open,
    policies,
    credentials: new Map(inventory.map((c) => [c.id, c])),
    registry: svc.d.registry,
  });
  const matchedByPolicy = new Map<string, number>();
  for (const f of open)
    for (const p of f.policies ?? [f.policy]) matchedByPolicy.set(p, (matchedByPolicy.get(p) ?? 0) + 1);
  const [paused, breaker, recentActions, lastActionAt] = await Promise.all([
    svc.controls.pauseState(),
    svc.controls.breakerState(),
    svc.controls.recentStarts(),
    svc.controls.lastActions([...new Set(plans.map((p) => p.target.credentialId))]),
  ]);
  const notYet = await notYetPlans(svc.store, plans, now);
  const rotating = new Map(Object.entries(await svc.d.redis.hgetall(svc.store.keys.rotating())));
  const decisions = guardPlans(plans, {
    notYet,
    now,
    config: svc.d.config,
    paused,
    breaker,
    recentActions,
    lastActionAt,
    matchedByPolicy,
    credentialsFor: (t, delivery) => svc.d.credentialsFor(t, delivery),
    rotating,
  });
  return { scanId, at: now.toISOString(), plans, decisions: Object.fromEntries(decisions), skipped };
}

/** Plans whose action says it is not due yet, from credwarden's own history (delete-key's afterDays). */
async function notYetPlans(store: ActionStore, plans: readonly ActionPlan[], now: Date): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const names = actionTypes().map((a) => a.name);
  for (const p of plans) {
    const type = getActionType(p.action);
    if (!type?.notYet) continue;
    const done = await store.doneByAll(p.target.credentialId, names);
    const wait = type.notYet(p, { now, lastDoneBy: (a) => done.get(a) ?? null });
    if (wait !== null) out.set(p.id, wait);
  }
  return out;
}
