/**
 * Rules people create at runtime (through the HTTP API) beside the ones in config: silences
 * (alerts/silence-store.ts) and exceptions (findings/exception-store.ts). One Redis hash per kind
 * (id → JSON); the key is named in the owning store's header.
 *
 * Contract:
 * - A rule is validated with the same schema as its config twin; every refusal is one
 *   CwError(INPUT) that starts with the field it names (`expires: must be in the future`).
 * - Every rule has an owner, a reason and an expiry, in the future and at most MAX_RULE_DAYS ahead.
 * - Ids are generated (`<prefix>-<12 hex>`) and never equal a config rule's id.
 * - Every write is the effect of its audit event (actor = the person, subject = the rule id), so
 *   the rule exists exactly when its `*.created` event does, and it ends early exactly when its
 *   `*.lifted` event does (util/effects.ts).
 * - Lifting sets `expires` to now; from then on it is expired like any other, and the expiry is
 *   audited once by whoever applies the rules (alert planning, evaluation). Config rules are
 *   changed only in config, so lifting one is refused.
 */
import { randomBytes } from 'node:crypto';
import type { z } from 'zod';
import type { AuditAppender } from '../audit/appender.js';
import type { AuditEventType } from '../audit/event-types.js';
import type { Clock } from '../clock.js';
import { CwError, ErrorCodes } from '../errors.js';
import type { RedisClient } from '../queue/connection.js';

export const MAX_RULE_DAYS = 90;
const DAY_MS = 86_400_000;

export interface RuleShape {
  id: string;
  owner: string;
  reason: string;
  expires: string;
}

/** Who created a runtime rule, when, and (once lifted) who ended it. */
export interface RuntimeMeta {
  source: 'api';
  createdBy: string;
  createdAt: string;
  lifted?: { by: string; at: string; reason?: string; expires: string };
}

export type StoredRule<S> = S & RuntimeMeta;
export type ListedRule<S, C> = ((C & { source: 'config' }) | StoredRule<S>) & { active: boolean };

export interface RuntimeRuleDeps {
  redis: RedisClient;
  prefix: string;
  audit: AuditAppender;
  clock: Clock;
}

export interface RuleKind<S extends RuleShape, C extends S> {
  noun: 'silence' | 'exception';
  idPrefix: string;
  /** The Redis hash, without the prefix. */
  key: string;
  schema: z.ZodType<S>;
  configured: readonly C[];
  /** Where a config rule lives, for the refusal to lift it. */
  where: (rule: C) => string;
  events: { created: AuditEventType; lifted: AuditEventType };
}

export const isActiveAt = (r: Pick<RuleShape, 'expires'>, now: Date): boolean =>
  new Date(r.expires).getTime() > now.getTime();

const inputError = (field: string, message: string) => new CwError(ErrorCodes.INPUT, `${field}: ${message}`);

/** Parses with `schema`; the first problem becomes one INPUT error naming its field. */
export function parseRuleInput<S>(schema: z.ZodType<S>, value: Record<string, unknown>): S {
  const res = schema.safeParse(value);
  if (res.success) return res.data;
  const issue = res.error.issues[0]!;
  const path = issue.path.map(String);
  if (issue.code === 'unrecognized_keys')
    throw inputError([...path, issue.keys[0] ?? '?'].join('.'), 'is not a field here');
  const field = path.join('.') || 'input';
  let at: unknown = value;
  for (const k of path) at = at && typeof at === 'object' ? (at as Record<string, unknown>)[k] : undefined;
  if (at === undefined) throw inputError(field, 'is required');
  if (field === 'expires') throw inputError(field, 'must be an ISO 8601 date (2026-12-31) or date-time with an offset');
  throw inputError(field, issue.message);
}

/** The expiry as ISO, once it is in the future and at most MAX_RULE_DAYS ahead. */
export function checkExpiry(expires: string, now: Date): string {
  const t = new Date(expires);
  if (Number.isNaN(t.getTime())) throw inputError('expires', 'is not a date');
  if (t.getTime() <= now.getTime()) throw inputError('expires', `must be in the future (now: ${now.toISOString()})`);
  const max = new Date(now.getTime() + MAX_RULE_DAYS * DAY_MS);
  if (t.getTime() > max.getTime())
    throw inputError('expires', `must be at most ${MAX_RULE_DAYS} days ahead (by ${max.toISOString()})`);
  return t.toISOString();
}

export class RuntimeRules<S extends RuleShape, C extends S = S> {
  constructor(
    private readonly d: RuntimeRuleDeps,
    private readonly k: RuleKind<S, C>,
  ) {}

