/**
 * The composition root: the only place that constructs IAM, STS, Vault and Redis clients. Config
 * and registry are validated before the first network call (validate at load, act later).
 */
import { IAMClient } from '@aws-sdk/client-iam';
import { STSClient } from '@aws-sdk/client-sts';
import type { Redis } from 'ioredis';
import { JsonlMirror, RedisAuditLog } from './audit/index.js';
import { type Clock, systemClock } from './clock.js';
import { type LoadedConfig, loadConfig } from './config/load.js';
import { ScanService } from './inventory/scan-service.js';
import { createLogger, type Logger } from './logger.js';
import type { Registry } from './model/agent.js';
import { type ConnectionProfile, connectRedis } from './queue/connection.js';
import { loadRegistry } from './registry/load.js';
import { ScanOrchestrator } from './scan/orchestrator.js';
import { AwsIamSource } from './sources/aws/aws-iam.source.js';
import { AwsClientPool, type AwsSdkFactories } from './sources/aws/client-pool.js';
import type { Source } from './sources/source.js';

export interface AppOptions {
  configPath: string;
  clock?: Clock;
  log?: Logger;
  env?: NodeJS.ProcessEnv;
  redisProfile?: ConnectionProfile;
  /** Test hook: SDK constructors (the real ones by default). */
  awsSdk?: AwsSdkFactories;
  awsRetryDelayMs?: number;
}

export interface App {
  config: LoadedConfig;
  registry: Registry;
  clock: Clock;
  log: Logger;
  redis: Redis;
  audit: RedisAuditLog;
  scans: ScanService;
  sources: Source[];
  orchestrator: ScanOrchestrator;
  close(): Promise<void>;
}

const realAwsSdk: AwsSdkFactories = { iam: (c) => new IAMClient(c), sts: (c) => new STSClient(c) };

/** Load and validate everything that needs no network. */
export async function loadInputs(
  configPath: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ config: LoadedConfig; registry: Registry }> {
  const config = await loadConfig(configPath, env);
  const registry = await loadRegistry(config.registry);
  return { config, registry };
}

export async function buildApp(opts: AppOptions): Promise<App> {
  const { config, registry } = await loadInputs(opts.configPath, opts.env);
  const clock = opts.clock ?? systemClock;
  const log = opts.log ?? createLogger({ level: config.log?.level ?? 'info' });
  const redis = await connectRedis(config.redis.url, opts.redisProfile ?? 'producer');
  const prefix = config.redis.prefix;
  const audit = new RedisAuditLog(redis, {
    prefix,
    clock,
    ...(config.audit.hmacKey ? { hmacKey: config.audit.hmacKey } : {}),
    mirror: new JsonlMirror(redis, { prefix, path: config.audit.file }),
  });
  const scans = new ScanService({ redis, prefix, audit, clock, log });
  const sources: Source[] = [];
  let pool: AwsClientPool | null = null;
  if (config.aws) {
    pool = new AwsClientPool(config.aws, opts.awsSdk ?? realAwsSdk, clock, opts.awsRetryDelayMs);
    sources.push(new AwsIamSource(config.aws, pool));
  }
  const orchestrator = new ScanOrchestrator({
    scans,
    sources,
    registry,
    clock,
    log,
  });
  return {
    config,
    registry,
    clock,
    log,
    redis,
    audit,
    scans,
    sources,
    orchestrator,
    async close() {
      pool?.destroy();
      redis.disconnect();
    },
  };
}
