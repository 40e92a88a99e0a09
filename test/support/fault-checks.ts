/**
 * The fault harness's invariant checks (test/support/fault-harness.ts runs them after each trial,
 * with the workers stopped). Each check returns its violations; none may throw for a violation
 * (a thrown error is reported as "check crashed"). They read only what a user or an auditor can:
 * the CLI (`audit verify`, `scan --once`), the audit stream and the documented Redis keys
 * (README "Redis keys"; `P:findings` from src/findings/service.ts):
 *   1. audit-verify        `audit verify --json` exits 0, both copies OK and ending at the same seq
 *   2. replay              the audit trail replays without a duplicated or impossible transition
 *   3. state-matches-audit stored inventory and finding states equal the replayed ones
 *   4. scan-outcome        the scan is complete, or partial with its problems listed, and evaluated
 *   5. second-scan-clean   a clean `scan --once` on the unchanged estate changes nothing
 * More checks plug in through HarnessOptions.checks; more replay rules through replayRules.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { RedisClient } from '../../src/queue/connection.js';
import { type CliResult, cliError } from './fault-procs.js';
import { compareState, type ReplayEvent, type ReplayRule, replayAudit, type Violation } from './fault-replay.js';
import { testKeyPrefix } from './redis.js';

/** Every audit event in the Redis stream (`<prefix>:audit:events`, field `e`), from `fromSeq`. */
export async function readAuditEvents(redis: RedisClient, prefix: string, fromSeq = 1): Promise<ReplayEvent[]> {
  const out: ReplayEvent[] = [];
  let start = `${fromSeq}-0`;
  for (;;) {
    const entries = await redis.xrange(`${testKeyPrefix(prefix)}:audit:events`, start, '+', 'COUNT', 2000);
    for (const [, fields] of entries) {
      const i = fields.indexOf('e');
      out.push(JSON.parse(fields[i + 1]!) as ReplayEvent);
    }
    if (entries.length < 2000) return out;
    start = `(${entries.at(-1)![0]}`;
  }
}

/** Reads the JSONL audit file (one event per line) — for callers that want the mirror rather than the stream. */
/**
 * The JSONL audit file's events. `live`: the file is being appended to while it is read (a hook
 * that runs mid-trial), so an unterminated last line is a write in progress and is left out; a
 * torn line anywhere else still throws.
 */
export function readAuditFile(path: string, opts: { live?: boolean } = {}): ReplayEvent[] {
  if (!existsSync(path)) return [];
  const lines = readFileSync(path, 'utf8').split('\n');
  // The text after the last newline: '' when the file ends with one, else a line still being written.
  const tail = lines.pop() ?? '';
  if (tail.length > 0 && !opts.live) lines.push(tail);
  return lines.filter((l) => l.length > 0).map((l) => JSON.parse(l) as ReplayEvent);
}

export interface TrialContext {
  index: number;
  prefix: string;
  scanId: string;
  configPath: string;
  auditFile: string;
  redis: RedisClient;
  /** The scan reached complete|partial with an evaluation within the deadline. */
  finished: boolean;
  replayRules: readonly ReplayRule[];
  /** The whole audit stream, read once per call. */
  events(): Promise<ReplayEvent[]>;
  /** Runs `credwarden --config <configPath> <args>` as the trial's workers run (the same ChildOptions). */
  cli(args: string[], timeoutMs: number): Promise<CliResult>;
  note(s: string): void;
}

export interface InvariantCheck {
  name: string;
  run(ctx: TrialContext): Promise<Violation[]>;
}

const v = (check: string, detail: string): Violation => ({ check, detail });

async function storedState(ctx: TrialContext): Promise<{ credentials: string[]; findings: Map<string, string> }> {
  const credentials = await ctx.redis.hkeys(`${testKeyPrefix(ctx.prefix)}:inv:creds`);
  const raw = await ctx.redis.hgetall(`${testKeyPrefix(ctx.prefix)}:findings`);
  const findings = new Map(
    Object.entries(raw).map(([fp, j]) => [fp, String((JSON.parse(j) as { state?: unknown }).state)]),
  );
  return { credentials, findings };
}

/**
 * 1. `audit verify --json` exits 0 and every entry it prints is OK (the Redis chain, the file, and
 * whatever else it cross-checks), the file included, and the copies that report a head end at the
 * same seq (the mirror caught up after the kill).
 */
