/**
 * What every remediation fault trial must end with (issue 10 "Crash safety"; DESIGN invariants 3,
 * 4 and 6), checked from outside once the workers are stopped:
 *   plans-final      every plan record (`P:acts`, `P:act:<id>`, src/remediation/store.ts) is done,
 *                    failed with a reason, cancelled with a reason, or held with a reason;
 *   plans-done       in this estate nothing may hold, fail or cancel: exactly the never-used keys
 *                    have a plan, one each, and every plan is done with pre-state Active and
 *                    post-state Inactive;
 *   emulator-calls   at moto (the recording proxy): at most one UpdateAccessKey per key, always
 *                    Status=Inactive, only on planned keys, exactly one for each done plan; each one
 *                    reached moto only after its intent and its re-check were in the audit log
 *                    (the Redis stream and the file); no other IAM write;
 *   backend-state    ListAccessKeys on moto directly: done ⇒ Inactive, every other key Active;
 * plus the replay rule `action`: every action.result follows an action.intent of the same plan and
 * attempt, a done result has an action.checked between the two, no intent, checked, result or
 * planned event is recorded twice for the same purpose, and every intent has its result.
 */
import { ListAccessKeysCommand } from '@aws-sdk/client-iam';
import { seederFor } from './aws-seed.js';
import type { InvariantCheck, TrialContext } from './fault-checks.js';
import type { RemediateTrial } from './fault-remediate.js';
import type { ReplayEvent, ReplayRule, ReplayState, Violation } from './fault-replay.js';
import { testKeyPrefix } from './redis.js';

interface StoredAction {
  id: string;
  state: string;
  accessKeyId: string;
  userName: string;
  result?: { outcome: string; detail: string; preState: Facts; postState: Facts };
}
type Facts = { exists: boolean; facts: { status?: string } } | null;

const v = (check: string, detail: string): Violation => ({ check, detail });
const short = (id: string) => `${id.slice(0, 12)}…`;

export async function storedActions(ctx: Pick<TrialContext, 'redis' | 'prefix'>): Promise<StoredAction[]> {
  const ids = await ctx.redis.zrange(`${testKeyPrefix(ctx.prefix)}:acts`, 0, -1);
  const out: StoredAction[] = [];
  for (const id of ids) {
    const h = await ctx.redis.hgetall(`${testKeyPrefix(ctx.prefix)}:act:${id}`);
    const plan = JSON.parse(h.plan ?? '{}') as { target?: { identity?: Record<string, string> } };
    out.push({
      id,
      state: h.state ?? 'missing',
      accessKeyId: plan.target?.identity?.accessKeyId ?? '',
      userName: plan.target?.identity?.userName ?? '',
      ...(h.result ? { result: JSON.parse(h.result) as StoredAction['result'] } : {}),
    });
  }
  return out;
}

const REASONED = new Set(['failed', 'cancelled', 'held']);

const plansFinal: InvariantCheck = {
  name: 'plans-final',
  async run(ctx) {
    const out: Violation[] = [];
    for (const a of await storedActions(ctx)) {
      if (a.state === 'done') continue;
      if (!REASONED.has(a.state)) out.push(v('plans-final', `plan ${short(a.id)} (${a.accessKeyId}) ended ${a.state}`));
      else if (!a.result?.detail?.trim())
        out.push(v('plans-final', `plan ${short(a.id)} (${a.accessKeyId}) is ${a.state} with no reason`));
    }
    return out;
  },
};

