/**
 * Queues, job names and payloads: the one source of truth for job wiring. Payloads carry ids and
 * references, never secrets (BullMQ stores job data as clear text).
 *
 *   scan       start-scan  {trigger, scanId?}        a scheduler tick or `scan --once`; fans out
 *   discover   discover    {scanId, unitKey}         one job per source × account / cluster-namespace
 *   inventory  finalize    {scanId}                  merge, drift, audit, summary (delayed by the
 *                                                    scan timeout, promoted when the last unit reports)
 *   evaluate   evaluate    {scanId}                  policies × inventory → findings, transitions, scores; plans alerts
 *   alert-<sink> deliver {notificationId}           one notification to one sink (own queue: own rate limit)
 *   remediate  remediate   {planId}                  one attempt of an action under guardrails, or one
 *                                                    step run of a rotation (remediation/executor.ts)
 *   decisions  decide      {planId, subject, decision, source, responseUrl, clickedAt}
 *                                                    a Slack click on Approve or Deny, made and answered
 *                                                    (api/slack.ts; one job per request signature)
 *   audit      checkpoint  {trigger, head?}          sign the audit head and send it to the checkpoint
 *                                                    sinks (audit/checkpoints.ts); `head` pins a retry
 *   export     export      {name}                    one scheduled findings export (`evidence.exports`,
 *                                                    export/run.ts) to its file or webhook
 *   drill      drill       {scenario}                one scheduled drill (`schedules.drills`,
 *                                                    drill/runner.ts): plant, watch, clean up
 */
import type { DrillScenario } from '../drill/config.js';
import { jobId } from '../model/ids.js';

export const QueueNames = {
  scan: 'scan',
  discover: 'discover',
  inventory: 'inventory',
  evaluate: 'evaluate',
  remediate: 'remediate',
  decisions: 'decisions',
  audit: 'audit',
  export: 'export',
  drill: 'drill',
} as const;
export type QueueName = (typeof QueueNames)[keyof typeof QueueNames];

export const JobNames = {
  startScan: 'start-scan',
  discover: 'discover',
  finalize: 'finalize',
  evaluate: 'evaluate',
  deliver: 'deliver',
  remediate: 'remediate',
  decide: 'decide',
  checkpoint: 'checkpoint',
  export: 'export',
  drill: 'drill',
} as const;

/** One delivery queue per sink, so each sink gets its own rate limit (BullMQ limiters are per queue). */
export const alertQueueName = (sink: string) => `alert-${sink}`;

export interface StartScanPayload {
  trigger: 'schedule' | 'cli' | 'api' | 'drill';
  scanId?: string;
  /** Restrict to these unit keys (e.g. one account); all units when absent. */
  units?: string[];
  /** Evaluate time-based rules as of this ISO time (`--as-of`). */
  asOf?: string;
}
export interface DiscoverPayload {
  scanId: string;
  unitKey: string;
}
export interface FinalizePayload {
  scanId: string;
}
export interface EvaluatePayload {
  scanId: string;
}
export interface DeliverPayload {
  notificationId: string;
}
export interface RemediatePayload {
  planId: string;
}
/**
 * A person's click in Slack. `responseUrl` is where the outcome is posted: Slack's per-click
 * reply URL (it can post to that one conversation for 30 minutes), held only until the job ends.
 */
export interface DecidePayload {
  planId: string;
  subject: string;
  decision: 'approve' | 'deny';
  source: 'slack';
  responseUrl: string;
  clickedAt: string;
  /** Set once the decision is made, so a retry only posts the answer again and never decides twice. */
  answer?: string;
}

/** A scheduled (or operator's) audit checkpoint. `head` is set by the first attempt: retries cover the same head. */
export interface CheckpointJobPayload {
  trigger: 'schedule' | 'cli';
  head?: { seq: number; hash: string };
}

/** One scheduled findings export: the `evidence.exports` entry by name. */
export interface ExportJobPayload {
  name: string;
}

/** One scheduled drill: the `schedules.drills` entry's scenario. */
export interface DrillJobPayload {
  scenario: DrillScenario;
}

export const SCHEDULER_ID = 'discover-schedule';
/** The job scheduler of one `schedules.drills` scenario. */
export const drillSchedulerId = (scenario: string) => `drill-schedule-${scenario}`;
/** The job scheduler of one `evidence.exports` entry. */
export const exportSchedulerId = (name: string) => `export-schedule-${name}`;
export const CHECKPOINT_SCHEDULER_ID = 'checkpoint-schedule';

export const ids = {
  startScan: (scanId: string) => jobId('scan', scanId),
  discover: (scanId: string, unitKey: string) => jobId('discover', scanId, unitKey),
  finalize: (scanId: string) => jobId('inventory', scanId),
  evaluate: (scanId: string) => jobId('evaluate', scanId),
  deliver: (notificationId: string) => jobId('alert', notificationId),
  /** One attempt of a plan (`a<attempt>`) or one wake-up of a rotation (`w<ms>`). */
  remediate: (planId: string, key: string) => jobId('remediate', planId, key),
  /** One Slack request (the sha256 of its signature): a delivery retried by Slack is the same job. */
  decide: (signatureHash: string) => jobId('decide', signatureHash),
};

/** A scan id from the scheduler's deterministic job id (`repeat:<scheduler>:<millis>`), so a replayed tick is the same scan. */
export function scanIdForJob(jobIdValue: string | undefined, fallbackMs: number): string {
  const m = /:(\d+)$/.exec(jobIdValue ?? '');
  const ms = m ? Number(m[1]) : fallbackMs;
  return `sched-${new Date(ms).toISOString().replace(/[:.]/g, '-')}`;
}
