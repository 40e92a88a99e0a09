/**
 * Exactly once under crashes and races (DESIGN invariants 4 and 6), at the service level against
 * real Redis: a finalize or an evaluation that dies half-way is finished by whoever comes next,
 * without auditing anything twice; two scans finalizing at once each diff against the state the
 * other left; a dead holder's lease lapses instead of failing its own retry; a tampered or
 * diverged chain fails every step closed; a detection result that would resolve most findings at
 * once is held for a person. Each case reproduces a failure seen on an estate the suite never saw.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { AuditAppender, Recorded } from '../../src/audit/appender.js';
import type { AppendInput, AuditEvent } from '../../src/audit/event.js';
import { isAuditEventType, JsonlMirror, RedisAuditLog } from '../../src/audit/index.js';
import { ManualClock } from '../../src/clock.js';
import { CwError, ErrorCodes } from '../../src/errors.js';
import { FindingsService } from '../../src/findings/service.js';
import { ScanService } from '../../src/inventory/scan-service.js';
import { createLogger } from '../../src/logger.js';
import type { Registry } from '../../src/model/agent.js';
import type { Credential } from '../../src/model/credential.js';
import { loadPolicies } from '../../src/policy/load.js';
import type { PolicySet } from '../../src/policy/model.js';
import type { ScanUnit, UnitResult } from '../../src/sources/source.js';
import { ACCOUNT, accessKey } from '../support/credentials.js';
import { useRedis } from '../support/redis.js';

const r = useRedis('once');
const clock = new ManualClock('2026-11-01T00:00:00Z');
const log = createLogger({ level: 'silent' });
const registry: Registry = {
  agents: [],
  unregistered: {
    aws: { tags: {}, namePatterns: [] },
    vault: { meta: [], displayNamePatterns: [], policyPatterns: [] },
  },
};
const UNIT: ScanUnit = { sourceType: 'aws', key: `aws/${ACCOUNT}`, label: ACCOUNT };
let dir: string;
let every: PolicySet;
let fewer: PolicySet;
let n = 0;

/** Two policies that hit every key (so an evaluation writes two findings per credential), and one that hits none. */
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cw-once-'));
  const pol = (body: string) => {
    const f = join(dir, `p${++n}.yaml`);
    writeFileSync(f, body);
    return f;
  };
  every = await loadPolicies([
    pol(`policies:
  - name: any-key-old
    description: every key (created 10 days ago) is older than 1 day
    resource: { kinds: [aws-access-key] }
    rules: [{ type: age-since-created, days: 1 }]
    severity: medium
  - name: any-key-older
    description: every key is not rotated for 2 days (another check than any-key-old, so its own finding)
    resource: { kinds: [aws-access-key] }
    rules: [{ type: rotation-overdue, days: 2 }]
    severity: high
`),
  ]);
  fewer = await loadPolicies([
    pol(`policies:
  - name: very-old-key
    description: a key older than 10 years (none is)
    resource: { kinds: [aws-access-key] }
    rules: [{ type: age-since-created, days: 3650 }]
    severity: low
`),
  ]);
});

/** The real log, refusing every append after the next `budget` calls (a crash half-way through a step). */
class CrashingAudit implements AuditAppender {
  budget = Number.POSITIVE_INFINITY;
  constructor(readonly log: RedisAuditLog) {}
  async append(input: AppendInput): Promise<AuditEvent> {
    return (await this.record(input)).event;
  }
  record(input: AppendInput): Promise<Recorded> {
    if (this.budget <= 0) return Promise.reject(new CwError(ErrorCodes.AUDIT, 'simulated crash', { retryable: true }));
    this.budget--;
    return this.log.record(input);
  }
}

