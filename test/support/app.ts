/** Builds a real App (config + registry files on disk, real Redis, real SDK) for integration tests. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { Clock } from '../../src/clock.js';
import { createLogger } from '../../src/logger.js';
import { type App, buildApp } from '../../src/main.js';
import { testRedisConfig } from './redis.js';

export interface TestAppFiles {
  dir: string;
  configPath: string;
}

/** Default-chain credentials for moto; moto does not check them. */
export function useMotoCredentialsEnv(): void {
  process.env.AWS_ACCESS_KEY_ID = 'testing';
  process.env.AWS_SECRET_ACCESS_KEY = 'testing';
  process.env.AWS_REGION = 'us-east-1';
  delete process.env.AWS_PROFILE;
}

export function writeTestFiles(config: Record<string, unknown>, registry: Record<string, unknown>): TestAppFiles {
  const dir = mkdtempSync(join(tmpdir(), 'cw-test-'));
  writeFileSync(join(dir, 'agents.yaml'), stringify(registry));
  const configPath = join(dir, 'credwarden.yaml');
  writeFileSync(
    configPath,
    stringify({
      registry: 'agents.yaml',
      audit: { file: join(dir, 'audit.jsonl') },
      ...config,
      redis: testRedisConfig(config.redis as Record<string, unknown> | undefined),
    }),
  );
  return { dir, configPath };
}

export async function testApp(
  files: TestAppFiles,
  clock?: Clock,
  extra: { awsRetryDelayMs?: number } = {},
): Promise<App> {
  return buildApp({
    configPath: files.configPath,
    log: createLogger({ level: process.env.CW_TEST_LOG ?? 'silent' }),
    ...(clock ? { clock } : {}),
    awsRetryDelayMs: extra.awsRetryDelayMs ?? 1,
  });
}
