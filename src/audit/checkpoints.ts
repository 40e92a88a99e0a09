/**
 * The checkpoint service: signs the head of the chain with the evidence key (checkpoint.ts has the
 * format) and records it where an attacker who rewrites Redis cannot follow:
 * - as an `audit.checkpoint` event (into Redis and the JSONL mirror), whose data is the envelope
 *   and the seq/hash it covers; appending it moves the head by one, which the checkpoint (of the
 *   head before it) does not cover;
 * - to each `evidence.checkpoints.sinks` entry: `file` appends one JSON line and fsyncs (keep it
 *   outside the data directory: a warning at startup says when it is in the audit file's), `webhook`
 *   POSTs the envelope as JSON, signed with the named alerts webhook sink's Standard Webhooks secrets.
 *
 * Redis keys:
 *   <prefix>:audit:checkpoint  Hash: `latest` = the newest checkpoint record (JSON, written with its
 *                              event), `sent:webhook:<sink>` = `<chainId>:<seq>` last delivered there.
 *                              For the API and retries only: `audit verify` never trusts it.
 *
 * Idempotent: the event's idempotency key is `checkpoint/<seq>`; a head that is itself an
 * `audit.checkpoint` event (nothing happened since) is not checkpointed again, its checkpoint is
 * reused; a sink that already has a checkpoint (the file's last lines, the webhook's marker) gets
 * nothing. The job pins the head it read (job data), so a retried job covers the same head and only
 * finishes the sinks. Before signing, the newest checkpoint kept in Redis must still match the
 * chain: a chain rewritten under it is refused (CW_ERR_AUDIT_TAMPERED), never signed.
 * Without `evidence.signingKey` nothing is done (said once, at info).
 */
import { dirname, resolve, sep } from 'node:path';
import { signStandardWebhook } from '../alerts/sign.js';
import type { WebhookSinkConfig } from '../alerts/sinks/config.js';
import { postJson } from '../alerts/sinks/http.js';
import type { Clock } from '../clock.js';
import type { LoadedConfig } from '../config/load.js';
import { CwError, ErrorCodes } from '../errors.js';
import { loadSigningKey, type SigningKey } from '../evidence/signing.js';
import type { Logger } from '../logger.js';
import type { RedisClient } from '../queue/connection.js';
import type { AuditAppender } from './appender.js';
import {
  appendCheckpointLine,
  type CheckpointRecord,
  checkpointName,
  fileHasCheckpoint,
  makeCheckpoint,
  readCheckpoint,
  recordOf,
} from './checkpoint.js';
import type { AuditEvent, AuditHead } from './event.js';
import type { RedisAuditLog } from './redis-audit-log.js';

export type CheckpointSink =
  | { type: 'file'; path: string }
  | { type: 'webhook'; name: string; webhook: WebhookSinkConfig };

export interface CheckpointServiceOptions {
  audit: Pick<RedisAuditLog, 'head' | 'chainId' | 'read'> & Pick<AuditAppender, 'record'>;
  redis: RedisClient;
  prefix: string;
  clock: Clock;
  log: Logger;
  /** Null: checkpoints are off. */
  key: SigningKey | null;
  sinks: CheckpointSink[];
  /** The audit file: a file sink in its directory draws a warning. */
  auditFile: string;
  fetchImpl?: typeof fetch;
  /** Transport time for webhook-timestamp (the wall clock: receivers reject skewed times). */
  wallClock?: () => Date;
}

export interface SinkOutcome {
  sink: string;
  status: 'written' | 'already' | 'failed';
  detail?: string;
  retryable?: boolean;
}

export type CheckpointOutcome =
  | { status: 'off'; detail: string }
  | { status: 'empty'; detail: string }
  | {
      /** `written`: a new checkpoint event; `existing`: the head's checkpoint was recorded before. */
      status: 'written' | 'existing';
      checkpoint: CheckpointRecord;
      /** The seq of the `audit.checkpoint` event. */
      eventSeq: number;
      sinks: SinkOutcome[];
    };

export interface CheckpointNowOptions {
  /** The head to cover (a retried job's pinned head); the current head when absent. */
  head?: AuditHead;
  /** Told the head read, before anything is written (the job stores it for its retries). */
  pin?: (head: AuditHead) => Promise<void>;
}