function plansDone(t: RemediateTrial): InvariantCheck {
  return {
    name: 'plans-done',
    async run(ctx) {
      const out: Violation[] = [];
      const acts = await storedActions(ctx);
      const byKey = new Map<string, StoredAction[]>();
      for (const a of acts) byKey.set(a.accessKeyId, [...(byKey.get(a.accessKeyId) ?? []), a]);
      for (const k of t.keys) {
        const n = byKey.get(k.accessKeyId)?.length ?? 0;
        if (k.matches && n !== 1)
          out.push(v('plans-done', `never-used key ${k.accessKeyId} (${k.user}) has ${n} plans, not 1`));
        if (!k.matches && n > 0) out.push(v('plans-done', `used key ${k.accessKeyId} (${k.user}) got ${n} plan(s)`));
      }
      const known = new Set(t.keys.map((k) => k.accessKeyId));
      for (const a of acts) {
        if (!known.has(a.accessKeyId))
          out.push(v('plans-done', `plan ${short(a.id)} targets unknown key ${a.accessKeyId}`));
        const r = a.result;
        const where = `plan ${short(a.id)} (${a.accessKeyId})`;
        if (a.state !== 'done')
          out.push(v('plans-done', `${where} is ${a.state}: ${r?.outcome ?? '-'}: ${r?.detail ?? '-'}`));
        else if (r?.preState?.facts.status !== 'Active' || r.postState?.facts.status !== 'Inactive')
          out.push(
            v(
              'plans-done',
              `${where} done (${r?.outcome}) with pre-state ${JSON.stringify(r?.preState)}, post-state ${JSON.stringify(r?.postState)}`,
            ),
          );
      }
      ctx.note(
        `${acts.length} plans: ${JSON.stringify(countBy(acts.map((a) => `${a.state}/${a.result?.outcome ?? '-'}`)))}`,
      );
      return out;
    },
  };
}

const WRITE =
  /^(Create|Update|Delete|Put|Attach|Detach|Tag|Untag|Add|Remove|Upload|Enable|Deactivate|Set|Reset|Change)/;

function emulatorCalls(t: RemediateTrial): InvariantCheck {
  return {
    name: 'emulator-calls',
    async run(ctx) {
      const out: Violation[] = [];
      const e = (d: string) => out.push(v('emulator-calls', d));
      const acts = await storedActions(ctx);
      const planned = new Map(acts.map((a) => [a.accessKeyId, a]));
      const updates = t.proxy.calls('UpdateAccessKey');
      const executed = t.proxy.executed('UpdateAccessKey');
      const perKey = countBy(executed.map((c) => c.params.AccessKeyId ?? '?'));
      for (const [key, n] of Object.entries(perKey)) if (n > 1) e(`UpdateAccessKey executed ${n} times on ${key}`);
      for (const c of updates) {
        const key = c.params.AccessKeyId ?? '?';
        if (c.params.Status !== 'Inactive') e(`UpdateAccessKey ${key} Status=${c.params.Status}`);
        if (!planned.has(key)) e(`UpdateAccessKey on ${key}, which no plan targets`);
        if (c.status !== 0 && (c.status < 200 || c.status >= 300))
          e(`UpdateAccessKey ${key}: moto answered ${c.status}`);
        if (c.notes.hookError) e(`UpdateAccessKey ${key}: the audit could not be read: ${String(c.notes.hookError)}`);
        for (const where of ['auditInRedis', 'auditInFile'] as const) {
          const seen = (c.notes[where] as string[] | undefined) ?? [];
          for (const need of ['action.intent', 'action.checked'])
            if (!seen.includes(need))
              e(
                `UpdateAccessKey ${key} reached moto before its ${need} was in the ${where === 'auditInRedis' ? 'Redis audit stream' : 'audit file'} (had: ${seen.join(', ') || 'nothing'})`,
              );
        }
      }
      for (const a of acts)
        if (a.state === 'done' && (perKey[a.accessKeyId] ?? 0) !== 1)
          e(
            `plan ${short(a.id)} is done but moto executed ${perKey[a.accessKeyId] ?? 0} UpdateAccessKey on ${a.accessKeyId}`,
          );
      const writes = t.proxy.log.filter((c) => WRITE.test(c.action) && c.action !== 'UpdateAccessKey');
      for (const [action, n] of Object.entries(countBy(writes.map((c) => c.action))))
        e(`${n} unexpected ${action} call(s)`);
      ctx.note(
        `moto executed ${executed.length} UpdateAccessKey on ${Object.keys(perKey).length} keys; ${t.proxy.log.length} AWS calls in all`,
      );
      return out;
    },
  };
}

