/**
 * Scan bookkeeping in Redis: start a scan, record each unit's result as it arrives, and finalize
 * once: persist the drift, audit it, apply it to the state, write the summary.
 *
 * Exactly once, whatever crashes, retries or races (DESIGN invariants 4 and 6):
 * - Every state change that has an audit event commits atomically with it (audit effects): the
 *   scan hash exists exactly when `scan.started` is recorded; a credential's state changes exactly
 *   when its drift event is recorded; the summary says finished exactly when `scan.finished` is.
 *   So a retry never skips an audit because "the state already says so".
 * - Finalizing holds the inventory lease (renewed while it works; it lapses soon after a holder
 *   dies). Two scans finalize one after the other, each diffing against the state the other left.
 * - The drift is computed once and persisted together with the pending marker, before anything
 *   acts on it. A finalize that died half-way is rolled forward from that drift by whoever takes
 *   the lease next (its own retry, another scan's finalize, or an evaluation), before that one
 *   reads the state. Writes without an audit event are fenced by the lease.
 */

import { type AuditAppender, appendAll } from '../audit/appender.js';
import type { Clock } from '../clock.js';
import { CwError, ErrorCodes } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Credential } from '../model/credential.js';
import type { RedisClient } from '../queue/connection.js';
import type { ScanUnit, UnitResult } from '../sources/source.js';
import { computeOnce, fencedBy } from '../util/compute-once.js';
import type { Effect } from '../util/effects.js';
import { Lease, type LeaseOptions } from '../util/lease.js';
import { computeDrift, type DriftEvent, type DriftResult } from './drift.js';
import { InventoryKeys } from './keys.js';
import { type ScanSummary, summarize, timedOutUnit } from './summary.js';

export type { AuditAppender } from '../audit/appender.js';

export interface ScanServiceDeps {
  redis: RedisClient;
  prefix: string;
  audit: AuditAppender;
  clock: Clock;
  log: Logger;
  actor?: string;
  /** The inventory lease; default 30 s (config worker.leaseSeconds). */
  leaseMs?: number;
}

const UNIT_RESULT_TTL_S = 7 * 86_400;
/** How long a finalize or an evaluation waits for the inventory lease before its job is retried. */
const LEASE_WAIT_MS = 10 * 60_000;
/** Audit appends queued at once (the log batches them into script calls). */
const APPEND_WINDOW = 2000;
/** Credentials per fenced state write. */
const WRITE_CHUNK = 500;

/** Record a unit once; returns the number of units recorded, or -1 for a duplicate. */
const RECORD_UNIT = `
if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 0 then return -1 end
return redis.call('HINCRBY', KEYS[2], 'unitsDone', 1)`;

export class ScanService {
  readonly keys: InventoryKeys;
  private readonly actor: string;

  constructor(private readonly d: ScanServiceDeps) {
    this.keys = new InventoryKeys(d.prefix);
    this.actor = d.actor ?? 'credwarden';
  }

  /** The inventory lease options (shared with the evaluation, which reads the same state). */
  leaseOptions(): LeaseOptions {
    return { ttlMs: this.d.leaseMs ?? 30_000, waitMs: LEASE_WAIT_MS, what: 'the inventory' };
  }

  /** Takes the inventory lease and settles any finalize that died half-way; the caller releases it. */
  async acquire(): Promise<Lease> {
    const lease = await Lease.acquire(this.d.redis, this.keys.lock(), this.leaseOptions());
    try {
      await this.rollForward(lease);
      return lease;
    } catch (err) {
      await lease.release();
      throw err;
    }
  }

  /** Completes a finalize that died after persisting its drift (under the lease). */
  async rollForward(lease: Lease): Promise<void> {
    const pending = await this.d.redis.get(this.keys.pending());
    if (!pending) return;
    const s = await this.summary(pending);
    this.d.log.warn({ scanId: pending }, 'completing a finalize that did not finish');
    if (s?.status !== 'running') {
      // Finished (its scan.finished cleared nothing?) or gone: the marker is stale.
      await lease.write([{ op: 'del', key: this.keys.pending() }]);
      return;
    }
    await this.finalizeLocked(pending, s, lease);
  }

  async start(scanId: string, trigger: string, units: ScanUnit[], asOf?: string): Promise<{ created: boolean }> {
    const k = this.keys.scan(scanId);
    const startedAt = this.d.clock.now();
    const fields: Record<string, string> = {
      id: scanId,
      trigger,
      startedAt: startedAt.toISOString(),
      status: 'running',
      units: JSON.stringify(units),
      unitsDone: '0',
      ...(asOf ? { asOf } : {}),
    };
    // The scan exists exactly when its start is audited: a retry after a failed append starts over.
    const r = await this.d.audit.record({
      type: 'scan.started',
      actor: this.actor,
      subject: scanId,
      data: { trigger, units: units.map((u) => u.key) },
      idempotencyKey: `${scanId}/started`,
      effects: [
        ...Object.entries(fields).map(([field, value]): Effect => ({ op: 'hset', key: k, field, value })),
        { op: 'zadd', key: this.keys.scans(), member: scanId, score: startedAt.getTime() },
      ],
    });
    return { created: r.appended };
  }

