/**
 * Alerting state in Redis, and the two steps around delivery jobs.
 *
 * Redis keys (prefix P):
 *   P:alerts:plan:<scanId>          string  the plan for a scan, persisted before anything acts on it
 *   P:alerts:n:<notificationId>     string  a notification's content (job data carries only its id)
 *   P:alerts:paged                  hash    fingerprint → sinks its trigger paged (so resolve pages the same)
 *   P:alerts:silences-expired       set     silence ids whose expiry was audited
 *   P:alerts:delivered              set     notification ids delivered (a replayed job sends nothing)
 *   P:alerts:deliveries             list    newest first: every send and failure (`alerts list`), last 1000
 * Every notification sent or failed, every silenced or inhibited item and every expired silence is
 * an audit event, each with an idempotency key. The silences applied are config's plus the stored
 * ones (silence-store.ts, `P:silences`), read when a scan's plan is computed.
 */

import type { AuditAppender } from '../audit/appender.js';
import type { Clock } from '../clock.js';
import type { FindingsService } from '../findings/service.js';
import type { ScanService } from '../inventory/scan-service.js';
import type { Logger } from '../logger.js';
import type { Registry } from '../model/agent.js';
import type { AccountNames } from '../model/principal.js';
import type { RedisClient } from '../queue/connection.js';
import { computeOnce, firstWriterWins } from '../util/compute-once.js';
import type { AlertsConfig, SilenceRule } from './config.js';
import { asDrillItem, type DrillAlerts } from './drill-items.js';
import { driftItems, findingItems, pagingClass } from './items.js';
import { type AlertPlan, planAlerts } from './plan.js';
import { RemediationNotices } from './remediation-notices.js';
import type { Notification, Sink, SinkResult } from './types.js';

export interface Delivery {
  notificationId: string;
  sink: string;
  mode: Notification['mode'];
  items: number;
  ok: boolean;
  status: number | null;
  detail: string;
  attempt: number;
  final: boolean;
  at: string;
}

export interface AlertDeps {
  redis: RedisClient;
  prefix: string;
  config: AlertsConfig;
  scans: ScanService;
  findings: FindingsService;
  audit: AuditAppender;
  clock: Clock;
  log: Logger;
  registry: Registry;
  /** Built by the composition root (main.ts), one per configured sink. */
  sinks: ReadonlyMap<string, Sink>;
  /** `aws.accounts[].name` by account id: alerts name the account. */
  accountNames?: AccountNames;
  /** Config silences plus those created at runtime (silence-store.ts); absent: config's only. */
  silences?: { all(): Promise<SilenceRule[]> };
  /** The credentials drills planted (drill/store.ts), and where drill items go (config `drills.alerts`). */
  drills?: DrillAlerts;
}

const TTL_S = 30 * 86_400;

export class AlertService {
  readonly sinks: ReadonlyMap<string, Sink>;

  constructor(private readonly d: AlertDeps) {
    this.sinks = d.sinks;
  }

  private key = (s: string) => `${this.d.prefix}:alerts:${s}`;

  private notices: RemediationNotices | null = null;

  /**
   * Remediation's alert transitions (remediation-notices.ts), one per service: main.ts hands it to
   * RemediationService as its notifier, queue/runtime.ts binds it to the delivery queues.
   */
  get remediationNotices(): RemediationNotices {
    this.notices ??= new RemediationNotices({
      redis: this.d.redis,
      config: this.d.config,
      clock: this.d.clock,
      notificationKey: (id) => this.key(`n:${id}`),
      pagedKey: this.key('paged'),
      ttlSeconds: TTL_S,
      ...(this.d.drills ? { drills: this.d.drills } : {}),
      ...(this.d.accountNames ? { accountNames: this.d.accountNames } : {}),
    });
    return this.notices;
  }

