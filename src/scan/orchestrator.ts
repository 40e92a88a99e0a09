/**
 * Runs scans over the registered sources. Two drivers share it: the queues (a start-scan job fans
 * out one discover job per unit; the last unit to report promotes the finalize job) and the
 * in-process runner used by `inventory` (same steps, no queues). Either way a scan is started,
 * every unit is recorded exactly once (as a result or as a failure), and it is finalized once.
 */
import type { Clock } from '../clock.js';
import { CwError, describeError, ErrorCodes, isCwError } from '../errors.js';
import type { ScanService } from '../inventory/scan-service.js';
import { failedUnit, type ScanSummary } from '../inventory/summary.js';
import type { Logger } from '../logger.js';
import type { Registry } from '../model/agent.js';
import type { SourceType } from '../model/credential.js';
import type { ScanUnit, Source, UnitResult } from '../sources/source.js';
import { mapLimit } from '../util/concurrency.js';

export interface OrchestratorDeps {
  scans: ScanService;
  sources: Source[];
  registry: Registry;
  clock: Clock;
  log: Logger;
  /** Called when every expected unit of a scan has reported (queue mode promotes the finalize job). */
  onAllUnitsReported?: (scanId: string) => Promise<void>;
}

export interface UnitFilter {
  sourceType?: SourceType;
  /** An AWS account id, or a unit key. */
  account?: string;
}

export class ScanOrchestrator {
  constructor(private readonly d: OrchestratorDeps) {}

  /** Queue mode sets this once the inventory queue exists. */
  setCompletionHook(fn: (scanId: string) => Promise<void>): void {
    this.d.onAllUnitsReported = fn;
  }

  units(filter: UnitFilter = {}): ScanUnit[] {
    const all = this.d.sources
      .filter((s) => !filter.sourceType || s.type === filter.sourceType)
      .flatMap((s) => s.units());
    if (!filter.account) return all;
    const picked = all.filter((u) => u.key === filter.account || u.key === `aws/${filter.account}`);
    if (picked.length === 0) {
      throw new CwError(
        ErrorCodes.INPUT,
        `--account ${filter.account} is not a configured account or unit (configured: ${all.map((u) => u.key).join(', ') || 'none'})`,
      );
    }
    return picked;
  }

  private source(unitKey: string): Source {
    const s = this.d.sources.find((src) => src.units().some((u) => u.key === unitKey));
    if (!s) throw new CwError(ErrorCodes.INPUT, `no source serves unit "${unitKey}"`);
    return s;
  }

  start(scanId: string, trigger: string, units: ScanUnit[], asOf?: string): Promise<{ created: boolean }> {
    return this.d.scans.start(scanId, trigger, units, asOf);
  }

  /** Discover one unit and record it. Throws only for retryable failures the caller may retry. */
  async discoverUnit(
    scanId: string,
    unitKey: string,
    opts: { signal?: AbortSignal; progress?: (m: string) => void } = {},
  ): Promise<UnitResult> {
    const result = await this.source(unitKey).discover(unitKey, {
      clock: this.d.clock,
      log: this.d.log.child({ scanId, unit: unitKey }),
      registry: this.d.registry,
      ...(opts.signal ? { signal: opts.signal } : {}),
      ...(opts.progress ? { progress: opts.progress } : {}),
    });
    await this.record(scanId, result);
    return result;
  }

  /** Record a unit that failed for good, so the scan can still finalize (as partial). */
  async recordFailure(scanId: string, unitKey: string, err: unknown): Promise<void> {
    const unit = (await this.d.scans.units(scanId)).find((u) => u.key === unitKey);
    if (!unit) throw new CwError(ErrorCodes.INPUT, `scan ${scanId} has no unit ${unitKey}`);
    const code = isCwError(err) ? err.code : 'Error';
    this.d.log.warn({ scanId, unit: unitKey, err: describeError(err) }, 'unit failed; scan will be partial');
    await this.record(
      scanId,
      failedUnit(unit, this.d.clock.now().toISOString(), code, err instanceof Error ? err.message : String(err)),
    );
  }

  private async record(scanId: string, result: UnitResult): Promise<void> {
    const r = await this.d.scans.recordUnit(scanId, result);
    if (!r.duplicate && r.done >= r.expected) await this.d.onAllUnitsReported?.(scanId);
  }

  finalize(scanId: string): Promise<ScanSummary> {
    return this.d.scans.finalize(scanId);
  }

  /** The whole scan in this process, without queues (used by `inventory`). */
  async runInProcess(
    scanId: string,
    trigger: string,
    units: ScanUnit[],
    concurrency: number,
    progress?: (m: string) => void,
  ): Promise<ScanSummary> {
    await this.start(scanId, trigger, units);
    await mapLimit(units, concurrency, async (u) => {
      try {
        await this.discoverUnit(scanId, u.key, progress ? { progress } : {});
      } catch (err) {
        await this.recordFailure(scanId, u.key, err);
      }
    });
    return this.finalize(scanId);
  }
}

export function newScanId(trigger: string, clock: Clock): string {
  return `${trigger}-${clock.now().toISOString().replace(/[:.]/g, '-')}-${Math.random().toString(36).slice(2, 8)}`;
}
