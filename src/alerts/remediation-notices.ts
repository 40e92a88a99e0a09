/**
 * Remediation's alert transitions (DESIGN flow step 7): the alerting side of RemediationNotifier
 * (remediation/notify.ts), built by AlertService.remediationNotices and bound to the delivery
 * queues by the runtime (`setEnqueue`), as the remediate queue is bound to RemediationService.
 *
 * Routing is the findings' routing (plan.ts routeFor) over the plan's owner team, agent,
 * environment, severity and policy. Silences and inhibition do not apply: they mute findings, and
 * an action taken on a credential is news whatever the finding's mute.
 * - an action that settled done, already done, failed or cancelled: a `change` notification (a
 *   PagerDuty Change Event: context, no page) on each of the route's page sinks, and a one-item
 *   digest line on each of its digest sinks; done or already done also resolves the page its
 *   finding opened (a `resolve` with the finding's dedup key on the sinks that paged);
 * - an action held at execution (kill switch, breaker, window, rate, cooldown): the digest line
 *   only (the next run decides again);
 * - a batch a blast-radius cap held: a real page (dedup key `batch-held:<scanId>:<policy>`) on the
 *   page sinks of every plan's route, saying which policy, how many plans and why, plus the digest line;
 * - an action that now awaits approval: like a settled one (a change on the page sinks, the line on
 *   the digest sinks), once per request (`msgId('approval', planId, approvalRequestedAt, sink)`);
 *   on Slack it carries Approve and Deny buttons when `api.slack` is set (sinks/slack.sink.ts).
 * PagerDuty sinks never get digest lines (their channel is the change event or the page); a sink
 * that is both a page and a digest sink gets the page (or change) only.
 *
 * Idempotent: notification ids are `msgId('action', planId, attempt, sink)` and
 * `msgId('batch-held', scanId, policy, sink)` (the `msg_<hash>` form every notification id has:
 * safe as a webhook-id and a job id); each is stored with SET NX under `P:alerts:n:<id>` (the
 * AlertService key) and every call queues all of them again under deterministic deliver job ids,
 * so a retry after a crash between store and queue still delivers, and a delivered notification
 * is never sent twice (AlertService.deliver checks `P:alerts:delivered`).
 * Items carry ids, names and the executor's detail, never a secret value; sinks escape them.
 */

import type { Clock } from '../clock.js';
import { CwError, ErrorCodes } from '../errors.js';
import type { ActionPlan, ActionRecord, ActionResult } from '../model/action.js';
import { severityRank } from '../model/finding.js';
import { type AccountNames, principalInfo } from '../model/principal.js';
import type { RedisClient } from '../queue/connection.js';
import type { RemediationNotifier } from '../remediation/notify.js';
import type { AlertsConfig } from './config.js';
import { asDrillItem, type DrillAlerts, drillLabelled } from './drill-items.js';
import { itemRoute, msgId } from './plan.js';
import type { AlertItem, AlertTransition, Notification, RemediationNote } from './types.js';

/** Queues delivery jobs for notifications (queue/deliveries.ts queueDeliveries over the sinks' queues). */
export type EnqueueNotifications = (notifications: readonly Notification[]) => Promise<unknown>;

export interface RemediationNoticeDeps {
  redis: RedisClient;
  config: AlertsConfig;
  clock: Clock;
  /** The Redis key of a stored notification (AlertService's `P:alerts:n:<id>`). */
  notificationKey: (id: string) => string;
  /** AlertService's `P:alerts:paged` (fingerprint → the sinks its trigger paged). */
  pagedKey?: string;
  ttlSeconds: number;
  accountNames?: AccountNames;
  enqueue?: EnqueueNotifications;
  /** Drill credentials are labelled and routed as drills (service.ts DrillAlerts). */
  drills?: DrillAlerts;
}

const TRANSITION: Record<ActionResult['outcome'], AlertTransition> = {
  done: 'action-done',
  'already-done': 'action-done',
  failed: 'action-failed',
  cancelled: 'action-cancelled',
  held: 'action-held',
};

const WORD: Record<ActionResult['outcome'], string> = {
  done: 'done',
  'already-done': 'already done',
  failed: 'FAILED',
  cancelled: 'cancelled',
  held: 'held',
};

const BATCH_CREDENTIALS_SHOWN = 20;

export class RemediationNotices implements RemediationNotifier {
  private enqueueFn: EnqueueNotifications | null;
  private readonly sinkTypes: ReadonlyMap<string, string>;

  constructor(private readonly d: RemediationNoticeDeps) {
    this.enqueueFn = d.enqueue ?? null;
    this.sinkTypes = new Map(d.config.sinks.map((s) => [s.name, s.type]));
  }

  /** Binds the delivery queues (queue/runtime.ts). */
  setEnqueue(fn: EnqueueNotifications): void {
    this.enqueueFn = fn;
  }

