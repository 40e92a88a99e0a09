/**
 * PagerDuty Events API v2 (PagerDuty/developer-docs, docs/events-API-v2/).
 *
 * Contract:
 * - one event per AlertItem, POSTed as JSON to the sink's url; the notification's result is the
 *   first failure (later items are not sent; a retry re-sends all of them, which is harmless
 *   because PagerDuty folds a trigger into the open alert with the same dedup_key) or the last
 *   success;
 * - dedup_key is the finding fingerprint (stable across trigger and resolve, never a count or a
 *   time), or `sha256:<hex>` of it when longer than PagerDuty's 255 characters;
 * - resolve events carry only routing_key, event_action and dedup_key;
 * - the summary leads with who holds the credential (IAM user or role and the account by its
 *   configured name, or the Vault token), then the finding's title; custom_details starts with the
 *   principal's ARN, name and the account, then the agent, owner, policies and their controls;
 * - trigger payloads respect the documented limits (summary ≤ 1024, severity in
 *   critical|error|warning|info) and every untrusted string is plain()-ed and bounded, so a
 *   hostile tag cannot hide text on a pager screen or push the event past the 512 KB cap;
 * - the routing key never appears in a result's detail.
 * pagerDutyChangeEvent builds a Change Event (…/v2/change/enqueue): context for responders that
 * notifies no one, e.g. "credential rotated". A `change` notification (a remediation action that
 * settled, remediation-notices.ts) sends one per item to the change endpoint beside the sink's url
 * (`…/enqueue` → `…/change/enqueue`): summary (holder, then the action, its outcome, the
 * credential), source, timestamp, custom_details (plan, action, attempt, credential, principal,
 * outcome, detail, policy, agent, owner, scan) and the runbook link. A url not ending in
 * `/enqueue` has no change endpoint: that notification fails, not retried, with no request.
 * A remediation trigger (a held batch) adds its reason, plan count and credentials to custom_details.
 */
import { createHash } from 'node:crypto';
import { oneLine, plain, trimTo } from '../escape.js';
import { accountLabel, holderLine } from '../holder.js';
import type { AlertItem, Notification, Sink, SinkResult } from '../types.js';
import type { PagerDutySinkConfig } from './config.js';
import { isHttpUrl, postJson } from './http.js';

export const PD_CHANGE_URL = 'https://events.pagerduty.com/v2/change/enqueue';

/** The Change Events endpoint beside an Events API url (`…/v2/enqueue` → `…/v2/change/enqueue`), or null. */
export function pagerDutyChangeUrl(url: string): string | null {
  const m = /^(.*)\/enqueue\/?$/.exec(url);
  return m ? `${m[1]}/change/enqueue` : null;
}
export const PD_SUMMARY_MAX = 1024;
export const PD_DEDUP_KEY_MAX = 255;
/** PagerDuty documents no limit for these; bounded to keep an event small and readable. */
const FIELD_MAX = 255;
const EVIDENCE_LINE_MAX = 512;
const EVIDENCE_TOTAL_MAX = 8192;
const EVIDENCE_LINES_MAX = 50;
const TAGS_MAX = 50;
/** The holder part of the summary, so a long title can never push it out. */
const HOLDER_MAX = 300;

export interface PdLink {
  href: string;
  text: string;
}

export interface PdEvent {
  routing_key: string;
  event_action: 'trigger' | 'resolve';
  dedup_key: string;
  payload?: {
    summary: string;
    source: string;
    severity: string;
    timestamp?: string;
    component: string;
    group: string;
    class: string;
    custom_details: Record<string, unknown>;
  };
  links?: PdLink[];
}

export interface PdChangeEvent {
  routing_key: string;
  payload: { summary: string; source: string; timestamp: string; custom_details: Record<string, unknown> };
  links?: PdLink[];
}

export function pagerDutyDedupKey(fingerprint: string): string {
  if (fingerprint.length <= PD_DEDUP_KEY_MAX) return fingerprint;
  return `sha256:${createHash('sha256').update(fingerprint, 'utf8').digest('hex')}`;
}

