/**
 * Redis key layout for inventory and scans (all under the configured prefix P):
 *
 *   P:inv:creds                hash  credential id → Credential JSON (the current state)
 *   P:inv:meta                 hash  lastScanId, updatedAt
 *   P:scans                    zset  scan id, scored by start time (ms)
 *   P:scan:<id>                hash  scan summary fields (see ScanSummary), status running|complete|partial
 *   P:scan:<id>:units          hash  unit key → UnitResult JSON (the unit's observations), TTL 7 days after finalize
 *   P:scan:<id>:drift          string  the drift computed at finalize (persisted first, so a replayed finalize re-uses it)
 *   P:inv:lock                 string  the inventory lease (finalize and evaluation hold it; util/lease.ts)
 *   P:inv:pending              string  id of the scan whose finalize commit is under way (rolled forward
 *                                      by the next lease holder if its finalize died)
 *   P:scan:last-complete       string  id of the newest complete scan
 *
 * BullMQ's own keys live under P:bull.
 */
export class InventoryKeys {
  constructor(readonly prefix: string) {}
  creds = () => `${this.prefix}:inv:creds`;
  meta = () => `${this.prefix}:inv:meta`;
  scans = () => `${this.prefix}:scans`;
  scan = (id: string) => `${this.prefix}:scan:${id}`;
  units = (id: string) => `${this.prefix}:scan:${id}:units`;
  drift = (id: string) => `${this.prefix}:scan:${id}:drift`;
  lock = () => `${this.prefix}:inv:lock`;
  pending = () => `${this.prefix}:inv:pending`;
  lastComplete = () => `${this.prefix}:scan:last-complete`;
}