  async units(scanId: string): Promise<ScanUnit[]> {
    const raw = await this.d.redis.hget(this.keys.scan(scanId), 'units');
    if (!raw) throw new CwError(ErrorCodes.INPUT, `scan ${scanId} does not exist`);
    return JSON.parse(raw) as ScanUnit[];
  }

  /** Store a unit's result; returns how many of the expected units have now reported. */
  async recordUnit(
    scanId: string,
    result: UnitResult,
  ): Promise<{ done: number; expected: number; duplicate: boolean }> {
    const expected = (await this.units(scanId)).length;
    const n = (await this.d.redis.eval(
      RECORD_UNIT,
      2,
      this.keys.units(scanId),
      this.keys.scan(scanId),
      result.unit.key,
      JSON.stringify(result),
    )) as number;
    const done = n === -1 ? Number(await this.d.redis.hget(this.keys.scan(scanId), 'unitsDone')) : n;
    return { done, expected, duplicate: n === -1 };
  }

  async summary(scanId: string): Promise<ScanSummary | null> {
    const h = await this.d.redis.hgetall(this.keys.scan(scanId));
    if (!h.id) return null;
    if (h.summary) return JSON.parse(h.summary) as ScanSummary;
    return {
      id: scanId,
      trigger: h.trigger ?? '',
      startedAt: h.startedAt ?? '',
      finishedAt: null,
      status: 'running',
      sources: [],
      units: [],
      counts: { credentials: 0, byKind: {}, agents: 0, unattributed: 0, unregisteredAgent: 0, drift: {} },
      apiCalls: { total: 0, attempts: 0, byOperation: {} },
    };
  }

  async recent(limit = 20): Promise<ScanSummary[]> {
    const ids = await this.recentIds(limit);
    const out = await Promise.all(ids.map((id) => this.summary(id)));
    return out.filter((s): s is ScanSummary => s !== null);
  }

  /** The newest scan ids, newest first. */
  async recentIds(limit: number): Promise<string[]> {
    return this.d.redis.zrevrange(this.keys.scans(), 0, limit - 1);
  }

  /**
   * The scan hash keeps the evaluation's summary beside the scan's, in field `evaluation`. The
   * evaluation owns its content and commits it with its audit event through this effect; the
   * scan hash's layout stays this service's.
   */
  evaluationEffect(scanId: string, json: string): Effect {
    return { op: 'hset', key: this.keys.scan(scanId), field: 'evaluation', value: json };
  }

  async evaluationRecord(scanId: string): Promise<string | null> {
    return this.d.redis.hget(this.keys.scan(scanId), 'evaluation');
  }

  /** The credentials a scan observed (kept 7 days after it finishes). */
  async observed(scanId: string): Promise<Credential[]> {
    const units = await this.d.redis.hvals(this.keys.units(scanId));
    return units.flatMap((j) => (JSON.parse(j) as UnitResult).credentials).sort((a, b) => a.id.localeCompare(b.id));
  }

  async asOf(scanId: string): Promise<Date | undefined> {
    const v = await this.d.redis.hget(this.keys.scan(scanId), 'asOf');
    return v ? new Date(v) : undefined;
  }

  /** The id prefixes a scan observed completely (what drift and finding resolution may rely on). */
  async completePrefixes(scanId: string): Promise<string[]> {
    const units = await this.d.redis.hvals(this.keys.units(scanId));
    return units.flatMap((j) => (JSON.parse(j) as UnitResult).completePrefixes);
  }

  async credential(id: string): Promise<Credential | null> {
    return JSON.parse((await this.d.redis.hget(this.keys.creds(), id)) ?? 'null') as Credential | null;
  }

  async currentInventory(): Promise<Credential[]> {
    const all = await this.d.redis.hvals(this.keys.creds());
    return all.map((j) => JSON.parse(j) as Credential).sort((a, b) => a.id.localeCompare(b.id));
  }

  /** Finalize once. Units that never reported are marked timed out, and the scan is then partial. */
  async finalize(scanId: string): Promise<ScanSummary> {
    const lease = await this.acquire();
    try {
      const existing = await this.summary(scanId);
      if (!existing) throw new CwError(ErrorCodes.INPUT, `scan ${scanId} does not exist`);
      if (existing.status !== 'running') return existing;
      return await this.finalizeLocked(scanId, existing, lease);
    } finally {
      await lease.release();
    }
  }