const short = (h: string): string => `${h.slice(0, 12)}…`;

export class CheckpointService {
  readonly key: string;
  private announced = false;

  constructor(private readonly o: CheckpointServiceOptions) {
    this.key = `${o.prefix}:audit:checkpoint`;
  }

  /** The evidence key's public half (what verification checks against), or null when off. */
  get publicKey() {
    return this.o.key?.publicKey ?? null;
  }

  /** Logs, once per process, whether checkpoints are on, and warns of a file sink beside the audit file. */
  announce(): void {
    if (this.announced) return;
    this.announced = true;
    if (!this.o.key) {
      this.o.log.info('audit checkpoints are off: no evidence.signingKey');
      return;
    }
    const dataDir = dirname(resolve(this.o.auditFile));
    for (const s of this.o.sinks) {
      if (s.type === 'file' && (resolve(s.path) + sep).startsWith(dataDir + sep))
        this.o.log.warn(
          { path: s.path, dataDir },
          'checkpoint file sink is inside the audit file directory: whoever can rewrite the audit file can rewrite it too; keep it elsewhere',
        );
    }
  }

  /** Signs the head and records it (event, then every sink). Sink failures are reported, not thrown. */
  async checkpointNow(opts: CheckpointNowOptions = {}): Promise<CheckpointOutcome> {
    const key = this.o.key;
    if (!key) {
      this.announce();
      return { status: 'off', detail: 'no evidence.signingKey: audit checkpoints are off' };
    }
    const head = opts.head ?? (await this.o.audit.head());
    if (head.seq === 0) return { status: 'empty', detail: 'the audit chain is empty: nothing to checkpoint' };
    const [top] = await this.o.audit.read(head.seq, 1);
    if (top?.seq !== head.seq || top.hash !== head.hash) {
      throw new CwError(
        ErrorCodes.AUDIT_TAMPERED,
        `audit checkpoint: seq ${head.seq} ${short(head.hash)} is no longer in the chain (it is ${top?.seq === head.seq ? short(top.hash) : 'missing'}): run credwarden audit verify`,
      );
    }
    if (!opts.head) await opts.pin?.(head);
    // Nothing happened since the last checkpoint but the checkpoint itself: that one stands.
    const reused = top.type === 'audit.checkpoint' ? this.recordIn(top) : null;
    let rec: CheckpointRecord;
    let eventSeq: number;
    let status: 'written' | 'existing' = 'existing';
    if (reused) {
      rec = reused;
      eventSeq = top.seq;
    } else {
      await this.assertLatestHolds();
      const chainId = await this.o.audit.chainId();
      if (!chainId) throw new CwError(ErrorCodes.AUDIT_TAMPERED, 'audit checkpoint: the chain has a head but no seq 1');
      const envelope = makeCheckpoint(head, chainId, key, this.o.clock.now());
      const fresh = recordOf(envelope, readCheckpoint(envelope, key.publicKey)!);
      const r = await this.o.audit.record({
        type: 'audit.checkpoint',
        actor: 'credwarden',
        subject: `checkpoint/${head.seq}`,
        data: { ...fresh, keyid: key.keyid },
        idempotencyKey: `checkpoint/${head.seq}`,
        effects: [{ op: 'hset', key: this.key, field: 'latest', value: JSON.stringify(fresh) }],
      });
      // A retry: the checkpoint recorded first is the one the sinks get.
      rec = r.appended ? fresh : (this.recordIn(r.event) ?? fresh);
      eventSeq = r.event.seq;
      if (r.appended) status = 'written';
    }
    const sinks: SinkOutcome[] = [];
    for (const s of this.o.sinks) sinks.push(await this.deliver(s, rec));
    const failed = sinks.filter((s) => s.status === 'failed');
    const log = { seq: rec.seq, hash: rec.hash, eventSeq, status, sinks };
    if (failed.length) this.o.log.warn(log, 'audit checkpoint: a sink failed');
    else this.o.log.info(log, 'audit checkpoint');
    return { status, checkpoint: rec, eventSeq, sinks };
  }

  /** The newest checkpoint kept in Redis (for the API; verification never trusts it). */
  async latest(): Promise<CheckpointRecord | null> {
    const raw = await this.o.redis.hget(this.key, 'latest');
    if (!raw) return null;
    try {
      return JSON.parse(raw) as CheckpointRecord;
    } catch {
      return null;
    }
  }

