/**
 * Redis key layout for remediation (all under the configured prefix P):
 *
 *   P:act:<plan-id>            hash    one action: plan (JSON, immutable), decision (JSON), state,
 *                                      preState, result, denial, rollback (JSON), approvalRequestedAt,
 *                                      rollbackIntentAt, updatedAt
 *   P:act:<plan-id>:approvals  hash    approver name → ISO time (one field per person: a second
 *                                      approval by the same name cannot add a field)
 *   P:act:<plan-id>:rollback-approvals  hash  approver name → ISO time, for a rollback a person asked for
 *   P:act:<plan-id>:history    hash    "<ISO time>|<state>" → note (sorted by field = the timeline)
 *   P:act:<plan-id>:lock       string  the execution lease: one runner of a plan at a time (util/lease.ts)
 *   P:acts                     zset    plan id, scored by planned time (ms)
 *   P:act:live                 hash    "<policy>|<action>|<credential id>" → the current plan id
 *   P:rem:run:<scan-id>        string  the run's plans and decisions, computed once (TTL 7 days)
 *   P:rem:paused               string  the kill switch: JSON {by, at, reason}; absent = running
 *   P:rem:breaker              string  the tripped breaker: JSON {trippedAt, reason}; absent = closed
 *   P:rem:breaker-gen          string  how many times the breaker was reset (trip events are keyed by it)
 *   P:rem:starts               zset    plan id, scored by the time its action started (rate window)
 *   P:rem:last-action          hash    credential id → ISO time of credwarden's last action (cooldown)
 *   P:rem:done-by              hash    "<credential id>|<action>" → ISO time it was done (delete-key's afterDays)
 *   P:rem:outcomes             zset    "<plan id>|ok" or "<plan id>|err", scored by time (breaker window)
 *   P:rot:active               hash    credential id → the rotation holding it (old and new credential)
 *   P:rot:principal            hash    "<source>|<principal>" → the rotation of that principal in progress
 *   P:rot:made                 hash    credential id → the rotation that created it
 *   P:rot:wakes                zset    rotation (plan id), scored by when it runs next (ms)
 *
 * Every state change of an action is an audit-event effect (util/effects.ts): the record says
 * "done" exactly when `action.result` says so. BullMQ's remediate queue lives under P:bull.
 */

import type {
  ActionPlan,
  ActionRecord,
  ActionResult,
  ActionState,
  GuardDecision,
  TargetState,
} from '../model/action.js';
import type { RotationProgress } from '../model/rotation.js';
import type { RedisClient } from '../queue/connection.js';
import type { Effect } from '../util/effects.js';

export class RemediationKeys {
  constructor(readonly prefix: string) {}
  action = (id: string) => `${this.prefix}:act:${id}`;
  approvals = (id: string) => `${this.prefix}:act:${id}:approvals`;
  rollbackApprovals = (id: string) => `${this.prefix}:act:${id}:rollback-approvals`;
  history = (id: string) => `${this.prefix}:act:${id}:history`;
  lock = (id: string) => `${this.prefix}:act:${id}:lock`;
  index = () => `${this.prefix}:acts`;
  live = () => `${this.prefix}:act:live`;
  run = (scanId: string) => `${this.prefix}:rem:run:${scanId}`;
  paused = () => `${this.prefix}:rem:paused`;
  breaker = () => `${this.prefix}:rem:breaker`;
  breakerGen = () => `${this.prefix}:rem:breaker-gen`;
  starts = () => `${this.prefix}:rem:starts`;
  lastAction = () => `${this.prefix}:rem:last-action`;
  doneBy = () => `${this.prefix}:rem:done-by`;
  outcomes = () => `${this.prefix}:rem:outcomes`;
  /** Credential id → the rotation (plan id) that holds it: the old credential and the new one, while it runs. */
  rotating = () => `${this.prefix}:rot:active`;
  /** "<source>|<principal>" → the one rotation of that principal in progress. */
  rotatingPrincipal = () => `${this.prefix}:rot:principal`;
  /** Credential id → the rotation that created it (a later rotation may delete it as credwarden's). */
  made = () => `${this.prefix}:rot:made`;
  /** plan id, scored by when a waiting rotation runs next (the sweep re-queues lost wake-ups). */
  wakes = () => `${this.prefix}:rot:wakes`;
}

export const liveKey = (p: ActionPlan): string => `${p.policy}|${p.action}|${p.target.credentialId}`;

export type RecordPatch = Partial<{
  decision: GuardDecision;
  state: ActionState;
  preState: TargetState | null;
  result: ActionResult;
  denial: NonNullable<ActionRecord['denial']>;
  rollback: NonNullable<ActionRecord['rollback']>;
  approvalRequestedAt: string;
  attempt: number;
  rollbackIntentAt: string;
  rollbackRequest: NonNullable<ActionRecord['rollbackRequest']>;
  rotation: RotationProgress;
}>;

export class ActionStore {
  readonly keys: RemediationKeys;

