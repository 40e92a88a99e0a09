/**
 * Building an evidence pack from a running App: validate the request, collect the period from the
 * audit chain (collect.ts), judge every control (controls.ts), write the reports (report.ts) into
 * a private temp directory, and hand the files to the container (pack.ts writePack), which signs
 * the manifest with `evidence.signingKey`. `credwarden evidence export` and
 * `GET /api/v1/evidence` both come through here.
 *
 * The files of a pack (besides verify.mjs, public-key.pem and the manifest, which writePack adds):
 *   report.html, evidence.json, population.csv, findings.csv, actions.csv, controls.csv,
 *   coverage.csv, coverage-units.csv, drills.csv, audit/slice.jsonl, audit/proof.json
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeCheckpoint } from '../audit/checkpoint.js';
import { CwError, ErrorCodes } from '../errors.js';
import type { App } from '../main.js';
import type { Credential } from '../model/credential.js';
import { packageRoot } from '../util/package-root.js';
import { type Collected, collect, PROOF_PATH, SLICE_PATH } from './collect.js';
import type { InventoryFacts } from './collect-population.js';
import { type ControlResult, type ControlRules, DEFAULT_RULES, evaluateControls } from './controls.js';
import { FRAMEWORK_IDS, type FrameworkId, framework, isFrameworkId } from './frameworks.js';
import type { CollectedEvidence, UnitScanStatus } from './model.js';
import { type PackFile, type PackMeta, type PackWritten, writePack } from './pack.js';
import { writeReports } from './report.js';
import { loadSigningKey, type SigningKey } from './signing.js';

export interface EvidenceRequest {
  framework: FrameworkId;
  from: Date;
  to: Date;
}

export interface BuiltEvidence {
  files: PackFile[];
  meta: PackMeta;
  evidence: CollectedEvidence;
  controls: ControlResult[];
  /** The working directory holding the files; removed by cleanup(). */
  dir: string;
  cleanup(): Promise<void>;
}

export interface BuildOptions {
  rules?: Partial<ControlRules>;
  /** The evidence key (default: evidence.signingKey from the config). */
  key?: SigningKey;
  /** Audit events per read (default 1000). */
  pageSize?: number;
}

export interface ExportOptions extends BuildOptions {
  /** Who asked for the pack: the `evidence.exported` event's actor (default `credwarden`). */
  actor?: string;
  /** How it was asked for, recorded in the event. */
  via?: 'cli' | 'api' | 'dashboard';
}

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

/** A period bound: a date (UTC; `to` is its last millisecond) or a date-time with an offset. */
export function parseBound(v: unknown, bound: 'from' | 'to', name: string): Date {
  const bad = (why: string) => new CwError(ErrorCodes.INPUT, `${name}: ${why}`);
  if (typeof v !== 'string' || v.trim() === '')
    throw bad('is required (a date, 2026-11-01, or a date-time with an offset)');
  const s = v.trim();
  let d: Date;
  if (DATE_ONLY.test(s)) d = new Date(`${s}T${bound === 'from' ? '00:00:00.000' : '23:59:59.999'}Z`);
  else if (DATE_TIME.test(s)) d = new Date(s);
  else throw bad(`"${s}" is not a date (2026-11-01) or a date-time with an offset (2026-11-01T00:00:00Z)`);
  if (Number.isNaN(d.getTime()) || (DATE_ONLY.test(s) && d.toISOString().slice(0, 10) !== s))
    throw bad(`"${s}" is not a real date`);
  return d;
}

/** Validates a request; each refusal names its field (`--framework`, or `framework` for the API). */
export function parseEvidenceRequest(
  raw: { framework?: unknown; from?: unknown; to?: unknown },
  names: { framework: string; from: string; to: string } = { framework: '--framework', from: '--from', to: '--to' },
): EvidenceRequest {
  const fw = raw.framework;
  if (typeof fw !== 'string' || !isFrameworkId(fw))
    throw new CwError(
      ErrorCodes.INPUT,
      `${names.framework}: ${fw === undefined ? 'is required' : `unknown framework "${String(fw)}"`} (one of ${FRAMEWORK_IDS.join(', ')})`,
    );
  const from = parseBound(raw.from, 'from', names.from);
  const to = parseBound(raw.to, 'to', names.to);
  if (from.getTime() > to.getTime())
    throw new CwError(
      ErrorCodes.INPUT,
      `${names.from}: ${from.toISOString()} is after ${names.to} ${to.toISOString()}`,
    );
  return { framework: fw, from, to };
}

/** evidence.signingKey, loaded; a CONFIG error when it is not configured. */
export function evidenceKey(config: App['config']): SigningKey {
  const key = loadSigningKey(config.evidence.signingKey, config.baseDir);
  if (!key)
    throw new CwError(
      ErrorCodes.CONFIG,
      'evidence.signingKey is not configured: an evidence pack is signed (openssl genpkey -algorithm ed25519 -out evidence.key, then evidence.signingKey: evidence.key)',
    );
  return key;
}

function ownerText(o: { team: string; contact: string } | null | undefined): string | null {
  return o ? `${o.team} <${o.contact}>` : null;
}