  async actionSettled(record: ActionRecord): Promise<void> {
    const result = record.result;
    if (!result) return;
    const item = await drillLabelled(
      this.d.drills,
      actionItem(record.plan, result, record.attempt, this.d.config, this.d.accountNames),
    );
    const route = itemRoute(item, this.d.config.routes, this.sinkTypes, this.d.drills?.route);
    const pageSinks = result.outcome === 'held' ? [] : route.page;
    const notes = this.notifications(item, pageSinks, route.digest, 'change', result.at, (sink) =>
      msgId('action', record.plan.id, String(record.attempt), sink),
    );
    // The action fixed what the finding paged for: resolve that incident on the sinks it paged
    // (same dedup key, the fingerprint), then forget the page so the finding's own resolve, at the
    // next scan, does not page again. A retry finds the page still recorded and re-queues the same ids.
    const fixed = result.outcome === 'done' || result.outcome === 'already-done';
    const paged =
      fixed && this.d.pagedKey ? await this.d.redis.hget(this.d.pagedKey, record.plan.findingFingerprint) : null;
    const resolveSinks = paged ? (JSON.parse(paged) as string[]) : [];
    const resolve = { ...item, id: `${item.id}:resolve`, action: 'resolve' as const };
    for (const sink of resolveSinks)
      notes.push({
        id: msgId('action-resolve', record.plan.id, String(record.attempt), sink),
        sink,
        mode: 'page',
        items: [resolve],
        group: { owner: item.owner?.team ?? null, scanId: item.scanId },
        createdAt: result.at,
      });
    await this.send(notes);
    if (resolveSinks.length) await this.d.redis.hdel(this.d.pagedKey!, record.plan.findingFingerprint);
  }

  async approvalRequested(record: ActionRecord): Promise<void> {
    const at = record.approvalRequestedAt;
    if (record.state !== 'awaiting-approval' || !at) return;
    const item = await drillLabelled(this.d.drills, approvalItem(record, at, this.d.config, this.d.accountNames));
    const route = itemRoute(item, this.d.config.routes, this.sinkTypes, this.d.drills?.route);
    const notes = this.notifications(item, route.page, route.digest, 'change', at, (sink) =>
      msgId('approval', record.plan.id, at, sink),
    );
    await this.send(notes);
  }

  async batchHeld(scanId: string, policy: string, plans: readonly ActionPlan[], reason: string): Promise<void> {
    if (plans.length === 0) return;
    const page = new Set<string>();
    const digest = new Set<string>();
    const planted = (await this.d.drills?.plantedCredentials()) ?? new Map<string, string>();
    for (const p of plans) {
      const item = asDrillItem(planItem(p, this.d.accountNames), planted.get(p.target.credentialId));
      const route = itemRoute(item, this.d.config.routes, this.sinkTypes, this.d.drills?.route);
      for (const s of route.page) page.add(s);
      for (const s of route.digest) digest.add(s);
    }
    const item = batchItem(scanId, policy, plans, reason, this.d.clock.now().toISOString(), this.d.config);
    const notes = this.notifications(item, [...page], [...digest], 'page', item.at, (sink) =>
      msgId('batch-held', scanId, policy, sink),
    );
    await this.send(notes);
  }

  private notifications(
    item: AlertItem,
    pageSinks: readonly string[],
    digestSinks: readonly string[],
    pageMode: 'page' | 'change',
    createdAt: string,
    id: (sink: string) => string,
  ): Notification[] {
    const group = { owner: item.owner?.team ?? null, scanId: item.scanId };
    const out: Notification[] = pageSinks.map((sink) => ({
      id: id(sink),
      sink,
      mode: pageMode,
      items: [item],
      group,
      createdAt,
    }));
    for (const sink of digestSinks) {
      if (pageSinks.includes(sink) || this.sinkTypes.get(sink) === 'pagerduty') continue;
      out.push({ id: id(sink), sink, mode: 'digest', items: [item], group, createdAt });
    }
    return out;
  }

  private async send(notes: Notification[]): Promise<void> {
    if (notes.length === 0) return;
    if (!this.enqueueFn)
      throw new CwError(ErrorCodes.QUEUE, 'no delivery queues are bound: remediation notices cannot be queued');
    const tx = this.d.redis.multi();
    for (const n of notes) tx.set(this.d.notificationKey(n.id), JSON.stringify(n), 'EX', this.d.ttlSeconds, 'NX');
    await tx.exec();
    // Every call queues every notice again: the deliver job ids are deterministic, so a second
    // call adds nothing, and one that follows a crash between the store and the queue still delivers.
    await this.enqueueFn(notes);
  }
}

