/**
 * Findings and scores in Redis, and the evaluation step of a scan.
 *
 * Redis keys (prefix P):
 *   P:findings                     hash  fingerprint → Finding JSON (every state, resolved included)
 *   P:findings:expired-exceptions  set   exception ids whose expiry was already audited
 *   P:eval:<scanId>                hash  the evaluation computed for a scan, with its hold verdict, in
 *                                         JSON chunks (util/chunked-json.ts; `meta` written last), persisted
 *                                         before it is applied, so a retry re-applies the same
 *   P:eval:pending                 string id of the scan whose evaluation is being applied (rolled
 *                                         forward by the next holder of the inventory lease if it died)
 *   P:scores:*                     the scores (scores.ts)
 *
 * Exactly once (DESIGN invariant 6): the evaluation holds the inventory lease (ScanService), so it
 * never reads a state another commit is half-way through. Each transition is audited with
 * idempotency key `<scanId>/eval/<n>` and its finding's new state commits atomically with that
 * event, so a crash at any point leaves "audited" and "applied" equal, and the retry (or the next
 * evaluation) finishes the rest. The evaluation summary lands with `evaluation.finished`.
 * A guardrail (hold.ts) holds an evaluation that would resolve most open findings at once.
 * The exceptions applied are the policy files' plus the stored ones (exception-store.ts,
 * `P:exceptions`), read when an evaluation is computed.
 */

import { type AuditAppender, appendAll } from '../audit/appender.js';
import type { Clock } from '../clock.js';
import type { ScanService } from '../inventory/scan-service.js';
import type { Logger } from '../logger.js';
import type { Registry } from '../model/agent.js';
import type { Credential } from '../model/credential.js';
import type { AccountNames } from '../model/principal.js';
import { evaluatePolicies } from '../policy/evaluate.js';
import type { Finding, PolicyException, PolicySet } from '../policy/model.js';
import { previousFromDrift } from '../policy/runaway.js';
import type { AgentScore, CredentialScore } from '../policy/score.js';
import type { RuleServices } from '../policy/types.js';
import type { RedisClient } from '../queue/connection.js';
import type { Effect } from '../util/effects.js';
import type { Lease } from '../util/lease.js';
import { countBy, type EvaluationSummary, heldSummary, type StoredEvaluation } from './evaluation.js';
import { readEvaluation, readTransitions, writeEvaluation } from './evaluation-store.js';
import { type HoldConfig, holdVerdict } from './hold.js';
import { ScoreStore } from './scores.js';
import { computeTransitions, type Transition, type TransitionResult } from './transitions.js';

export type { EvaluationSummary } from './evaluation.js';

export interface FindingsDeps {
  redis: RedisClient;
  prefix: string;
  scans: ScanService;
  audit: AuditAppender;
  clock: Clock;
  log: Logger;
  registry: Registry;
  policies: PolicySet;
  services: RuleServices;
  actor?: string;
  hold?: HoldConfig;
  /** `aws.accounts[].name` by account id: each finding names its account. */
  accountNames?: AccountNames;
  /** Policy exceptions plus those created at runtime (exception-store.ts); absent: the policies' only. */
  exceptions?: { all(): Promise<PolicyException[]> };
}

const TTL_S = 7 * 86_400;
const APPEND_WINDOW = 2000;
const WRITE_CHUNK = 500;
export const DEFAULT_HOLD: HoldConfig = { resolveRatio: 0.5, minResolved: 10 };

export class FindingsService {
  private readonly scores: ScoreStore;

  constructor(private readonly d: FindingsDeps) {
    this.scores = new ScoreStore(d.redis, d.prefix);
  }

  private key = (s: string) => `${this.d.prefix}:${s}`;

  private exceptions = async (): Promise<PolicyException[]> =>
    this.d.exceptions ? this.d.exceptions.all() : this.d.policies.exceptions;

  async all(): Promise<Finding[]> {
    const raw = await this.d.redis.hvals(this.key('findings'));
    return raw.map((j) => JSON.parse(j) as Finding).sort((a, b) => a.fingerprint.localeCompare(b.fingerprint));
  }

  /** One finding by its fingerprint, or null. */
  async get(fingerprint: string): Promise<Finding | null> {
    const j = await this.d.redis.hget(this.key('findings'), fingerprint);
    return j ? (JSON.parse(j) as Finding) : null;
  }