export const auditVerifyCheck: InvariantCheck = {
  name: 'audit-verify',
  async run(ctx) {
    const name = 'audit-verify';
    const r = await ctx.cli(['audit', 'verify', '--json'], 60_000);
    const out: Violation[] = [];
    type Entry = {
      where: string;
      result: { ok: boolean; headSeq?: unknown; firstBroken?: unknown; problems?: unknown };
    };
    let results: Entry[];
    try {
      results = JSON.parse(r.stdout) as Entry[];
      if (!Array.isArray(results)) throw new Error('not an array');
    } catch {
      return [v(name, `audit verify printed no JSON array (exit ${r.code}): ${r.stdout}${r.stderr}`.trim())];
    }
    if (r.code !== 0) out.push(v(name, `audit verify: ${cliError(r)}`));
    if (!results.some((x) => x.where.startsWith('redis')) || !results.some((x) => x.where === ctx.auditFile))
      out.push(v(name, `expected the Redis chain and ${ctx.auditFile}, got ${results.map((x) => x.where).join(', ')}`));
    for (const x of results) {
      if (x.result.ok) continue;
      const why = x.result.firstBroken ?? x.result.problems ?? x.result;
      out.push(v(name, `${x.where}: not OK: ${JSON.stringify(why)}`));
    }
    const heads = results.filter((x) => typeof x.result.headSeq === 'number');
    if (new Set(heads.map((x) => x.result.headSeq)).size > 1)
      out.push(
        v(name, `the copies end at different seqs: ${heads.map((x) => `${x.where} #${x.result.headSeq}`).join(', ')}`),
      );
    return out;
  },
};

/** 2. Replaying the audit trail finds no duplicated or impossible transition. */
export const replayCheck: InvariantCheck = {
  name: 'replay',
  async run(ctx) {
    return replayAudit(await ctx.events(), ctx.replayRules).violations;
  },
};

/** 3. Nothing lost: stored finding states and inventory equal what the audit trail replays to. */
export const stateCheck: InvariantCheck = {
  name: 'state-matches-audit',
  async run(ctx) {
    const { state } = replayAudit(await ctx.events(), ctx.replayRules);
    return compareState(state, await storedState(ctx));
  },
};

/** 4. The scan is complete, or partial with its problems listed, and it was evaluated. */
export const scanOutcomeCheck: InvariantCheck = {
  name: 'scan-outcome',
  async run(ctx) {
    const h = await ctx.redis.hgetall(`${testKeyPrefix(ctx.prefix)}:scan:${ctx.scanId}`);
    const out: Violation[] = [];
    if (h.status !== 'complete' && h.status !== 'partial')
      out.push(v('scan-outcome', `scan ${ctx.scanId} status is ${h.status ?? 'missing'}`));
    if (h.status === 'partial') {
      const summary = JSON.parse(h.summary ?? '{}') as { units?: { key: string; problems?: unknown[] }[] };
      const problems = (summary.units ?? []).flatMap((u) => u.problems ?? []);
      if (problems.length === 0) out.push(v('scan-outcome', `scan ${ctx.scanId} is partial but lists no problems`));
      else ctx.note(`scan partial: ${JSON.stringify(problems).slice(0, 300)}`);
    }
    if (!h.evaluation) out.push(v('scan-outcome', `scan ${ctx.scanId} has no evaluation`));
    return out;
  },
};

/** Id prefixes a scan observed completely (so a catch-up after a partial scan is not a violation). */
async function completePrefixes(ctx: TrialContext): Promise<string[]> {
  const units = await ctx.redis.hvals(`${testKeyPrefix(ctx.prefix)}:scan:${ctx.scanId}:units`);
  return units.flatMap((j) => (JSON.parse(j) as { completePrefixes?: string[] }).completePrefixes ?? []);
}

/**
 * 5. A second scan with no kill (`scan --once --json`, exit 0) on the unchanged estate changes
 * nothing: no credential, finding or exception event, except catching up on prefixes the first
 * scan could not observe completely; and the trail still replays cleanly onto the stored state.
 * When the first scan never finished, the second runs anyway (with a shorter deadline): it must
 * still not audit again what the first one audited (a credential added twice, a finding opened
 * twice), though it may legitimately apply what the first left undone. Only problems that the
 * second scan introduced are reported (checks 2 and 3 already report the rest).
 */
export const secondScanCheck: InvariantCheck = {
  name: 'second-scan-clean',
  async run(ctx) {
    const name = 'second-scan-clean';
    const seen = await completePrefixes(ctx);
    const priorEvents = await ctx.events();
    const before = priorEvents.at(-1)?.seq ?? 0;
    const known = new Set(problems(priorEvents, await storedState(ctx), ctx.replayRules));
    if (!ctx.finished)
      ctx.note('the first scan never finished: the second scan ran anyway, checked for duplicates only');
    const r = await ctx.cli(['scan', '--once', '--json'], ctx.finished ? 120_000 : 60_000);
    const out: Violation[] = [];
    if (r.code !== 0) out.push(v(name, `scan --once: ${cliError(r)}`));
    const events = await ctx.events();
    if (ctx.finished) {
      const unexpected = events.filter((e) => {
        if (e.seq <= before || !/^(credential|finding|exception)\./.test(e.type)) return false;
        const cred = e.type.startsWith('credential.') ? e.subject : String(e.data.credentialId ?? '');
        const catchUp =
          (e.type === 'credential.added' || e.type === 'finding.opened') && !seen.some((p) => cred.startsWith(p));
        return !catchUp;
      });
      if (unexpected.length) {
        const byType: Record<string, number> = {};
        for (const e of unexpected) byType[e.type] = (byType[e.type] ?? 0) + 1;
        const first = unexpected.slice(0, 5).map((e) => `#${e.seq} ${e.type} ${e.subject}`);
        out.push(v(name, `the second scan changed state: ${JSON.stringify(byType)}; first: ${first.join('; ')}`));
      }
    }
    const fresh = problems(events, await storedState(ctx), ctx.replayRules).filter((p) => !known.has(p));
    for (const p of fresh.slice(0, 20)) out.push(v(name, `after the second scan: ${p}`));
    if (fresh.length > 20) out.push(v(name, `after the second scan: …and ${fresh.length - 20} more`));
    return out;
  },
};

/** Replay and state problems as lines (the replay's summary line and limits make them comparable). */
function problems(
  events: ReplayEvent[],
  stored: Awaited<ReturnType<typeof storedState>>,
  rules: readonly ReplayRule[],
): string[] {
  const replay = replayAudit(events, rules, 1000);
  return [...replay.violations, ...compareState(replay.state, stored, 1000)]
    .filter((x) => !x.detail.startsWith('…and'))
    .map((x) => `[${x.check}] ${x.detail}`);
}

export const DEFAULT_CHECKS: InvariantCheck[] = [
  auditVerifyCheck,
  replayCheck,
  stateCheck,
  scanOutcomeCheck,
  secondScanCheck,
];
