/**
 * What RemediationService is built from and what it hands around: its dependencies, one
 * remediate job, a scan's stored run and its summary. Types only, so the modules a run is computed
 * in (scan-run.ts) and the service itself share them without importing each other.
 */

import type { ActionPorts } from '../actions/ports.js';
import type { AuditAppender } from '../audit/appender.js';
import type { Clock } from '../clock.js';
import type { FindingsService } from '../findings/service.js';
import type { ScanService } from '../inventory/scan-service.js';
import type { Logger } from '../logger.js';
import type { ActionPlan, GuardDecision } from '../model/action.js';
import type { Registry } from '../model/agent.js';
import type { PolicySet } from '../policy/model.js';
import type { RuleServices } from '../policy/types.js';
import type { RedisClient } from '../queue/connection.js';
import type { Source } from '../sources/source.js';
import type { RemediationConfig } from './config.js';
import type { RemediationNotifier } from './notify.js';
import type { SkippedPlan } from './plan.js';

export interface RemediationDeps {
  redis: RedisClient;
  prefix: string;
  audit: AuditAppender;
  clock: Clock;
  log: Logger;
  config: RemediationConfig;
  policies: PolicySet;
  registry: Registry;
  services: RuleServices;
  sources: readonly Source[];
  ports: ActionPorts;
  scans: ScanService;
  findings: FindingsService;
  /** Can credwarden act on this target (remediation credentials for its account or cluster)? null = yes. */
  credentialsFor(target: ActionPlan['target'], delivery?: ActionPlan['delivery']): string | null;
  /** Alerting for action results and held batches; silent when absent. */
  notifier?: RemediationNotifier;
  /** The execution lease of one action (config worker.leaseSeconds); default 30 s. */
  leaseMs?: number;
}

/**
 * One remediate job: `key` tells the job ids of one plan apart (`a<attempt>` for a queued
 * attempt, `w<ms>` for a rotation's wake-up), so a re-queued plan is a new job and a replayed one
 * is the same job; `delayMs` delays a wake-up.
 */
export interface RemediateJob {
  planId: string;
  key: string;
  delayMs?: number;
}
export type Enqueue = (jobs: readonly RemediateJob[]) => Promise<void>;

export interface StoredRun {
  scanId: string;
  at: string;
  plans: ActionPlan[];
  decisions: Record<string, GuardDecision>;
  skipped: SkippedPlan[];
}

export interface RunSummary {
  scanId: string;
  plans: number;
  byDecision: Record<string, number>;
  byState: Record<string, number>;
  queued: string[];
  skipped: number;
}
