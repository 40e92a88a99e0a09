/**
 * Findings and scores in Redis, and the evaluation step of a scan.
 *
 * Redis keys (prefix P):
 *   P:findings                     hash  fingerprint → Finding JSON (every state, resolved included)
 *   P:findings:expired-exceptions  set   exception ids whose expiry was already audited
 *   P:eval:<scanId>                string the evaluation computed for a scan (persisted before it is
 *                                         applied, so a replayed job re-applies the same result)
 *   P:scores:credentials           hash  credential id → CredentialScore JSON (open findings only)
 *   P:scores:agents                hash  agent id → AgentScore JSON
 * Transitions are audited with idempotency keys `<scanId>/eval/<n>`: each happens once, whatever
 * BullMQ retries or replays.
 */
import type { Redis } from 'ioredis';
import type { Clock } from '../clock.js';
import { CwError, ErrorCodes } from '../errors.js';
import type { AuditAppender, ScanService } from '../inventory/scan-service.js';
import type { Logger } from '../logger.js';
import type { Registry } from '../model/agent.js';
import type { Credential } from '../model/credential.js';
import { evaluatePolicies } from '../policy/evaluate.js';
import type { Finding, PolicySet } from '../policy/model.js';
import { type AgentScore, type CredentialScore, scoreAgent, scoreCredential } from '../policy/score.js';
import type { RuleServices } from '../policy/types.js';
import { computeTransitions, type Transition, type TransitionResult } from './transitions.js';

export interface EvaluationSummary {
  scanId: string;
  evaluatedAt: string;
  asOf: string;
  transitions: Record<string, number>;
  open: Record<string, number>;
  suppressed: number;
}

export interface FindingsDeps {
  redis: Redis;
  prefix: string;
  scans: ScanService;
  audit: AuditAppender;
  clock: Clock;
  log: Logger;
  registry: Registry;
  policies: PolicySet;
  services: RuleServices;
  actor?: string;
}

const TTL_S = 7 * 86_400;

export class FindingsService {
  constructor(private readonly d: FindingsDeps) {}

  private key = (s: string) => `${this.d.prefix}:${s}`;

  async all(): Promise<Finding[]> {
    const raw = await this.d.redis.hvals(this.key('findings'));
    return raw.map((j) => JSON.parse(j) as Finding).sort((a, b) => a.fingerprint.localeCompare(b.fingerprint));
  }

  /** Pure what-if: the findings that would exist as of `now`, from the current inventory; nothing is stored. */
  async preview(now: Date): Promise<{ result: TransitionResult; credentials: Credential[] }> {
    const credentials = await this.d.scans.currentInventory();
    const previous = new Map((await this.all()).map((f) => [f.fingerprint, f]));
    const hits = evaluatePolicies({
      credentials,
      policies: this.d.policies.policies,
      registry: this.d.registry,
      now,
      services: this.d.services,
    });
    const expired = new Set(await this.d.redis.smembers(this.key('findings:expired-exceptions')));
    return {
      result: computeTransitions({
        previous,
        hits,
        exceptions: this.d.policies.exceptions,
        alreadyExpired: expired,
        now,
        completePrefixes: [],
      }),
      credentials,
    };
  }

  /** Evaluate after a scan: persist, audit every transition once, apply, score. Idempotent per scan. */
  async evaluateScan(scanId: string, asOf?: Date): Promise<EvaluationSummary> {
    // A scan is evaluated once: a replay after completion must not re-apply an older state.
    const done = await this.evaluation(scanId);
    if (done) return done;
    const lock = this.key('eval-lock');
    const token = `${process.pid}-${Math.random()}`;
    if ((await this.d.redis.set(lock, token, 'PX', 120_000, 'NX')) !== 'OK') {
      throw new CwError(ErrorCodes.QUEUE, `another evaluation is running; scan ${scanId} will be retried`, {
        retryable: true,
      });
    }
    try {
      return await this.evaluateLocked(scanId, asOf);
    } finally {
      await this.d.redis.eval(
        `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`,
        1,
        lock,
        token,
      );
    }
  }