/** The fields an item about a plan shares: who holds the credential, who owns it, how it routes. */
function planItem(plan: ActionPlan, accountNames: AccountNames | undefined) {
  const t = plan.target;
  const p = principalInfo(
    { kind: t.kind, principal: t.principal, source: t.source, sourceType: t.sourceType, attributes: t.identity },
    accountNames,
  );
  return {
    id: `plan:${plan.id}`,
    action: 'trigger' as const,
    fingerprint: plan.findingFingerprint,
    severity: plan.severity,
    policy: plan.policy,
    policies: [plan.policy],
    rules: [],
    detector: plan.facts[0]?.detector ?? null,
    credentialId: t.credentialId,
    kind: t.kind,
    source: t.source,
    principal: p.principal,
    principalName: p.principalName,
    principalType: p.principalType,
    account: p.account,
    agentId: plan.agentId,
    owner: plan.owner,
    environment: plan.environment,
    tags: plan.tags,
    scanId: plan.scanId,
  };
}

/** `alerts.runbookUrl` with {policy} and {fingerprint} filled, as findings' items do. */
const runbook = (tpl: string | undefined, policy: string, fingerprint: string): string | null =>
  tpl
    ? tpl
        .replaceAll('{policy}', encodeURIComponent(policy))
        .replaceAll('{fingerprint}', encodeURIComponent(fingerprint))
    : null;

function actionItem(
  plan: ActionPlan,
  result: ActionResult,
  attempt: number,
  config: AlertsConfig,
  accountNames: AccountNames | undefined,
): AlertItem {
  const remediation: RemediationNote = {
    planId: plan.id,
    action: plan.action,
    attempt,
    outcome: result.outcome,
    detail: result.detail,
  };
  return {
    ...planItem(plan, accountNames),
    id: `action:${plan.id}:${attempt}`,
    transition: TRANSITION[result.outcome],
    title: `${plan.action} ${WORD[result.outcome]} on ${plan.target.credentialId}${result.outcome === 'failed' ? `: ${result.detail}` : ''}`,
    evidence: [
      { label: 'action', value: plan.action },
      { label: 'outcome', value: result.outcome },
      { label: 'detail', value: result.detail },
      { label: 'plan', value: plan.id },
      { label: 'attempt', value: String(attempt) },
    ],
    runbookUrl: runbook(config.runbookUrl, plan.policy, plan.findingFingerprint),
    at: result.at,
    remediation,
  };
}

function approvalItem(
  record: ActionRecord,
  at: string,
  config: AlertsConfig,
  accountNames: AccountNames | undefined,
): AlertItem {
  const plan = record.plan;
  const why = record.decision.reasons.map((r) => r.message).join('; ') || 'approval required';
  return {
    ...planItem(plan, accountNames),
    id: `approval:${plan.id}:${at}`,
    transition: 'approval-requested',
    title: `${plan.action} awaits approval on ${plan.target.credentialId}`,
    evidence: [
      { label: 'action', value: plan.action },
      { label: 'why', value: why },
      { label: 'plan', value: plan.id },
      { label: 'asked', value: at },
    ],
    runbookUrl: runbook(config.runbookUrl, plan.policy, plan.findingFingerprint),
    at,
    remediation: {
      planId: plan.id,
      action: plan.action,
      attempt: record.attempt,
      outcome: 'awaiting-approval',
      detail: why,
    },
  };
}

function batchItem(
  scanId: string,
  policy: string,
  plans: readonly ActionPlan[],
  reason: string,
  at: string,
  config: AlertsConfig,
): AlertItem {
  const worst = plans.reduce((a, p) => (severityRank(p.severity) > severityRank(a.severity) ? p : a), plans[0]!);
  const distinct = (f: (p: ActionPlan) => string) => [...new Set(plans.map(f))].sort();
  const teams = distinct((p) => p.owner?.team ?? '');
  const agents = distinct((p) => p.agentId ?? '');
  const actions = distinct((p) => p.action).join(', ');
  const credentials = plans.map((p) => p.target.credentialId);
  const count = `${plans.length} plan${plans.length === 1 ? '' : 's'}`;
  const fingerprint = `batch-held:${scanId}:${policy}`;
  return {
    id: fingerprint,
    action: 'trigger',
    transition: 'batch-held',
    fingerprint,
    title: `remediation batch held for policy ${policy}: ${count} not run (${actions}): ${reason}`,
    severity: worst.severity,
    policy,
    policies: [policy],
    rules: [],
    detector: null,
    credentialId: plans.length === 1 ? credentials[0]! : `${plans.length} credentials`,
    kind: distinct((p) => p.target.kind).join(', '),
    source: distinct((p) => p.target.source).join(', '),
    agentId: agents.length === 1 && agents[0] ? agents[0] : null,
    owner: teams.length === 1 && worst.owner ? worst.owner : null,
    environment: null,
    evidence: [
      { label: 'reason', value: reason },
      { label: 'plans', value: String(plans.length) },
      { label: 'actions', value: actions },
      ...credentials.slice(0, 5).map((c) => ({ label: 'credential', value: c })),
    ],
    tags: {},
    runbookUrl: runbook(config.runbookUrl, policy, fingerprint),
    scanId,
    at,
    remediation: {
      planId: null,
      action: actions,
      attempt: null,
      outcome: 'batch-held',
      detail: reason,
      plans: plans.length,
      credentials: credentials.slice(0, BATCH_CREDENTIALS_SHOWN),
    },
  };
}
