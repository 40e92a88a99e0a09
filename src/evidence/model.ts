/**
 * What an evidence pack says, as data: the period's population, findings, actions, exceptions,
 * scan coverage and drills, folded from the audit chain (collect.ts), and the chain facts the proof
 * rests on.
 * Every time is ISO 8601 UTC; every duration is in days (findings) or hours (coverage gaps).
 * Pure types; controls.ts judges them, report*.ts renders them.
 */
import type { Severity } from '../model/finding.js';
import type { FrameworkId } from './frameworks.js';

export interface Period {
  from: string;
  to: string;
}

/** One credential that existed at some time in the period. */
export interface PopulationEntry {
  id: string;
  kind: string;
  sourceType: 'aws' | 'vault' | null;
  /** The account id, or `<cluster>/<namespace>` (the credential-id prefix when no scan says more). */
  source: string;
  principal: string | null;
  agent: string | null;
  /** `team <contact>`, from the inventory or the registry entry of its agent. */
  owner: string | null;
  unregisteredAgent: boolean;
  /** When the backend says it was created (the inventory's createdAt). */
  created: string | null;
  /** When credwarden first recorded it (credential.added); null if it predates the chain. */
  firstSeen: string | null;
  /** The latest use credwarden knows of. */
  lastUsed: string | null;
  removedAt: string | null;
  status: string | null;
}

/** One stretch of a finding from opened (or reopened) to resolved or merged. */
export interface FindingEpisode {
  start: string;
  how: 'opened' | 'reopened' | 'suppressed';
  end: string | null;
  endedBy: 'resolved' | 'merged' | null;
  /** The highest severity during the episode. */
  severity: Severity;
  /** Times under an exception: [from, to) with to null while it lasts. */
  suppressions: { from: string; to: string | null; exceptionId: string | null }[];
}

export interface FindingEvidence {
  fingerprint: string;
  policy: string;
  /** Every policy that reported it at any time. */
  policies: string[];
  /** Each policy's controls as the events recorded them. */
  controls: Record<string, Record<string, string[]>>;
  credentialId: string;
  agentId: string | null;
  severity: Severity;
  message: string;
  /** The episodes that overlap the period (each may start before it). */
  episodes: FindingEpisode[];
  /** At the end of the period. */
  stateAtEnd: 'open' | 'suppressed' | 'resolved' | 'merged';
}

export interface ApprovalEvidence {
  by: string;
  at: string;
  source: string | null;
  reason?: string;
}

export interface ActionEvidence {
  planId: string;
  action: string;
  policy: string | null;
  credentialId: string;
  plannedAt: string;
  /** Each recorded decision: held, awaiting approval, allowed, denied … */
  decisions: { at: string; decision: string; state: string; codes: string[] }[];
  approvalRequired: boolean;
  /** Approvals required (from the approval events, else the configured approvers). */
  needed: number | null;
  approvals: ApprovalEvidence[];
  denials: ApprovalEvidence[];
  /** The last result, with the approvers of the request it ran under. */
  result: { at: string; outcome: string; detail: string; approvedBy: string[] } | null;
  rollbackRequest: { by: string; at: string; needed: number | null } | null;
  rollbackApprovals: ApprovalEvidence[];
  rolledBack: { by: string; at: string; approvedBy: string[] } | null;
  firstEventAt: string;
  lastEventAt: string;
}

export interface ExceptionEvidence {
  id: string;
  /** config: a policy file's; api: created at runtime; unknown: only seen on a suppressed finding. */
  source: 'config' | 'api' | 'unknown';
  owner: string;
  reason: string;
  /** The expiry as declared. */
  expires: string;
  createdAt: string | null;
  createdBy: string | null;
  lifted: { by: string; at: string; reason?: string } | null;
  /** When its expiry was audited (exception.expired). */
  expiredAt: string | null;
  selector: Record<string, unknown>;
  /** Findings it suppressed in the period. */
  suppressed: string[];
}

export type UnitScanStatus = 'complete' | 'partial' | 'failed' | 'timed-out' | 'not-reported';

export interface ScanEvidence {
  id: string;
  trigger: string;
  startedAt: string;
  finishedAt: string | null;
  status: 'complete' | 'partial' | 'running';
  units: { key: string; status: UnitScanStatus; problems: { code: string; message: string; scope: string }[] }[];
}

export interface UnitCoverage {
  key: string;
  label: string;
  sourceType: string;
  /** In the config at export time (a unit only seen in scans was configured once and removed). */
  configured: boolean;
  scans: number;
  completeScans: number;
  lastComplete: string | null;
  /** The longest stretch without a complete scan: period start, each complete scan, period end. */
  largestGapHours: number;
  /** Distinct problem reasons of its incomplete scans. */
  reasons: string[];
}

/**
 * One drill whose `drill.finished` event falls in the period, as that event's record says (a later
 * `drill.cleaned` event up to the end of the period updates its cleanup). Times are milliseconds
 * from when the risky state existed; null when the stage was not reached.
 */
export interface DrillEvidence {
  id: string;
  scenario: string;
  trigger: string;
  by: string;
  /** `aws <account>` or `vault <cluster>/<namespace>`. */
  target: string;
  startedAt: string | null;
  finishedAt: string;
  /** The drill.finished event (in audit/slice.jsonl). */
  event: { seq: number; time: string };
  status: 'passed' | 'failed';
  /** The furthest stage reached. */
  stage: string;
  reason: string | null;
  times: { detectMs: number | null; alertMs: number | null; remediateMs: number | null; approvalMs: number | null };
  detection: { policy: string; at: string } | null;
  alert: { sink: string; mode: string; at: string } | null;
  /** The action the pipeline took, its guardrail decision and its state (`awaiting-approval` when people must approve). */
  remediation: { action: string; decision: string; state: string; outcome: string | null; at: string } | null;
  planted: { kind: string; id: string; credentialId: string | null }[];
  cleanup: { removed: string[]; gone: string[]; failed: { id: string; error: string }[] } | null;
}

export interface ChainFacts {
  chainId: string | null;
  hashAlgorithm: 'sha256' | 'hmac-sha256';
  headSeq: number;
  headHash: string;
  /** The slice: the events recorded in the period (fromSeq > toSeq when there are none). */
  fromSeq: number;
  toSeq: number;
  sliceLastHash: string;
  eventsRead: number;
}

export interface CollectedEvidence {
  framework: FrameworkId;
  period: Period;
  generatedAt: string;
  chain: ChainFacts;
  population: PopulationEntry[];
  findings: FindingEvidence[];
  actions: ActionEvidence[];
  exceptions: ExceptionEvidence[];
  coverage: { scans: ScanEvidence[]; units: UnitCoverage[] };
  /** Drills that finished in the period, in the order their drill.finished events were recorded. */
  drills: DrillEvidence[];
}
