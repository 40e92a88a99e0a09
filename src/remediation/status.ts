/**
 * Where remediation stands, for `credwarden remediation status` and `GET /api/v1/remediation`:
 * the mode, the kill switch, the circuit breaker, the rate used in its window, and how many
 * actions are in each state.
 */
import type { BreakerState, PauseState } from './controls.js';
import type { RemediationService } from './service.js';

/** How many records the count by state reads at most (newest first). */
export const STATUS_SCAN_LIMIT = 100_000;

export interface RemediationStatus {
  mode: 'dry-run' | 'enforce';
  paused: PauseState | null;
  breaker: BreakerState | null;
  rate: { used: number; max: number; perHours: number };
  actions: Record<string, number>;
}

export async function remediationStatus(svc: RemediationService): Promise<RemediationStatus> {
  const c = svc.controls;
  const [paused, breaker, recent, list] = await Promise.all([
    c.pauseState(),
    c.breakerState(),
    c.recentStarts(),
    svc.list({}, STATUS_SCAN_LIMIT),
  ]);
  const byState: Record<string, number> = {};
  for (const r of list) byState[r.state] = (byState[r.state] ?? 0) + 1;
  const cfg = svc.d.config;
  return {
    mode: cfg.mode,
    paused,
    breaker,
    rate: { used: recent, max: cfg.rate.max, perHours: cfg.rate.perHours },
    actions: byState,
  };
}
