/**
 * What the read routes serve from: the findings, the current inventory and the action records,
 * each read from Redis once, sorted and indexed, and kept while nothing changed.
 *
 * Reading any of them in full costs one HVALS and a JSON.parse of the whole hash (about 200 ms
 * for 10,000 credentials and 14,000 findings): far too much per request. Every change to them is
 * an audit event's effect, so the audit chain's head seq is their version: a snapshot is served
 * while the head is where it was when the snapshot was read. Past `maxAgeMs` at the same head
 * (only the few writes that are not audited, such as a credential's observedAt, can have moved)
 * it is still served while a new one is read behind it, so no request waits for that refresh.
 * After the head moves, requests wait for a read begun at the new head. One request per view
 * reads Redis at a time; the others wait for it.
 */
import type { App } from '../main.js';
import type { ActionRecord } from '../model/action.js';
import type { Credential } from '../model/credential.js';
import { type Finding, severityRank } from '../model/finding.js';
import type { CredentialScore } from '../policy/score.js';
import { STATUS_SCAN_LIMIT } from '../remediation/status.js';

export interface FindingsView {
  /** Most severe first, then by fingerprint. */
  sorted: readonly Finding[];
  byCredential: ReadonlyMap<string, readonly Finding[]>;
}

export interface InventoryView {
  /** By id. */
  sorted: readonly Credential[];
  byId: ReadonlyMap<string, Credential>;
}

/** Every credential's explained risk score, by credential id (written by each evaluation). */
export type ScoresView = ReadonlyMap<string, CredentialScore>;

export interface ActionsView {
  /** Newest first (as RemediationService.list). */
  sorted: readonly ActionRecord[];
  byCredential: ReadonlyMap<string, readonly ActionRecord[]>;
}

class Snapshot<T> {
  private value: { data: T; seq: number; at: number } | null = null;
  private loading: { seq: number; data: Promise<T> } | null = null;

  constructor(
    private readonly load: () => Promise<T>,
    private readonly seq: () => Promise<number>,
    private readonly maxAgeMs: number,
    private readonly now: () => number,
  ) {}

  async get(): Promise<T> {
    const seq = await this.seq();
    const v = this.value;
    if (v && v.seq === seq) {
      if (this.now() - v.at < this.maxAgeMs) return v.data;
      // The head has not moved, so only unaudited fields (an observedAt) can have: serve this
      // snapshot and read a new one behind it, so no request waits for the periodic refresh.
      if (this.loading?.seq !== seq) this.start(seq);
      return v.data;
    }
    // Join a read already under way only if it began at this head: one begun before a later
    // write could miss it.
    if (this.loading?.seq === seq) return this.loading.data;
    return this.start(seq);
  }

  private start(seq: number): Promise<T> {
    const data = this.read(seq);
    const mine = { seq, data };
    this.loading = mine;
    void data
      .finally(() => {
        if (this.loading === mine) this.loading = null;
      })
      .catch(() => undefined);
    return data;
  }

  private async read(seq: number): Promise<T> {
    const at = this.now();
    const data = await this.load();
    if (!this.value || this.value.seq <= seq) this.value = { data, seq, at };
    return data;
  }
}

function groupBy<T>(items: readonly T[], key: (t: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const i of items) {
    const k = key(i);
    const list = out.get(k);
    if (list) list.push(i);
    else out.set(k, [i]);
  }
  return out;
}

export class ApiViews {
  private readonly f: Snapshot<FindingsView>;
  private readonly i: Snapshot<InventoryView>;
  private readonly a: Snapshot<ActionsView>;
  private readonly s: Snapshot<ScoresView>;

  constructor(app: Pick<App, 'audit' | 'findings' | 'scans' | 'remediation'>, maxAgeMs = 30_000, now = Date.now) {
    const seq = async () => (await app.audit.head()).seq;
    this.f = new Snapshot(
      async () => {
        const sorted = (await app.findings.all()).sort(
          (a, b) => severityRank(b.severity) - severityRank(a.severity) || (a.fingerprint < b.fingerprint ? -1 : 1),
        );
        return { sorted, byCredential: groupBy(sorted, (x) => x.credentialId) };
      },
      seq,
      maxAgeMs,
      now,
    );
    this.i = new Snapshot(
      async () => {
        const sorted = (await app.scans.currentInventory()).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
        return { sorted, byId: new Map(sorted.map((c) => [c.id, c])) };
      },
      seq,
      maxAgeMs,
      now,
    );
    this.s = new Snapshot(() => app.findings.credentialScores(), seq, maxAgeMs, now);
    this.a = new Snapshot(
      async () => {
        const sorted = await app.remediation.list({}, STATUS_SCAN_LIMIT);
        return { sorted, byCredential: groupBy(sorted, (r) => r.plan.target.credentialId) };
      },
      seq,
      maxAgeMs,
      now,
    );
  }

  findings(): Promise<FindingsView> {
    return this.f.get();
  }

  inventory(): Promise<InventoryView> {
    return this.i.get();
  }

  actions(): Promise<ActionsView> {
    return this.a.get();
  }

  /** The credential scores (one HGETALL of every credential's score: kept like the others). */
  scores(): Promise<ScoresView> {
    return this.s.get();
  }
}
