/**
 * The detection guardrail from the CLI: `evaluation held` shows a held evaluation (exit 1),
 * `evaluation release --scan ID --as NAME` applies it as computed (audited with the name) and
 * refuses a scan that is not the newest held one.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../src/cli/main.js';
import type { App } from '../../src/main.js';
import type { ScanUnit } from '../../src/sources/source.js';
import { type TestAppFiles, testApp, writeTestFiles } from '../support/app.js';
import { captureIo } from '../support/capture.js';
import { ACCOUNT, accessKey } from '../support/credentials.js';
import { useRedis } from '../support/redis.js';

const r = useRedis('hold-cli');
let files: TestAppFiles;
const UNIT: ScanUnit = { sourceType: 'aws', key: `aws/${ACCOUNT}`, label: ACCOUNT };

async function cli(...args: string[]) {
  const io = captureIo();
  const code = await run(['--config', files.configPath, ...args], io);
  return { code, out: io.stdout.join('\n'), err: io.stderr.join('\n') };
}

function policies(days: number): string {
  return `policies:
  - name: key-old
    description: keys older than ${days} days
    resource: { kinds: [aws-access-key] }
    rules: [{ type: age-since-created, days: ${days} }]
    severity: high
`;
}

async function scanWith(app: App, id: string): Promise<void> {
  const creds = Array.from({ length: 12 }, (_, i) =>
    accessKey(`AKIAHOLD${String(i).padStart(12, '0')}`, { agentId: null, createdAt: '2026-10-01T00:00:00.000Z' }),
  );
  await app.scans.start(id, 'test', [UNIT]);
  await app.scans.recordUnit(id, {
    unit: UNIT,
    credentials: creds,
    completePrefixes: [`aws/${ACCOUNT}/`],
    problems: [],
    apiCalls: { total: 0, attempts: 0, byOperation: {} },
    startedAt: new Date().toISOString(),
    finishedAt: new Date().toISOString(),
  });
  await app.scans.finalize(id);
  await app.findings.evaluateScan(id);
}

describe('credwarden evaluation held|release', () => {
  beforeAll(async () => {
    files = writeTestFiles({ redis: { prefix: r.prefix }, policies: ['policies.yaml'] }, { agents: [] });
    writeFileSync(join(files.dir, 'policies.yaml'), policies(1));
    const app = await testApp(files);
    try {
      await scanWith(app, 'h1');
    } finally {
      await app.close();
    }
    // The pack changes so that nothing matches any more: the next evaluation is held.
    writeFileSync(join(files.dir, 'policies.yaml'), policies(36_500));
    const again = await testApp(files);
    try {
      await scanWith(again, 'h2');
    } finally {
      await again.close();
    }
  });

  it('shows the held evaluation and exits 1', async () => {
    const res = await cli('evaluation', 'held');
    expect(res.code).toBe(1);
    expect(res.out).toContain('scan h2: HELD: would resolve 12 of 12 open findings');
    expect(res.out).toContain('credwarden evaluation release --scan h2 --as <your name>');
    expect((await cli('findings', '--json')).out).toContain('"state": "open"');
  });

  it('refuses to release a scan that is not the newest held one', async () => {
    const res = await cli('evaluation', 'release', '--scan', 'h1', '--as', 'alice');
    expect(res.code).toBe(2);
    expect(res.err).toMatch(/scan h1 is not the newest held evaluation; that is h2/);
  });

  it('releases it as computed, audited with the name of who confirmed it', async () => {
    const res = await cli('evaluation', 'release', '--scan', 'h2', '--as', 'alice', '--json');
    expect(res.code).toBe(0);
    expect(JSON.parse(res.out)).toMatchObject({
      scanId: 'h2',
      transitions: { 'finding.resolved': 12 },
      releasedBy: 'user:alice',
    });
    expect((await cli('evaluation', 'held')).code).toBe(0);
    const app = await testApp(files);
    try {
      const events = await app.audit.read(1);
      expect(events.filter((e) => e.type === 'evaluation.released').map((e) => e.actor)).toEqual(['user:alice']);
      expect(events.filter((e) => e.type === 'finding.resolved')).toHaveLength(12);
    } finally {
      await app.close();
    }
  });
});
