/** Per-receiver rate limits: each sink's own queue carries a BullMQ limiter that spaces its sends. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWorkers, type Workers } from '../../jobs/workers.js';
import type { Notification } from '../../src/alerts/types.js';
import type { App } from '../../src/main.js';
import { ids, JobNames } from '../../src/queue/names.js';
import { closeQueues, createQueues, type Queues } from '../../src/queue/runtime.js';
import { sleep } from '../../src/util/concurrency.js';
import { testApp, writeTestFiles } from '../support/app.js';
import type { Receiver } from '../support/receivers/server.js';
import { type SlackReceived, startSlackReceiver } from '../support/receivers/slack.js';
import { useRedis } from '../support/redis.js';

const r = useRedis('alerts-rl');
let slack: Receiver<SlackReceived>;
let app: App;
let queues: Queues;
let workers: Workers;

function notification(i: number): Notification {
  return {
    id: `msg_ratelimit_${i}`,
    sink: 'slack',
    mode: 'digest',
    group: { owner: 'team', scanId: 'rl' },
    createdAt: new Date().toISOString(),
    items: [
      {
        id: `rl:${i}`,
        action: 'trigger',
        transition: 'opened',
        fingerprint: `p:c${i}`,
        title: `finding ${i}`,
        severity: 'medium',
        policy: 'p',
        rules: [],
        detector: null,
        credentialId: `c${i}`,
        kind: 'aws-access-key',
        source: '1',
        agentId: null,
        owner: null,
        environment: null,
        evidence: [],
        tags: {},
        runbookUrl: null,
        scanId: 'rl',
        at: new Date().toISOString(),
      },
    ],
  };
}

describe('per-sink rate limit', () => {
  beforeAll(async () => {
    slack = await startSlackReceiver();
    process.env.CW_RL_SLACK = `${slack.url}/services/T/B/x`;
    const files = writeTestFiles(
      {
        redis: { prefix: r.prefix },
        alerts: {
          sinks: [
            {
              name: 'slack',
              type: 'slack',
              webhookUrl: ['$', '{env:CW_RL_SLACK}'].join(''),
              rateLimit: { max: 1, perSeconds: 1 },
            },
          ],
        },
      },
      { agents: [] },
    );
    app = await testApp(files);
    queues = createQueues(app);
    workers = startWorkers(app, queues);
  });
  afterAll(async () => {
    await workers?.close(5000);
    if (queues) await closeQueues(queues);
    await app?.close();
    await slack?.close();
  });

  it('sends at most one notification a second to a sink limited to 1 per second', async () => {
    for (const i of [1, 2, 3]) {
      const n = notification(i);
      await r.redis.set(`${r.keyPrefix}:alerts:n:${n.id}`, JSON.stringify(n));
      await queues.alerts.get('slack')!.add(JobNames.deliver, { notificationId: n.id }, { jobId: ids.deliver(n.id) });
    }
    const t0 = Date.now();
    while (slack.requests.length < 3 && Date.now() - t0 < 15_000) await sleep(50);
    expect(slack.requests).toHaveLength(3);
    const times = (await app.alerts.deliveries(10)).map((d) => new Date(d.at).getTime()).sort();
    // Three sends under a 1/s limit span at least ~2 s; unlimited they would land within milliseconds.
    expect(times[2]! - times[0]!).toBeGreaterThanOrEqual(1800);
  });
});