export function pagerDutyEvent(item: AlertItem, cfg: PagerDutySinkConfig): PdEvent {
  const base = { routing_key: cfg.routingKey, dedup_key: pagerDutyDedupKey(item.fingerprint) };
  if (item.action === 'resolve') return { ...base, event_action: 'resolve' };
  // PagerDuty rejects an empty summary; an all-invisible hostile title must not lose the page.
  const title = oneLine(item.title) || oneLine(`${item.policy} on ${item.credentialId}`) || 'credwarden finding';
  const holder = trimTo(oneLine(holderLine(item) ?? ''), HOLDER_MAX);
  const summary = trimTo(holder ? `${holder}: ${title}` : title, PD_SUMMARY_MAX);
  const timestamp = Number.isNaN(Date.parse(item.at)) ? undefined : item.at;
  const runbook = runbookHref(item, cfg);
  return {
    ...base,
    event_action: 'trigger',
    payload: {
      summary,
      source: cfg.source,
      severity: cfg.severityMap[item.severity],
      ...(timestamp ? { timestamp } : {}),
      component: field(item.policy),
      group: field(item.agentId ?? 'unattributed'),
      class: field(item.detector ?? item.rules[0] ?? item.policy),
      custom_details: customDetails(item),
    },
    ...(runbook ? { links: [{ href: runbook, text: 'Runbook' }] } : {}),
  };
}

export function pagerDutyChangeEvent(input: {
  routingKey: string;
  summary: string;
  source: string;
  timestamp: string;
  customDetails?: Record<string, string>;
  links?: PdLink[];
}): PdChangeEvent {
  const details: Record<string, string> = {};
  for (const [k, v] of Object.entries(input.customDetails ?? {})) details[field(k)] = trimTo(plain(v), FIELD_MAX * 4);
  return {
    routing_key: input.routingKey,
    payload: {
      summary: trimTo(oneLine(input.summary), PD_SUMMARY_MAX),
      source: field(input.source),
      timestamp: input.timestamp,
      custom_details: details,
    },
    ...(input.links?.length ? { links: input.links.map((l) => ({ href: l.href, text: field(l.text) })) } : {}),
  };
}

export class PagerDutySink implements Sink {
  readonly type = 'pagerduty' as const;
  readonly name: string;

  constructor(
    private readonly cfg: PagerDutySinkConfig,
    private readonly fetchImpl: typeof fetch = fetch,
  ) {
    this.name = cfg.name;
  }

  async send(n: Notification): Promise<SinkResult> {
    const url = n.mode === 'change' ? pagerDutyChangeUrl(this.cfg.url) : this.cfg.url;
    if (!url)
      return {
        ok: false,
        status: null,
        retryable: false,
        detail: 'no change endpoint: the url does not end in /enqueue',
      };
    let last: SinkResult = { ok: true, status: null, retryable: false, detail: 'no items to send' };
    for (const item of n.items) {
      const event = n.mode === 'change' ? changeEventFor(item, this.cfg) : pagerDutyEvent(item, this.cfg);
      last = await postJson(url, {}, JSON.stringify(event), this.cfg.timeoutMs, this.fetchImpl, [this.cfg.routingKey]);
      if (!last.ok) return last;
    }
    return last;
  }
}

/** A settled remediation action (or any item) as a Change Event: who, what, the outcome, ids only. */
export function changeEventFor(item: AlertItem, cfg: PagerDutySinkConfig): PdChangeEvent {
  const r = item.remediation;
  const title = oneLine(item.title) || oneLine(`${item.policy} on ${item.credentialId}`) || 'credwarden change';
  const holder = trimTo(oneLine(holderLine(item) ?? ''), HOLDER_MAX);
  const account = accountLabel(item);
  const details: Record<string, string> = {
    ...(r?.planId ? { plan: r.planId } : {}),
    ...(r ? { action: r.action, outcome: r.outcome, detail: r.detail } : {}),
    ...(r?.attempt != null ? { attempt: String(r.attempt) } : {}),
    credential: item.credentialId,
    ...(item.principal ? { principal: item.principal } : {}),
    ...(account ? { account } : {}),
    policy: item.policy,
    agent: item.agentId ?? 'unattributed',
    owner: item.owner ? `${item.owner.team} (${item.owner.contact})` : 'unowned',
    transition: item.transition,
    scan: item.scanId,
  };
  const runbook = runbookHref(item, cfg);
  return pagerDutyChangeEvent({
    routingKey: cfg.routingKey,
    summary: holder ? `${holder}: ${title}` : title,
    source: cfg.source,
    timestamp: Number.isNaN(Date.parse(item.at)) ? new Date().toISOString() : item.at,
    customDetails: details,
    ...(runbook ? { links: [{ href: runbook, text: 'Runbook' }] } : {}),
  });
}

