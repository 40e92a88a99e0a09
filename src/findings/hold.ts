/**
 * A guardrail on detection itself. Pure.
 *
 * An evaluation that would resolve most of the open findings while the credentials behind them are
 * all still in the inventory is far more likely a broken policy source (an emptied directory, a
 * typo in a rule, a pack that no longer loads) than a team that fixed everything at once. Such an
 * evaluation is held: nothing of it is applied, nothing pages or resolves, until a person releases
 * it (`credwarden evaluation release`). Findings resolved because their credential is gone (observed
 * completely and absent) do not count: removing credentials is the fix this tool asks for.
 */
import type { Finding } from '../policy/model.js';
import type { TransitionResult } from './transitions.js';

export interface HoldConfig {
  /** Share of the open findings whose resolution, with their credentials still present, holds the evaluation. */
  resolveRatio: number;
  /** Fewer such resolutions than this never hold. */
  minResolved: number;
}

export interface HoldVerdict {
  held: boolean;
  /** Open findings before this evaluation. */
  open: number;
  /** Open findings it would resolve whose credential is still in the inventory. */
  resolvedPresent: number;
  reason: string | null;
}

export function holdVerdict(
  result: TransitionResult,
  previous: ReadonlyMap<string, Finding>,
  inventoryIds: ReadonlySet<string>,
  cfg: HoldConfig,
): HoldVerdict {
  let open = 0;
  for (const f of previous.values()) if (f.state === 'open') open++;
  let resolvedPresent = 0;
  for (const t of result.transitions) {
    if (t.type !== 'finding.resolved') continue;
    const prev = previous.get(t.subject);
    if (prev?.state === 'open' && inventoryIds.has(prev.credentialId)) resolvedPresent++;
  }
  const held = open > 0 && resolvedPresent >= cfg.minResolved && resolvedPresent / open >= cfg.resolveRatio;
  const pct = open > 0 ? Math.round((100 * resolvedPresent) / open) : 0;
  return {
    held,
    open,
    resolvedPresent,
    reason: held
      ? `would resolve ${resolvedPresent} of ${open} open findings (${pct}%) whose credentials are all still in the inventory: a policy source that stopped loading looks exactly like this`
      : null,
  };
}