  /** The checkpoint an `audit.checkpoint` event carries, when its signature holds under our key. */
  private recordIn(e: AuditEvent): CheckpointRecord | null {
    const key = this.o.key;
    const envelope = (e.data as { envelope?: unknown }).envelope;
    const p = key && e.type === 'audit.checkpoint' ? readCheckpoint(envelope, key.publicKey) : null;
    return p && p.seq < e.seq ? recordOf(envelope as CheckpointRecord['envelope'], p) : null;
  }

  /** The last checkpoint signed must still be in the chain: a chain rewritten under it is not signed again. */
  private async assertLatestHolds(): Promise<void> {
    const last = await this.latest();
    const p = last && this.o.key ? readCheckpoint(last.envelope, this.o.key.publicKey) : null;
    if (!p) return;
    const [e] = await this.o.audit.read(p.seq, 1);
    if (e?.seq === p.seq && e.hash === p.hash) return;
    throw new CwError(
      ErrorCodes.AUDIT_TAMPERED,
      `audit checkpoint refused: ${checkpointName(p)} says seq ${p.seq} is ${short(p.hash)} but the chain holds ${e?.seq === p.seq ? short(e.hash) : 'no such event'}: the chain was rewritten or cut; run credwarden audit verify`,
    );
  }

  private async deliver(s: CheckpointSink, rec: CheckpointRecord): Promise<SinkOutcome> {
    if (s.type === 'file') {
      const sink = `file ${s.path}`;
      try {
        if (await fileHasCheckpoint(s.path, rec.chainId, rec.seq)) return { sink, status: 'already' };
        await appendCheckpointLine(s.path, rec);
        return { sink, status: 'written' };
      } catch (err) {
        return { sink, status: 'failed', detail: (err as Error).message, retryable: true };
      }
    }
    const sink = `webhook ${s.name}`;
    const field = `sent:webhook:${s.name}`;
    const sent = await this.o.redis.hget(this.key, field);
    const [chain, seq] = (sent ?? ':0').split(':');
    if (chain === rec.chainId && Number(seq) >= rec.seq) return { sink, status: 'already' };
    const body = JSON.stringify(rec.envelope);
    const id = `checkpoint-${rec.chainId.slice(0, 16)}-${rec.seq}`;
    const timestamp = Math.floor((this.o.wallClock?.() ?? new Date()).getTime() / 1000);
    const headers = {
      'webhook-id': id,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': signStandardWebhook({ id, timestamp, body, secrets: s.webhook.secrets }),
    };
    const res = await postJson(s.webhook.url, headers, body, s.webhook.timeoutMs, this.o.fetchImpl, s.webhook.secrets);
    if (!res.ok) return { sink, status: 'failed', detail: res.detail, retryable: res.retryable };
    await this.o.redis.hset(this.key, field, `${rec.chainId}:${rec.seq}`);
    return { sink, status: 'written' };
  }
}

/**
 * The settings of a loaded config, resolved before anything connects: the key of
 * `evidence.signingKey` (null when unset) and the sinks, file paths resolved against the config's
 * directory and webhook names against `alerts.sinks` (a name that is not a webhook sink there is a
 * CW_ERR_CONFIG).
 */
export function checkpointSettings(
  config: Pick<LoadedConfig, 'evidence' | 'alerts' | 'baseDir' | 'audit'>,
): Pick<CheckpointServiceOptions, 'key' | 'sinks' | 'auditFile'> {
  const sinks = config.evidence.checkpoints.sinks.map((s, i): CheckpointSink => {
    if (s.type === 'file') return { type: 'file', path: resolve(config.baseDir, s.path) };
    const hook = config.alerts.sinks.find((a) => a.name === s.sink);
    if (hook?.type !== 'webhook')
      throw new CwError(
        ErrorCodes.CONFIG,
        `evidence.checkpoints.sinks[${i}].sink: "${s.sink}" is not ${hook ? 'a webhook' : 'a'} sink in alerts.sinks`,
      );
    return { type: 'webhook', name: s.sink, webhook: hook };
  });
  return { key: loadSigningKey(config.evidence.signingKey, config.baseDir), sinks, auditFile: config.audit.file };
}
