/**
 * A batch of appends waiting for one script call (group commit), and how its callers are answered:
 * recorded, or rejected with AuditMirrorError when the event is in Redis but the copy failed.
 */
import { CwError, ErrorCodes } from '../errors.js';
import type { Effect } from '../util/effects.js';
import type { Recorded } from './appender.js';
import type { AuditEvent, PreparedInput } from './event.js';

export class AuditMirrorError extends CwError {
  constructor(
    readonly event: AuditEvent,
    cause: unknown,
  ) {
    const why = cause instanceof Error ? cause.message : String(cause);
    super(ErrorCodes.AUDIT, `audit event seq ${event.seq} is recorded in Redis but the mirror failed: ${why}`, {
      cause,
      retryable: true,
    });
  }
}

export interface Pending {
  input: PreparedInput;
  idem: string;
  effects: readonly Effect[];
  bytes: number;
  resolve: (r: Recorded) => void;
  reject: (err: unknown) => void;
}

/** Answers a batch's callers: recorded, or (the event is in Redis but the copy failed) rejected. */
export function settle(batch: readonly Pending[], recorded: readonly Recorded[], mirrorErr?: unknown): void {
  for (const [i, p] of batch.entries()) {
    const r = recorded[i]!;
    if (mirrorErr === undefined) p.resolve(r);
    else if (mirrorErr instanceof CwError && !mirrorErr.retryable) p.reject(mirrorErr);
    else p.reject(new AuditMirrorError(r.event, mirrorErr));
  }
}
