/**
 * Counts every IAM/STS operation a scan makes (and every HTTP attempt, retries included) and caps
 * in-flight calls per account. Installed as SDK middleware, so nothing that calls `send` can
 * bypass it.
 */
import type { MetadataBearer, Pluggable } from '@smithy/types';
import { Semaphore } from '../../util/concurrency.js';
import type { ApiCallCounts } from '../api-calls.js';

export class CallMeter {
  readonly counts: ApiCallCounts = { total: 0, attempts: 0, byOperation: {} };
  private readonly gate: Semaphore;

  constructor(maxConcurrency: number) {
    this.gate = new Semaphore(maxConcurrency);
  }

  /** Record an operation made outside the metered clients (e.g. AssumeRole on the shared STS client). */
  note(op: string): void {
    this.counts.total++;
    this.counts.attempts++;
    this.counts.byOperation[op] = (this.counts.byOperation[op] ?? 0) + 1;
  }

  snapshot(): ApiCallCounts {
    return { ...this.counts, byOperation: { ...this.counts.byOperation } };
  }

  plugin(service: string): Pluggable<object, MetadataBearer> {
    return {
      applyToStack: (stack) => {
        stack.add(
          (next, context) => (args) => {
            const op = `${service}:${context.commandName?.replace(/Command$/, '') ?? 'Unknown'}`;
            this.counts.total++;
            this.counts.byOperation[op] = (this.counts.byOperation[op] ?? 0) + 1;
            return this.gate.run(() => next(args));
          },
          { step: 'initialize', name: 'cwCallMeter', priority: 'high' },
        );
        stack.add(
          (next) => (args) => {
            this.counts.attempts++;
            return next(args);
          },
          { step: 'finalizeRequest', name: 'cwAttemptMeter', priority: 'low' },
        );
      },
    };
  }
}
