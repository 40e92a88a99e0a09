/**
 * The period's population, folded from credential.* events and completed from the current
 * inventory. A credential belongs to it when it existed at some time in [from, to]: recorded
 * (credential.added) at or before `to`, and not removed before `from`. One the chain never saw
 * added (it predates the chain) but that is in the inventory, or that a later event names, belongs
 * to it with firstSeen null. Memory grows with the credentials alive at or after `from`, never
 * with the events: a credential removed before `from` is dropped when its removal is read.
 */
import type { AuditEvent } from '../audit/event.js';
import type { PopulationEntry } from './model.js';

/** What the inventory says of a credential now (the fields the pack needs). */
export interface InventoryFacts {
  id: string;
  kind: string;
  sourceType: 'aws' | 'vault';
  source: string;
  principal: string;
  agentId: string | null;
  owner: string | null;
  unregisteredAgent: boolean;
  createdAt: string | null;
  lastUsed: string | null;
  status: string;
}

interface Rec {
  id: string;
  kind: string;
  principal: string | null;
  agent: string | null;
  unregisteredAgent: boolean;
  status: string | null;
  firstSeen: string | null;
  removedAt: string | null;
  /** Recorded first after `to`: not in the population, whatever the inventory says. */
  after: boolean;
}

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

/** `aws/<account>/…` → aws and the account; `vault/<cluster>/<ns>/…` → vault and `<cluster>/<ns>`. */
export function sourceOfId(id: string): { sourceType: 'aws' | 'vault' | null; source: string } {
  const parts = id.split('/');
  if (parts[0] === 'aws' && parts[1]) return { sourceType: 'aws', source: parts[1] };
  if (parts[0] === 'vault' && parts[1]) return { sourceType: 'vault', source: parts.slice(1, 3).join('/') };
  return { sourceType: null, source: parts.slice(0, 2).join('/') };
}

export class PopulationFold {
  private readonly recs = new Map<string, Rec>();

  constructor(
    private readonly fromMs: number,
    private readonly toMs: number,
  ) {}

  /** Every credential.* event, in seq order, those after `to` included. */
  apply(e: AuditEvent, t: number): void {
    if (!e.type.startsWith('credential.')) return;
    const d = e.data;
    let rec = this.recs.get(e.subject);
    if (t > this.toMs) {
      // Only whether it first appeared after the period matters now.
      if (!rec && e.type === 'credential.added') this.recs.set(e.subject, { ...this.blank(e), after: true });
      return;
    }
    if (!rec) {
      rec = this.blank(e);
      this.recs.set(e.subject, rec);
    }
    if (typeof d.agentId === 'string' || d.agentId === null) rec.agent = d.agentId as string | null;
    switch (e.type) {
      case 'credential.added':
        rec.firstSeen ??= e.time;
        rec.removedAt = null;
        rec.principal = str(d.principal) ?? rec.principal;
        rec.status = str(d.status) ?? rec.status;
        rec.unregisteredAgent = d.unregisteredAgent === true;
        break;
      case 'credential.removed':
        rec.removedAt = e.time;
        rec.principal = str(d.principal) ?? rec.principal;
        rec.status = str(d.lastStatus) ?? rec.status;
        if (t < this.fromMs) this.recs.delete(e.subject);
        break;
      case 'credential.status-changed':
        rec.status = str(d.to) ?? rec.status;
        break;
      case 'credential.attribution-changed':
        rec.agent = str(d.to);
        rec.unregisteredAgent = d.unregisteredAgent === true;
        break;
    }
  }

  private blank(e: AuditEvent): Rec {
    return {
      id: e.subject,
      kind: str(e.data.kind) ?? 'unknown',
      principal: str(e.data.principal),
      agent: str(e.data.agentId),
      unregisteredAgent: e.data.unregisteredAgent === true,
      status: null,
      firstSeen: null,
      removedAt: null,
      after: false,
    };
  }

  /**
   * The population, sorted by id: the folded records completed with `inventory` (created, last
   * used, owner, source). `ownerOf` names an agent's owner from the registry for a credential the
   * inventory no longer holds.
   */
  finish(inventory: Iterable<InventoryFacts>, ownerOf: (agent: string | null) => string | null): PopulationEntry[] {
    const now = new Map<string, InventoryFacts>();
    for (const c of inventory) now.set(c.id, c);
    const out: PopulationEntry[] = [];
    for (const r of this.recs.values()) {
      if (r.after) continue;
      if (r.firstSeen && Date.parse(r.firstSeen) > this.toMs) continue;
      if (r.removedAt && Date.parse(r.removedAt) < this.fromMs) continue;
      const inv = now.get(r.id);
      const src = inv ? { sourceType: inv.sourceType, source: inv.source } : sourceOfId(r.id);
      out.push({
        id: r.id,
        kind: r.kind !== 'unknown' ? r.kind : (inv?.kind ?? r.kind),
        ...src,
        principal: r.principal ?? inv?.principal ?? null,
        agent: r.agent,
        owner: inv && inv.agentId === r.agent ? (inv.owner ?? ownerOf(r.agent)) : ownerOf(r.agent),
        unregisteredAgent: r.unregisteredAgent,
        created: inv?.createdAt ?? null,
        firstSeen: r.firstSeen,
        lastUsed: inv?.lastUsed ?? null,
        removedAt: r.removedAt,
        status: r.status ?? inv?.status ?? null,
      });
      now.delete(r.id);
    }
    // In the inventory and never named by an event: it predates the chain.
    for (const inv of now.values()) {
      if (this.recs.has(inv.id)) continue;
      out.push({
        id: inv.id,
        kind: inv.kind,
        sourceType: inv.sourceType,
        source: inv.source,
        principal: inv.principal,
        agent: inv.agentId,
        owner: inv.owner ?? ownerOf(inv.agentId),
        unregisteredAgent: inv.unregisteredAgent,
        created: inv.createdAt,
        firstSeen: null,
        lastUsed: inv.lastUsed,
        removedAt: null,
        status: inv.status,
      });
    }
    return out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }
}
