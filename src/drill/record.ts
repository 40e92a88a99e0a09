/**
 * A running drill's record and its audit trail: every change is one audit event that carries the
 * whole record, applied to the stored record in the same script (effects). Times are measured from
 * `riskAt`, the moment the risky state existed.
 */
import type { App } from '../main.js';
import { vaultNamespaceSegment } from '../model/ids.js';
import type { DrillScenario, DrillsConfig } from './config.js';
import type { StageUpdate } from './observe.js';
import type { Removal } from './planter.js';
import { DRILL_STAGES, type DrillRecord, type DrillStage, type PlantedResource } from './store.js';

/** The detectors that count as each scenario's detection. */
export const DETECTORS: Record<DrillScenario, string[]> = {
  'admin-key': ['admin'],
  'self-escalation': ['privesc'],
  'unregistered-secret-id': ['unregistered', 'vault-glob'],
  'stale-token': ['never-expires', 'vault-sudo'],
  runaway: ['runaway'],
};

/** The scan unit a drill's target lives in (the account's, or the Vault namespace's). */
export function unitFor(app: App, cfg: DrillsConfig, target: 'aws' | 'vault'): { key: string; source: string } {
  if (target === 'aws') return { key: `aws/${cfg.aws!.account}`, source: cfg.aws!.account };
  const v = cfg.vault!;
  const seg = vaultNamespaceSegment(v.namespace);
  const keys = app.orchestrator.units({ sourceType: 'vault' }).map((u) => u.key);
  const key = keys.find((k) => k === `vault/${v.cluster}/${seg}`) ?? `vault/${v.cluster}`;
  return { key, source: `${v.cluster}/${seg}` };
}

type Applied = { stage: DrillStage; patch: Partial<DrillRecord>; ms: number };

/** The record change an observed stage brings. */
export function stageUpdate(
  u: Exclude<StageUpdate, { stage: 'queued' | 'held' | 'blocked' }>,
  riskAtMs: number,
): Applied {
  const ms = Math.max(0, Date.parse(u.at) - riskAtMs);
  if (u.stage === 'detect')
    return { stage: 'detect', ms, patch: { detection: { policy: u.policy, fingerprint: u.fingerprint, at: u.at } } };
  if (u.stage === 'alert')
    return {
      stage: 'alert',
      ms,
      patch: { alert: { sink: u.sink, mode: u.mode, notification: u.notification, at: u.at } },
    };
  const { stage, ...rest } = u;
  void stage;
  return { stage: 'remediate', ms, patch: { remediation: { ...rest } } };
}

export class DrillRecorder {
  readonly record: DrillRecord;
  /** Appends by this recorder; a resumed record continues after its events (`<id>/r<n>/…`). */
  private seq = 0;
  private readonly keyBase: string;
  failed = false;

  /** A record whose drill process stopped (drill cleanup, or the next drill, takes it over). */
  static resume(app: App, rec: DrillRecord): DrillRecorder {
    const r = new DrillRecorder(app, { ...rec, deadlineMs: 0 }, rec);
    return r;
  }

  constructor(
    private readonly app: App,
    o: Pick<DrillRecord, 'id' | 'scenario' | 'trigger' | 'by' | 'target'> & { deadlineMs: number },
    resumed?: DrillRecord,
  ) {
    this.keyBase = resumed ? `${o.id}/resumed-${app.clock.now().getTime()}` : o.id;
    if (resumed) {
      this.record = structuredClone(resumed);
      return;
    }
    const now = app.clock.now();
    this.record = {
      id: o.id,
      scenario: o.scenario,
      trigger: o.trigger,
      by: o.by,
      target: o.target,
      startedAt: now.toISOString(),
      deadlineAt: new Date(now.getTime() + o.deadlineMs).toISOString(),
      finishedAt: null,
      status: 'running',
      stage: 'plant',
      reason: null,
      planted: [],
      riskAt: null,
      times: {},
      detection: null,
      alert: null,
      remediation: null,
      cleanup: null,
      scans: [],
    };
  }

