/**
 * The audit port every service writes through. `record` resolves only once the event is durably in
 * the log (Redis and its mirror): a caller must not act, or count a step as done, unless it
 * resolved (DESIGN invariant 4). Effects commit atomically with the event (util/effects.ts).
 */
import type { AppendInput, AuditEvent } from './event.js';
import type { AuditEventType } from './event-types.js';

export interface Recorded {
  event: AuditEvent;
  /** False when the idempotency key had already recorded this event (nothing was written). */
  appended: boolean;
}

/** What services append: an input whose type is in the catalog (event-types.ts). */
export type CatalogInput = AppendInput & { type: AuditEventType };

/**
 * The port services write through. The chain itself stores any type (RedisAuditLog takes any
 * AppendInput); services are held to the catalog here, at compile time.
 */
export interface AuditAppender {
  append(input: CatalogInput): Promise<AuditEvent>;
  record(input: CatalogInput): Promise<Recorded>;
}

/**
 * Appends every input (the log batches concurrent calls), waits until each one has settled, then
 * throws the first failure: a step that fails never returns while some of its appends are still
 * in flight, so the next holder of a lease never races this one's writes.
 */
export async function appendAll(audit: AuditAppender, inputs: readonly CatalogInput[]): Promise<void> {
  const settled = await Promise.allSettled(inputs.map((i) => audit.append(i)));
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) throw failed.reason;
}
