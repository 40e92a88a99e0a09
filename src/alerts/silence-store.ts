/**
 * Silences created at runtime (the HTTP API), beside `alerts.silences` in credwarden.yaml. Each has
 * an owner, a reason and an expiry (at most 90 days ahead); creating and lifting one are audited
 * (`silence.created`, `silence.lifted`) with the write as the event's effect (util/runtime-rules.ts).
 * Alert planning applies config silences plus these (AlertService), and audits each expiry once.
 *
 * Redis keys (prefix P):
 *   P:silences                      hash    silence id → stored silence JSON (lifted and expired ones kept)
 */

import type { AuditAppender } from '../audit/appender.js';
import type { Clock } from '../clock.js';
import type { RedisClient } from '../queue/connection.js';
import { type ListedRule, RuntimeRules, type StoredRule } from '../util/runtime-rules.js';
import { type SilenceRule, SilenceSchema } from './config.js';

export interface SilenceStoreDeps {
  redis: RedisClient;
  prefix: string;
  audit: AuditAppender;
  clock: Clock;
  /** `alerts.silences` from credwarden.yaml. */
  configured?: readonly SilenceRule[];
}

export interface SilenceInput {
  matchers: SilenceRule['matchers'];
  owner: string;
  reason: string;
  /** ISO 8601 date or date-time with an offset; stored as ISO UTC. */
  expires: string;
}

export type StoredSilence = StoredRule<SilenceRule>;
export type ListedSilence = ListedRule<SilenceRule, SilenceRule>;

export class SilenceStore {
  private readonly rules: RuntimeRules<SilenceRule>;

  constructor(d: SilenceStoreDeps) {
    this.rules = new RuntimeRules<SilenceRule>(d, {
      noun: 'silence',
      idPrefix: 'sil',
      key: 'silences',
      schema: SilenceSchema,
      configured: d.configured ?? [],
      where: () => 'credwarden.yaml',
      events: { created: 'silence.created', lifted: 'silence.lifted' },
    });
  }

  /** Validates, stores and audits a silence (`silence.created`, actor `by`). */
  create(input: SilenceInput, by: string): Promise<StoredSilence> {
    return this.rules.create({ ...input }, by);
  }

  /** Config silences (`source: 'config'`) and stored ones, each `active` at the clock's now. */
  list(): Promise<ListedSilence[]> {
    return this.rules.list();
  }

  /** Ends a stored silence now, audited `silence.lifted`; a config silence is refused. */
  expire(id: string, by: string, reason?: string): Promise<StoredSilence> {
    return this.rules.expire(id, by, reason);
  }

  /** Every silence alert planning applies: config ones, then stored ones (expired included). */
  all(): Promise<SilenceRule[]> {
    return this.rules.rules();
  }
}