  /**
   * The transitions an evaluation of `credentials` as of `at` makes against the stored findings.
   * Rules comparing scans (agent-grant-surge) see the scan before `scanId`, rebuilt from its drift
   * over the inventory after it (policy/runaway.ts); with no drift they see no previous scan.
   */
  private async transitionsOf(
    credentials: readonly Credential[],
    at: Date,
    scanId: string | undefined,
    completePrefixes: readonly string[],
  ): Promise<{ result: TransitionResult; previous: Map<string, Finding> }> {
    const previous = new Map((await this.all()).map((f) => [f.fingerprint, f]));
    const drift = scanId ? await this.d.scans.drift(scanId) : null;
    const hits = evaluatePolicies({
      credentials,
      policies: this.d.policies.policies,
      registry: this.d.registry,
      now: at,
      services: this.d.services,
      ...(drift ? { previous: previousFromDrift(credentials, drift.events) } : {}),
    });
    const expired = new Set(await this.d.redis.smembers(this.key('findings:expired-exceptions')));
    const result = computeTransitions({
      previous,
      hits,
      exceptions: await this.exceptions(),
      alreadyExpired: expired,
      now: at,
      completePrefixes,
      ...(this.d.accountNames ? { accountNames: this.d.accountNames } : {}),
    });
    return { result, previous };
  }

  /**
   * Pure what-if: the findings that would exist as of `now`, from the current inventory; nothing is
   * stored. Rules comparing scans compare against the newest scan's drift, as its evaluation did.
   */
  async preview(now: Date): Promise<{ result: TransitionResult; credentials: Credential[] }> {
    const credentials = await this.d.scans.currentInventory();
    const [last] = await this.d.scans.recentIds(1);
    const { result } = await this.transitionsOf(credentials, now, last, []);
    return { result, credentials };
  }

  /**
   * Evaluate after a scan: persist, audit every transition once, apply, score. Idempotent per scan.
   * A held evaluation applies nothing until `release` names who confirmed it.
   */
  async evaluateScan(scanId: string, asOf?: Date, release?: { by: string }): Promise<EvaluationSummary> {
    // A scan is evaluated once: a replay after completion must not re-apply an older state.
    const done = await this.evaluation(scanId);
    if (done && (!done.held || !release)) return done;
    const lease = await this.d.scans.acquire();
    try {
      await this.rollForward(lease);
      const again = await this.evaluation(scanId);
      if (again && (!again.held || !release)) return again;
      return await this.evaluateLocked(scanId, asOf, lease, release);
    } finally {
      await lease.release();
    }
  }

  /** The newest evaluation if it is held (what `evaluation release` acts on). */
  async held(): Promise<EvaluationSummary | null> {
    const ids = await this.d.scans.recentIds(50);
    for (const id of ids) {
      const e = await this.evaluation(id);
      if (e) return e.held ? e : null;
    }
    return null;
  }

  /** The transitions a scan's evaluation applied (none while held or not evaluated). */
  async appliedTransitions(scanId: string): Promise<Transition[]> {
    const summary = await this.evaluation(scanId);
    if (!summary || summary.held) return [];
    return readTransitions(this.d.redis, this.key(`eval:${scanId}`));
  }

  /** Finishes an evaluation that died while being applied (under the lease). */
  private async rollForward(lease: Lease): Promise<void> {
    const pending = await this.d.redis.get(this.key('eval:pending'));
    if (!pending) return;
    const s = await this.evaluation(pending);
    if (s && !s.held) {
      await lease.write([{ op: 'del', key: this.key('eval:pending') }]);
      return;
    }
    this.d.log.warn({ scanId: pending }, 'completing an evaluation that did not finish');
    await this.evaluateLocked(pending, undefined, lease, undefined, true);
  }

