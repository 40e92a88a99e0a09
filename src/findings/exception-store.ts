/**
 * Exceptions created at runtime (the HTTP API), beside the `exceptions:` of policy files. Each has
 * an owner, a reason, an expiry (at most 90 days ahead) and a selector, optionally narrowed to one
 * loaded policy; creating and lifting one are audited (`exception.created`, `exception.lifted`)
 * with the write as the event's effect (util/runtime-rules.ts). Evaluation (FindingsService)
 * applies policy exceptions plus these, and audits each expiry once (`exception.expired`).
 *
 * Redis keys (prefix P):
 *   P:exceptions                    hash    exception id → stored exception JSON (lifted and expired ones kept)
 */

import type { z } from 'zod';
import type { AuditAppender } from '../audit/appender.js';
import type { Clock } from '../clock.js';
import { CwError, ErrorCodes } from '../errors.js';
import { ExceptionSchema } from '../policy/load.js';
import type { ExceptionSelector, PolicyException, PolicySet } from '../policy/model.js';
import type { RedisClient } from '../queue/connection.js';
import { type ListedRule, RuntimeRules, type StoredRule } from '../util/runtime-rules.js';

export interface ExceptionStoreDeps {
  redis: RedisClient;
  prefix: string;
  audit: AuditAppender;
  clock: Clock;
  /** The loaded policies: their exceptions are the config ones, their names what `policy` may name. */
  policies: PolicySet;
}

export interface ExceptionInput {
  /** One loaded policy this exception is for (becomes `selector.policies`). */
  policy?: string;
  selector: ExceptionSelector;
  owner: string;
  reason: string;
  /** ISO 8601 date or date-time with an offset; stored as ISO UTC. */
  expires: string;
}

type ExceptionRule = z.output<typeof ExceptionSchema>;
export type StoredException = StoredRule<ExceptionRule>;
export type ListedException = ListedRule<ExceptionRule, PolicyException>;

/** What a stored exception says in `file` where evaluation needs a PolicyException. */
export const RUNTIME_EXCEPTION_FILE = '(api)';

export class ExceptionStore {
  private readonly rules: RuntimeRules<ExceptionRule, PolicyException>;

  constructor(private readonly d: ExceptionStoreDeps) {
    this.rules = new RuntimeRules<ExceptionRule, PolicyException>(d, {
      noun: 'exception',
      idPrefix: 'exc',
      key: 'exceptions',
      schema: ExceptionSchema,
      configured: d.policies.exceptions,
      where: (e) => e.file,
      events: { created: 'exception.created', lifted: 'exception.lifted' },
    });
  }

  /** Validates, stores and audits an exception (`exception.created`, actor `by`). */
  async create(input: ExceptionInput, by: string): Promise<StoredException> {
    const { policy, ...fields } = (input ?? {}) as Partial<ExceptionInput>;
    if (policy === undefined) return this.rules.create(fields, by);
    if (typeof policy !== 'string' || !this.d.policies.policies.some((p) => p.name === policy))
      throw new CwError(ErrorCodes.INPUT, `policy: no loaded policy is named "${String(policy)}"`);
    if (fields.selector?.policies)
      throw new CwError(ErrorCodes.INPUT, 'policy: give policy or selector.policies, not both');
    return this.rules.create({ ...fields, selector: { ...fields.selector, policies: [policy] } }, by);
  }

  /** Policy-file exceptions (`source: 'config'`) and stored ones, each `active` at the clock's now. */
  list(): Promise<ListedException[]> {
    return this.rules.list();
  }

  /** Ends a stored exception now, audited `exception.lifted`; a policy-file exception is refused. */
  expire(id: string, by: string, reason?: string): Promise<StoredException> {
    return this.rules.expire(id, by, reason);
  }

  /** Every exception evaluation applies: policy-file ones, then stored ones (expired included). */
  async all(): Promise<PolicyException[]> {
    return (await this.rules.rules()).map((e) => ('file' in e ? e : { ...e, file: RUNTIME_EXCEPTION_FILE }));
  }
}
