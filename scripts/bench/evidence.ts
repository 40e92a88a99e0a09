/**
 * Evidence-pack benchmark: `npm run bench:evidence [-- --credentials N --events N --days N
 * --framework F]`. A measurement, not a test.
 *
 * 1. Builds a deployment in a temp directory (config with 10 AWS accounts that are never
 *    contacted, a registry of 50 agents, the default policy packs, an Ed25519 evidence key) and an
 *    App on a ManualClock.
 * 2. Writes a 30-day history through the App's real audit log (RedisAuditLog appendMany with the
 *    JSONL mirror on; test/support/evidence-history.ts: hourly scans, drift, finding transitions,
 *    remediation with approvals and rollbacks, a runtime exception, partial scans), and the final
 *    inventory (the credentials alive at the end) into Redis. Defaults: 10,000 credentials,
 *    200,000 events. `--content-events N` caps the events that carry content (findings, churn,
 *    actions) and fills the rest with quiet status flips: runs with the same N and different
 *    --events hold the same population and findings, which shows memory does not follow the
 *    event count.
 * 3. In a child process of its own (so its peak RSS is the export's alone): builds the pack over
 *    the whole history (exportEvidence: collect, controls, reports, writePack), then verifies it
 *    offline (verifyPack). Prints wall time, peak RSS (process.resourceUsage().maxRSS), pack size.
 * The Redis prefix and the temp directory are deleted afterwards.
 */
import { fork } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resourceUsage } from 'node:process';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { stringify } from 'yaml';
import { ManualClock } from '../../src/clock.js';
import { exportEvidence } from '../../src/evidence/export.js';
import { type FrameworkId, isFrameworkId } from '../../src/evidence/frameworks.js';
import { verifyPack } from '../../src/evidence/verifier.js';
import { createLogger } from '../../src/logger.js';
import { buildApp } from '../../src/main.js';
import { writeHistory } from '../../test/support/evidence-history.js';
import { argValue, checkFlags, deletePrefix, intArg, REDIS_URL, randomPrefix, seconds, usage } from './support.js';

const MB = 1024 * 1024;
const START = new Date('2026-06-01T00:00:00.000Z');

interface ChildResult {
  ms: number;
  maxRssMb: number;
  bytes: number;
  files: number;
  verifyMs: number;
  verified: boolean;
  controls: { id: string; status: string }[];
  eventsRead: number;
  population: number;
  findings: number;
}

async function child(configPath: string, framework: FrameworkId, from: string, to: string, out: string) {
  const clock = new ManualClock(to);
  const app = await buildApp({ configPath, clock, log: createLogger({ level: 'warn' }) });
  try {
    const t0 = performance.now();
    const r = await exportEvidence(app, { framework, from: new Date(from), to: new Date(to) }, out);
    const ms = performance.now() - t0;
    const t1 = performance.now();
    const v = await verifyPack(out);
    const result: ChildResult = {
      ms,
      maxRssMb: resourceUsage().maxRSS / 1024,
      bytes: r.written.bytes,
      files: r.written.files,
      verifyMs: performance.now() - t1,
      verified: v.ok,
      controls: r.controls.map((c) => ({ id: c.id, status: c.status })),
      eventsRead: r.evidence.chain.eventsRead,
      population: r.evidence.population.length,
      findings: r.evidence.findings.length,
    };
    process.send?.(result);
  } finally {
    await app.close();
  }
}

