/**
 * Asking for a scan: what `credwarden scan` and `POST /api/v1/scans` share. The units are chosen
 * (all, or one account's), the scan gets its id, and a start-scan job is queued for the workers
 * (its id is the scan's, so a retried request queues one scan). A person's request is audited
 * first, as `scan.requested` with the person as actor: no audit, no scan.
 */
import type { App } from '../main.js';
import { ids, JobNames, type StartScanPayload } from '../queue/names.js';
import type { Queues } from '../queue/runtime.js';
import type { ScanUnit } from '../sources/source.js';
import { newScanId } from './orchestrator.js';

export interface ScanRequest {
  trigger: StartScanPayload['trigger'];
  /** Only this AWS account id (or unit key). */
  account?: string;
  asOf?: Date;
  /** Who asked (`user:<subject>`): audited before the job is queued. */
  by?: string;
}

export async function requestScan(
  app: App,
  queues: Queues,
  req: ScanRequest,
): Promise<{ scanId: string; units: ScanUnit[] }> {
  const units = app.orchestrator.units(req.account ? { account: req.account } : {});
  const scanId = newScanId('scan', app.clock);
  const asOf = req.asOf?.toISOString();
  if (req.by)
    await app.audit.append({
      type: 'scan.requested',
      actor: req.by,
      subject: scanId,
      data: { trigger: req.trigger, units: units.map((u) => u.key), ...(asOf ? { asOf } : {}) },
      idempotencyKey: `${scanId}/requested`,
    });
  await queues.scan.add(
    JobNames.startScan,
    { trigger: req.trigger, scanId, units: units.map((u) => u.key), ...(asOf ? { asOf } : {}) },
    // Backoff as the scheduler's ticks have: an immediate retry meets the same blip.
    { jobId: ids.startScan(scanId), attempts: 3, backoff: { type: 'exponential', delay: 2000 } },
  );
  return { scanId, units };
}
