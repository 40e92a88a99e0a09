/**
 * agent-grant-surge: an agent's granted actions grew sharply between the previous scan and this
 * one, the other mark of a runaway agent (it, or something acting for it, widened its own power).
 *
 * Contract: cross-credential and cross-scan, through `ctx.inventory.all` and `ctx.previous`
 * (policy/runaway.ts). The group is the agent, or source + principal for a credential no agent
 * claims. Its actions are the union of `grantedActions` (model/credential.ts, as drift lists them)
 * over its credentials; "new" are those the previous union lacked. It surges when the new ones
 * number at least `minAdded`, or, with `minRatio`, when the union grew to at least minRatio × its
 * previous size (only from a non-empty baseline: from nothing, `minAdded` alone decides). Each
 * credential that brought a new action (its own grants gained it, or it is new to the group) hits.
 * No previous view, or an unknown baseline (first scan, a new agent, a credential removed this
 * scan): no hit. The finding lasts one scan: the next scan's baseline already holds the actions.
 */
import { z } from 'zod';
import { type Credential, grantedActions } from '../../model/credential.js';
import { groupLabel, runawayGroup } from '../runaway.js';
import type { InventoryIndex, RuleType } from '../types.js';

const schema = z.strictObject({
  /** New actions (in the union, not in the previous union) that make a surge. */
  minAdded: z.number().int().min(1).default(20),
  /** Optional: the union grew to at least this multiple of its previous size (e.g. 2 = doubled). */
  minRatio: z.number().gt(1).optional(),
});

export type AgentGrantSurgeParams = z.output<typeof schema>;

const MAX_LISTED = 10;

/** inventory index (one per evaluation) → group → its credentials and the union of their actions. */
const cache = new WeakMap<InventoryIndex, Map<string, { creds: Credential[]; actions: Set<string> }>>();

function groups(inv: InventoryIndex): Map<string, { creds: Credential[]; actions: Set<string> }> {
  const known = cache.get(inv);
  if (known) return known;
  const out = new Map<string, { creds: Credential[]; actions: Set<string> }>();
  for (const c of inv.all) {
    const g = runawayGroup(c);
    const entry = out.get(g) ?? { creds: [], actions: new Set<string>() };
    entry.creds.push(c);
    for (const a of grantedActions(c.grants)) entry.actions.add(a);
    out.set(g, entry);
  }
  cache.set(inv, out);
  return out;
}

export const agentGrantSurge: RuleType<AgentGrantSurgeParams> = {
  name: 'agent-grant-surge',
  category: 'runaway',
  description:
    'Hits the credentials of an agent whose granted actions (the union over its credentials: AWS actions, ' +
    'Vault `path:capability` pairs, boundaries left out) gained at least `minAdded` (default 20) new ones ' +
    'since the previous scan, or, with `minRatio` (e.g. 2 = doubled), grew to that multiple of the previous ' +
    'count; either threshold is enough. A credential no agent claims is grouped by its principal. Each ' +
    'credential that brought new actions hits (its grants grew, or it is new to the agent). It needs the ' +
    'previous scan: the evaluation of a scan reads it from the scan’s drift, `policy test` from a case’s ' +
    '`previous:` credentials; with none, or when the baseline is unknown (the first scan, a new agent, or ' +
    'a credential of the agent removed in this scan, whose grants drift does not keep), it never hits. ' +
    'The finding resolves on the next scan, whose baseline holds the new actions. Detector `runaway`, ' +
    'which pages by default.',
  example: `policies:
  - name: agent-grant-surge
    description: An agent whose granted actions grew by 20 or more since the last scan
    resource: { agents: ["*", unregistered] }
    rules:
      - type: agent-grant-surge
        minAdded: 20
    severity: high
    mode: observe
`,
  schema,
  needs: ['grants', 'agentId', 'principal', 'inventory', 'previous'],
  evaluate(cred, params, ctx) {
    if (!ctx.previous) return [];
    const group = runawayGroup(cred);
    const before = ctx.previous.grantedActions(group);
    if (!before) return [];
    const now = groups(ctx.inventory).get(group);
    const after = now?.actions ?? new Set(grantedActions(cred.grants));
    const added = [...after].filter((a) => !before.has(a)).sort();
    const byCount = added.length >= params.minAdded;
    const byRatio =
      params.minRatio !== undefined &&
      before.size > 0 &&
      added.length > 0 &&
      after.size >= params.minRatio * before.size;
    if (!byCount && !byRatio) return [];
    const was = ctx.previous.credential(cred.id);
    const mine = grantedActions(cred.grants).filter(
      (a) => !before.has(a) && (was === null || was.group !== group || !was.actions.has(a)),
    );
    if (mine.length === 0) return [];
    const listed =
      added.slice(0, MAX_LISTED).join(', ') +
      (added.length > MAX_LISTED ? `, … (+${added.length - MAX_LISTED} more)` : '');
    const why = byCount
      ? `threshold ${params.minAdded} new`
      : `grew ${(after.size / before.size).toFixed(1)}× (threshold ${params.minRatio}×)`;
    return [
      {
        message: `${groupLabel(cred)}: granted actions grew ${before.size} → ${after.size} (+${added.length} new since the previous scan; ${why}): ${listed}`,
        evidence: [
          { field: 'group', value: group },
          { field: 'grantedActions.before', value: before.size },
          { field: 'grantedActions.after', value: after.size },
          { field: 'grantedActions.added', value: added.slice(0, MAX_LISTED), note: `${added.length} new in all` },
          {
            field: 'grants',
            value: mine.slice(0, MAX_LISTED),
            note:
              was === null || was.group !== group
                ? 'this credential is new to the group'
                : `${mine.length} new on this credential`,
          },
        ],
        detector: 'runaway',
        key: 'surge',
      },
    ];
  },
};