  /** Plan a scan's alerts (once) and return the notifications to deliver. */
  async planScan(scanId: string): Promise<Notification[]> {
    if (this.sinks.size === 0) return [];
    // A held evaluation pages and resolves nothing until a person releases it (findings/hold.ts).
    if ((await this.d.findings.evaluation(scanId))?.held) return [];
    const planKey = this.key(`plan:${scanId}`);
    const { value: plan } = await computeOnce<AlertPlan>(
      this.d.redis,
      planKey,
      () => this.compute(scanId),
      firstWriterWins(this.d.redis, planKey, TTL_S),
    );
    for (const [i, a] of plan.audit.entries()) {
      await this.d.audit.append({
        type: a.type,
        actor: 'credwarden',
        subject: a.subject,
        data: { scanId, ...a.data },
        idempotencyKey: `${scanId}/alerts/${i}`,
      });
    }
    const tx = this.d.redis.multi();
    for (const [fp, sinks] of plan.pagedAdd) tx.hset(this.key('paged'), fp, JSON.stringify(sinks));
    if (plan.pagedRemove.length) tx.hdel(this.key('paged'), ...plan.pagedRemove);
    const expired = plan.audit.filter((a) => a.type === 'silence.expired').map((a) => a.subject);
    if (expired.length) tx.sadd(this.key('silences-expired'), ...expired);
    for (const n of plan.notifications) tx.set(this.key(`n:${n.id}`), JSON.stringify(n), 'EX', TTL_S, 'NX');
    await tx.exec();
    return plan.notifications;
  }

  private async compute(scanId: string): Promise<AlertPlan> {
    const transitions = await this.d.findings.appliedTransitions(scanId);
    const drift = (await this.d.scans.drift(scanId))?.events ?? [];
    const findings = new Map((await this.d.findings.all()).map((f) => [f.fingerprint, f]));
    const credentials = new Map((await this.d.scans.currentInventory()).map((c) => [c.id, c]));
    const now = this.d.clock.now();
    const ctx = {
      scanId,
      now,
      credentials,
      registry: this.d.registry,
      runbookUrl: this.d.config.runbookUrl,
      ...(this.d.accountNames ? { accountNames: this.d.accountNames } : {}),
    };
    const planted = (await this.d.drills?.plantedCredentials()) ?? new Map<string, string>();
    const items = [...findingItems(transitions, findings, ctx), ...driftItems(drift, ctx)].map((i) =>
      asDrillItem(i, planted.get(i.credentialId)),
    );
    const pageClass = new Map(
      items.map((i) => [
        i.id,
        i.action === 'trigger' ? pagingClass(i, findings.get(i.fingerprint), credentials.get(i.credentialId)) : null,
      ]),
    );
    const pagedRaw = await this.d.redis.hgetall(this.key('paged'));
    const silences = this.d.silences ? await this.d.silences.all() : this.d.config.silences;
    return planAlerts({
      scanId,
      now,
      items,
      pageClass,
      findings,
      config: { ...this.d.config, silences },
      sinkTypes: new Map(this.d.config.sinks.map((s) => [s.name, s.type])),
      paged: new Map(Object.entries(pagedRaw).map(([fp, j]) => [fp, JSON.parse(j) as string[]])),
      alreadyExpiredSilences: new Set(await this.d.redis.smembers(this.key('silences-expired'))),
      ...(this.d.drills ? { drillRoute: this.d.drills.route } : {}),
    });
  }

  /**
   * Read-only: the notifications a scan's stored plan holds (id, sink, mode; `scan --once` waits
   * for their deliveries), or null when the scan has no stored plan (no sinks, or not planned yet).
   */
  async plannedNotifications(scanId: string): Promise<Pick<Notification, 'id' | 'sink' | 'mode'>[] | null> {
    const raw = await this.d.redis.get(this.key(`plan:${scanId}`));
    if (!raw) return null;
    return (JSON.parse(raw) as AlertPlan).notifications.map((n) => ({ id: n.id, sink: n.sink, mode: n.mode }));
  }

  /** Read-only: whether a notification is recorded as delivered. */
  async isDelivered(id: string): Promise<boolean> {
    return (await this.d.redis.sismember(this.key('delivered'), id)) === 1;
  }

