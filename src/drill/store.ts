/**
 * Drill records: what each drill planted, what it saw and how it ended. Every change is an effect of
 * the drill's audit event (util/effects.ts), so the record says a stage was reached exactly when
 * the audit log does.
 *
 * Redis keys (prefix P):
 *   P:drill:rec:<id>    the record (JSON), kept 400 days (a year of evidence, and some)
 *   P:drills            zset: drill id → started at (ms)
 *   P:drill:creds       hash: credential id → drill id, for every credential a drill planted, kept
 *                       as long as the drill's record: an action settling or a finding resolving
 *                       after cleanup is still the drill's (its ids are unique: key ids, accessors
 *                       and names carrying the random drill id). Alerting routes by this, never by a
 *                       tag: an agent can tag its own IAM user, but only credwarden writes here.
 *   P:drill:lock        the lease of the one drill running at a time
 */
import type { RedisClient } from '../queue/connection.js';
import type { Effect } from '../util/effects.js';
import type { DrillScenario } from './config.js';

export const KEEP_SECONDS = 400 * 86_400;

/** The stages in order; a record's `stage` is the furthest one reached. */
export const DRILL_STAGES = ['plant', 'detect', 'alert', 'remediate', 'cleanup', 'done'] as const;
export type DrillStage = (typeof DRILL_STAGES)[number];

/** One thing a drill created, by its exact id, and how to find it again. */
export interface PlantedResource {
  /** aws-user, aws-access-key, aws-inline-policy, aws-attached-policy, vault-policy, vault-approle-role, vault-secret-id, vault-token. */
  kind: string;
  /** The exact name, key id or accessor. */
  id: string;
  /** Where: the account id, or `<cluster>/<namespace>`. */
  source: string;
  /** Its inventory id when it is a credential. */
  credentialId?: string;
  /** What removing it needs beyond `id` (the user of a key, the role of a secret ID, a mount). */
  parent?: string;
}

export interface DrillTimes {
  detectMs?: number;
  alertMs?: number;
  remediateMs?: number;
  approvalMs?: number;
}

export interface DrillRecord {
  id: string;
  scenario: DrillScenario;
  trigger: 'cli' | 'schedule' | 'api';
  by: string;
  target: { sourceType: 'aws' | 'vault'; source: string };
  startedAt: string;
  deadlineAt: string;
  finishedAt: string | null;
  status: 'running' | 'passed' | 'failed';
  stage: DrillStage;
  /** Why it failed (null while running or when it passed). */
  reason: string | null;
  planted: PlantedResource[];
  /** When the risky state existed (the last plant step): times are measured from here. */
  riskAt: string | null;
  times: DrillTimes;
  detection: { policy: string; fingerprint: string; at: string } | null;
  alert: { sink: string; mode: string; notification: string; at: string } | null;
  remediation: {
    planId: string;
    action: string;
    decision: string;
    state: string;
    outcome: string | null;
    reasons: string[];
    at: string;
  } | null;
  cleanup: { at: string; removed: string[]; gone: string[]; failed: { id: string; error: string }[] } | null;
  /** The scans the drill asked for. */
  scans: string[];
}

export class DrillStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
  ) {}

  readonly keys = {
    record: (id: string) => `${this.prefix}:drill:rec:${id}`,
    index: () => `${this.prefix}:drills`,
    creds: () => `${this.prefix}:drill:creds`,
    lock: () => `${this.prefix}:drill:lock`,
  };

  /** The effects that store `rec` (and index it), for an audit append. */
  saveEffects(rec: DrillRecord): Effect[] {
    return [
      { op: 'set', key: this.keys.record(rec.id), value: JSON.stringify(rec) },
      { op: 'expire', key: this.keys.record(rec.id), seconds: KEEP_SECONDS },
      { op: 'zadd', key: this.keys.index(), member: rec.id, score: Date.parse(rec.startedAt) },
    ];
  }

  /** Mark credentials as planted by `drillId` (alert routing reads this). */
  markEffects(drillId: string, credentialIds: readonly string[]): Effect[] {
    return credentialIds.map((c) => ({ op: 'hset', key: this.keys.creds(), field: c, value: drillId }) as Effect);
  }

  /** Drop the marks of drills whose record has expired; returns how many. */
  async pruneMarks(): Promise<number> {
    const marks = await this.plantedCredentials();
    const drills = [...new Set(marks.values())];
    if (drills.length === 0) return 0;
    const exists = await this.redis.mget(...drills.map((d) => this.keys.record(d)));
    const gone = new Set(drills.filter((_d, i) => exists[i] === null));
    const fields = [...marks].filter(([, d]) => gone.has(d)).map(([c]) => c);
    if (fields.length) await this.redis.hdel(this.keys.creds(), ...fields);
    return fields.length;
  }

  async get(id: string): Promise<DrillRecord | null> {
    const raw = await this.redis.get(this.keys.record(id));
    return raw ? (JSON.parse(raw) as DrillRecord) : null;
  }

  /** Newest first. */
  async list(limit = 50): Promise<DrillRecord[]> {
    const ids = await this.redis.zrevrange(this.keys.index(), 0, Math.max(0, limit - 1));
    if (ids.length === 0) return [];
    const raws = await this.redis.mget(...ids.map((id) => this.keys.record(id)));
    return raws.flatMap((raw) => (raw ? [JSON.parse(raw) as DrillRecord] : []));
  }

  /** The drill that planted `credentialId`, or null. */
  drillOf(credentialId: string): Promise<string | null> {
    return this.redis.hget(this.keys.creds(), credentialId);
  }

  /** Credential id → drill id, for every credential a drill planted (while its record is kept). */
  async plantedCredentials(): Promise<Map<string, string>> {
    return new Map(Object.entries(await this.redis.hgetall(this.keys.creds())));
  }
}
