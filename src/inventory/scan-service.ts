/**
 * Scan bookkeeping in Redis: start a scan, record each unit's result as it arrives, and finalize
 * once: persist the drift, audit it, apply it to the state, write the summary. Every step is safe
 * to replay (BullMQ may run a job twice): unit results are recorded with HSETNX, the drift is
 * computed once and stored before anything acts on it, and audit appends carry idempotency keys,
 * so a replayed finalize neither doubles an event nor recomputes against half-written state.
 */
import type { Redis } from 'ioredis';
import type { Clock } from '../clock.js';
import { CwError, ErrorCodes } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Credential } from '../model/credential.js';
import type { ScanUnit, UnitResult } from '../sources/source.js';
import { computeDrift, type DriftResult } from './drift.js';
import { InventoryKeys } from './keys.js';
import { type ScanSummary, summarize, timedOutUnit } from './summary.js';

export interface AuditAppender {
  append(input: {
    type: string;
    actor: string;
    subject: string;
    data: Record<string, unknown>;
    idempotencyKey?: string;
  }): Promise<unknown>;
}

export interface ScanServiceDeps {
  redis: Redis;
  prefix: string;
  audit: AuditAppender;
  clock: Clock;
  log: Logger;
  actor?: string;
}

const UNIT_RESULT_TTL_S = 7 * 86_400;

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

  async start(scanId: string, trigger: string, units: ScanUnit[], asOf?: string): Promise<{ created: boolean }> {
    const k = this.keys.scan(scanId);
    const startedAt = this.d.clock.now();
    const created = (await this.d.redis.hsetnx(k, 'id', scanId)) === 1;
    if (!created) return { created };
    await this.d.redis
      .multi()
      .hset(k, {
        trigger,
        startedAt: startedAt.toISOString(),
        status: 'running',
        units: JSON.stringify(units),
        unitsDone: 0,
        ...(asOf ? { asOf } : {}),
      })
      .zadd(this.keys.scans(), startedAt.getTime(), scanId)
      .exec();
    await this.d.audit.append({
      type: 'scan.started',
      actor: this.actor,
      subject: scanId,
      data: { trigger, units: units.map((u) => u.key) },
      idempotencyKey: `${scanId}/started`,
    });
    return { created };
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
    const ids = await this.d.redis.zrevrange(this.keys.scans(), 0, limit - 1);
    const out = await Promise.all(ids.map((id) => this.summary(id)));
    return out.filter((s): s is ScanSummary => s !== null);
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

  async currentInventory(): Promise<Credential[]> {
    const all = await this.d.redis.hvals(this.keys.creds());
    return all.map((j) => JSON.parse(j) as Credential).sort((a, b) => a.id.localeCompare(b.id));
  }

  /** Finalize once. Units that never reported are marked timed out, and the scan is then partial. */
  async finalize(scanId: string): Promise<ScanSummary> {
    const lock = this.keys.lock(scanId);
    const token = `${process.pid}-${Math.random()}`;
    if ((await this.d.redis.set(lock, token, 'PX', 120_000, 'NX')) !== 'OK') {
      throw new CwError(ErrorCodes.QUEUE, `scan ${scanId} is being finalized by another worker`, { retryable: true });
    }
    try {
      const existing = await this.summary(scanId);
      if (!existing) throw new CwError(ErrorCodes.INPUT, `scan ${scanId} does not exist`);
      if (existing.status !== 'running') return existing;
      return await this.finalizeLocked(scanId, existing);
    } finally {
      await this.d.redis.eval(
        `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`,
        1,
        lock,
        token,
      );
    }
  }

  private async finalizeLocked(scanId: string, running: ScanSummary): Promise<ScanSummary> {
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
    );

    for (const [i, ev] of drift.events.entries()) {
      await this.d.audit.append({
        type: ev.type,
        actor: this.actor,
        subject: ev.credentialId,
        data: { scanId, kind: ev.kind, agentId: ev.agentId, ...ev.data },
        idempotencyKey: `${scanId}/drift/${i}`,
      });
    }
    const tx = this.d.redis.multi();
    for (const c of observed) tx.hset(this.keys.creds(), c.id, JSON.stringify(c));
    if (drift.removed.length) tx.hdel(this.keys.creds(), ...drift.removed);
    tx.hset(this.keys.meta(), { lastScanId: scanId, updatedAt: now });
    await tx.exec();

    const summary = summarize(
      { id: scanId, trigger: running.trigger, startedAt: running.startedAt, finishedAt: now, units },
      results,
      drift.events,
    );
    const fin = this.d.redis
      .multi()
      .hset(this.keys.scan(scanId), { status: summary.status, finishedAt: now, summary: JSON.stringify(summary) });
    if (summary.status === 'complete') fin.set(this.keys.lastComplete(), scanId);
    fin.expire(this.keys.units(scanId), UNIT_RESULT_TTL_S).expire(this.keys.drift(scanId), UNIT_RESULT_TTL_S);
    await fin.exec();
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
    });
    this.d.log.info(
      { scanId, status: summary.status, credentials: summary.counts.credentials, drift: summary.counts.drift },
      'scan finalized',
    );
    return summary;
  }

  private async persistDrift(scanId: string, observed: Credential[], completePrefixes: string[]): Promise<DriftResult> {
    const key = this.keys.drift(scanId);
    const prior = await this.d.redis.get(key);
    if (prior) return JSON.parse(prior) as DriftResult;
    const prevRaw = await this.d.redis.hgetall(this.keys.creds());
    const previous = new Map(Object.entries(prevRaw).map(([id, j]) => [id, JSON.parse(j) as Credential]));
    const drift = computeDrift(previous, observed, completePrefixes);
    if ((await this.d.redis.set(key, JSON.stringify(drift), 'NX')) !== 'OK')
      return JSON.parse((await this.d.redis.get(key))!) as DriftResult;
    return drift;
  }
}