function backendState(t: RemediateTrial): InvariantCheck {
  return {
    name: 'backend-state',
    async run(ctx) {
      const out: Violation[] = [];
      const done = new Set((await storedActions(ctx)).filter((a) => a.state === 'done').map((a) => a.accessKeyId));
      for (const account of new Set(t.keys.map((k) => k.account))) {
        const s = await seederFor(t.motoEndpoint, account);
        try {
          for (const user of new Set(t.keys.filter((k) => k.account === account).map((k) => k.user))) {
            const r = await s.iam.send(new ListAccessKeysCommand({ UserName: user }));
            const live = new Map((r.AccessKeyMetadata ?? []).map((m) => [m.AccessKeyId!, m.Status!]));
            for (const k of t.keys.filter((x) => x.account === account && x.user === user)) {
              const want = done.has(k.accessKeyId) ? 'Inactive' : 'Active';
              const got = live.get(k.accessKeyId) ?? 'absent';
              if (got !== want)
                out.push(
                  v('backend-state', `${user} ${k.accessKeyId} (${k.mode}) is ${got} in moto, expected ${want}`),
                );
              live.delete(k.accessKeyId);
            }
            for (const id of live.keys()) out.push(v('backend-state', `${user} has an unseeded key ${id}`));
          }
        } finally {
          s.iam.destroy();
        }
      }
      return out;
    },
  };
}

export function remediationChecks(t: RemediateTrial): InvariantCheck[] {
  return [plansFinal, plansDone(t), emulatorCalls(t), backendState(t)];
}

function countBy(xs: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const x of xs) out[x] = (out[x] ?? 0) + 1;
  return out;
}

/** Per replay: `<planId>` → the open intent (attempt, seq, checked seq); seen purposes. */
interface ActionReplay {
  open: Map<string, { attempt: unknown; seq: number; checked?: number }>;
  purposes: Map<string, number>;
  planned: Set<string>;
}
const replays = new WeakMap<ReplayState, ActionReplay>();

function stateOf(s: ReplayState): ActionReplay {
  let r = replays.get(s);
  if (!r) {
    r = { open: new Map(), purposes: new Map(), planned: new Set() };
    replays.set(s, r);
  }
  return r;
}

export const remediationReplayRule: ReplayRule = {
  name: 'action',
  matches: (t) => t === 'action.planned' || t === 'action.intent' || t === 'action.checked' || t === 'action.result',
  apply(e: ReplayEvent, s, report) {
    const r = stateOf(s);
    const planId = String(e.data.planId ?? '');
    const once = (purpose: string) => {
      const prior = r.purposes.get(purpose);
      if (prior !== undefined) report(`#${e.seq} ${e.type} ${short(planId)}: ${purpose} already audited at #${prior}`);
      else r.purposes.set(purpose, e.seq);
    };
    const open = r.open.get(planId);
    if (e.type === 'action.planned') {
      once(`planned/${planId}/${String(e.data.scanId)}`);
      r.planned.add(planId);
    } else if (e.type === 'action.intent') {
      once(`intent/${planId}/${String(e.data.attempt)}`);
      if (!r.planned.has(planId))
        report(`#${e.seq} action.intent ${short(planId)}: the plan was never audited as planned`);
      if (open)
        report(
          `#${e.seq} action.intent ${short(planId)}: attempt ${String(open.attempt)} (#${open.seq}) has no result yet`,
        );
      r.open.set(planId, { attempt: e.data.attempt, seq: e.seq });
    } else if (e.type === 'action.checked') {
      if (!open) report(`#${e.seq} action.checked ${short(planId)}: no intent before it`);
      else {
        once(`checked/${planId}/${String(open.attempt)}`);
        open.checked = e.seq;
      }
    } else {
      once(`result/${planId}/${String(e.data.attempt)}`);
      const outcome = String(e.data.outcome);
      if (!open || open.attempt !== e.data.attempt)
        report(
          `#${e.seq} action.result ${short(planId)} attempt ${String(e.data.attempt)}: no intent of that attempt before it`,
        );
      else if ((outcome === 'done' || outcome === 'already-done') && open.checked === undefined)
        report(
          `#${e.seq} action.result ${short(planId)} ${outcome}: no action.checked between its intent (#${open.seq}) and it`,
        );
      r.open.delete(planId);
    }
  },
  finish(s, report) {
    for (const [planId, o] of stateOf(s).open)
      report(`action.intent ${short(planId)} (#${o.seq}) never got its result`);
  },
};
