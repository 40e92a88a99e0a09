/** The App the remediation and rotation benchmarks drive (kept apart from support.ts: it loads the SDK). */
import { IAMClient } from '@aws-sdk/client-iam';
import { STSClient } from '@aws-sdk/client-sts';
import type { MetadataBearer, Pluggable } from '@smithy/types';
import type { Clock } from '../../src/clock.js';
import { createLogger } from '../../src/logger.js';
import { type App, buildApp } from '../../src/main.js';

/**
 * The App on `configPath` for a remediation bench: every IAM/STS operation any of its SDK clients
 * sends (scanner, live re-check and remediation pools alike) is tallied into `calls` by
 * `<service>:<Operation>`, and the plan ids remediation queues are recorded in `enqueued`.
 */
export async function countedApp(
  configPath: string,
  clock: Clock,
  calls: Record<string, number>,
): Promise<{ app: App; enqueued: string[] }> {
  const counting = (service: string): Pluggable<object, MetadataBearer> => ({
    applyToStack: (stack) => {
      stack.add(
        (next, context) => (args) => {
          const key = `${service}:${context.commandName?.replace(/Command$/, '') ?? 'Unknown'}`;
          calls[key] = (calls[key] ?? 0) + 1;
          return next(args);
        },
        { step: 'initialize', name: 'cwBenchCallCounter', priority: 'high' },
      );
    },
  });
  const app = await buildApp({
    configPath,
    log: createLogger({ level: process.env.CW_TEST_LOG ?? 'silent' }),
    clock,
    awsRetryDelayMs: 1,
    awsSdk: {
      iam: (c) => {
        const x = new IAMClient(c);
        x.middlewareStack.use(counting('iam'));
        return x;
      },
      sts: (c) => {
        const x = new STSClient(c);
        x.middlewareStack.use(counting('sts'));
        return x;
      },
    },
  });
  const enqueued: string[] = [];
  app.remediation.setEnqueue(async (jobs) => {
    enqueued.push(...jobs.map((j) => j.planId));
  });
  return { app, enqueued };
}
