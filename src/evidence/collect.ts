/**
 * One streaming pass over the audit chain, seq 1 to the head read at the start (the period's
 * population and open findings need the history before `from`), in pages of `pageSize` (1000):
 * - every event is verified as it is read (ChainVerifier: content hash, link, seq, the head):
 *   no evidence is made from a broken chain;
 * - events recorded at or before `to` are folded into the population, findings, exceptions,
 *   actions, coverage and drills (collect-*.ts); later ones only into the population's "first seen after
 *   the period" and the proof;
 * - the slice, the stored text of every event from the first one recorded in [from, to] to the
 *   last one, is streamed to `<dir>/audit/slice.jsonl` (one per line), cut back at the end to the
 *   last event of the period (a later one may still carry an earlier time: times come from each
 *   writer's clock);
 * - the links, `{seq, prevHash, hash}` of every event after the slice up to the head, are streamed
 *   to a part file, started over whenever the slice grows; `<dir>/audit/proof.json` wraps them
 *   with the chain id, the hash algorithm, the slice's range and last hash, and a checkpoint of
 *   the head signed now (the export holds the key, so the pack is anchored to a fresh signature;
 *   a verifier checks the links reach exactly it).
 * Memory holds one page, the folds (bounded by credentials, findings, actions and the period's
 * scans) and nothing per event.
 */
import { createReadStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { AuditEvent, AuditHead } from '../audit/event.js';
import { GENESIS_HASH } from '../audit/event.js';
import { ChainVerifier } from '../audit/verify.js';
import { CwError, ErrorCodes } from '../errors.js';
import type { PolicyException } from '../policy/model.js';
import { ActionsFold } from './collect-actions.js';
import { type ConfiguredUnit, CoverageFold } from './collect-coverage.js';
import { DrillsFold } from './collect-drills.js';
import { ExceptionsFold, FindingsFold } from './collect-findings.js';
import { type InventoryFacts, PopulationFold } from './collect-population.js';
import type { FrameworkId } from './frameworks.js';
import type { CollectedEvidence, UnitScanStatus } from './model.js';
import type { DsseEnvelope } from './signing.js';
import { Spool } from './spool.js';

export const SLICE_PATH = 'audit/slice.jsonl';
export const PROOF_PATH = 'audit/proof.json';

export interface ChainSource {
  head(): Promise<AuditHead>;
  chainId(): Promise<string | null>;
  readEntries(fromSeq: number, count: number): Promise<{ event: AuditEvent; text: string }[]>;
}

export interface CollectDeps {
  audit: ChainSource;
  hmacKey?: string | undefined;
  /** The current inventory, projected (read once, after the pass). */
  inventory: () => AsyncIterable<InventoryFacts> | Iterable<InventoryFacts>;
  ownerOf: (agent: string | null) => string | null;
  units: readonly ConfiguredUnit[];
  exceptions: readonly PolicyException[];
  approvers: number;
  /** Unit statuses of a stored scan summary (partial vs failed), when it is still there. */
  scanStatuses?: (scanId: string) => Promise<Record<string, UnitScanStatus> | null>;
  /** Signs a checkpoint of `head` (makeCheckpoint with the evidence key and the export's time). */
  checkpoint: (head: AuditHead, chainId: string) => DsseEnvelope;
  now: Date;
  pageSize?: number;
}

export interface CollectRequest {
  framework: FrameworkId;
  from: Date;
  to: Date;
}

export interface Collected {
  evidence: CollectedEvidence;
  checkpoint: DsseEnvelope;
  /** Absolute paths of the slice and the proof inside `dir`. */
  slice: string;
  proof: string;
}

const link = (e: AuditEvent) => `{"hash":"${e.hash}","prevHash":"${e.prevHash}","seq":${e.seq}}`;

export async function collect(deps: CollectDeps, req: CollectRequest, dir: string): Promise<Collected> {
  const fromMs = req.from.getTime();
  const toMs = req.to.getTime();
  const head = await deps.audit.head();
  const chainId = await deps.audit.chainId();
  if (head.seq === 0 || !chainId)
    throw new CwError(ErrorCodes.INPUT, 'the audit chain is empty: there is no evidence to export');
  await mkdir(join(dir, 'audit'), { recursive: true });
  const slicePath = join(dir, SLICE_PATH);
  const linksPath = join(dir, 'audit', 'links.part');
  const slice = await Spool.create(slicePath);
  const links = await Spool.create(linksPath);
  const verifier = new ChainVerifier({ ...(deps.hmacKey ? { hmacKey: deps.hmacKey } : {}), expectedHead: head });
  const population = new PopulationFold(fromMs, toMs);
  const exceptions = new ExceptionsFold(fromMs, toMs);
  const findings = new FindingsFold(fromMs, exceptions);
  const actions = new ActionsFold(fromMs, deps.approvers);
  const coverage = new CoverageFold(fromMs, toMs);
  const drills = new DrillsFold(fromMs, toMs);
  let started = false;
  let fromSeq = 0;
  let toSeq = 0;
  let lastHash = GENESIS_HASH;
  let eventsRead = 0;
  const page = deps.pageSize ?? 1000;
  try {
    let seq = 1;
    read: while (seq <= head.seq) {
      const entries = await deps.audit.readEntries(seq, Math.min(page, head.seq - seq + 1));
      if (entries.length === 0) break;
      for (const { event: e, text } of entries) {
        if (e.seq > head.seq) break read;
        verifier.push(e);
        seq = e.seq + 1;
        eventsRead++;
        const t = Date.parse(e.time);
        const inPeriod = t >= fromMs && t <= toMs;
        if (!started && inPeriod) {
          started = true;
          fromSeq = e.seq;
        }
        if (started) {
          await slice.write(`${text}\n`);
          if (inPeriod) {
            toSeq = e.seq;
            lastHash = e.hash;
            slice.mark();
            links.reset();
          } else await links.write(`${links.count ? ',' : ''}${link(e)}`);
        } else if (t < fromMs) {
          // Before the period: the slice would start after it, if no event falls in the period.
          toSeq = e.seq;
          lastHash = e.hash;
          links.reset();
        } else await links.write(`${links.count ? ',' : ''}${link(e)}`);
        population.apply(e, t);
        if (t > toMs) continue;
        const kind = e.type.slice(0, e.type.indexOf('.'));
        if (kind === 'finding') findings.apply(e, t);
        else if (kind === 'exception') exceptions.apply(e);
        else if (kind === 'action' || kind === 'approval' || kind === 'rotation') actions.apply(e);
        else if (kind === 'scan') coverage.apply(e, t);
        else if (kind === 'drill') drills.apply(e, t);
      }
    }
    const v = verifier.result();
    if (!v.ok) {
      const b = v.firstBroken!;
      throw new CwError(
        ErrorCodes.AUDIT_TAMPERED,
        `the audit chain is broken at event #${b.seq} (${b.reason}: ${b.detail}); no evidence is exported from a broken chain (run credwarden audit verify)`,
      );
    }
    if (!started) fromSeq = toSeq + 1;
    await slice.close();
    await links.close(true);
  } catch (err) {
    await slice.abort();
    await links.abort();
    throw err;
  }

  const checkpoint = deps.checkpoint(head, chainId);
  const hashAlgorithm = deps.hmacKey ? ('hmac-sha256' as const) : ('sha256' as const);
  const proofPath = join(dir, PROOF_PATH);
  const proof = await Spool.create(proofPath);
  try {
    await proof.write(
      `{"chainId":${JSON.stringify(chainId)},"checkpoint":${JSON.stringify(checkpoint)},"fromSeq":${fromSeq},"hashAlgorithm":"${hashAlgorithm}","links":[`,
    );
    for await (const chunk of createReadStream(linksPath, { encoding: 'utf8' })) await proof.write(chunk as string);
    await proof.write(`],"sliceLastHash":"${lastHash}","toSeq":${toSeq}}\n`);
    await proof.close(true);
  } catch (err) {
    await proof.abort();
    throw err;
  } finally {
    await rm(linksPath, { force: true });
  }

  const inventory: InventoryFacts[] = [];
  for await (const c of deps.inventory()) inventory.push(c);
  const statuses = new Map<string, Record<string, UnitScanStatus>>();
  if (deps.scanStatuses)
    for (const id of coverage.scanIds()) {
      const st = await deps.scanStatuses(id);
      if (st) statuses.set(id, st);
    }
  const evidence: CollectedEvidence = {
    framework: req.framework,
    period: { from: req.from.toISOString(), to: req.to.toISOString() },
    generatedAt: deps.now.toISOString(),
    chain: {
      chainId,
      hashAlgorithm,
      headSeq: head.seq,
      headHash: head.hash,
      fromSeq,
      toSeq,
      sliceLastHash: lastHash,
      eventsRead,
    },
    population: population.finish(inventory, deps.ownerOf),
    findings: findings.finish(),
    actions: actions.finish(),
    exceptions: exceptions.finish(deps.exceptions),
    coverage: coverage.finish(deps.units, (scanId, unit) => statuses.get(scanId)?.[unit]),
    drills: drills.finish(),
  };
  return { evidence, checkpoint, slice: slicePath, proof: proofPath };
}
