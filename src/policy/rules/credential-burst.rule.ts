/**
 * credential-burst: many credentials minted for one agent (or one unregistered principal) in a
 * short window, the mark of an agent that spawns agents.
 *
 * Contract: cross-credential, through `ctx.inventory.all`. A credential's group is its agent, or
 * its source + principal when it has none (policy/runaway.ts says what principal is per kind). The
 * window is [ctx.now − windowMinutes, ctx.now], both ends inclusive, by `createdAt`; a credential
 * with no createdAt, or one created after ctx.now (an --as-of before it existed), does not count.
 * When a group has at least `count` such credentials, each of them hits, and every hit carries the
 * group's count and first/last creation times. The count is over the whole inventory (optionally
 * only `kinds`), whatever the policy's resource selector, which only picks the credentials that
 * can hit. Groups are indexed once per evaluation (inventory index), time and parameters.
 */
import { z } from 'zod';
import { CREDENTIAL_KINDS, type CredentialKind } from '../../model/credential.js';
import { groupLabel, runawayGroup } from '../runaway.js';
import type { InventoryIndex, RuleType } from '../types.js';

const KINDS = CREDENTIAL_KINDS as readonly [CredentialKind, ...CredentialKind[]];

const schema = z.strictObject({
  /** Credentials created in the window for one group before each of them hits. */
  count: z.number().int().min(2).default(10),
  windowMinutes: z.number().int().min(1).default(60),
  /** Only these kinds count (and hit); absent: every kind. */
  kinds: z.array(z.enum(KINDS)).min(1).optional(),
});

export type CredentialBurstParams = z.output<typeof schema>;

interface Burst {
  ids: ReadonlySet<string>;
  first: string;
  last: string;
}

/** inventory index (one per evaluation) → `${now}|${window}|${kinds}` → group → the burst, or null under the count. */
const cache = new WeakMap<InventoryIndex, Map<string, Map<string, Burst | null>>>();

function bursts(inv: InventoryIndex, now: Date, p: CredentialBurstParams): Map<string, Burst | null> {
  let byParams = cache.get(inv);
  if (!byParams) {
    byParams = new Map();
    cache.set(inv, byParams);
  }
  const key = `${now.getTime()}|${p.windowMinutes}|${p.kinds?.join(',') ?? ''}|${p.count}`;
  const known = byParams.get(key);
  if (known) return known;
  const to = now.getTime();
  const from = to - p.windowMinutes * 60_000;
  const groups = new Map<string, { id: string; at: number; createdAt: string }[]>();
  for (const c of inv.all) {
    if (c.createdAt === null || (p.kinds && !p.kinds.includes(c.kind))) continue;
    const at = new Date(c.createdAt).getTime();
    if (!(at >= from && at <= to)) continue; // also false for an unparsable date (NaN)
    const g = runawayGroup(c);
    const list = groups.get(g) ?? [];
    list.push({ id: c.id, at, createdAt: c.createdAt });
    groups.set(g, list);
  }
  const out = new Map<string, Burst | null>();
  for (const [g, list] of groups) {
    if (list.length < p.count) {
      out.set(g, null);
      continue;
    }
    list.sort((a, b) => a.at - b.at || a.id.localeCompare(b.id));
    out.set(g, { ids: new Set(list.map((x) => x.id)), first: list[0]!.createdAt, last: list.at(-1)!.createdAt });
  }
  byParams.set(key, out);
  return out;
}

export const credentialBurst: RuleType<CredentialBurstParams> = {
  name: 'credential-burst',
  category: 'runaway',
  description:
    'Hits every credential of a group created within the last `windowMinutes` (default 60) when the group has ' +
    'at least `count` (default 10) of them: a burst of new keys, tokens or secret IDs for one agent, the mark ' +
    'of an agent that spawns agents. The group is the credential’s agent, or, for a credential no agent ' +
    'claims, its principal within its source (the IAM user or role ARN; a Vault token’s display name, so ' +
    'AppRole login tokens, all named `approle`, group per namespace unless the registry attributes them; ' +
    '`approle/<role>` for secret IDs; the path prefix for leases). The window is inclusive at both ends and ' +
    'counts by `createdAt`; credentials with no creation time never count. `kinds` restricts what counts ' +
    '(e.g. leave out `vault-lease` where agents lease dynamic secrets per job). Detector `runaway`, which ' +
    'pages by default (alerts.paging `runaway`).',
  example: `policies:
  - name: agent-credential-burst
    description: Ten or more credentials minted for one agent within an hour
    resource: { agents: ["*", unregistered] }
    rules:
      - type: credential-burst
        count: 10
        windowMinutes: 60
    severity: high
    mode: observe
`,
  schema,
  needs: ['createdAt', 'agentId', 'principal', 'inventory'],
  evaluate(cred, params, ctx) {
    if (params.kinds && !params.kinds.includes(cred.kind)) return [];
    const burst = bursts(ctx.inventory, ctx.now, params).get(runawayGroup(cred));
    if (!burst?.ids.has(cred.id)) return [];
    const who = groupLabel(cred);
    return [
      {
        message: `${who}: ${burst.ids.size} credentials created within ${params.windowMinutes} minutes (first ${burst.first}, last ${burst.last}; threshold ${params.count})`,
        evidence: [
          { field: 'group', value: runawayGroup(cred) },
          { field: 'count', value: burst.ids.size },
          {
            field: 'createdAt',
            value: cred.createdAt,
            note: `window ${params.windowMinutes} min to ${ctx.now.toISOString()}`,
          },
        ],
        detector: 'runaway',
        key: 'burst',
      },
    ];
  },
};
