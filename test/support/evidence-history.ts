/**
 * A synthetic but realistic audit history for the evidence memory test and `bench:evidence`:
 * hourly scans over `days` days of `credentials` agent credentials across `accounts` accounts,
 * written through the real RedisAuditLog appendMany (one call per scan), on a ManualClock moved
 * to each scan's time, with the event shapes the services write (scan-service, drift, findings
 * transitions, remediation, exceptions):
 *
 * - the first scan adds every credential (credential.added);
 * - then each scan: scan.started, a share of finding transitions (opened, resolved, reopened on
 *   a pool of credentials × four policies), credential status changes, churn (one credential
 *   removed, one added), remediation (action.planned + action.result; every tenth one held for two
 *   approvals, every thirtieth of those rolled back after two more), scan.finished (every 25th
 *   scan partial: the last account timed out), evaluation.finished;
 * - one runtime exception, created on day 1 for 30 days, suppressing some findings.
 * The budget is spread so the total is exactly `events`. Deterministic (seeded PRNG).
 */
import type { AppendInput } from '../../src/audit/event.js';
import type { ManualClock } from '../../src/clock.js';
import type { Credential } from '../../src/model/credential.js';
import { credentialMaker, POLICIES, prng } from './evidence-history-parts.js';

export interface HistoryOptions {
  credentials: number;
  events: number;
  days: number;
  accounts: number;
  start: Date;
  seed?: number;
  /**
   * Of the per-scan events, how many in all carry content (findings, churn, actions, status
   * changes); the rest are quiet status flips of existing credentials, drawn from a PRNG of their
   * own. So two histories with the same `contentEvents` and different `events` hold the same
   * findings, population and actions. Default: every event carries content.
   */
  contentEvents?: number;
}

export interface HistoryFacts {
  events: number;
  scans: number;
  partialScans: number;
  end: Date;
  /** The credentials alive at the end (what the inventory holds). */
  alive: Credential[];
  units: { key: string; label: string; sourceType: 'aws' }[];
}

interface Appender {
  appendMany(inputs: readonly AppendInput[]): Promise<unknown>;
}

