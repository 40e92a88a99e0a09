/**
 * The invariant poller of the rotation kill trials, a process of its own
 * (`node --import tsx fault-rotate-poller.ts`, driven over IPC): while a trial runs, across its
 * worker's kills and restarts, it reads the agent's KV path (a poll starts every 20 ms, or as
 * soon as the last one ended when that took longer) as the agent would (root
 * token, straight at OpenBao) and checks the key it finds, straight at moto:
 *   - IAM ListAccessKeys of the user lists it, Active (moto's STS accepts an Inactive key, and
 *     any secret: it checks neither);
 *   - sts:GetCallerIdentity signed with it answers the user's ARN (moto answers a default ARN
 *     for a key it does not know, e.g. a deleted one).
 * Then it reads the KV path again: only when the version did not move across the checks is a
 * failed check a violation (the KV held that key during the whole check), so a read racing a
 * legitimate KV write is counted as `raced`, never as a violation.
 *
 * IPC, parent → poller: {cmd:'watch', target}, {cmd:'stop'}, {cmd:'exit'}.
 * Poller → parent: {ev:'watching', label} after the first complete poll of a target;
 * {ev:'report', report} after stop.
 */
import { ListAccessKeysCommand } from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { type AccountSeeder, seederFor } from './aws-seed.js';

export interface PollTarget {
  label: string;
  baoAddress: string;
  rootToken: string;
  /** Inside `secret/`: the KV v2 data path is `secret/data/<kvPath>`. */
  kvPath: string;
  motoEndpoint: string;
  account: string;
  user: string;
  intervalMs?: number;
}

export interface Violation {
  at: number;
  version: number | null;
  keyId: string | null;
  why: string;
}

export interface PollReport {
  label: string;
  polls: number;
  raced: number;
  /** Listings moto cut short (a key STS knew, missing from one listing, present in the next). */
  relisted: number;
  errors: string[];
  violations: Violation[];
  /** KV versions and key ids seen, in the order first seen. */
  versions: number[];
  keys: string[];
  firstAt: number;
  lastAt: number;
}

type Msg = { cmd: 'watch'; target: PollTarget } | { cmd: 'stop' } | { cmd: 'exit' };

const send = (m: unknown) => process.send?.(m);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function kvRead(t: PollTarget): Promise<{ version: number; id: string; secret: string } | null> {
  const res = await fetch(`${t.baoAddress}/v1/secret/data/${t.kvPath}`, {
    headers: { 'X-Vault-Token': t.rootToken },
    signal: AbortSignal.timeout(5_000),
  });
  const body = (await res.json().catch(() => null)) as {
    data?: { data?: Record<string, string> | null; metadata?: { version?: number } };
  } | null;
  if (res.status !== 200 || !body?.data?.data) return null;
  return {
    version: Number(body.data.metadata?.version),
    id: String(body.data.data.access_key_id ?? ''),
    secret: String(body.data.data.secret_access_key ?? ''),
  };
}

async function callerArn(endpoint: string, id: string, secret: string): Promise<string | null> {
  const sts = new STSClient({
    region: 'us-east-1',
    endpoint,
    credentials: { accessKeyId: id, secretAccessKey: secret },
    maxAttempts: 1,
  });
  try {
    return (await sts.send(new GetCallerIdentityCommand({}))).Arn ?? null;
  } catch {
    return null;
  } finally {
    sts.destroy();
  }
}

class Watch {
  stopped = false;
  readonly report: PollReport;
  done: Promise<void>;
  private iam: AccountSeeder | null = null;

  constructor(readonly t: PollTarget) {
    this.report = {
      label: t.label,
      polls: 0,
      raced: 0,
      relisted: 0,
      errors: [],
      violations: [],
      versions: [],
      keys: [],
      firstAt: 0,
      lastAt: 0,
    };
    this.done = this.loop();
  }

  private async once(): Promise<void> {
    const t = this.t;
    const r = this.report;
    const at = Date.now();
    const before = await kvRead(t);
    if (!before) {
      const again = await kvRead(t);
      if (!again) r.violations.push({ at, version: null, keyId: null, why: 'no key in KV' });
      else r.raced++;
      return;
    }
    if (!r.versions.includes(before.version)) r.versions.push(before.version);
    if (!r.keys.includes(before.id)) r.keys.push(before.id);
    this.iam ??= await seederFor(t.motoEndpoint, t.account);
    const [listed, arn] = await Promise.all([
      this.iam.iam.send(new ListAccessKeysCommand({ UserName: t.user })),
      callerArn(t.motoEndpoint, before.id, before.secret),
    ]);
    const want = `arn:aws:iam::${t.account}:user/${t.user}`;
    const statusIn = (l: typeof listed) =>
      (l.AccessKeyMetadata ?? []).find((k) => k.AccessKeyId === before.id)?.Status ?? 'absent';
    let status = statusIn(listed);
    // moto's ListAccessKeys iterates the user's key list while another request may remove a key
    // from it (its server is threaded, the list is not locked), which can skip the next key. A
    // key STS still knows as the user's but the listing left out is listed once more; a key
    // really gone is unknown to STS too (moto answers a default ARN), so this cannot hide one.
    if (status === 'absent' && arn === want) {
      status = statusIn(await this.iam.iam.send(new ListAccessKeysCommand({ UserName: t.user })));
      if (status !== 'absent') r.relisted++;
    }
    const why: string[] = [];
    if (status !== 'Active') why.push(`IAM lists it ${status}`);
    if (arn !== want) why.push(`sts:GetCallerIdentity answers ${arn ?? 'an error'}, not ${want}`);
    if (why.length === 0) return;
    const after = await kvRead(t);
    if (after?.version !== before.version) {
      r.raced++;
      return;
    }
    r.violations.push({ at, version: before.version, keyId: before.id, why: why.join('; ') });
  }

  private async loop(): Promise<void> {
    const r = this.report;
    r.firstAt = Date.now();
    let first = true;
    const every = this.t.intervalMs ?? 20;
    while (!this.stopped) {
      const started = Date.now();
      try {
        await this.once();
        r.polls++;
      } catch (err) {
        if (r.errors.length < 20) r.errors.push((err as Error).message);
      }
      r.lastAt = Date.now();
      if (first) {
        first = false;
        send({ ev: 'watching', label: this.t.label });
      }
      // A poll starts every `every` ms (right away when the last one took longer).
      await sleep(Math.max(1, every - (Date.now() - started)));
    }
    this.iam?.iam.destroy();
  }
}

let current: Watch | null = null;

process.on('message', (m: Msg) => {
  void (async () => {
    if (m.cmd === 'watch') {
      if (current) {
        current.stopped = true;
        await current.done;
      }
      current = new Watch(m.target);
    } else if (m.cmd === 'stop') {
      const w = current;
      current = null;
      if (!w) return send({ ev: 'report', report: null });
      w.stopped = true;
      await w.done;
      send({ ev: 'report', report: w.report });
    } else if (m.cmd === 'exit') {
      process.exit(0);
    }
  })();
});
process.on('disconnect', () => process.exit(0));
send({ ev: 'ready' });