/** The inventory, projected to what the population needs, read with HSCAN (never all at once). */
async function* inventoryFacts(app: App): AsyncGenerator<InventoryFacts> {
  const stream = app.redis.hscanStream(app.scans.keys.creds(), { count: 500 });
  for await (const chunk of stream as AsyncIterable<string[]>) {
    for (let i = 1; i < chunk.length; i += 2) {
      const c = JSON.parse(chunk[i]!) as Credential;
      yield {
        id: c.id,
        kind: c.kind,
        sourceType: c.sourceType,
        source: c.source,
        principal: c.principal,
        agentId: c.agentId,
        owner: ownerText(c.owner),
        unregisteredAgent: c.unregisteredAgent,
        createdAt: c.createdAt,
        lastUsed: c.lastUsed?.at ?? null,
        status: c.status,
      };
    }
  }
}

async function scanStatuses(app: App, id: string): Promise<Record<string, UnitScanStatus> | null> {
  const s = await app.scans.summary(id);
  if (!s || s.status === 'running') return null;
  return Object.fromEntries(s.units.map((u) => [u.key, u.status]));
}

function configSha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

export async function buildEvidence(app: App, req: EvidenceRequest, opts: BuildOptions = {}): Promise<BuiltEvidence> {
  const key = opts.key ?? evidenceKey(app.config);
  const fw = framework(req.framework);
  const rules: ControlRules = {
    ...DEFAULT_RULES,
    approvers: app.config.remediation.approvals.approvers,
    ...opts.rules,
    slaDays: { ...DEFAULT_RULES.slaDays, ...opts.rules?.slaDays },
  };
  const now = app.clock.now();
  const dir = await mkdtemp(join(tmpdir(), 'cw-evidence-'));
  const cleanup = () => rm(dir, { recursive: true, force: true });
  try {
    const agents = new Map(app.registry.agents.map((a) => [a.id, a]));
    const collected: Collected = await collect(
      {
        audit: app.audit,
        hmacKey: app.config.audit.hmacKey,
        inventory: () => inventoryFacts(app),
        ownerOf: (agent) => (agent ? ownerText(agents.get(agent)?.owner) : null),
        units: app.orchestrator.units().map((u) => ({ key: u.key, label: u.label, sourceType: u.sourceType })),
        exceptions: app.policies.exceptions,
        approvers: rules.approvers,
        scanStatuses: (id) => scanStatuses(app, id),
        checkpoint: (head, chainId) => makeCheckpoint(head, chainId, key, now),
        now,
        ...(opts.pageSize ? { pageSize: opts.pageSize } : {}),
      },
      req,
      dir,
    );
    const ev = collected.evidence;
    const controls = evaluateControls(fw, ev, app.policies.policies, rules);
    const cp = JSON.parse(Buffer.from(collected.checkpoint.payload, 'base64').toString('utf8')) as {
      seq: number;
      time: string;
    };
    const version = packageRoot().version;
    const configHash = configSha256(app.config.configFile);
    const written = await writeReports(dir, {
      fw,
      ev,
      controls,
      rules,
      version,
      configHash,
      checkpoint: { seq: cp.seq, time: cp.time },
    });
    const files: PackFile[] = [
      ...written.map((p) => ({ path: p, source: { file: join(dir, p) } })),
      { path: SLICE_PATH, source: { file: collected.slice } },
      { path: PROOF_PATH, source: { file: collected.proof } },
    ];
    const meta: PackMeta = {
      framework: fw.id,
      from: ev.period.from,
      to: ev.period.to,
      configSha256: configHash,
      credwardenVersion: version,
      audit: { fromSeq: ev.chain.fromSeq, toSeq: ev.chain.toSeq, hashAlgorithm: ev.chain.hashAlgorithm },
    };
    return { files, meta, evidence: ev, controls, dir, cleanup };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

/**
 * Builds and writes a pack to `outPath` (atomically: writePack renames a complete file into place),
 * then records who pulled it: one `evidence.exported` event naming the framework, the period, the
 * audit range the pack covers and the pack's sha256, so the next pack (and `audit tail`) shows
 * every pack handed out. The event comes after the pack because it holds the pack's digest; the
 * pack's own slice ends at the head it was built from.
 */
export async function exportEvidence(
  app: App,
  req: EvidenceRequest,
  outPath: string,
  opts: ExportOptions = {},
): Promise<{ written: PackWritten; controls: ControlResult[]; evidence: CollectedEvidence }> {
  const key = opts.key ?? evidenceKey(app.config);
  const built = await buildEvidence(app, req, { ...opts, key });
  try {
    const written = await writePack(built.files, built.meta, key, outPath, app.clock.now());
    const count = (s: ControlResult['status']) => built.controls.filter((c) => c.status === s).length;
    await app.audit.append({
      type: 'evidence.exported',
      actor: opts.actor ?? 'credwarden',
      subject: `evidence/${req.framework}`,
      data: {
        framework: req.framework,
        period: built.evidence.period,
        audit: { fromSeq: built.evidence.chain.fromSeq, toSeq: built.evidence.chain.toSeq },
        sha256: written.sha256,
        bytes: written.bytes,
        files: written.files,
        keyid: key.keyid,
        controls: { pass: count('pass'), fail: count('fail'), notEvidenced: count('not-evidenced') },
        via: opts.via ?? 'cli',
      },
    });
    return { written, controls: built.controls, evidence: built.evidence };
  } finally {
    await built.cleanup();
  }
}