function world(policies: PolicySet = every, prefix = `${r.keyPrefix}:${++n}`) {
  const file = join(dir, `${prefix.replace(/[:{}]/g, '_')}.jsonl`);
  const auditLog = new RedisAuditLog(r.redis, {
    prefix,
    clock,
    mirror: new JsonlMirror(r.redis, { prefix, path: file }),
  });
  const audit = new CrashingAudit(auditLog);
  const scans = new ScanService({ redis: r.redis, prefix, audit, clock, log, leaseMs: 2000 });
  const findings = (p: PolicySet = policies) =>
    new FindingsService({ redis: r.redis, prefix, scans, audit, clock, log, registry, policies: p, services: {} });
  return { prefix, file, auditLog, audit, scans, findings: findings(), withPolicies: findings };
}

const keys = (count: number, from = 0): Credential[] =>
  Array.from({ length: count }, (_, i) =>
    accessKey(`AKIAONCE${String(from + i).padStart(12, '0')}`, {
      agentId: null,
      createdAt: '2026-10-22T00:00:00.000Z',
    }),
  );

function unit(creds: Credential[]): UnitResult {
  return {
    unit: UNIT,
    credentials: creds,
    completePrefixes: [`aws/${ACCOUNT}/`],
    problems: [],
    apiCalls: { total: 1, attempts: 1, byOperation: {} },
    startedAt: clock.now().toISOString(),
    finishedAt: clock.now().toISOString(),
  };
}

async function observedScan(w: ReturnType<typeof world>, id: string, creds: Credential[]): Promise<void> {
  await w.scans.start(id, 'test', [UNIT]);
  await w.scans.recordUnit(id, unit(creds));
}

async function events(w: ReturnType<typeof world>): Promise<AuditEvent[]> {
  return w.auditLog.read(1);
}

/** Each (type, subject) at most once: a transition audited twice shows here. */
function duplicates(evs: AuditEvent[], types: string[]): string[] {
  const seen = new Map<string, number>();
  for (const e of evs)
    if (types.includes(e.type)) seen.set(`${e.type} ${e.subject}`, (seen.get(`${e.type} ${e.subject}`) ?? 0) + 1);
  return [...seen].filter(([, c]) => c > 1).map(([k, c]) => `${k} ×${c}`);
}

const count = (evs: AuditEvent[], type: string) => evs.filter((e) => e.type === type).length;

describe('finalize', () => {
  it('a finalize that died half-way is finished by the next scan, and nothing is audited twice', async () => {
    const w = world();
    const creds = keys(300);
    await observedScan(w, 's1', creds);
    w.audit.budget = 120;
    await expect(w.scans.finalize('s1')).rejects.toThrow(/simulated crash/);
    expect(await r.redis.get(w.scans.keys.pending())).toBe('s1');
    // What was audited is applied, and nothing else: the state never runs ahead of the audit.
    const half = await events(w);
    expect(count(half, 'credential.added')).toBe(120);
    expect(await r.redis.hlen(w.scans.keys.creds())).toBe(120);

    w.audit.budget = Number.POSITIVE_INFINITY;
    await observedScan(w, 's2', creds);
    const s2 = await w.scans.finalize('s2');
    expect(s2.counts.drift).toEqual({});
    expect((await w.scans.summary('s1'))?.status).toBe('complete');
    const all = await events(w);
    expect(duplicates(all, ['credential.added', 'scan.started', 'scan.finished'])).toEqual([]);
    expect(count(all, 'credential.added')).toBe(300);
    expect(await r.redis.hlen(w.scans.keys.creds())).toBe(300);
    expect(await r.redis.exists(w.scans.keys.pending())).toBe(0);
    // The retry of the dead finalize finds it done.
    expect((await w.scans.finalize('s1')).status).toBe('complete');
    expect(count(await events(w), 'scan.finished')).toBe(2);
    expect((await w.auditLog.verify()).ok).toBe(true);
    // Every type written is in the catalog (the compiler holds services to it; this holds the data).
    expect((await events(w)).map((e) => e.type).filter((t) => !isAuditEventType(t))).toEqual([]);
  });

  it('two scans finalizing at once each diff against the state the other left', async () => {
    const w = world();
    const creds = keys(400);
    await observedScan(w, 'a', creds);
    await observedScan(w, 'b', creds);
    const [a, b] = await Promise.all([w.scans.finalize('a'), w.scans.finalize('b')]);
    const added = [a, b].map((s) => s.counts.drift['credential.added'] ?? 0).sort();
    expect(added).toEqual([0, 400]);
    const all = await events(w);
    expect(duplicates(all, ['credential.added'])).toEqual([]);
    expect(count(all, 'credential.added')).toBe(400);
  });

  it("a dead holder's lease lapses: the retry waits for it instead of failing", async () => {
    const w = world();
    await observedScan(w, 'dead', keys(5));
    // A worker SIGKILLed while it held the inventory lease: the key stays until its PX runs out.
    await r.redis.set(w.scans.keys.lock(), 'token-of-a-dead-worker', 'PX', 1500);
    const t0 = Date.now();
    const s = await w.scans.finalize('dead');
    expect(s.status).toBe('complete');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1000);
    expect(Date.now() - t0).toBeLessThan(10_000);
  });

  it('the lease is renewed while its holder works, so a long finalize keeps it', async () => {
    const w = world();
    const lease = await w.scans.acquire();
    try {
      await new Promise((res) => setTimeout(res, 4500)); // more than twice the 2 s lease
      expect(await r.redis.get(w.scans.keys.lock())).toBe(lease.token);
      lease.assertHeld();
    } finally {
      await lease.release();
    }
    expect(await r.redis.exists(w.scans.keys.lock())).toBe(0);
  });
});

