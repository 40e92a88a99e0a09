/**
 * Drift between the known state and a scan's observations. Pure.
 *
 * The known state holds, for every id prefix, the last complete observation of it. A credential
 * is concluded "removed" only when its id lies under a prefix this scan observed completely;
 * anything else a scan did not see (a denied account, a timed-out unit, an account left out with
 * --account) is carried over unchanged. That is invariant 5 at prefix granularity, which is
 * stricter than "diff against the last complete scan" and still lets a scan where one account
 * failed report removals in the accounts that succeeded.
 */
import { type Credential, grantedActions, grantSignatures } from '../model/credential.js';

export type DriftType =
  | 'credential.added'
  | 'credential.removed'
  | 'credential.status-changed'
  | 'credential.grants-changed'
  | 'credential.attribution-changed';

export interface DriftEvent {
  type: DriftType;
  credentialId: string;
  kind: Credential['kind'];
  agentId: string | null;
  data: Record<string, unknown>;
}

export interface DriftResult {
  events: DriftEvent[];
  /** Ids to delete from the state (the removed ones). */
  removed: string[];
}

const under = (id: string, prefixes: readonly string[]) => prefixes.some((p) => id.startsWith(p));

function diffSets(before: string[], after: string[]): { added: string[]; removed: string[] } {
  const b = new Set(before);
  const a = new Set(after);
  return { added: after.filter((x) => !b.has(x)), removed: before.filter((x) => !a.has(x)) };
}

export function computeDrift(
  previous: ReadonlyMap<string, Credential>,
  observed: readonly Credential[],
  completePrefixes: readonly string[],
): DriftResult {
  const events: DriftEvent[] = [];
  const seen = new Set<string>();
  for (const cur of [...observed].sort((a, b) => a.id.localeCompare(b.id))) {
    seen.add(cur.id);
    const base = { credentialId: cur.id, kind: cur.kind, agentId: cur.agentId };
    const prev = previous.get(cur.id);
    if (!prev) {
      events.push({
        ...base,
        type: 'credential.added',
        data: { principal: cur.principal, status: cur.status, unregisteredAgent: cur.unregisteredAgent },
      });
      continue;
    }
    if (prev.status !== cur.status) {
      events.push({ ...base, type: 'credential.status-changed', data: { from: prev.status, to: cur.status } });
    }
    const g = diffSets(grantedActions(prev.grants), grantedActions(cur.grants));
    const st = diffSets(grantSignatures(prev.grants), grantSignatures(cur.grants));
    if (g.added.length || g.removed.length || st.added.length || st.removed.length) {
      events.push({
        ...base,
        type: 'credential.grants-changed',
        data: { added: g.added, removed: g.removed, statementsAdded: st.added, statementsRemoved: st.removed },
      });
    }
    if (prev.agentId !== cur.agentId || prev.unregisteredAgent !== cur.unregisteredAgent) {
      events.push({
        ...base,
        type: 'credential.attribution-changed',
        data: { from: prev.agentId, to: cur.agentId, unregisteredAgent: cur.unregisteredAgent },
      });
    }
  }
  const removed: string[] = [];
  for (const [id, prev] of [...previous.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    if (seen.has(id) || !under(id, completePrefixes)) continue;
    removed.push(id);
    events.push({
      type: 'credential.removed',
      credentialId: id,
      kind: prev.kind,
      agentId: prev.agentId,
      data: { principal: prev.principal, lastStatus: prev.status },
    });
  }
  return { events, removed };
}