export async function writeHistory(log: Appender, clock: ManualClock, o: HistoryOptions): Promise<HistoryFacts> {
  const rnd = prng(o.seed ?? 13);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const accounts = Array.from({ length: o.accounts }, (_, i) => String(100000000001 + i));
  const units = accounts.map((a) => ({ key: `aws/${a}`, label: a, sourceType: 'aws' as const }));
  const newCred = credentialMaker(accounts);
  const alive = new Map<string, Credential>();
  const ids: string[] = [];
  const open = new Set<string>();
  const everOpen = new Set<string>();
  let written = 0;
  let contentWritten = 0;
  const quietRnd = prng((o.seed ?? 13) + 1);
  let plans = 0;
  let partialScans = 0;
  const scans = o.days * 24;
  const base = (scanId: string, c: Credential) => ({ scanId, kind: c.kind, agentId: c.agentId });
  /** A `credential.status-changed` event for c turning active ↔ inactive (and c updated). */
  const flipStatus = (scanId: string, c: Credential): AppendInput => {
    const to = c.status === 'active' ? 'inactive' : 'active';
    const e = {
      type: 'credential.status-changed',
      actor: 'credwarden',
      subject: c.id,
      data: { ...base(scanId, c), from: c.status, to },
    };
    c.status = to;
    return e;
  };
  const summary = (p: (typeof POLICIES)[number], c: Credential) => ({
    policy: p.name,
    policies: [p.name],
    controls: { [p.name]: p.controls },
    credentialId: c.id,
    principal: c.principal,
    account: { id: c.source, name: null },
    agentId: c.agentId,
    severity: p.severity,
    message: `${p.name} hit ${c.id}`,
  });
  const flush = async (at: Date, batch: AppendInput[]) => {
    clock.set(at);
    for (let i = 0; i < batch.length; i += 2000) await log.appendMany(batch.slice(i, i + 2000));
    written += batch.length;
  };

  // The first scan: every credential appears.
  const t0 = o.start;
  const first: AppendInput[] = [
    {
      type: 'scan.started',
      actor: 'credwarden',
      subject: 'scan-0',
      data: { trigger: 'schedule', units: units.map((u) => u.key) },
    },
  ];
  for (let i = 0; i < o.credentials; i++) {
    const c = newCred(t0);
    alive.set(c.id, c);
    ids.push(c.id);
    first.push({
      type: 'credential.added',
      actor: 'credwarden',
      subject: c.id,
      data: { ...base('scan-0', c), principal: c.principal, status: 'active', unregisteredAgent: false },
    });
  }
  first.push({
    type: 'scan.finished',
    actor: 'credwarden',
    subject: 'scan-0',
    data: {
      status: 'complete',
      credentials: o.credentials,
      drift: { 'credential.added': o.credentials },
      apiCalls: 40,
      problems: [],
    },
  });
  await flush(t0, first);

  for (let s = 1; s <= scans; s++) {
    const at = new Date(t0.getTime() + s * 3_600_000);
    const scanId = `scan-${s}`;
    const fixed = s === 24 ? 4 : 3;
    const all = Math.max(0, Math.floor((o.events - written) / (scans - s + 1)) - fixed);
    const contentLeft = (o.contentEvents ?? Number.POSITIVE_INFINITY) - contentWritten;
    const budget = Math.min(all, Math.max(0, Math.floor(contentLeft / (scans - s + 1))));
    const batch: AppendInput[] = [
      {
        type: 'scan.started',
        actor: 'credwarden',
        subject: scanId,
        data: { trigger: 'schedule', units: units.map((u) => u.key) },
      },
    ];
    if (s === 24)
      batch.push({
        type: 'exception.created',
        actor: 'user:carol',
        subject: 'exc-000000000001',
        data: {
          id: 'exc-000000000001',
          selector: { policies: ['agent-console'] },
          owner: 'carol@example.com',
          reason: 'console access during the migration',
          expires: new Date(at.getTime() + 30 * 86_400_000).toISOString(),
        },
      });
    const partial = s % 25 === 0;
    while (batch.length - 1 - (s === 24 ? 1 : 0) < budget) {
      const left = budget - (batch.length - 1 - (s === 24 ? 1 : 0));
      const r = rnd();
      const c = alive.get(pick(ids));
      if (!c) continue;
      if (r < 0.5) {
        const p = pick(POLICIES);
        const fp = `${p.name}:${c.id}`;
        if (open.has(fp)) {
          open.delete(fp);
          batch.push({
            type: 'finding.resolved',
            actor: 'credwarden',
            subject: fp,
            data: { ...summary(p, c), openedAt: at.toISOString() },
          });
        } else {
          open.add(fp);
          const excepted = p.name === 'agent-console' && s >= 24 && s < 24 + 30 * 24;
          const type = excepted ? 'finding.suppressed' : everOpen.has(fp) ? 'finding.reopened' : 'finding.opened';
          everOpen.add(fp);
          batch.push({
            type,
            actor: 'credwarden',
            subject: fp,
            data: {
              ...summary(p, c),
              ...(excepted ? { exceptionId: 'exc-000000000001', owner: 'carol@example.com', reason: 'migration' } : {}),
            },
          });
        }
      } else if (r < 0.75) {
        batch.push(flipStatus(scanId, c));
      } else if (r < 0.9 && left >= 2) {
        alive.delete(c.id);
        batch.push({
          type: 'credential.removed',
          actor: 'credwarden',
          subject: c.id,
          data: { ...base(scanId, c), principal: c.principal, lastStatus: c.status },
        });
        const n = newCred(at);
        alive.set(n.id, n);
        ids[ids.indexOf(c.id)] = n.id;
        batch.push({
          type: 'credential.added',
          actor: 'credwarden',
          subject: n.id,
          data: { ...base(scanId, n), principal: n.principal, status: 'active', unregisteredAgent: false },
        });
      } else if (left >= 2) {
        const planId = `act-${(plans++).toString(16).padStart(12, '0')}`;
        const held = plans % 10 === 0 && left >= 6;
        const rollback = held && plans % 300 === 0 && left >= 10;
        const action = held ? 'detach-policy' : 'deactivate-key';
        const policy = held ? 'admin-keys' : 'unused-keys';
        const d = { planId, action, policy, scanId };
        batch.push({
          type: 'action.planned',
          actor: 'credwarden',
          subject: c.id,
          data: {
            ...d,
            decision: held ? 'hold' : 'allow',
            state: held ? 'awaiting-approval' : 'queued',
            reasons: held ? [{ guard: 'approval', code: 'approval-required', message: 'approval required' }] : [],
          },
        });
        if (held)
          for (const by of ['user:alice', 'user:bob'])
            batch.push({
              type: 'approval.granted',
              actor: by,
              subject: c.id,
              data: { planId, action, approvals: by === 'user:alice' ? 1 : 2, needed: 2, source: 'api' },
            });
        batch.push({
          type: 'action.result',
          actor: 'credwarden',
          subject: c.id,
          data: {
            planId,
            attempt: 1,
            action,
            outcome: 'done',
            detail: 'done',
            preState: { exists: true, facts: {} },
            postState: { exists: true, facts: {} },
          },
        });
        if (rollback) {
          batch.push({
            type: 'action.rollback-requested',
            actor: 'user:erin',
            subject: c.id,
            data: { planId, action, needed: 2, source: 'cli' },
          });
          for (const by of ['user:alice', 'user:bob'])
            batch.push({
              type: 'approval.granted',
              actor: by,
              subject: c.id,
              data: { planId, action, for: 'rollback', requestedBy: 'user:erin', needed: 2, source: 'cli' },
            });
          batch.push({
            type: 'action.rolled-back',
            actor: 'user:erin',
            subject: c.id,
            data: { planId, action, preState: { exists: true, facts: {} }, approvedBy: ['user:alice', 'user:bob'] },
          });
        }
      } else {
        batch.push(flipStatus(scanId, c));
      }
    }
    contentWritten += batch.length - 1 - (s === 24 ? 1 : 0);
    for (let q = budget; q < all; q++) {
      const c = alive.get(ids[Math.floor(quietRnd() * ids.length)]!)!;
      batch.push(flipStatus(scanId, c));
    }
    const last = units.at(-1)!.key;
    batch.push({
      type: 'scan.finished',
      actor: 'credwarden',
      subject: scanId,
      data: {
        status: partial ? 'partial' : 'complete',
        credentials: alive.size,
        drift: {},
        apiCalls: 40,
        problems: partial
          ? [{ unit: last, scope: last, code: 'Timeout', message: 'the unit did not report before the scan deadline' }]
          : [],
      },
    });
    batch.push({
      type: 'evaluation.finished',
      actor: 'credwarden',
      subject: scanId,
      data: { scanId, open: open.size },
    });
    if (partial) partialScans++;
    await flush(at, batch);
  }
  return {
    events: written,
    scans: scans + 1,
    partialScans,
    end: new Date(t0.getTime() + scans * 3_600_000),
    alive: [...alive.values()],
    units,
  };
}