describe('evaluation', () => {
  it('an evaluation that died half-way is finished by the next one: every transition once, state = audit', async () => {
    const w = world();
    const creds = keys(250);
    await observedScan(w, 'e1', creds);
    await w.scans.finalize('e1');
    const before = (await events(w)).length;
    w.audit.budget = 180;
    await expect(w.findings.evaluateScan('e1')).rejects.toThrow(/simulated crash/);
    const mid = (await events(w)).slice(before);
    expect(count(mid, 'finding.opened')).toBe(180);
    expect((await w.findings.all()).length).toBe(180); // each audited transition's state, and no other

    w.audit.budget = Number.POSITIVE_INFINITY;
    await observedScan(w, 'e2', creds);
    await w.scans.finalize('e2');
    const e2 = await w.findings.evaluateScan('e2');
    expect(e2.transitions).toEqual({});
    const all = await events(w);
    expect(duplicates(all, ['finding.opened', 'finding.resolved', 'evaluation.finished'])).toEqual([]);
    expect(count(all, 'finding.opened')).toBe(500);
    expect((await w.findings.evaluation('e1'))?.transitions).toEqual({ 'finding.opened': 500 });
    const open = (await w.findings.all()).filter((f) => f.state === 'open');
    expect(open).toHaveLength(500);
    expect(await w.findings.credentialScore(creds[0]!.id)).not.toBeNull();
  });

  it("an evaluation whose holder died waits out the dead lease instead of failing 'another evaluation is running'", async () => {
    const w = world();
    await observedScan(w, 'l1', keys(3));
    await w.scans.finalize('l1');
    await r.redis.set(w.scans.keys.lock(), 'token-of-a-dead-worker', 'PX', 1500);
    const s = await w.findings.evaluateScan('l1');
    expect(s.transitions).toEqual({ 'finding.opened': 6 });
  });
});

