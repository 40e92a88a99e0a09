/**
 * The CLI end to end against moto and Redis: `scan --once` through the queues with an in-process
 * worker, `inventory --json`, `audit verify`, the job scheduler upsert, deterministic job ids, and
 * the exit codes and one-line errors for bad input.
 */

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Io } from '../../src/cli/context.js';
import { run } from '../../src/cli/main.js';
import { SCHEDULER_ID } from '../../src/queue/names.js';
import { upsertDiscoverSchedule } from '../../src/queue/scheduler.js';
import { ACCOUNT_A, ACCOUNT_B, registry, seedEstate } from '../fixtures/aws-estate.js';
import { type TestAppFiles, useMotoCredentialsEnv, writeTestFiles } from '../support/app.js';
import { useMoto } from '../support/moto.js';
import { testQueue, useRedis } from '../support/redis.js';

const moto = useMoto();
const r = useRedis('cli');
let files: TestAppFiles;

function capture(): Io & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (s) => stdout.push(s), err: (s) => stderr.push(s), stderrIsTty: false };
}

async function cli(...args: string[]) {
  const io = capture();
  const code = await run(['--config', files.configPath, ...args], io);
  return { code, out: io.stdout.join('\n'), err: io.stderr.join('\n') };
}

describe('credwarden CLI', () => {
  beforeAll(async () => {
    useMotoCredentialsEnv();
    await seedEstate(moto.endpoint);
    const accounts = [ACCOUNT_A, ACCOUNT_B].map((id) => ({ id, roleArn: `arn:aws:iam::${id}:role/credwarden-reader` }));
    files = writeTestFiles(
      { redis: { prefix: r.prefix }, aws: { endpoint: moto.endpoint, accounts }, scan: { timeoutSeconds: 60 } },
      registry,
    );
  });

  it('scan --once runs discovery through the queues and prints the summary', async () => {
    const res = await cli('scan', '--once', '--json');
    expect(res.err).toBe('');
    expect(res.code).toBe(0);
    const summary = JSON.parse(res.out);
    expect(summary).toMatchObject({ status: 'complete', trigger: 'cli', counts: { credentials: 8 } });
    expect(summary.units.map((u: { key: string }) => u.key).sort()).toEqual([`aws/${ACCOUNT_A}`, `aws/${ACCOUNT_B}`]);
    // One discover job per unit, with deterministic ids.
    const q = testQueue('discover', r.prefix);
    const job = await q.getJob(`discover/${summary.id}/aws/${ACCOUNT_A}`);
    expect(job?.returnvalue).toMatchObject({ status: 'ok', credentials: 6 });
    await q.close();
  });

  it('inventory --json prints a stable array of credential records', async () => {
    const res = await cli('inventory', '--json', '--account', ACCOUNT_B);
    expect(res.code).toBe(0);
    const records = JSON.parse(res.out);
    expect(records.map((c: { id: string }) => c.id.split('/').slice(0, 3).join('/'))).toEqual([
      `aws/${ACCOUNT_B}/access-key`,
      `aws/${ACCOUNT_B}/role`,
    ]);
    expect(Object.keys(records[0]).sort()).toEqual(
      [
        'agentId',
        'attributes',
        'createdAt',
        'expiresAt',
        'grants',
        'id',
        'kind',
        'lastUsed',
        'observedAt',
        'owner',
        'principal',
        'source',
        'sourceType',
        'status',
        'tags',
        'unregisteredAgent',
      ].sort(),
    );
  });

  it('inventory prints a table by default', async () => {
    const res = await cli('inventory', '--account', ACCOUNT_A);
    expect(res.code).toBe(0);
    expect(res.out).toMatch(/^CREDENTIAL\s+KIND\s+AGENT\s+STATUS/);
    expect(res.out).toContain('UNREGISTERED');
    expect(res.out).toContain('invoice-bot');
  });

  it('audit verify checks the chain in Redis and the JSONL mirror', async () => {
    const res = await cli('audit', 'verify');
    expect(res.code).toBe(0);
    expect(res.out).toMatch(/redis .*: OK, \d+ events/);
    expect(res.out).toMatch(/audit\.jsonl: OK/);
  });

  it('upserts the discovery schedule from one place, idempotently', async () => {
    const q = testQueue('scan', r.prefix);
    await upsertDiscoverSchedule(q, r.redis, r.keyPrefix, '*/15 * * * *');
    await r.redis.del(`${r.keyPrefix}:schedule-lock`);
    const again = await upsertDiscoverSchedule(q, r.redis, r.keyPrefix, '0 * * * *');
    const schedulers = await q.getJobSchedulers();
    expect(schedulers).toHaveLength(1);
    expect(schedulers[0]).toMatchObject({ key: SCHEDULER_ID, pattern: '0 * * * *', tz: 'UTC' });
    expect(again.next).toBeGreaterThan(Date.now());
    await q.close();
  });

  it('bad config: one clear line naming file, line and key; exit 2; no stack', async () => {
    const bad = join(files.dir, 'bad.yaml');
    writeFileSync(bad, 'redis:\n  url: redis://127.0.0.1:6379\naws:\n  accounts:\n    - id: "12345"\n');
    const io = capture();
    const code = await run(['--config', bad, 'inventory'], io);
    expect(code).toBe(2);
    expect(io.stderr).toHaveLength(1);
    expect(io.stderr[0]).toMatch(
      /^credwarden: CW_ERR_CONFIG: .*bad\.yaml:5 aws\.accounts\[0\]\.id: must be a 12-digit AWS account id/,
    );
  });

  it('unreachable Redis: one clear line, exit 2', async () => {
    const cfg = join(files.dir, 'noredis.yaml');
    writeFileSync(cfg, `redis: { url: "redis://127.0.0.1:1" }\nregistry: agents.yaml\n`);
    const io = capture();
    const code = await run(['--config', cfg, 'inventory'], io);
    expect(code).toBe(2);
    expect(io.stderr).toEqual([
      expect.stringMatching(/^credwarden: CW_ERR_REDIS: cannot reach Redis at redis:\/\/127\.0\.0\.1:1/),
    ]);
  });

  it('unreachable AWS: one clear line naming the account and endpoint, exit 2', async () => {
    const cfg = writeTestFiles(
      {
        redis: { prefix: `${r.prefix}-unreach` },
        aws: { endpoint: 'http://127.0.0.1:1', maxAttempts: 1, accounts: [{ id: ACCOUNT_A }] },
      },
      registry,
    );
    const io = capture();
    const code = await run(['--config', cfg.configPath, 'inventory'], io);
    expect(code).toBe(2);
    expect(io.stderr).toEqual([
      expect.stringMatching(
        /^credwarden: CW_ERR_UNREACHABLE: account 111111111111: sts:GetCallerIdentity at http:\/\/127\.0\.0\.1:1: cannot reach AWS \(ECONNREFUSED\)$/,
      ),
    ]);
  });

  it('--help exits 0; an unknown command exits 2', async () => {
    const help = capture();
    expect(await run(['--help'], help)).toBe(0);
    expect(help.stdout.join('')).toMatch(/Usage: credwarden/);
    const bad = capture();
    expect(await run(['bogus'], bad)).toBe(2);
    expect(bad.stderr.join('')).toMatch(/unknown command 'bogus'/);
  });

  it('unknown --account: exit 2 naming the configured ones', async () => {
    const res = await cli('inventory', '--account', '999999999999');
    expect(res.code).toBe(2);
    expect(res.err).toContain(`aws/${ACCOUNT_A}`);
  });
});
