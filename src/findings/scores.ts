/**
 * The risk scores in Redis, recomputed whole after every applied evaluation (pure scoring in
 * policy/score.ts):
 *   P:scores:credentials  hash  credential id → CredentialScore JSON (open findings only)
 *   P:scores:agents       hash  agent id → AgentScore JSON
 * Written through the inventory lease's fence, so a holder that lost it writes nothing.
 */

import type { Credential } from '../model/credential.js';
import type { Finding } from '../policy/model.js';
import { type AgentScore, type CredentialScore, scoreAgent, scoreCredential } from '../policy/score.js';
import type { RedisClient } from '../queue/connection.js';
import type { Effect } from '../util/effects.js';
import type { Lease } from '../util/lease.js';

const WRITE_CHUNK = 500;

export class ScoreStore {
  private readonly credKey: string;
  private readonly agentKey: string;

  constructor(
    private readonly redis: RedisClient,
    prefix: string,
  ) {
    this.credKey = `${prefix}:scores:credentials`;
    this.agentKey = `${prefix}:scores:agents`;
  }

  /** Recompute every score from the findings just applied (scores read findings; credentials only for their kind and expiry). */
  async write(findings: readonly Finding[], credentials: readonly Credential[], lease: Lease): Promise<void> {
    const byCred = new Map<string, Finding[]>();
    for (const f of findings) {
      if (f.state !== 'open') continue;
      const list = byCred.get(f.credentialId);
      if (list) list.push(f);
      else byCred.set(f.credentialId, [f]);
    }
    const inventory = new Map(credentials.map((c) => [c.id, c]));
    const creds = [...byCred.entries()].map(([id, fs]) => scoreCredential(id, fs, inventory.get(id)));
    const agentIds = [...new Set(creds.map((c) => c.agentId).filter((a): a is string => a !== null))];
    const agents = agentIds.map((a) => scoreAgent(a, creds));
    const writes: Effect[] = [
      { op: 'del', key: this.credKey },
      { op: 'del', key: this.agentKey },
      ...creds.map(
        (c): Effect => ({
          op: 'hset',
          key: this.credKey,
          field: c.credentialId,
          value: JSON.stringify(c),
        }),
      ),
      ...agents.map((a): Effect => ({ op: 'hset', key: this.agentKey, field: a.agentId, value: JSON.stringify(a) })),
    ];
    for (let i = 0; i < writes.length; i += WRITE_CHUNK) await lease.write(writes.slice(i, i + WRITE_CHUNK));
  }

  async credential(id: string): Promise<CredentialScore | null> {
    const raw = await this.redis.hget(this.credKey, id);
    return raw ? (JSON.parse(raw) as CredentialScore) : null;
  }

  /** Every credential's score, by credential id. */
  async credentials(): Promise<Map<string, CredentialScore>> {
    const all = await this.redis.hgetall(this.credKey);
    return new Map(Object.entries(all).map(([id, raw]) => [id, JSON.parse(raw) as CredentialScore]));
  }

  async agent(id: string): Promise<AgentScore | null> {
    const raw = await this.redis.hget(this.agentKey, id);
    return raw ? (JSON.parse(raw) as AgentScore) : null;
  }
}
