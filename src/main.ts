/**
 * The composition root: the only place that constructs IAM, STS, Vault and Redis clients. Config
 * and registry are validated before the first network call (validate at load, act later).
 */

import { IAMClient } from '@aws-sdk/client-iam';
import { STSClient } from '@aws-sdk/client-sts';
import { iamWritePortFrom } from './actions/aws-port.js';
import { vaultWritePortFrom } from './actions/vault-port.js';
import { AlertService } from './alerts/service.js';
import { SilenceStore } from './alerts/silence-store.js';
import { createSink } from './alerts/sinks/index.js';
import { AppendLatencyRecorder } from './audit/append-latency.js';
import { CheckpointService, checkpointSettings } from './audit/checkpoints.js';
import { JsonlMirror, RedisAuditLog } from './audit/index.js';
import { type Clock, systemClock } from './clock.js';
import { type LoadedConfig, loadConfig } from './config/load.js';
import type { VaultClusterConfig } from './config/schema.js';
import type { PlanterFor } from './drill/planter.js';
import { drillPlanters } from './drill/ports.js';
import { DrillStore } from './drill/store.js';
import { CwError, ErrorCodes } from './errors.js';
import { ExceptionStore } from './findings/exception-store.js';
import { FindingsService } from './findings/service.js';
import { ScanService } from './inventory/scan-service.js';
import { createLogger, type Logger } from './logger.js';
import type { Registry } from './model/agent.js';
import { beforeFirstAwsClient } from './node-support.js';
import { loadPolicies } from './policy/load.js';
import type { PolicySet } from './policy/model.js';
import { defaultPacksDir } from './policy/packs.js';
import type { RuleServices } from './policy/types.js';
import { type ConnectionProfile, connectRedis, type RedisClient } from './queue/connection.js';
import { keyPrefix } from './queue/prefix.js';
import { loadRegistry, resolveDeliveries } from './registry/load.js';
import { remediationCredentialsFor } from './remediation/credentials.js';
import { ActionExecutor } from './remediation/executor.js';
import { ActionPeople } from './remediation/people.js';
import { RemediationService } from './remediation/service.js';
import { webhookAnnouncer } from './rotation/announce.js';
import { ScanOrchestrator } from './scan/orchestrator.js';
import { AwsIamSource } from './sources/aws/aws-iam.source.js';
import { AwsClientPool, type AwsSdkFactories } from './sources/aws/client-pool.js';
import type { Source } from './sources/source.js';
import type { VaultHttp } from './sources/vault/api.js';
import { realVaultHttp } from './sources/vault/http.js';
import { VaultSource } from './sources/vault/vault.source.js';

export { realVaultHttp } from './sources/vault/http.js';

export interface AppOptions {
  configPath: string;
  clock?: Clock;
  log?: Logger;
  /** Overrides config `log.level` (e.g. --debug). */
  logLevel?: string;
  /** Used when neither logLevel nor config `log.level` is set. */
  defaultLogLevel?: string;
  env?: NodeJS.ProcessEnv;
  redisProfile?: ConnectionProfile;
  /** Test hook: SDK constructors (the real ones by default). */
  awsSdk?: AwsSdkFactories;
  awsRetryDelayMs?: number;
  /** Test hook: the Vault HTTP client per cluster (node-vault by default). */
  vaultHttp?: (cluster: VaultClusterConfig) => VaultHttp & { close?(): void };
}

export interface App {
  config: LoadedConfig;
  registry: Registry;
  policies: PolicySet;
  findings: FindingsService;
  alerts: AlertService;
  /** Runtime silences (with config's), for the HTTP API. */
  silences: SilenceStore;
  /** Runtime exceptions (with the policy files'), for the HTTP API. */
  exceptions: ExceptionStore;
  clock: Clock;
  log: Logger;
  /** One Redis or a Redis Cluster (redis.cluster); every key is built on keyPrefix(config.redis). */
  redis: RedisClient;
  audit: RedisAuditLog;
  /** Signed audit checkpoints (evidence.checkpoints): off without evidence.signingKey. */
  checkpoints: CheckpointService;
  scans: ScanService;
  sources: Source[];
  orchestrator: ScanOrchestrator;
  remediation: RemediationService;
  executor: ActionExecutor;
  people: ActionPeople;
  /** Drill records (drill/store.ts); running drills is drill/runner.ts. */
  drills: DrillStore;
  /** The planters drills use, over the drill's own credentials (drill/ports.ts). */
  drillPlanters: PlanterFor;
  close(): Promise<void>;
}

/** The real SDK constructors; the first client built says the Node support notice once (node-support.ts). */
function realAwsSdk(log: Logger): AwsSdkFactories {
  return {
    iam: (c) => {
      beforeFirstAwsClient(log);
      return new IAMClient(c);
    },
    sts: (c) => {
      beforeFirstAwsClient(log);
      return new STSClient(c);
    },
  };
}

/** Load and validate everything that needs no network: config, registry, policies. */
export async function loadInputs(
  configPath: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ config: LoadedConfig; registry: Registry; policies: PolicySet }> {
  const config = await loadConfig(configPath, env);
  const registry = resolveDeliveries(
    await loadRegistry(config.registry),
    config.vault.map((c) => c.name),
    config.registry,
  );
  const policies = await loadPolicies(config.policies ?? [defaultPacksDir()]);
  return { config, registry, policies };
}