  constructor(
    private readonly redis: RedisClient,
    prefix: string,
  ) {
    this.keys = new RemediationKeys(prefix);
  }

  /** Effects that create an action record (plan + decision + state) and index it. */
  createEffects(plan: ActionPlan, decision: GuardDecision, state: ActionState, at: string, note: string): Effect[] {
    const key = this.keys.action(plan.id);
    return [
      { op: 'hset', key, field: 'plan', value: JSON.stringify(plan) },
      { op: 'zadd', key: this.keys.index(), member: plan.id, score: Date.parse(plan.plannedAt) },
      { op: 'hset', key: this.keys.live(), field: liveKey(plan), value: plan.id },
      ...this.patchEffects(plan.id, { decision, state }, at, note),
    ];
  }

  /** Effects that change fields of a record and add a history line. */
  patchEffects(id: string, patch: RecordPatch, at: string, note: string): Effect[] {
    const key = this.keys.action(id);
    const out: Effect[] = [];
    for (const [field, value] of Object.entries(patch)) {
      if (value === undefined) continue;
      out.push({ op: 'hset', key, field, value: typeof value === 'string' ? value : JSON.stringify(value) });
    }
    out.push({ op: 'hset', key, field: 'updatedAt', value: at });
    if (patch.state) out.push({ op: 'hset', key: this.keys.history(id), field: `${at}|${patch.state}`, value: note });
    return out;
  }

  async get(id: string): Promise<ActionRecord | null> {
    const [h, approvals, rollbackApprovals, history] = await Promise.all([
      this.redis.hgetall(this.keys.action(id)),
      this.redis.hgetall(this.keys.approvals(id)),
      this.redis.hgetall(this.keys.rollbackApprovals(id)),
      this.redis.hgetall(this.keys.history(id)),
    ]);
    if (!h.plan) return null;
    const json = <T>(v: string | undefined): T | undefined => (v === undefined ? undefined : (JSON.parse(v) as T));
    const preState = json<TargetState | null>(h.preState);
    const result = json<ActionResult>(h.result);
    const denial = json<ActionRecord['denial']>(h.denial);
    const rollback = json<ActionRecord['rollback']>(h.rollback);
    const rotation = json<RotationProgress>(h.rotation);
    const rollbackRequest = json<ActionRecord['rollbackRequest']>(h.rollbackRequest);
    const byTime = (m: Record<string, string>) =>
      Object.entries(m)
        .map(([by, at]) => ({ by, at }))
        .sort((a, b) => a.at.localeCompare(b.at) || a.by.localeCompare(b.by));
    return {
      plan: JSON.parse(h.plan) as ActionPlan,
      decision: JSON.parse(h.decision ?? 'null') as GuardDecision,
      state: (h.state ?? 'planned') as ActionState,
      attempt: Number(h.attempt ?? 0),
      approvals: byTime(approvals),
      ...(denial ? { denial } : {}),
      ...(h.approvalRequestedAt ? { approvalRequestedAt: h.approvalRequestedAt } : {}),
      ...(h.rollbackIntentAt ? { rollbackIntentAt: h.rollbackIntentAt } : {}),
      ...(preState !== undefined ? { preState } : {}),
      ...(result ? { result } : {}),
      ...(rollback ? { rollback } : {}),
      ...(rotation ? { rotation } : {}),
      ...(rollbackRequest ? { rollbackRequest, rollbackApprovals: byTime(rollbackApprovals) } : {}),
      history: Object.entries(history)
        .map(([field, note]) => {
          const i = field.lastIndexOf('|');
          return { at: field.slice(0, i), state: field.slice(i + 1) as ActionState, note };
        })
        .sort((a, b) => a.at.localeCompare(b.at)),
      updatedAt: h.updatedAt ?? '',
    };
  }

  async state(id: string): Promise<ActionState | null> {
    return (await this.redis.hget(this.keys.action(id), 'state')) as ActionState | null;
  }

  async attempt(id: string): Promise<number> {
    return Number((await this.redis.hget(this.keys.action(id), 'attempt')) ?? 0);
  }

  async livePlanId(p: ActionPlan): Promise<string | null> {
    return this.redis.hget(this.keys.live(), liveKey(p));
  }

  /** Newest first. */
  async list(limit = 1000): Promise<ActionRecord[]> {
    const ids = await this.redis.zrevrange(this.keys.index(), 0, limit - 1);
    const out = await Promise.all(ids.map((id) => this.get(id)));
    return out.filter((r): r is ActionRecord => r !== null);
  }

  /** When credwarden last completed each of `actions` on this credential. */
  async doneByAll(credentialId: string, actions: readonly string[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    if (actions.length === 0) return out;
    const vals = await this.redis.hmget(this.keys.doneBy(), ...actions.map((a) => `${credentialId}|${a}`));
    actions.forEach((a, i) => {
      if (vals[i]) out.set(a, vals[i]!);
    });
    return out;
  }
}