function field(s: string): string {
  return trimTo(oneLine(s), FIELD_MAX);
}

function customDetails(item: AlertItem): Record<string, unknown> {
  const account = accountLabel(item);
  return {
    ...(item.principal ? { principal: field(item.principal) } : {}),
    ...(item.principalName ? { principal_name: field(item.principalName) } : {}),
    ...(item.principalType ? { principal_type: field(item.principalType) } : {}),
    ...(account ? { account: field(account) } : {}),
    agent: item.agentId === null ? 'unattributed' : field(item.agentId),
    owner: item.owner ? `${field(item.owner.team)} (${field(item.owner.contact)})` : 'unowned',
    policy: field(item.policy),
    ...(item.policies ? { policies: item.policies.slice(0, 20).map(field) } : {}),
    ...(item.controls ? { controls: controlLines(item.controls) } : {}),
    rules: item.rules.slice(0, 20).map(field),
    credential: field(item.credentialId),
    kind: field(item.kind),
    source: field(item.source),
    environment: item.environment === null ? null : field(item.environment),
    transition: item.transition,
    evidence: evidenceLines(item.evidence),
    tags: tagLines(item.tags),
    scan: field(item.scanId),
    ...(item.remediation ? { remediation: remediationDetails(item.remediation) } : {}),
  };
}

function remediationDetails(r: NonNullable<AlertItem['remediation']>): Record<string, unknown> {
  return {
    ...(r.planId ? { plan: field(r.planId) } : {}),
    action: field(r.action),
    outcome: r.outcome,
    detail: trimTo(oneLine(r.detail), EVIDENCE_LINE_MAX),
    ...(r.plans !== undefined ? { plans: r.plans } : {}),
    ...(r.credentials ? { credentials: r.credentials.slice(0, TAGS_MAX).map(field) } : {}),
  };
}

/** "label: value" lines, each ≤ 512 characters, together ≤ 8 KB; a final line counts the rest. */
function evidenceLines(evidence: AlertItem['evidence']): string[] {
  const out: string[] = [];
  let total = 0;
  for (const [i, e] of evidence.entries()) {
    const line = trimTo(oneLine(`${e.label}: ${e.value}`), EVIDENCE_LINE_MAX);
    if (out.length === EVIDENCE_LINES_MAX || total + line.length > EVIDENCE_TOTAL_MAX) {
      out.push(`…and ${evidence.length - i} more`);
      break;
    }
    out.push(line);
    total += line.length;
  }
  return out;
}

/** `framework: id, id` per framework, bounded like tags. */
function controlLines(controls: Record<string, string[]>): string[] {
  return Object.entries(controls)
    .slice(0, TAGS_MAX)
    .map(([k, ids]) => field(`${k}: ${ids.join(', ')}`));
}

function tagLines(tags: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(tags).slice(0, TAGS_MAX)) out[field(k)] = field(v);
  return out;
}

/** The item's own runbook, else the sink's template with {policy} and {fingerprint} filled. */
function runbookHref(item: AlertItem, cfg: PagerDutySinkConfig): string | null {
  const template = item.runbookUrl ?? cfg.runbookUrl;
  if (!template) return null;
  const href = template
    .replaceAll('{policy}', encodeURIComponent(item.policy))
    .replaceAll('{fingerprint}', encodeURIComponent(item.fingerprint));
  return isHttpUrl(href) ? href : null;
}