  private async finalizeLocked(scanId: string, running: ScanSummary, lease: Lease): Promise<ScanSummary> {
    const now = this.d.clock.now().toISOString();
    const units = await this.units(scanId);
    const stored = await this.d.redis.hgetall(this.keys.units(scanId));
    const results = units.map((u) =>
      stored[u.key] ? (JSON.parse(stored[u.key]!) as UnitResult) : timedOutUnit(u, now),
    );
    const observed = results.flatMap((r) => r.credentials);
    const drift = await this.persistDrift(
      scanId,
      observed,
      results.flatMap((r) => r.completePrefixes),
      lease,
    );
    const byId = new Map(observed.map((c) => [c.id, c]));
    const changed = new Set<string>();
    for (let i = 0; i < drift.events.length; i += APPEND_WINDOW) {
      lease.assertHeld();
      const window = drift.events.slice(i, i + APPEND_WINDOW);
      await appendAll(
        this.d.audit,
        window.map((ev, j) => {
          changed.add(ev.credentialId);
          return {
            type: ev.type,
            actor: this.actor,
            subject: ev.credentialId,
            data: { scanId, kind: ev.kind, agentId: ev.agentId, ...ev.data },
            idempotencyKey: `${scanId}/drift/${i + j}`,
            effects: this.driftEffect(ev, byId),
          };
        }),
      );
    }
    // Credentials with no drift still move on (observedAt, lastUsed): plain writes, fenced by the lease.
    const quiet = observed.filter((c) => !changed.has(c.id));
    for (let i = 0; i < quiet.length; i += WRITE_CHUNK) {
      await lease.write(
        quiet
          .slice(i, i + WRITE_CHUNK)
          .map((c): Effect => ({ op: 'hset', key: this.keys.creds(), field: c.id, value: JSON.stringify(c) })),
      );
    }

    const summary = summarize(
      { id: scanId, trigger: running.trigger, startedAt: running.startedAt, finishedAt: now, units },
      results,
      drift.events,
    );
    lease.assertHeld();
    // The summary, the state pointers and the end of the pending commit land with scan.finished.
    const scan = this.keys.scan(scanId);
    await this.d.audit.append({
      type: 'scan.finished',
      actor: this.actor,
      subject: scanId,
      data: {
        status: summary.status,
        credentials: summary.counts.credentials,
        drift: summary.counts.drift,
        apiCalls: summary.apiCalls.total,
        problems: summary.units.flatMap((u) => u.problems.map((p) => ({ unit: u.key, ...p }))),
      },
      idempotencyKey: `${scanId}/finished`,
      effects: [
        { op: 'hset', key: scan, field: 'status', value: summary.status },
        { op: 'hset', key: scan, field: 'finishedAt', value: now },
        { op: 'hset', key: scan, field: 'summary', value: JSON.stringify(summary) },
        ...(summary.status === 'complete'
          ? [{ op: 'set', key: this.keys.lastComplete(), value: scanId } as const]
          : []),
        { op: 'hset', key: this.keys.meta(), field: 'lastScanId', value: scanId },
        { op: 'hset', key: this.keys.meta(), field: 'updatedAt', value: now },
        { op: 'del', key: this.keys.pending() },
        { op: 'expire', key: this.keys.units(scanId), seconds: UNIT_RESULT_TTL_S },
        { op: 'expire', key: this.keys.drift(scanId), seconds: UNIT_RESULT_TTL_S },
      ],
    });
    this.d.log.info(
      { scanId, status: summary.status, credentials: summary.counts.credentials, drift: summary.counts.drift },
      'scan finalized',
    );
    return (await this.summary(scanId)) ?? summary;
  }

  private driftEffect(ev: DriftEvent, byId: ReadonlyMap<string, Credential>): Effect[] {
    if (ev.type === 'credential.removed') return [{ op: 'hdel', key: this.keys.creds(), field: ev.credentialId }];
    const c = byId.get(ev.credentialId);
    return c ? [{ op: 'hset', key: this.keys.creds(), field: c.id, value: JSON.stringify(c) }] : [];
  }

  /**
   * The drift of a scan: computed once against the state as it is under the lease, and stored with
   * the pending marker in one fenced write, so a later holder can finish the commit from it.
   */
  private async persistDrift(
    scanId: string,
    observed: Credential[],
    completePrefixes: string[],
    lease: Lease,
  ): Promise<DriftResult> {
    const pending: Effect = { op: 'set', key: this.keys.pending(), value: scanId };
    const { value, fresh } = await computeOnce(
      this.d.redis,
      this.keys.drift(scanId),
      async () => {
        const prevRaw = await this.d.redis.hgetall(this.keys.creds());
        const previous = new Map(Object.entries(prevRaw).map(([id, j]) => [id, JSON.parse(j) as Credential]));
        return computeDrift(previous, observed, completePrefixes);
      },
      fencedBy(lease, this.keys.drift(scanId), [pending]),
    );
    if (!fresh && (await this.d.redis.get(this.keys.pending())) !== scanId) await lease.write([pending]);
    return value;
  }

  /** The drift a scan's finalize computed (kept 7 days after it finishes), or null before finalize. */
  async drift(scanId: string): Promise<DriftResult | null> {
    const raw = await this.d.redis.get(this.keys.drift(scanId));
    return raw ? (JSON.parse(raw) as DriftResult) : null;
  }
}
