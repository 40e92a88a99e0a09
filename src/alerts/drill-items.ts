/**
 * Drill items: an alert item about a credential a drill planted carries the drill's id (`drill`)
 * and says so in its title, and is routed as config `drills.alerts` says (plan.ts itemRoute).
 * Which credentials are a drill's comes from credwarden's own record (drill/store.ts), never from
 * a tag on the credential: an agent can tag itself, it cannot write that record.
 */
import type { DrillRoute } from './types.js';

export interface DrillAlerts {
  /** Every credential a drill planted → its drill (a scan's items, labelled in one read). */
  plantedCredentials(): Promise<Map<string, string>>;
  /** The drill that planted one credential (a remediation notice: one field, not the whole map). */
  drillOf(credentialId: string): Promise<string | null>;
  route: DrillRoute;
}

export function asDrillItem<T extends { credentialId: string; title?: string }>(item: T, drill: string | undefined): T {
  if (!drill) return item;
  return { ...item, drill, ...(item.title !== undefined ? { title: `[drill] ${item.title}` } : {}) };
}

/** `item`, labelled when its credential is a drill's. */
export async function drillLabelled<T extends { credentialId: string; title?: string }>(
  drills: DrillAlerts | undefined,
  item: T,
): Promise<T> {
  return drills ? asDrillItem(item, (await drills.drillOf(item.credentialId)) ?? undefined) : item;
}
