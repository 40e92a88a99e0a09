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

/**
 * A live read of one credential, by its exact id, for remediation's re-check before it acts.
 * - `present`: the source read it now; `credential` has the same shape and attribution a scan
 *   would give (fields a scan takes from bulk data, such as the IAM credential report, come from
 *   per-credential calls instead, and say so in `lastUsed.source`).
 * - `absent`: the source said positively that it does not exist (IAM NoSuchEntity, Vault "invalid
 *   accessor"), or that its principal is gone. Never concluded from a denial or a timeout.
 * - `unknown`: the source could not tell (denied, sealed, a kind it cannot read one at a time);
 *   `code` and `reason` say why. Remediation fails closed on it.
 * Transient failures (network, throttling past retries, 5xx) throw, as in discover. An id that
 * belongs to no unit of this source throws CwError INPUT.
 */
export type RecheckResult =
  | { state: 'present'; credential: Credential; apiCalls: ApiCallCounts; checkedAt: string }
  | { state: 'absent'; reason: string; apiCalls: ApiCallCounts; checkedAt: string }
  | { state: 'unknown'; code: string; reason: string; apiCalls: ApiCallCounts; checkedAt: string };

export type RecheckContext = Omit<DiscoverContext, 'progress'>;

export interface Source {
  readonly type: SourceType;
  /** The permissions the source needs, for the README and for error messages. */
  readonly permissions: readonly string[];
  /** What recheck() needs beyond `permissions`. */
  readonly recheckPermissions: readonly string[];
  units(): ScanUnit[];
  discover(unitKey: string, ctx: DiscoverContext): Promise<UnitResult>;
  /** True when this source owns the id (its unit prefix matches); recheck() is only valid then. */
  owns(credentialId: string): boolean;
  recheck(credentialId: string, ctx: RecheckContext): Promise<RecheckResult>;
}
