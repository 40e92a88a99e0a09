/**
 * The remediation phase of the fault harness: "inside" while the `remediate` queue has an active
 * job. Where the kill lands, drawn per trial (a quarter each):
 *   - after the n-th `action.intent` of the batch (audit events, polled every few ms);
 *   - after the n-th `action.checked` (the live re-check passed, the pre-state recorded);
 *   - right after moto executed the n-th UpdateAccessKey: the recording proxy holds that one
 *     answer back (HOLD_MS) and the kill comes meanwhile, so the worker dies after the change,
 *     before its read-back and its result event;
 *   - at a random delay inside the phase (calibrated by the control trial).
 * onKilled labels every action that was in flight (an active remediate job of the dead worker) by
 * what the audit log and moto had seen of it at the death: before intent, after intent, after
 * checked, during the backend call (sent, not yet answered), after the backend call, after result.
 */
import { readAuditEvents } from './fault-checks.js';
import {
  delayPlan,
  type KillContext,
  type KillPlan,
  type KillProbe,
  type PhaseSpec,
  type Rng,
} from './fault-phases.js';
import type { RemediateTrial } from './fault-remediate.js';
import { testKeyPrefix, testQueueKey } from './redis.js';

/** How long the proxy holds back moto's answer to the UpdateAccessKey the kill is aimed after. */
export const HOLD_MS = 400;

export const STEPS = [
  'before intent',
  'after intent',
  'after checked',
  'during the backend call',
  'after the backend call',
  'after result',
  'no action in flight',
] as const;

const ordinal = (n: number) =>
  `${n}${n % 10 === 1 && n !== 11 ? 'st' : n % 10 === 2 && n !== 12 ? 'nd' : n % 10 === 3 && n !== 13 ? 'rd' : 'th'}`;

export function remediateKillPlan(
  rng: Rng,
  cal: { durationMs: number; events: number } | undefined,
  t: RemediateTrial,
): KillPlan {
  const planned = Math.max(1, t.keys.filter((k) => k.matches).length);
  const r = rng();
  const n = 1 + Math.floor(rng() * Math.max(1, planned - 1));
  if (r < 0.25) return { kind: 'events', n, what: 'action.intent events', filter: (e) => e.type === 'action.intent' };
  if (r < 0.5) return { kind: 'events', n, what: 'action.checked events', filter: (e) => e.type === 'action.checked' };
  if (r < 0.75) {
    let answered = 0;
    t.proxy.holdMs = (c) => (c.action === 'UpdateAccessKey' && ++answered === n ? HOLD_MS : 0);
    return {
      kind: 'signal',
      what: `right after moto executed the ${ordinal(n)} UpdateAccessKey`,
      fired: () => answered >= n,
    };
  }
  return delayPlan(rng, cal, 1500);
}

async function planOfJob(k: KillContext, jobId: string): Promise<{ planId: string; accessKeyId: string } | null> {
  const data = await k.redis.hget(`${testQueueKey(k.prefix, 'remediate')}:${jobId}`, 'data');
  const planId = data ? (JSON.parse(data) as { planId?: string }).planId : undefined;
  if (!planId) return null;
  const plan = await k.redis.hget(`${testKeyPrefix(k.prefix)}:act:${planId}`, 'plan');
  const id = plan
    ? (JSON.parse(plan) as { target: { identity: { accessKeyId?: string } } }).target.identity.accessKeyId
    : undefined;
  return { planId, accessKeyId: id ?? '' };
}

/** Labels each action in flight at the kill (see the header). */
export async function classifyKill(k: KillContext, t: RemediateTrial): Promise<KillProbe> {
  const jobs = k.active.remediate ?? [];
  if (!jobs.length) return { steps: ['no action in flight'] };
  const events = (await readAuditEvents(k.redis, k.prefix)).filter((e) => e.seq <= k.seqAtKill);
  const steps: string[] = [];
  const notes: string[] = [];
  for (const jobId of jobs) {
    const p = await planOfJob(k, jobId);
    if (!p) {
      notes.push(`active job ${jobId}: no plan id in its data`);
      continue;
    }
    const of = (type: string) => events.some((e) => e.type === type && e.data.planId === p.planId);
    const calls = t.proxy
      .calls('UpdateAccessKey', { AccessKeyId: p.accessKeyId })
      .filter((c) => c.receivedAt <= k.killedAt);
    const answered = calls.some((c) => c.respondedAt > 0 && c.respondedAt <= k.killedAt);
    let step: string;
    if (of('action.result')) step = 'after result';
    else if (answered) step = 'after the backend call';
    else if (calls.length) step = 'during the backend call';
    else if (of('action.checked')) step = 'after checked';
    else if (of('action.intent')) step = 'after intent';
    else step = 'before intent';
    steps.push(step);
    notes.push(`in flight at the kill: ${p.accessKeyId} (${p.planId.slice(0, 12)}…) ${step}`);
  }
  return { steps, notes };
}

export function remediatePhase(t: RemediateTrial): PhaseSpec {
  return {
    name: 'remediate',
    queues: ['remediate'],
    countEvents: (e) => e.type === 'action.intent',
    plan: (rng, cal) => remediateKillPlan(rng, cal, t),
    onKilled: (k) => classifyKill(k, t),
  };
}
