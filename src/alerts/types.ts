/**
 * Alerting nouns shared by the pipeline (routing, grouping, inhibition, silences, delivery) and
 * the sinks (PagerDuty, Slack, signed webhooks). An AlertItem is one transition worth telling
 * someone about; a Notification is what one sink sends once: a single page, or one digest per
 * owner per scan. Neither ever holds a secret value: credential ids, not credentials.
 */
import type { Severity } from '../policy/types.js';

/**
 * `merged`: a finding from before collapsing became part of another (its page, if any, resolves).
 * `action-*`: a remediation action settled (done or already done, failed, cancelled by the live
 * re-check, held at execution); `batch-held`: a blast-radius cap held a policy's whole batch;
 * `approval-requested`: an action waits for people to approve it (remediation-notices.ts).
 */
export type AlertTransition =
  | 'opened'
  | 'reopened'
  | 'escalated'
  | 'resolved'
  | 'merged'
  | 'privilege-drift'
  | 'test'
  | 'action-done'
  | 'action-failed'
  | 'action-cancelled'
  | 'action-held'
  | 'batch-held'
  | 'approval-requested';

/** What remediation did (or held), on `action-*` and `batch-held` items. Ids and counts only, never a secret. */
export interface RemediationNote {
  /** The plan, or null for a held batch. */
  planId: string | null;
  /** The action type (a held batch: its distinct action types, comma-separated). */
  action: string;
  /** The record's attempt (null for a held batch). */
  attempt: number | null;
  outcome: 'done' | 'already-done' | 'failed' | 'cancelled' | 'held' | 'batch-held' | 'awaiting-approval';
  /** The executor's detail, or the cap's reason. Untrusted: sinks escape it. */
  detail: string;
  /** A held batch: how many plans the cap held, and the first of their credential ids. */
  plans?: number;
  credentials?: string[];
}

export interface AlertItem {
  /** Stable per transition: `<transition>:<fingerprint>`; the same transition never yields two ids. */
  id: string;
  action: 'trigger' | 'resolve';
  transition: AlertTransition;
  /** The finding fingerprint (policy:credential), the dedup key for trigger and resolve alike. */
  fingerprint: string;
  /** One line for people. Untrusted parts are NOT yet escaped: sinks escape for their format. */
  title: string;
  severity: Severity;
  /** The finding's primary policy. */
  policy: string;
  /** Every policy reporting this risk (absent on items planned before findings collapsed). */
  policies?: string[];
  /** The union of those policies' controls, per framework. */
  controls?: Record<string, string[]>;
  rules: string[];
  detector: string | null;
  credentialId: string;
  kind: string;
  source: string;
  /**
   * Who holds the credential (model/principal.ts): the user or role ARN (Vault: display name or
   * path), its name and type, and the AWS account with its configured name. Untrusted.
   */
  principal?: string | null;
  principalName?: string | null;
  principalType?: string | null;
  account?: { id: string; name: string | null } | null;
  agentId: string | null;
  owner: { team: string; contact: string } | null;
  environment: string | null;
  /** Flattened evidence lines (label, value), most important first. Untrusted. */
  evidence: { label: string; value: string }[];
  /** The credential's tags. Untrusted. */
  tags: Record<string, string>;
  runbookUrl: string | null;
  scanId: string;
  /** ISO time of the transition. */
  at: string;
  /** Present on remediation items only. */
  remediation?: RemediationNote;
  /**
   * The drill that planted this credential (drill/store.ts `P:drill:creds`, written only by
   * credwarden, never read from a tag): the item is a drill's, routed as config `drills.alerts` says.
   */
  drill?: string;
}

/** Where a drill's items go: listed sinks, or (both empty) the item's digest sinks, never a page. */
export interface DrillRoute {
  page: string[];
  digest: string[];
}

/** change: context for on-call that notifies no one (a PagerDuty Change Event), one item. */
export type NotificationMode = 'page' | 'digest' | 'change' | 'test';

export interface Notification {
  /** Stable id: the Standard Webhooks `webhook-id` and the delivery's idempotency key. */
  id: string;
  sink: string;
  mode: NotificationMode;
  /** page and change: exactly one item; digest: the owner's items for one scan (a remediation notice: one). */
  items: AlertItem[];
  /** The owner team the digest is for (null: unowned), and the scan it covers. */
  group: { owner: string | null; scanId: string };
  createdAt: string;
}

export interface SinkResult {
  ok: boolean;
  /** HTTP status, or null when no response came back. */
  status: number | null;
  /** 429, 5xx and network errors are worth retrying; any other 4xx is not. */
  retryable: boolean;
  /** Short, safe text for logs and `alerts list` (never a secret, never the whole response). */
  detail: string;
}

export interface Sink {
  readonly name: string;
  readonly type: 'pagerduty' | 'slack' | 'webhook';
  send(n: Notification): Promise<SinkResult>;
}