describe('fail closed', () => {
  it('a chain whose tail was cut and head fixed to match refuses every step, retries included', async () => {
    const w = world();
    await observedScan(w, 't1', keys(4));
    await w.scans.finalize('t1');
    const head = await w.auditLog.head();
    // Cut the last two events and point the head at what is now the last one: Redis alone looks whole.
    await r.redis.xdel(w.auditLog.eventsKey, `${head.seq}-0`, `${head.seq - 1}-0`);
    const [last] = await w.auditLog.read(head.seq - 2, 1);
    await r.redis.hset(w.auditLog.headKey, 'seq', String(last!.seq), 'hash', last!.hash);
    for (let attempt = 0; attempt < 3; attempt++) {
      const err = await w.scans.start('t2', 'test', [UNIT]).catch((e: unknown) => e);
      expect((err as CwError).code).toBe(ErrorCodes.AUDIT_DIVERGED);
      expect((err as CwError).retryable).toBe(false);
      // No step counts as done without its audit event: the scan does not exist.
      expect(await w.scans.summary('t2')).toBeNull();
    }
  });

  it('an effect on a key of the wrong type writes neither the event nor any effect', async () => {
    const w = world();
    await r.redis.set(`${w.prefix}:not-a-hash`, 'x');
    const err = await w.auditLog
      .append({
        type: 'test.effect',
        subject: 's',
        actor: 'test',
        data: {},
        effects: [
          { op: 'set', key: `${w.prefix}:written-first`, value: '1' },
          { op: 'hset', key: `${w.prefix}:not-a-hash`, field: 'f', value: 'v' },
        ],
      })
      .catch((e: unknown) => e);
    expect((err as CwError).code).toBe(ErrorCodes.AUDIT);
    expect((await w.auditLog.head()).seq).toBe(0);
    expect(await r.redis.exists(`${w.prefix}:written-first`)).toBe(0);
  });

  it('a replayed event applies no effect, so it can never overwrite newer state', async () => {
    const w = world();
    const k = `${w.prefix}:state`;
    const input = (v: string): AppendInput => ({
      type: 'test.effect',
      subject: 's',
      actor: 'test',
      data: {},
      idempotencyKey: 'once',
      effects: [{ op: 'set', key: k, value: v }],
    });
    expect((await w.auditLog.record(input('first'))).appended).toBe(true);
    await r.redis.set(k, 'newer');
    const again = await w.auditLog.record(input('stale'));
    expect(again.appended).toBe(false);
    expect(await r.redis.get(k)).toBe('newer');
  });
});

describe('the detection guardrail', () => {
  it('holds an evaluation that would resolve most open findings while the inventory did not shrink', async () => {
    const w = world();
    const creds = keys(30);
    await observedScan(w, 'g1', creds);
    await w.scans.finalize('g1');
    expect((await w.findings.evaluateScan('g1')).transitions).toEqual({ 'finding.opened': 60 });

    // The policies stop matching (a pack that no longer loads, a typo): same inventory, no hits.
    const broken = w.withPolicies(fewer);
    await observedScan(w, 'g2', creds);
    await w.scans.finalize('g2');
    const held = await broken.evaluateScan('g2');
    expect(held.held?.reason).toMatch(/would resolve 60 of 60 open findings/);
    expect(held.held?.release).toContain('evaluation release --scan g2');
    expect(await broken.appliedTransitions('g2')).toEqual([]);
    expect((await broken.all()).filter((f) => f.state === 'open')).toHaveLength(60);
    // A retry of the held job changes nothing and audits the hold once.
    await broken.evaluateScan('g2');
    let all = await events(w);
    expect(count(all, 'finding.resolved')).toBe(0);
    expect(count(all, 'evaluation.held')).toBe(1);
    expect((await broken.held())?.scanId).toBe('g2');

    const released = await broken.evaluateScan('g2', undefined, { by: 'user:alice' });
    expect(released.transitions).toEqual({ 'finding.resolved': 60 });
    expect(released.releasedBy).toBe('user:alice');
    all = await events(w);
    expect(count(all, 'finding.resolved')).toBe(60);
    expect(all.find((e) => e.type === 'evaluation.released')?.actor).toBe('user:alice');
    expect(await broken.held()).toBeNull();
  });

  it('does not hold when the findings resolve because their credentials are gone', async () => {
    const w = world();
    await observedScan(w, 'r1', keys(30));
    await w.scans.finalize('r1');
    await w.findings.evaluateScan('r1');
    await observedScan(w, 'r2', keys(2));
    await w.scans.finalize('r2');
    const s = await w.findings.evaluateScan('r2');
    expect(s.held).toBeUndefined();
    expect(s.transitions).toEqual({ 'finding.resolved': 56 });
  });
});