  async notification(id: string): Promise<Notification | null> {
    const raw = await this.d.redis.get(this.key(`n:${id}`));
    return raw ? (JSON.parse(raw) as Notification) : null;
  }

  /**
   * Send one notification. Returns the sink's result; the caller (the delivery job) retries
   * retryable failures while attempts remain. A notification already delivered is not sent again.
   */
  async deliver(id: string, attempt: number, maxAttempts: number): Promise<SinkResult & { duplicate?: boolean }> {
    if (await this.d.redis.sismember(this.key('delivered'), id))
      return { ok: true, status: null, retryable: false, detail: 'already delivered', duplicate: true };
    const n = await this.notification(id);
    if (!n) return { ok: false, status: null, retryable: false, detail: `notification ${id} not found (expired?)` };
    const sink = this.sinks.get(n.sink);
    if (!sink)
      return { ok: false, status: null, retryable: false, detail: `sink "${n.sink}" is not configured any more` };
    const res = await sink.send(n);
    const final = res.ok || !res.retryable || attempt >= maxAttempts;
    await this.record(n, res, attempt, final);
    return res;
  }

  private async record(n: Notification, res: SinkResult, attempt: number, final: boolean): Promise<void> {
    const at = this.d.clock.now().toISOString();
    const d: Delivery = {
      notificationId: n.id,
      sink: n.sink,
      mode: n.mode,
      items: n.items.length,
      ok: res.ok,
      status: res.status,
      detail: res.detail,
      attempt,
      final,
      at,
    };
    const tx = this.d.redis
      .multi()
      .lpush(this.key('deliveries'), JSON.stringify(d))
      .ltrim(this.key('deliveries'), 0, 999);
    if (res.ok) tx.sadd(this.key('delivered'), n.id);
    await tx.exec();
    if (!final) return;
    await this.d.audit.append({
      type: res.ok ? 'alert.sent' : 'alert.failed',
      actor: 'credwarden',
      subject: n.id,
      data: {
        sink: n.sink,
        mode: n.mode,
        scanId: n.group.scanId,
        owner: n.group.owner,
        fingerprints: n.items.map((i) => i.fingerprint),
        actions: n.items.map((i) => i.action),
        status: res.status,
        attempts: attempt,
        detail: res.detail,
      },
      idempotencyKey: `alert/${n.id}/${res.ok ? 'sent' : 'failed'}`,
    });
  }

  async deliveries(limit = 50): Promise<Delivery[]> {
    return (await this.d.redis.lrange(this.key('deliveries'), 0, limit - 1)).map((j) => JSON.parse(j) as Delivery);
  }

  /** `alerts test`: a clearly-labelled test event, sent now (not queued), recorded and audited. */
  async sendTest(sinkName: string): Promise<SinkResult> {
    const sink = this.sinks.get(sinkName);
    if (!sink) throw new Error(`no sink named "${sinkName}" (sinks: ${[...this.sinks.keys()].join(', ') || 'none'})`);
    const now = this.d.clock.now();
    const id = `msg_test_${now.getTime()}`;
    const n: Notification = {
      id,
      sink: sinkName,
      mode: 'test',
      group: { owner: null, scanId: 'test' },
      createdAt: now.toISOString(),
      items: [
        {
          id: `test:${now.getTime()}`,
          action: 'trigger',
          transition: 'test',
          fingerprint: `credwarden-test:${sinkName}`,
          title: 'credwarden test alert: delivery works (no action needed)',
          severity: 'info',
          policy: 'credwarden-test',
          rules: [],
          detector: null,
          credentialId: 'test',
          kind: 'test',
          source: 'test',
          agentId: null,
          owner: null,
          environment: null,
          evidence: [],
          tags: {},
          runbookUrl: null,
          scanId: 'test',
          at: now.toISOString(),
        },
      ],
    };
    await this.d.redis.set(this.key(`n:${id}`), JSON.stringify(n), 'EX', TTL_S);
    const res = await sink.send(n);
    await this.record(n, res, 1, true);
    return res;
  }
}
