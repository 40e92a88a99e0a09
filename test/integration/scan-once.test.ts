/**
 * `scan --once` waits for its own jobs and its own alert deliveries (issue 8), against moto, Redis
 * and the local receivers:
 * (1) a job that fails for good (the audit chain was tampered with, so every append refuses):
 *     one line naming the job and its coded failure, exit 2, without waiting for the deadline;
 *     while it retries, the progress lines show the last failure;
 * (3) it returns only once the deliveries its evaluation planned are settled: a sink limited to
 *     one a second has received every notification by then; a failed delivery is reported
 *     (text line, --json `alerts`, one stderr line) and exits 1.
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DeleteUserPolicyCommand, PutUserPolicyCommand } from '@aws-sdk/client-iam';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../src/cli/main.js';
import { ACCOUNT_A, registry, seedEstate } from '../fixtures/aws-estate.js';
import { testApp, useMotoCredentialsEnv, writeTestFiles } from '../support/app.js';
import { doc, seederFor } from '../support/aws-seed.js';
import { captureIo } from '../support/capture.js';
import { useMoto } from '../support/moto.js';
import type { Receiver } from '../support/receivers/server.js';
import { type SlackReceived, startSlackReceiver } from '../support/receivers/slack.js';
import { startWebhookReceiver, type WebhookReceived } from '../support/receivers/webhook.js';
import { testKeyPrefix, useRedis } from '../support/redis.js';

const moto = useMoto();
const r = useRedis('scan-once');
const env = (n: string) => ['$', `{env:${n}}`].join('');
const accounts = [{ id: ACCOUNT_A, roleArn: `arn:aws:iam::${ACCOUNT_A}:role/credwarden-reader` }];

async function cli(configPath: string, ...args: string[]) {
  const io = captureIo();
  const t0 = Date.now();
  const code = await run(['--config', configPath, ...args], io);
  return { code, stdout: io.stdout, stderr: io.stderr, ms: Date.now() - t0 };
}

describe('scan --once', () => {
  beforeAll(async () => {
    useMotoCredentialsEnv();
    await seedEstate(moto.endpoint);
  });

  it('(1) a job that fails for good: one coded line naming the job, exit 2, long before the deadline', async () => {
    const prefix = `${r.prefix}-tampered`;
    // scan.timeoutSeconds 60: the old wait only polled the scan hash, for 90 s.
    const files = writeTestFiles(
      { redis: { prefix }, aws: { endpoint: moto.endpoint, accounts }, scan: { timeoutSeconds: 60 } },
      registry,
    );
    // A chain of one event, then its last event deleted behind the head: every append now refuses.
    const app = await testApp(files);
    await app.audit.append({ type: 'test.seeded', actor: 'test', subject: 'seed', data: {} });
    await app.close();
    const events = `${testKeyPrefix(prefix)}:audit:events`;
    const [[lastId]] = (await r.redis.xrevrange(events, '+', '-', 'COUNT', 1)) as [[string, string[]]];
    expect(await r.redis.xdel(events, lastId)).toBe(1);
    expect(await r.redis.hget(`${testKeyPrefix(prefix)}:audit:head`, 'seq')).toBe('1');

    const res = await cli(files.configPath, 'scan', '--once');

    const lines = res.stderr.filter((l) => l.startsWith('credwarden:'));
    expect(lines, res.stderr.join('\n')).toEqual([
      expect.stringMatching(
        /^credwarden: CW_ERR_QUEUE: (start-scan|finalize|evaluate) of scan scan-\S+ failed (after \d+ attempts?|for good after \d+ of \d+ attempts): CW_ERR_AUDIT_(TAMPERED|DIVERGED): /,
      ),
    ]);
    expect(res.code).toBe(2);
    // Its attempts and their backoff (finalize's five take about 30 s), not the 90 s deadline.
    expect(res.ms).toBeLessThan(45_000);
    expect(res.stdout).toEqual([]);
  }, 55_000);

  describe('(3) alert deliveries', () => {
    let hook: Receiver<WebhookReceived>;
    let slack: Receiver<SlackReceived>;
    let configPath: string;

    beforeAll(async () => {
      const secret = `whsec_${randomBytes(32).toString('base64')}`;
      [hook, slack] = await Promise.all([startWebhookReceiver({ secrets: [secret] }), startSlackReceiver()]);
      Object.assign(process.env, { CW_SO_HOOK: secret, CW_SO_SLACK: `${slack.url}/services/T/B/x` });
      const a = await seederFor(moto.endpoint, ACCOUNT_A);
      await a.iam.send(
        new PutUserPolicyCommand({ UserName: 'svc-invoice-bot', PolicyName: 'oops-admin', PolicyDocument: doc(['*']) }),
      );
      a.iam.destroy();
      const files = writeTestFiles(
        {
          redis: { prefix: `${r.prefix}-alerts` },
          aws: { endpoint: moto.endpoint, accounts },
          scan: { timeoutSeconds: 60 },
          policies: ['policies.yaml'],
          alerts: {
            sinks: [
              // One a second: three notifications take two seconds at least.
              {
                name: 'hook',
                type: 'webhook',
                url: `${hook.url}/credwarden`,
                secrets: [env('CW_SO_HOOK')],
                rateLimit: { max: 1, perSeconds: 1 },
              },
              { name: 'slack', type: 'slack', webhookUrl: env('CW_SO_SLACK') },
            ],
            routes: [{ page: ['hook'], digest: ['hook', 'slack'] }],
            delivery: { attempts: 3, backoffMs: 20 },
          },
        },
        registry,
      );
      writeFileSync(
        join(files.dir, 'policies.yaml'),
        `policies:
  - name: agent-admin
    description: Agent credential with admin-equivalent power
    resource: { agents: ["*", unregistered] }
    rules: [{ type: aws-admin }]
    severity: critical
  - name: unregistered
    description: Agent-looking credential nobody registered
    rules: [{ type: unregistered-agent }]
    severity: high
`,
      );
      configPath = files.configPath;
    });
    afterAll(async () => {
      await Promise.all([hook?.close(), slack?.close()]);
    });

    it('waits for every delivery; reports sent and failed per sink (--json); exit 1 for the failed', async () => {
      slack.respondWith(() => 400);
      const res = await cli(configPath, '--json', 'scan', '--once');
      // Received by the time scan --once returned, rate limit and all.
      const received = hook.requests.length;
      const out = JSON.parse(res.stdout.join('\n')) as {
        id: string;
        status: string;
        alerts: {
          sent: number;
          failed: number;
          pending: number;
          bySink: Record<string, { sent: number; failed: number; pending: number }>;
          failures: { sink: string; reason: string }[];
        };
      };
      expect(out.status).toBe('complete');
      // What the evaluation planned for the rate-limited sink, from Redis: all of it arrived before the return.
      const plan = JSON.parse((await r.redis.get(`${testKeyPrefix(`${r.prefix}-alerts`)}:alerts:plan:${out.id}`))!) as {
        notifications: { sink: string }[];
      };
      const plannedHook = plan.notifications.filter((n) => n.sink === 'hook').length;
      expect(plannedHook).toBeGreaterThanOrEqual(3);
      expect(received).toBe(plannedHook);
      expect(out.alerts.bySink.hook).toEqual({ sent: received, failed: 0, pending: 0 });
      expect(received).toBeGreaterThanOrEqual(3);
      expect(hook.requests.every((q) => q.verified)).toBe(true);
      expect(out.alerts.bySink.slack!.failed).toBeGreaterThanOrEqual(1);
      expect(out.alerts).toMatchObject({ sent: received, failed: out.alerts.bySink.slack!.failed, pending: 0 });
      expect(out.alerts.failures.every((f) => f.sink === 'slack' && /not retried: HTTP 400/.test(f.reason))).toBe(true);
      // Three or more sends at one a second.
      expect(res.ms).toBeGreaterThan((received - 1) * 900);
      expect(res.stderr).toEqual([
        expect.stringMatching(
          /^credwarden: alerts: \d+ of \d+ deliveries failed \(slack: not retried: HTTP 400.*\), 0 still pending; see `credwarden alerts list --failed`$/,
        ),
      ]);
      expect(res.code).toBe(1);
    }, 60_000);

    it('text mode: one alerts line; nothing failed or pending: exit 0', async () => {
      slack.respondWith(() => 200);
      const a = await seederFor(moto.endpoint, ACCOUNT_A);
      await a.iam.send(new DeleteUserPolicyCommand({ UserName: 'svc-invoice-bot', PolicyName: 'oops-admin' }));
      a.iam.destroy();
      const before = hook.requests.length;
      const res = await cli(configPath, 'scan', '--once');
      expect(res.stderr).toEqual([]);
      expect(res.code).toBe(0);
      // The fix resolves the page (same sink), and nothing is left in flight.
      const sent = hook.requests.length - before;
      expect(sent).toBeGreaterThanOrEqual(1);
      const line = res.stdout
        .join('\n')
        .split('\n')
        .find((l) => l.startsWith('  alerts: '));
      expect(line).toMatch(/^ {2}alerts: \d+ sent \(.*\), 0 failed, 0 pending$/);
      expect(line).toContain(`hook ${sent}`);
    }, 60_000);

    it('text mode: a scan with nothing to say says so', async () => {
      const res = await cli(configPath, 'scan', '--once');
      expect(res.code).toBe(0);
      expect(res.stdout.join('\n')).toContain('\n  alerts: none planned');
    }, 60_000);
  });
});