  get redisKey(): string {
    return `${this.d.prefix}:${this.k.key}`;
  }

  /** Validates, stores and audits a new rule; `fields` is everything but the id. */
  async create(fields: Record<string, unknown>, by: string): Promise<StoredRule<S>> {
    if (typeof by !== 'string' || by.trim() === '') throw inputError('by', 'names who creates it');
    if (fields === null || typeof fields !== 'object' || Array.isArray(fields))
      throw inputError('input', `must be an object with the ${this.k.noun}'s fields`);
    if ('id' in fields) throw inputError('id', 'is generated; leave it out');
    const now = this.d.clock.now();
    const id = await this.newId();
    const parsed = parseRuleInput(this.k.schema, { ...fields, id });
    const rule = { ...parsed, expires: checkExpiry(parsed.expires, now) } as S;
    const stored: StoredRule<S> = { ...rule, source: 'api', createdBy: by, createdAt: now.toISOString() };
    await this.d.audit.append({
      type: this.k.events.created,
      actor: by,
      subject: id,
      data: { ...rule } as Record<string, unknown>,
      idempotencyKey: `${this.k.noun}/${id}/created`,
      effects: [{ op: 'hset', key: this.redisKey, field: id, value: JSON.stringify(stored) }],
    });
    return stored;
  }

  /** The stored rules (lifted and expired ones included), oldest first. */
  async stored(): Promise<StoredRule<S>[]> {
    const raw = await this.d.redis.hvals(this.redisKey);
    return raw
      .map((j) => JSON.parse(j) as StoredRule<S>)
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
  }

  /** What applies: config rules, then stored ones (a stored id a config rule took is shadowed). */
  async rules(): Promise<(C | StoredRule<S>)[]> {
    const ids = new Set(this.k.configured.map((r) => r.id));
    return [...this.k.configured, ...(await this.stored()).filter((s) => !ids.has(s.id))];
  }

  /** Config and stored rules, each with whether it applies now. */
  async list(): Promise<ListedRule<S, C>[]> {
    const now = this.d.clock.now();
    const ids = new Set(this.k.configured.map((r) => r.id));
    return [
      ...this.k.configured.map((r) => ({ ...r, source: 'config' as const, active: isActiveAt(r, now) })),
      ...(await this.stored()).filter((s) => !ids.has(s.id)).map((s) => ({ ...s, active: isActiveAt(s, now) })),
    ];
  }

  /** Ends a stored rule now (its expiry becomes now), audited as lifted by `by`. */
  async expire(id: string, by: string, reason?: string): Promise<StoredRule<S>> {
    if (typeof by !== 'string' || by.trim() === '') throw inputError('by', 'names who lifts it');
    const { noun } = this.k;
    const configured = this.k.configured.find((r) => r.id === id);
    if (configured)
      throw new CwError(ErrorCodes.GUARDRAIL, `${noun} ${id} is in ${this.k.where(configured)}; remove it there`);
    const raw = await this.d.redis.hget(this.redisKey, id);
    if (raw === null) throw new CwError(ErrorCodes.NOT_FOUND, `no ${noun} with id "${id}"`);
    const s = JSON.parse(raw) as StoredRule<S>;
    const now = this.d.clock.now();
    if (!isActiveAt(s, now))
      throw new CwError(
        ErrorCodes.GUARDRAIL,
        `${noun} ${id} already expired at ${s.expires}${s.lifted ? ` (lifted by ${s.lifted.by})` : ''}`,
      );
    const at = now.toISOString();
    const next: StoredRule<S> = {
      ...s,
      expires: at,
      lifted: { by, at, ...(reason ? { reason } : {}), expires: s.expires },
    };
    const { appended } = await this.d.audit.record({
      type: this.k.events.lifted,
      actor: by,
      subject: id,
      data: { id, ...(reason ? { reason } : {}) },
      idempotencyKey: `${noun}/${id}/lifted`,
      effects: [{ op: 'hset', key: this.redisKey, field: id, value: JSON.stringify(next) }],
    });
    if (!appended) throw new CwError(ErrorCodes.GUARDRAIL, `${noun} ${id} was already lifted`);
    return next;
  }

  private async newId(): Promise<string> {
    const taken = new Set(this.k.configured.map((r) => r.id));
    for (;;) {
      const id = `${this.k.idPrefix}-${randomBytes(6).toString('hex')}`;
      if (!taken.has(id) && !(await this.d.redis.hexists(this.redisKey, id))) return id;
    }
  }
}