export async function buildApp(opts: AppOptions): Promise<App> {
  const { config, registry, policies } = await loadInputs(opts.configPath, opts.env);
  // The evidence key and the checkpoint sinks, checked before anything connects.
  const checkpointConfig = checkpointSettings(config);
  const clock = opts.clock ?? systemClock;
  const log = opts.log ?? createLogger({ level: opts.logLevel ?? config.log?.level ?? opts.defaultLogLevel ?? 'info' });
  const redis = await connectRedis(config.redis, opts.redisProfile ?? 'producer');
  // `P`, or `{P}` on a cluster: one hash tag for every key of credwarden's own (queue/prefix.ts).
  const prefix = keyPrefix(config.redis);
  // Every process's append latencies, pooled in Redis for /metrics (audit/append-latency.ts).
  const appendLatency = new AppendLatencyRecorder(redis, {
    prefix,
    onError: (err) => log.debug({ err }, 'audit append latency not flushed; kept for the next flush'),
  }).start();
  const audit = new RedisAuditLog(redis, {
    onAppend: appendLatency.observe,
    prefix,
    clock,
    ...(config.audit.hmacKey ? { hmacKey: config.audit.hmacKey } : {}),
    mirror: new JsonlMirror(redis, { prefix, path: config.audit.file }),
  });
  const checkpoints = new CheckpointService({ ...checkpointConfig, audit, redis, prefix, clock, log });
  const leaseMs = config.worker.leaseSeconds * 1000;
  const scans = new ScanService({ redis, prefix, audit, clock, log, leaseMs });
  const sources: Source[] = [];
  const vaultClients = new Map<string, VaultHttp & { close?(): void }>();
  let pool: AwsClientPool | null = null;
  if (config.aws) {
    pool = new AwsClientPool(config.aws, opts.awsSdk ?? realAwsSdk(log), clock, opts.awsRetryDelayMs);
    sources.push(new AwsIamSource(config.aws, pool));
  }
  if (config.vault.length > 0) {
    const make = opts.vaultHttp ?? realVaultHttp;
    for (const c of config.vault) vaultClients.set(c.name, make(c));
    sources.push(new VaultSource(config.vault, (name) => vaultClients.get(name)!));
  }
  // Shared by every evaluation in this process, so privilege analyses stay cached across scans.
  const ruleServices: RuleServices = {};
  const accountNames = new Map((config.aws?.accounts ?? []).flatMap((a) => (a.name ? [[a.id, a.name] as const] : [])));
  const exceptions = new ExceptionStore({ redis, prefix, audit, clock, policies });
  const silences = new SilenceStore({ redis, prefix, audit, clock, configured: config.alerts.silences });
  const findings = new FindingsService({
    redis,
    prefix,
    scans,
    audit,
    clock,
    log,
    registry,
    policies,
    services: ruleServices,
    hold: config.evaluation.hold,
    accountNames,
    exceptions,
  });
  // Sinks stamp transport times (webhook-timestamp) with the wall clock, never the evaluation clock:
  // receivers reject timestamps outside a few minutes of their own time.
  // Slack messages of held actions carry Approve/Deny buttons when Slack can call back (api.slack).
  const sinks = new Map(
    config.alerts.sinks.map((c) => [c.name, createSink(c, { approvalButtons: config.api.slack !== undefined })]),
  );
  const drills = new DrillStore(redis, prefix);
  const alerts = new AlertService({
    drills: {
      plantedCredentials: () => drills.plantedCredentials(),
      drillOf: (id) => drills.drillOf(id),
      route: config.drills?.alerts ?? { page: [], digest: [] },
    },
    sinks,
    redis,
    prefix,
    config: config.alerts,
    scans,
    findings,
    audit,
    clock,
    log,
    registry,
    accountNames,
    silences,
  });
  // Remediation acts with its own credentials (a role per account, a token per cluster), never
  // the scanner's: a separate client pool, separate Vault clients built from remediationToken.
  const remediationPool = config.aws
    ? new AwsClientPool(config.aws, opts.awsSdk ?? realAwsSdk(log), clock, opts.awsRetryDelayMs)
    : null;
  const remediationVault = new Map<string, VaultHttp & { close?(): void }>();
  const vaultFor = (c: VaultClusterConfig) => {
    let h = remediationVault.get(c.name);
    if (!h) {
      h = (opts.vaultHttp ?? realVaultHttp)({ ...c, token: c.remediationToken ?? '' });
      remediationVault.set(c.name, h);
    }
    return h;
  };
  const remediation = new RemediationService({
    redis,
    prefix,
    audit,
    clock,
    log,
    config: config.remediation,
    policies,
    registry,
    services: ruleServices,
    sources,
    scans,
    findings,
    ports: {
      aws: iamWritePortFrom(
        remediationPool ?? {
          forAccount: () => {
            throw new CwError(ErrorCodes.CONFIG, 'no aws section configured');
          },
        },
        config.aws?.accounts ?? [],
        remediationPool ? (creds) => remediationPool.stsWithKey(creds) : null,
      ),
      vault: vaultWritePortFrom(config.vault, vaultFor),
    },
    credentialsFor: (t, delivery) => remediationCredentialsFor(config, t, delivery),
    notifier: alerts.remediationNotices,
    leaseMs,
  });
  const executor = new ActionExecutor(remediation, { announce: webhookAnnouncer(process.env, () => clock.now()) });
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
    policies,
    findings,
    alerts,
    silences,
    exceptions,
    clock,
    log,
    redis,
    audit,
    checkpoints,
    scans,
    sources,
    orchestrator,
    remediation,
    executor,
    people: new ActionPeople(remediation, executor.rotations),
    drills,
    drillPlanters: drillPlanters({
      config,
      policies,
      clock,
      awsSdk: opts.awsSdk ?? realAwsSdk(log),
      vaultHttp: opts.vaultHttp ?? realVaultHttp,
    }),
    async close() {
      pool?.destroy();
      remediationPool?.destroy();
      for (const v of remediationVault.values()) v.close?.();
      for (const v of vaultClients.values()) v.close?.();
      await appendLatency.close();
      redis.disconnect();
    },
  };
}