async function main(): Promise<void> {
  checkFlags('evidence', ['credentials', 'events', 'days', 'framework', 'content-events']);
  const credentials = intArg('evidence', 'credentials', 10_000);
  const events = intArg('evidence', 'events', 200_000);
  const days = intArg('evidence', 'days', 30);
  const contentEvents = argValue('content-events') === undefined ? undefined : intArg('evidence', 'content-events', 1);
  const framework = argValue('framework') ?? 'soc2';
  if (!isFrameworkId(framework)) usage('evidence', `--framework: unknown framework "${framework}"`);
  if (events < credentials + days * 24 * 3)
    usage('evidence', `--events must be at least credentials + 3 per hourly scan (${credentials + days * 72})`);
  const prefix = randomPrefix('evidence');
  const dir = mkdtempSync(join(tmpdir(), 'cw-bench-evidence-'));
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  try {
    const accounts = Array.from({ length: 10 }, (_, i) => ({
      id: String(100000000001 + i),
      roleArn: `arn:aws:iam::${100000000001 + i}:role/credwarden-reader`,
    }));
    writeFileSync(
      join(dir, 'agents.yaml'),
      stringify({
        agents: Array.from({ length: 50 }, (_, i) => ({
          id: `agent-${i}`,
          name: `Agent ${i}`,
          owner: { team: `team-${i % 7}`, contact: `team-${i % 7}@example.com` },
          version: '1.0.0',
          environment: 'prod',
          selectors: { aws: { users: [`agent-*${i}`] } },
        })),
      }),
    );
    writeFileSync(
      join(dir, 'evidence.key'),
      generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    );
    const configPath = join(dir, 'credwarden.yaml');
    writeFileSync(
      configPath,
      stringify({
        redis: { url: REDIS_URL, prefix },
        registry: 'agents.yaml',
        audit: { file: join(dir, 'audit.jsonl') },
        aws: { region: 'us-east-1', endpoint: 'http://127.0.0.1:9', accounts },
        evidence: { signingKey: 'evidence.key' },
      }),
    );
    const clock = new ManualClock(START);
    const app = await buildApp({ configPath, clock, log: createLogger({ level: 'warn' }) });
    let end: Date;
    try {
      const t0 = performance.now();
      const facts = await writeHistory(app.audit, clock, {
        credentials,
        events,
        days,
        accounts: accounts.length,
        start: START,
        ...(contentEvents ? { contentEvents } : {}),
      });
      const key = app.scans.keys.creds();
      for (let i = 0; i < facts.alive.length; i += 1000) {
        const args = facts.alive.slice(i, i + 1000).flatMap((c) => [c.id, JSON.stringify(c)]);
        await redis.hset(key, ...args);
      }
      end = facts.end;
      console.log(
        `bench:evidence: history written in ${seconds(performance.now() - t0)} s: ${facts.events} events, ` +
          `${credentials} credentials (${facts.alive.length} alive at the end), ${facts.scans} scans (${facts.partialScans} partial), ${days} days`,
      );
    } finally {
      await app.close();
    }
    const out = join(dir, 'pack.tar.gz');
    const script = fileURLToPath(import.meta.url);
    const res = await new Promise<ChildResult>((resolve, reject) => {
      const c = fork(script, ['--child', configPath, framework, START.toISOString(), end.toISOString(), out], {
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
        execArgv: process.execArgv,
      });
      let got: ChildResult | undefined;
      c.on('message', (m) => {
        got = m as ChildResult;
      });
      c.on('exit', (code) => (got ? resolve(got) : reject(new Error(`the export child exited with ${code}`))));
    });
    const statuses = res.controls.map((c) => `${c.id} ${c.status}`).join(', ');
    console.log(
      `bench:evidence: ${framework} pack over ${res.eventsRead} events: wall ${seconds(res.ms)} s, peak RSS ${res.maxRssMb.toFixed(0)} MB, ` +
        `pack ${(res.bytes / MB).toFixed(2)} MB (${res.files} files); population ${res.population}, findings ${res.findings}; ` +
        `verify ${res.verified ? 'OK' : 'FAILED'} in ${seconds(res.verifyMs)} s; controls: ${statuses}`,
    );
    if (!res.verified) process.exitCode = 1;
  } finally {
    await deletePrefix(redis, prefix);
    redis.disconnect();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--child') {
  const [configPath, framework, from, to, out] = process.argv.slice(3) as [string, FrameworkId, string, string, string];
  child(configPath, framework, from, to, out).then(
    () => process.exit(0),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
} else {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
