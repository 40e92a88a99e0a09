/**
 * The Source extension point. A source knows its scan units (an AWS account, a Vault
 * cluster/namespace) from config alone, with no I/O, and discovers one unit at a time, so that
 * the `discover` queue can run one job per unit.
 *
 * Completeness is explicit: a unit result lists the credential-id prefixes it observed in full
 * (`completePrefixes`). Drift may conclude "removed" only for ids under those prefixes; anything
 * a failed or partial call could have hidden is never reported as removed (invariant 5).
 */
import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import type { Registry } from '../model/agent.js';
import type { Credential, SourceType } from '../model/credential.js';
import type { ApiCallCounts } from './api-calls.js';

export interface ScanUnit {
  sourceType: SourceType;
  /** Stable key, also a credential-id prefix: `aws/<account>`, `vault/<cluster>/<namespace>`. */
  key: string;
  /** For people: account name, cluster name. */
  label: string;
}

export interface UnitProblem {
  /** The id prefix (or unit key) the problem made incomplete. */
  scope: string;
  code: string;
  message: string;
}

export interface UnitResult {
  unit: ScanUnit;
  credentials: Credential[];
  completePrefixes: string[];
  problems: UnitProblem[];
  apiCalls: ApiCallCounts;
  startedAt: string;
  finishedAt: string;
}

export interface DiscoverContext {
  clock: Clock;
  log: Logger;
  registry: Registry;
  signal?: AbortSignal;
  /** Human-readable progress for long scans (the CLI shows it on stderr). */
  progress?: (message: string) => void;
}

export interface Source {
  readonly type: SourceType;
  /** The permissions the source needs, for the README and for error messages. */
  readonly permissions: readonly string[];
  units(): ScanUnit[];
  discover(unitKey: string, ctx: DiscoverContext): Promise<UnitResult>;
}