  private async append(type: string, extra: Record<string, unknown> = {}, credentials?: 'mark') {
    const r = this.record;
    const ids = r.planted.flatMap((p) => (p.credentialId ? [p.credentialId] : []));
    const effects = [
      ...this.app.drills.saveEffects(r),
      ...(credentials === 'mark' ? this.app.drills.markEffects(r.id, ids) : []),
    ];
    await this.app.audit.append({
      type,
      actor: r.trigger === 'schedule' ? 'credwarden' : r.by,
      subject: r.id,
      data: { drill: structuredClone(r), ...extra },
      idempotencyKey: `${this.keyBase}/${++this.seq}/${type}`,
      effects,
    });
  }

  started = () => this.append('drill.started');

  async intent(resources: PlantedResource[]): Promise<void> {
    this.record.planted.push(...resources);
    await this.append('drill.plant-intent', { resources });
  }

  async planted(resources: PlantedResource[]): Promise<void> {
    // A placeholder (`*`: "every key of the user") stays: removal goes by the parent anyway.
    this.record.planted.push(...resources);
    await this.append('drill.planted', { resources }, 'mark');
  }

  credentialIds(): string[] {
    return this.record.planted.flatMap((p) => (p.credentialId ? [p.credentialId] : []));
  }

  riskNow(): void {
    this.record.riskAt = this.app.clock.now().toISOString();
  }

  riskAtMs(): number {
    return Date.parse(this.record.riskAt ?? this.record.startedAt);
  }

  pastDeadline(): boolean {
    return this.app.clock.now().getTime() > Date.parse(this.record.deadlineAt);
  }

  /** Move to a later stage (never back) and audit it. */
  async stageReached(stage: DrillStage, extra: Record<string, unknown> = {}): Promise<void> {
    if (DRILL_STAGES.indexOf(stage) <= DRILL_STAGES.indexOf(this.record.stage) && stage !== 'plant') return;
    this.record.stage = stage;
    await this.append('drill.stage', { stage, ...extra });
  }

  async apply(a: Applied): Promise<void> {
    Object.assign(this.record, a.patch);
    const t = this.record.times;
    if (a.patch.detection) t.detectMs = a.ms;
    if (a.patch.alert) t.alertMs = a.ms;
    if (a.patch.remediation) {
      if (a.patch.remediation.state === 'awaiting-approval') t.approvalMs = a.ms;
      else t.remediateMs = a.ms;
    }
    const next: DrillStage = this.record.detection ? (this.record.alert ? 'remediate' : 'alert') : 'detect';
    this.record.stage = this.complete() ? 'cleanup' : next;
    await this.append('drill.stage', { stage: a.stage, ms: a.ms });
  }

  /** Detected, alerted, and remediated or put to people for approval. */
  complete(): boolean {
    const r = this.record;
    return !!(r.detection && r.alert && r.remediation);
  }

  fail(stage: DrillStage, reason: string): void {
    this.failed = true;
    this.record.stage = stage;
    this.record.reason = reason;
  }

  deadlineReason(why: string | null): string {
    const r = this.record;
    const missing = !r.detection
      ? 'no finding with a detector of this drill was opened on the planted credentials'
      : !r.alert
        ? `no alert carrying ${r.detection.fingerprint} was delivered`
        : 'no action on the planted credentials finished or asked for approval';
    const mins = (Date.parse(r.deadlineAt) - Date.parse(r.startedAt)) / 60_000;
    return `did not complete within its deadline (${mins} min) at stage ${r.stage}: ${missing}${why ? ` (${why})` : ''}`;
  }

  async cleaned(out: Removal): Promise<void> {
    this.record.cleanup = { at: this.app.clock.now().toISOString(), ...out };
    // The marks stay: an action settling, or a finding resolving, after cleanup is still the drill's.
    await this.append('drill.cleaned');
  }

  async finished(): Promise<void> {
    const r = this.record;
    const cleanFail = r.cleanup?.failed.length ? r.cleanup.failed : null;
    if (!this.failed && !this.complete()) this.fail(r.stage, 'the drill stopped before it completed');
    if (!this.failed && cleanFail)
      this.fail('cleanup', `cleanup failed: ${cleanFail.map((f) => `${f.id}: ${f.error}`).join('; ')}`);
    r.status = this.failed ? 'failed' : 'passed';
    if (!this.failed) r.stage = 'done';
    r.finishedAt = this.app.clock.now().toISOString();
    await this.append('drill.finished');
  }
}