  private async evaluateLocked(
    scanId: string,
    asOfArg: Date | undefined,
    lease: Lease,
    release?: { by: string },
    resuming = false,
  ): Promise<EvaluationSummary> {
    const evalKey = this.key(`eval:${scanId}`);
    const now = this.d.clock.now();
    const credentials = await this.d.scans.currentInventory();
    let stored = await readEvaluation(this.d.redis, evalKey);
    if (!stored) {
      const at = asOfArg ?? (await this.d.scans.asOf(scanId)) ?? now;
      const completePrefixes = await this.d.scans.completePrefixes(scanId);
      const { result, previous } = await this.transitionsOf(credentials, at, scanId, completePrefixes);
      const ids = new Set(credentials.map((c) => c.id));
      stored = {
        ...result,
        at: at.toISOString(),
        hold: holdVerdict(result, previous, ids, this.d.hold ?? DEFAULT_HOLD),
      };
      // Persisted (fenced by the lease) before anything is applied: a retry applies exactly this.
      await writeEvaluation(lease, evalKey, stored, TTL_S);
    }
    const at = new Date(stored.at);
    const actor = this.d.actor ?? 'credwarden';
    if (stored.hold.held && !resuming) {
      if (!release) return this.hold(scanId, stored, now, at);
      await this.d.audit.append({
        type: 'evaluation.released',
        actor: release.by,
        subject: scanId,
        data: {
          scanId,
          reason: stored.hold.reason,
          open: stored.hold.open,
          resolvedPresent: stored.hold.resolvedPresent,
        },
        idempotencyKey: `${scanId}/released`,
        effects: [{ op: 'set', key: this.key('eval:pending'), value: scanId }],
      });
    } else if ((await this.d.redis.get(this.key('eval:pending'))) !== scanId) {
      await lease.write([{ op: 'set', key: this.key('eval:pending'), value: scanId }]);
    }

    // Each transition's finding state commits with its audit event.
    const byFp = new Map(stored.changed.map((f) => [f.fingerprint, f]));
    const touched = new Set<string>();
    for (let i = 0; i < stored.transitions.length; i += APPEND_WINDOW) {
      lease.assertHeld();
      await appendAll(
        this.d.audit,
        stored.transitions.slice(i, i + APPEND_WINDOW).map((t, j) => {
          const effects: Effect[] = [];
          const f = byFp.get(t.subject);
          if (t.type === 'exception.expired') {
            effects.push({ op: 'sadd', key: this.key('findings:expired-exceptions'), member: t.subject });
          } else if (f) {
            touched.add(f.fingerprint);
            effects.push({ op: 'hset', key: this.key('findings'), field: f.fingerprint, value: JSON.stringify(f) });
          }
          return {
            type: t.type,
            actor,
            subject: t.subject,
            data: { scanId, ...t.data },
            idempotencyKey: `${scanId}/eval/${i + j}`,
            effects,
          };
        }),
      );
    }
    // Findings seen again without a transition only move lastSeen: fenced plain writes.
    const quiet = stored.changed.filter((f) => !touched.has(f.fingerprint));
    for (let i = 0; i < quiet.length; i += WRITE_CHUNK) {
      await lease.write(
        quiet
          .slice(i, i + WRITE_CHUNK)
          .map(
            (f): Effect => ({ op: 'hset', key: this.key('findings'), field: f.fingerprint, value: JSON.stringify(f) }),
          ),
      );
    }
    const findings = await this.all();
    await this.scores.write(findings, credentials, lease);
    const summary: EvaluationSummary = {
      scanId,
      evaluatedAt: now.toISOString(),
      asOf: at.toISOString(),
      transitions: countBy(stored.transitions.map((t) => t.type)),
      open: countBy(findings.filter((f) => f.state === 'open').map((f) => f.severity)),
      suppressed: findings.filter((f) => f.state === 'suppressed').length,
      ...(release ? { releasedBy: release.by } : {}),
    };
    lease.assertHeld();
    await this.d.audit.append({
      type: 'evaluation.finished',
      actor,
      subject: scanId,
      data: {
        scanId,
        asOf: summary.asOf,
        transitions: summary.transitions,
        open: summary.open,
        suppressed: summary.suppressed,
      },
      idempotencyKey: `${scanId}/evaluated`,
      effects: [
        this.d.scans.evaluationEffect(scanId, JSON.stringify(summary)),
        { op: 'del', key: this.key('eval:pending') },
      ],
    });
    this.d.log.info({ scanId, transitions: summary.transitions, open: summary.open }, 'scan evaluated');
    return (await this.evaluation(scanId)) ?? summary;
  }

  /** Records a held evaluation: audited once, nothing applied, the summary says why and how to release. */
  private async hold(scanId: string, stored: StoredEvaluation, now: Date, at: Date): Promise<EvaluationSummary> {
    const summary = heldSummary(scanId, stored, now, at);
    const reason = summary.held!.reason;
    await this.d.audit.append({
      type: 'evaluation.held',
      actor: this.d.actor ?? 'credwarden',
      subject: scanId,
      data: {
        scanId,
        reason,
        open: stored.hold.open,
        resolvedPresent: stored.hold.resolvedPresent,
        wouldApply: countBy(stored.transitions.map((t) => t.type)),
      },
      idempotencyKey: `${scanId}/held`,
      effects: [this.d.scans.evaluationEffect(scanId, JSON.stringify(summary))],
    });
    this.d.log.warn({ scanId, reason }, 'evaluation held: nothing applied, nothing paged, until a person releases it');
    return (await this.evaluation(scanId)) ?? summary;
  }

  async evaluation(scanId: string): Promise<EvaluationSummary | null> {
    const raw = await this.d.scans.evaluationRecord(scanId);
    return raw ? (JSON.parse(raw) as EvaluationSummary) : null;
  }

  async credentialScore(id: string): Promise<CredentialScore | null> {
    return this.scores.credential(id);
  }

  /** Every credential's score, by credential id (the exports read them all at once). */
  async credentialScores(): Promise<Map<string, CredentialScore>> {
    return this.scores.credentials();
  }

  async agentScore(id: string): Promise<AgentScore | null> {
    return this.scores.agent(id);
  }
}
