/**
 * Runaway-agent detection (detector "runaway"): the groups that `credential-burst` and
 * `agent-grant-surge` count over, and the previous scan as those rules see it. Pure.
 *
 * A credential's group is its agent (`agentId`) or, with no agent, its principal within its source
 * (`principal` is the IAM user or role ARN for AWS keys, console passwords and roles; the token's
 * display name for Vault tokens; `approle/<role>` for AppRole secret IDs; the lease's path prefix,
 * e.g. `database/creds/readonly`, for leases; `<mount>/roles/<role>` for AWS-engine roles).
 *
 * The previous view (`RuleContext.previous`) answers for a group: the union of the granted actions
 * (model/credential.ts `grantedActions`, as drift lists them) its credentials held in the previous
 * scan, or null when that is unknown. It is built either from a list of credentials (policy tests:
 * `previous:`) or from a scan's drift over the current inventory (the evaluation of a scan):
 *  - a credential with `credential.added` was not in the previous scan;
 *  - any other current credential held its current actions minus the drift's `added` plus its
 *    `removed` (`credential.grants-changed`), under the agent it had then
 *    (`credential.attribution-changed` `from`);
 *  - a credential the scan removed is gone from the inventory and drift keeps no grants for it,
 *    so its group's previous union is unknown: null (never a false surge on a rotation that
 *    replaced a key between scans);
 *  - a group with no credential in the previous scan (every credential of a first scan, a new
 *    agent) has no baseline: null.
 */
import type { DriftEvent } from '../inventory/drift.js';
import { type Credential, grantedActions } from '../model/credential.js';

export type GroupMember = Pick<Credential, 'agentId' | 'source' | 'principal'>;

/** The group key: `agent <id>`, or `principal <source> <principal>` for a credential with no agent. */
export function runawayGroup(c: GroupMember): string {
  return c.agentId !== null ? `agent ${c.agentId}` : `principal ${c.source} ${c.principal}`;
}

/** For people: `agent invoice-bot`, or `principal arn:… in 111111111111`. */
export function groupLabel(c: GroupMember): string {
  return c.agentId !== null ? `agent ${c.agentId}` : `principal ${c.principal} in ${c.source}`;
}

export interface PreviousScanView {
  /** The union of the group's granted actions in the previous scan; null when unknown (see above). */
  grantedActions(group: string): ReadonlySet<string> | null;
  /** The credential as the previous scan had it, or null when it was not there. */
  credential(id: string): { group: string; actions: ReadonlySet<string> } | null;
}

interface PreviousCredential {
  id: string;
  group: string;
  actions: readonly string[];
}

function view(list: readonly PreviousCredential[], unknown: ReadonlySet<string>): PreviousScanView {
  const byId = new Map(list.map((c) => [c.id, { group: c.group, actions: new Set(c.actions) }]));
  let byGroup: Map<string, Set<string>> | undefined;
  const groups = () => {
    if (byGroup) return byGroup;
    byGroup = new Map();
    for (const c of list) {
      const set = byGroup.get(c.group) ?? new Set<string>();
      for (const a of c.actions) set.add(a);
      byGroup.set(c.group, set);
    }
    return byGroup;
  };
  return {
    grantedActions: (group) => (unknown.has(group) ? null : (groups().get(group) ?? null)),
    credential: (id) => byId.get(id) ?? null,
  };
}

/** The previous scan given as credentials (policy tests). */
export function previousFromCredentials(previous: readonly Credential[]): PreviousScanView {
  return view(
    previous.map((c) => ({ id: c.id, group: runawayGroup(c), actions: grantedActions(c.grants) })),
    new Set(),
  );
}

/** `aws/<account>/…` → the account; `vault/<cluster>/<ns>/…` → `<cluster>/<ns>` (model/ids.ts). */
function sourceOfId(id: string): string {
  const parts = id.split('/');
  return (parts[0] === 'vault' ? parts.slice(1, 3) : parts.slice(1, 2)).join('/');
}

const strings = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : []);

/** The previous scan reconstructed from a scan's drift over the inventory after it (see the header). */
export function previousFromDrift(current: readonly Credential[], events: readonly DriftEvent[]): PreviousScanView {
  const added = new Set<string>();
  const changed = new Map<string, { added: Set<string>; removed: string[] }>();
  const agentBefore = new Map<string, string | null>();
  const unknown = new Set<string>();
  for (const e of events) {
    if (e.type === 'credential.added') added.add(e.credentialId);
    else if (e.type === 'credential.grants-changed')
      changed.set(e.credentialId, { added: new Set(strings(e.data.added)), removed: strings(e.data.removed) });
    else if (e.type === 'credential.attribution-changed')
      agentBefore.set(e.credentialId, e.data.from === null || e.data.from === undefined ? null : String(e.data.from));
    else if (e.type === 'credential.removed')
      unknown.add(
        runawayGroup({
          agentId: e.agentId,
          source: sourceOfId(e.credentialId),
          principal: String(e.data.principal ?? ''),
        }),
      );
  }
  const list: PreviousCredential[] = [];
  for (const c of current) {
    if (added.has(c.id)) continue;
    const d = changed.get(c.id);
    const now = grantedActions(c.grants);
    const actions = d ? [...new Set([...now.filter((a) => !d.added.has(a)), ...d.removed])].sort() : now;
    const agentId = agentBefore.has(c.id) ? agentBefore.get(c.id)! : c.agentId;
    list.push({ id: c.id, group: runawayGroup({ agentId, source: c.source, principal: c.principal }), actions });
  }
  return view(list, unknown);
}