  private async evaluateLocked(scanId: string, asOfArg?: Date): Promise<EvaluationSummary> {
    const evalKey = this.key(`eval:${scanId}`);
    const now = this.d.clock.now();
    const at = asOfArg ?? (await this.d.scans.asOf(scanId)) ?? now;
    let result: TransitionResult;
    const credentials = await this.d.scans.currentInventory();
    const stored = await this.d.redis.get(evalKey);
    if (stored) result = JSON.parse(stored) as TransitionResult;
    else {
      const previous = new Map((await this.all()).map((f) => [f.fingerprint, f]));
      const hits = evaluatePolicies({
        credentials,
        policies: this.d.policies.policies,
        registry: this.d.registry,
        now: at,
        services: this.d.services,
      });
      const expired = new Set(await this.d.redis.smembers(this.key('findings:expired-exceptions')));
      const completePrefixes = await this.d.scans.completePrefixes(scanId);
      result = computeTransitions({
        previous,
        hits,
        exceptions: this.d.policies.exceptions,
        alreadyExpired: expired,
        now: at,
        completePrefixes,
      });
      if ((await this.d.redis.set(evalKey, JSON.stringify(result), 'EX', TTL_S, 'NX')) !== 'OK') {
        result = JSON.parse((await this.d.redis.get(evalKey))!) as TransitionResult;
      }
    }
    for (const [i, t] of result.transitions.entries()) await this.auditTransition(scanId, i, t);
    const tx = this.d.redis.multi();
    for (const f of result.changed) tx.hset(this.key('findings'), f.fingerprint, JSON.stringify(f));
    const expiredNow = result.transitions.filter((t) => t.type === 'exception.expired').map((t) => t.subject);
    if (expiredNow.length) tx.sadd(this.key('findings:expired-exceptions'), ...expiredNow);
    await tx.exec();
    const findings = await this.all();
    await this.writeScores(findings, credentials);
    const summary: EvaluationSummary = {
      scanId,
      evaluatedAt: now.toISOString(),
      asOf: at.toISOString(),
      transitions: countBy(result.transitions.map((t) => t.type)),
      open: countBy(findings.filter((f) => f.state === 'open').map((f) => f.severity)),
      suppressed: findings.filter((f) => f.state === 'suppressed').length,
    };
    await this.d.redis.hset(this.d.scans.keys.scan(scanId), { evaluation: JSON.stringify(summary) });
    this.d.log.info({ scanId, transitions: summary.transitions, open: summary.open }, 'scan evaluated');
    return summary;
  }

  async evaluation(scanId: string): Promise<EvaluationSummary | null> {
    const raw = await this.d.redis.hget(this.d.scans.keys.scan(scanId), 'evaluation');
    return raw ? (JSON.parse(raw) as EvaluationSummary) : null;
  }

  private async auditTransition(scanId: string, i: number, t: Transition): Promise<void> {
    await this.d.audit.append({
      type: t.type,
      actor: this.d.actor ?? 'credwarden',
      subject: t.subject,
      data: { scanId, ...t.data },
      idempotencyKey: `${scanId}/eval/${i}`,
    });
  }

  /** Recompute every score from the findings just applied (scores read findings; credentials only for their kind and expiry). */
  private async writeScores(findings: readonly Finding[], credentials: readonly Credential[]): Promise<void> {
    const byCred = new Map<string, Finding[]>();
    for (const f of findings) {
      if (f.state !== 'open') continue;
      const list = byCred.get(f.credentialId);
      if (list) list.push(f);
      else byCred.set(f.credentialId, [f]);
    }
    const inventory = new Map(credentials.map((c) => [c.id, c]));
    const creds = [...byCred.entries()].map(([id, fs]) => scoreCredential(id, fs, inventory.get(id)));
    const agentIds = [...new Set(creds.map((c) => c.agentId).filter((a): a is string => a !== null))];
    const agents = agentIds.map((a) => scoreAgent(a, creds));
    const tx = this.d.redis.multi().del(this.key('scores:credentials'), this.key('scores:agents'));
    for (const c of creds) tx.hset(this.key('scores:credentials'), c.credentialId, JSON.stringify(c));
    for (const a of agents) tx.hset(this.key('scores:agents'), a.agentId, JSON.stringify(a));
    await tx.exec();
  }

  async credentialScore(id: string): Promise<CredentialScore | null> {
    const raw = await this.d.redis.hget(this.key('scores:credentials'), id);
    return raw ? (JSON.parse(raw) as CredentialScore) : null;
  }

  async agentScore(id: string): Promise<AgentScore | null> {
    const raw = await this.d.redis.hget(this.key('scores:agents'), id);
    return raw ? (JSON.parse(raw) as AgentScore) : null;
  }
}

function countBy(values: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) out[v] = (out[v] ?? 0) + 1;
  return out;
}
